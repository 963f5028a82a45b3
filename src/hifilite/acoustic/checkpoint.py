"""Acoustic model files: one self-describing safetensors file per model (`save_acoustic`), read
back by path, run folder or shipped name (`load_acoustic`).

The metadata holds everything needed to use the weights alone: the architecture (`AcousticConfig`),
the symbol table (the phonemiser's settings), the pitch and energy statistics, the mel settings and
`extra` (the training step, the producing command for a shipped model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..config import MelConfig, mel_config, to_dict
from ..checkpoint import load_strict, meta_json, read_model, save_model
from ..errors import CheckpointError, ConfigError, ModelNotFoundError
from ..runtime.contract import AcousticBackend
from ..registry import ACOUSTIC_FORMAT, resolve
from .models import AcousticConfig, AcousticModel

FORMAT = ACOUSTIC_FORMAT


def save_acoustic(path: str | Path, model: AcousticModel, *, symbols: dict[str, Any], stats: dict[str, Any],
                  mel: MelConfig | dict[str, Any], extra: dict[str, Any] | None = None) -> Path:
    """One self-describing safetensors file (`hifilite.checkpoint`): weights + constructor arguments,
    symbol table (phonemizer settings), pitch/energy statistics and mel settings in the metadata."""
    return save_model(path, model, FORMAT, {
        "config": json.dumps(model.config.to_dict()), "symbols": json.dumps(symbols),
        "stats": json.dumps(stats), "mel": json.dumps(to_dict(mel_config(mel))), "extra": json.dumps(extra or {}),
    })


@dataclass
class LoadedAcoustic(AcousticBackend):
    """An acoustic model with what its file says about it; the PyTorch `AcousticBackend`."""

    model: AcousticModel
    symbols: dict[str, Any]
    stats: dict[str, Any]
    mel: MelConfig  # stored settings (a mapping) are read into a MelConfig
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.mel = mel_config(self.mel)

    @property
    def mel_config(self) -> MelConfig:
        return self.mel

    def generate(self, ids: list[int], duration_scale: float) -> torch.Tensor:
        with torch.inference_mode():
            return self.model.infer(ids, duration_scale=duration_scale)


def acoustic_file(path: str | Path) -> Path:
    """The safetensors file behind an acoustic model given as a file, a training run folder
    holding `acoustic.safetensors`, or a shipped model's name (`hifilite.registry.resolve`)."""
    source = resolve(path, "acoustic")
    if source.source == "onnx":
        raise ConfigError(f"{path}: an ONNX export runs on hifilite.runtime.OnnxAcoustic, not in PyTorch")
    if not source.checkpoint.is_file():
        raise ModelNotFoundError(f"{path}: no such acoustic model file")
    return source.checkpoint


def load_acoustic(path: str | Path) -> LoadedAcoustic:
    """Load `save_acoustic`'s file, a training run folder holding `acoustic.safetensors`, or a
    shipped model by name (see `hifilite.registry`)."""
    path = acoustic_file(path)
    state, meta = read_model(path, FORMAT, "acoustic model")
    try:
        cfg = AcousticConfig.from_dict(meta_json(meta, "config"))
        loaded = LoadedAcoustic(AcousticModel.from_config(cfg), meta_json(meta, "symbols"), meta_json(meta, "stats"),
                                mel_config(meta_json(meta, "mel")), meta_json(meta, "extra", "{}"))
    except (KeyError, json.JSONDecodeError, ConfigError) as exc:
        raise CheckpointError(f"{path}: bad metadata ({exc})") from None
    load_strict(loaded.model, state, path)
    loaded.model.eval()
    return loaded
