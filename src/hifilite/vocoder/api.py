"""Inference API: `load_vocoder(name_or_path)` returns a `Vocoder` (mel front-end + generator).

    voc = load_vocoder("lj-v1")
    mel = voc.mel("speech.wav")    # (1, n_mels, frames)
    audio = voc(mel)               # (1, frames * hop) float32 in [-1, 1]

`pghi` and `griffin-lim` (zero parameters) and trained prior-family models load as a
`SpectralVocoder`: the generator gives the STFT magnitude, the phase is reconstructed from it.

Long inputs are generated in chunks with receptive-field overlap on each side, so memory stays
bounded and the result equals whole-input inference up to float rounding.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from torch import nn

from ..audio import MelSpectrogram, audio_blocks, check_log_mel_range, stream_log_mel
from ..config import GENERATOR_PRESETS, SIGNAL_VOCODERS, GeneratorConfig, MelConfig, PriorConfig, check_generator_mel
from ..errors import AudioError, DataError, ModelNotFoundError
from ..registry import model_files, renamed_error, shipped
from .checkpoint import load_generator, load_jik876, safe_torch_load, save_generator
from .family import build_generator
from .generator import Generator
from .pghi import BatchPhase
from .streaming import MelStreamer

DEFAULT_CHUNK_FRAMES = 1024  # ~12 s at 22.05 kHz / hop 256


class Vocoder(nn.Module):
    """A generator with the mel front-end it was trained on. Inference only (no grad)."""

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
    def sample_rate(self) -> int:
        return self.mel_config.sample_rate

    @property
    def hop_length(self) -> int:
        return self.mel_config.hop_length

    @property
    def n_mels(self) -> int:
        return self.mel_config.n_mels

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    def mel(self, audio: str | os.PathLike | np.ndarray | torch.Tensor) -> torch.Tensor:
        """Log-mel (1, n_mels, frames) of a file (any rate/channels: resampled, mixed to mono)
        or of a waveform (T,) / (1, T) already at `sample_rate`; computed chunk by chunk."""
        return torch.cat(list(self.mel_chunks(audio)), dim=-1)

    def mel_chunks(self, audio: str | os.PathLike | np.ndarray | torch.Tensor,
                   chunk_frames: int | None = None) -> Iterator[torch.Tensor]:
        """The log-mel as (1, n_mels, f) pieces of at most `chunk_frames` frames (default
        `self.chunk_frames`). A file is read, mixed and resampled block by block, so memory does
        not grow with its length; the pieces concatenate to `mel_fn` of the whole signal. A
        file that cannot be opened is reported here, bad samples as their chunk is computed."""
        if isinstance(audio, (str, os.PathLike)):
            blocks: Iterable[np.ndarray] = audio_blocks(audio, self.sample_rate)
        else:
            blocks = [self._check_wave(audio)]

        def log_mel(segment: np.ndarray) -> torch.Tensor:
            with torch.inference_mode():
                return self.mel_fn(torch.from_numpy(segment).to(self.device).unsqueeze(0), padded=True)

        return stream_log_mel(blocks, self.mel_fn.n_fft, self.hop_length,
                              chunk_frames or self.chunk_frames, log_mel)

    def _check_wave(self, audio: np.ndarray | torch.Tensor) -> np.ndarray:
        if torch.is_tensor(audio):
            audio = audio.detach().cpu().numpy()
        wav = np.asarray(audio, dtype=np.float32)
        if wav.ndim == 2 and wav.shape[0] == 1:
            wav = wav[0]
        if wav.ndim != 1:
            raise AudioError(f"expected mono audio of shape (T,) or (1, T), got {tuple(wav.shape)}")
        if wav.size < self.hop_length:
            raise AudioError(f"audio too short: {wav.size} samples (< one hop of {self.hop_length})")
        if not np.isfinite(wav).all():
            raise AudioError("audio contains NaN or infinite samples")
        return wav

    def _check_mel(self, mel: torch.Tensor | np.ndarray) -> torch.Tensor:
        mel = torch.as_tensor(mel, dtype=torch.float32)
        if mel.dim() == 2:
            mel = mel.unsqueeze(0)
        if mel.dim() != 3 or mel.shape[1] != self.n_mels:
            raise DataError(f"expected a mel of shape (1, {self.n_mels}, frames), got {tuple(mel.shape)}")
        if mel.shape[-1] == 0:
            raise DataError("mel has zero frames")
        if not torch.isfinite(mel).all():
            raise DataError("mel contains NaN or infinite values")
        check_log_mel_range(mel)
        return mel.to(self.device)

    @torch.inference_mode()
    def forward(self, mel: torch.Tensor | np.ndarray) -> torch.Tensor:
        """(B, n_mels, frames) or (n_mels, frames) -> (B, frames * hop), chunked when long."""
        return self.infer(mel, self.chunk_frames)

    @torch.inference_mode()
    def infer(self, mel: torch.Tensor | np.ndarray, chunk_frames: int | None = None) -> torch.Tensor:
        """Generate audio; with `chunk_frames`, in chunks of that many frames plus receptive-field
        context on both sides (the context's output is discarded)."""
        mel = self._check_mel(mel)
        total = mel.shape[-1]
        ctx = self.generator.receptive_field_frames()
        if not chunk_frames or total <= chunk_frames + 2 * ctx:
            return self.generator(mel).squeeze(1)
        hop = self.hop_length
        pieces = []
        for start in range(0, total, chunk_frames):
            end = min(total, start + chunk_frames)
            a, b = max(0, start - ctx), min(total, end + ctx)
            y = self.generator(mel[..., a:b]).squeeze(1)
            pieces.append(y[:, (start - a) * hop:(end - a) * hop])
        return torch.cat(pieces, dim=-1)

    def stream(self, mel_chunks, max_frames: int | None = None):
        """Yield audio (B, samples) chunk by chunk as it becomes final; the pieces concatenate to
        `infer(whole mel)` (<= 1e-4 in fp32) for any chunk sizes, including 1 frame.

        `mel_chunks` is any iterable of (B, n_mels, f) or (n_mels, f) tensors/arrays, f >= 0. A
        frame's audio is produced once `receptive_field_frames()` frames after it have arrived, or
        at the end of the stream; only that context is kept and recomputed (see
        `hifilite.vocoder.streaming`). `max_frames` (default `chunk_frames`) bounds one call.
        """
        from .streaming import MelStreamer

        def run(window: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return self.generator(window).squeeze(1)

        streamer = MelStreamer(run, self.generator.receptive_field_frames(), self.hop_length, torch.cat,
                               max_frames=max_frames or self.chunk_frames)
        for chunk in mel_chunks:
            chunk = torch.as_tensor(chunk, dtype=torch.float32)
            if chunk.shape[-1] == 0:
                continue
            yield from streamer.push(self._check_mel(chunk))
        yield from streamer.finish()

    def save(self, path: str | os.PathLike, extra: dict | None = None) -> Path:
        """Write the generator in our self-describing safetensors format."""
        return save_generator(path, self.generator, self.gen_config, self.mel_config, extra)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.generator.parameters())


class SpectralVocoder(Vocoder):
    """A `PriorGenerator` (mel -> log-magnitude frames) and the phase reconstruction its config
    names (`hifilite.vocoder.pghi`). Long inputs and streams compute magnitudes in chunks with
    receptive-field overlap, like any generator's audio, and feed the same `PhaseStream`s frame by
    frame, so they equal whole-input inference."""

    @property
    def device(self) -> torch.device:
        return self.generator.pinv.device

    def phase(self) -> BatchPhase:
        """A fresh phase reconstruction for one call or stream."""
        cfg = self.gen_config
        return BatchPhase(cfg.n_fft, cfg.hop_length, cfg.phase_hop, cfg.phase, cfg.iterations)

    @torch.inference_mode()
    def infer(self, mel: torch.Tensor | np.ndarray, chunk_frames: int | None = None) -> torch.Tensor:
        """(B, n_mels, frames) -> (B, frames * hop); with `chunk_frames`, a long input goes through
        `stream` in chunks of that many frames (bounded memory, the same audio)."""
        mel = self._check_mel(mel)
        if not chunk_frames or mel.shape[-1] <= chunk_frames + 2 * self.generator.receptive_field_frames():
            return torch.from_numpy(self.phase()(self.generator(mel).cpu().numpy())).to(self.device)
        return torch.cat(list(self.stream([mel], max_frames=chunk_frames)), dim=-1).to(self.device)

    def stream(self, mel_chunks, max_frames: int | None = None) -> Iterator[torch.Tensor]:
        """Audio (B, samples) as it becomes final; the pieces concatenate to `infer(whole mel)`.
        A frame's audio needs the network's receptive field of look-ahead, one more frame for its
        phase (RTPGHI) and the half window the overlap-add spans. Griffin-Lim iterates over the
        whole signal: its stream holds every frame and gives all the audio at the end."""
        phase = self.phase()

        def run(window: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return self.generator(window)

        frames = MelStreamer(run, self.generator.receptive_field_frames(), 1, torch.cat,
                             max_frames=max_frames or self.chunk_frames)
        for chunk in mel_chunks:
            chunk = torch.as_tensor(chunk, dtype=torch.float32)
            if chunk.shape[-1] == 0:
                continue
            for logmag in frames.push(self._check_mel(chunk)):
                out = phase.push(logmag.cpu().numpy())
                if out.shape[-1]:
                    yield torch.from_numpy(out)
        tail = [phase.push(logmag.cpu().numpy()) for logmag in frames.finish()]
        yield torch.from_numpy(np.concatenate([*tail, phase.finish()], axis=-1))


@dataclass(frozen=True)
class VocoderSource:
    """Where a vocoder given by name or path comes from, before anything is loaded.

    `kind` is `"preset"` (random weights, no files), `"signal"` (a zero-parameter vocoder, no
    files), `"safetensors"` (our format) or `"jik876"` (an official checkpoint and its JSON `config`)."""

    kind: str
    checkpoint: Path | None = None
    config: Path | None = None

    @property
    def files(self) -> list[Path]:
        """The files the vocoder is loaded from (what an export of it depends on)."""
        return [p for p in (self.checkpoint, self.config) if p is not None]


def vocoder_source(name_or_path: str | os.PathLike, config: str | os.PathLike | None = None) -> VocoderSource:
    """Resolve a vocoder name, run folder or checkpoint (see `load_vocoder`) without loading it."""
    spec = str(name_or_path)
    path = Path(spec)
    shipped_vocoders = shipped("vocoder")
    if spec in SIGNAL_VOCODERS and not path.exists():
        return VocoderSource("signal")
    if spec in shipped_vocoders:
        ckpt, cfg = model_files(shipped_vocoders[spec])
        if not ckpt.is_file():
            raise ModelNotFoundError(f"{spec}: shipped file {ckpt} is missing")
        return VocoderSource("jik876" if cfg is not None else "safetensors", ckpt, cfg)
    if spec in GENERATOR_PRESETS and not path.exists():
        return VocoderSource("preset")
    if path.is_dir():
        if not (path / "generator.safetensors").is_file():
            raise ModelNotFoundError(f"{path}: folder has no generator.safetensors")
        return VocoderSource("safetensors", path / "generator.safetensors")
    if path.is_file():
        if path.suffix == ".safetensors":
            return VocoderSource("safetensors", path)
        cfg = Path(config) if config else path.parent / "config.json"
        return VocoderSource("jik876", path, cfg if cfg.is_file() or config else None)
    renamed = renamed_error(spec)
    if renamed is not None:
        raise renamed
    raise ModelNotFoundError(
        f"unknown model {spec!r}: not a file, and not one of "
        f"{', '.join(sorted([*shipped_vocoders, *GENERATOR_PRESETS]))}"
    )


def load_vocoder(
    name_or_path: str | os.PathLike,
    device: str | torch.device = "cpu",
    for_training: bool = False,
    config: str | os.PathLike | None = None,
) -> Vocoder:
    """A vocoder by name or path.

    - bundled names: `lj-v1`, `universal-v1` (official pretrained HiFi-GAN V1), and shipped students;
    - `pghi`, `griffin-lim`: zero-parameter vocoders (mel pseudo-inverse, phase from the magnitude);
    - `v1`, `v2`, `v3`: randomly initialised presets (for benchmarks and training from scratch);
    - `*.safetensors`: our self-describing format;
    - a training-run folder holding `generator.safetensors`;
    - any other file: an official jik876 checkpoint, with `config` or `config.json` beside it.

    `for_training=True` keeps weight norm and leaves the module in train mode.
    """
    spec = str(name_or_path)
    source = vocoder_source(spec, config)
    mel = MelConfig()
    if source.kind in ("preset", "signal"):
        gen_cfg = GENERATOR_PRESETS[spec] if source.kind == "preset" else SIGNAL_VOCODERS[spec]
        gen = build_generator(gen_cfg)
        if not for_training:
            gen.remove_weight_norm()
    elif source.kind == "safetensors":
        gen, gen_cfg, mel, _ = load_generator(source.checkpoint, keep_weight_norm=for_training)
    else:
        gen, gen_cfg, mel = load_jik876(source.checkpoint, source.config, keep_weight_norm=for_training)
    path = Path(spec)
    cls = SpectralVocoder if isinstance(gen_cfg, PriorConfig) else Vocoder
    voc = cls(gen, gen_cfg, mel, name=spec if not path.exists() else path.stem).to(device)
    if for_training:
        voc.generator.train()
    else:
        voc.eval()
    return voc


def frames_for_seconds(seconds: float, mel: MelConfig = MelConfig()) -> int:
    return math.ceil(seconds * mel.sample_rate / mel.hop_length)


__all__ = ["SpectralVocoder", "Vocoder", "VocoderSource", "load_vocoder", "safe_torch_load", "vocoder_source"]
