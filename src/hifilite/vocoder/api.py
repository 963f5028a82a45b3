"""Inference API: `load_vocoder(name_or_path)` returns a `Vocoder` (mel front-end + generator).

    voc = load_vocoder("lj-v1")
    mel = voc.mel("speech.wav")    # (1, n_mels, frames)
    audio = voc(mel)               # (1, frames * hop) float32 in [-1, 1]

`pghi` and `griffin-lim` (zero parameters) and trained prior-family models give STFT log-magnitudes
whose phase is reconstructed after the network (`phase_settings`). Checks, chunking with
receptive-field overlap and streaming are the backend contract's (`hifilite.runtime.contract`),
shared with `hifilite.runtime.OnnxVocoder`.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..audio import MelSpectrogram
from ..config import GENERATOR_PRESETS, SIGNAL_VOCODERS, GeneratorConfig, MelConfig, PriorConfig, check_generator_mel
from ..errors import ConfigError
from ..registry import resolve
from ..runtime.contract import DEFAULT_CHUNK_FRAMES, VocoderBackend
from .checkpoint import load_generator, load_jik876, safe_torch_load, save_generator
from .family import build_generator
from .generator import Generator


class Vocoder(nn.Module, VocoderBackend):
    """A generator with the mel front-end it was trained on: the PyTorch `VocoderBackend`
    (`hifilite.runtime.contract`: checks, chunking, streaming). Inference only (no grad)."""

    def __init__(
        self, generator: Generator, gen_config: GeneratorConfig, mel_config: MelConfig, name: str = ""
    ) -> None:
        super().__init__()
        check_generator_mel(gen_config, mel_config)
        self.generator = generator
        self.gen_config = gen_config
        self.mel_config = mel_config
        self.mel_fn = MelSpectrogram.from_config(mel_config)
        self.name = name
        self.chunk_frames = DEFAULT_CHUNK_FRAMES

    @property
    def device(self) -> torch.device:
        return next(itertools.chain(self.generator.parameters(), self.generator.buffers())).device

    @property
    def receptive_field_frames(self) -> int:
        return self.generator.receptive_field_frames()

    @property
    def phase_settings(self) -> dict[str, Any] | None:
        return self.gen_config.phase_settings() if isinstance(self.gen_config, PriorConfig) else None

    def generate(self, mel: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            out = self.generator(mel)
        return out if isinstance(self.gen_config, PriorConfig) else out.squeeze(1)  # log-magnitudes | audio

    def log_mel(self, segment: np.ndarray) -> torch.Tensor:
        with torch.inference_mode():
            return self.mel_fn(torch.from_numpy(segment).to(self.device).unsqueeze(0), padded=True)

    def as_array(self, x: Any) -> torch.Tensor:
        return torch.as_tensor(x, dtype=torch.float32).to(self.device)

    def all_finite(self, x: torch.Tensor) -> bool:
        return bool(torch.isfinite(x).all())

    def concat(self, pieces: Sequence[torch.Tensor], axis: int) -> torch.Tensor:
        return torch.cat(list(pieces), dim=axis)

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)

    def from_numpy(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(x).to(self.device)

    def forward(self, mel: torch.Tensor | np.ndarray) -> torch.Tensor:
        """(B, n_mels, frames) or (n_mels, frames) -> (B, frames * hop), chunked when long."""
        return self.infer(mel, self.chunk_frames)

    def save(self, path: str | os.PathLike, extra: dict | None = None) -> Path:
        """Write the generator in our self-describing safetensors format."""
        return save_generator(path, self.generator, self.gen_config, self.mel_config, extra)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.generator.parameters())


def load_vocoder(
    name_or_path: str | os.PathLike,
    device: str | torch.device = "cpu",
    for_training: bool = False,
    config: str | os.PathLike | None = None,
) -> Vocoder:
    """A vocoder by name or path (`hifilite.registry.resolve`).

    - bundled names: `lj-v1`, `universal-v1` (official pretrained HiFi-GAN V1), and shipped students;
    - `pghi`, `griffin-lim`: zero-parameter vocoders (mel pseudo-inverse, phase from the magnitude);
    - `v1`, `v2`, `v3`, ...: randomly initialised presets (for benchmarks and training from scratch);
    - `*.safetensors`: our self-describing format;
    - a training-run folder holding `generator.safetensors`;
    - any other file: an official jik876 checkpoint, with `config` or `config.json` beside it.
    An exported `.onnx` runs on `hifilite.runtime.OnnxVocoder` instead.

    `for_training=True` keeps weight norm and leaves the module in train mode.
    """
    source = resolve(name_or_path, "vocoder", config)
    mel = MelConfig()
    if source.source in ("preset", "signal"):
        gen_cfg = GENERATOR_PRESETS[source.spec] if source.source == "preset" else SIGNAL_VOCODERS[source.spec]
        gen = build_generator(gen_cfg)
        if not for_training:
            gen.remove_weight_norm()
    elif source.source == "onnx":
        raise ConfigError(f"{source.spec}: an ONNX export runs on hifilite.runtime.OnnxVocoder (vocode --backend onnx)")
    elif source.source in ("shipped", "safetensors"):
        gen, gen_cfg, mel, _ = load_generator(source.checkpoint, keep_weight_norm=for_training)
    else:
        gen, gen_cfg, mel = load_jik876(source.checkpoint, source.config, keep_weight_norm=for_training)
    voc = Vocoder(gen, gen_cfg, mel, name=source.stem).to(device)
    if for_training:
        voc.generator.train()
    else:
        voc.eval()
    return voc


__all__ = ["Vocoder", "load_vocoder", "safe_torch_load"]
