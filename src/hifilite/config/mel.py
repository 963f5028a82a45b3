"""Mel front-end settings, the pairing check between a mel's producer and its consumer, and the
front-end's fixed constants (every implementation of the log-mel uses these)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import ConfigError
from .base import from_dict

# The log-mel's fixed constants (`hifilite.audio.MelSpectrogram`, `hifilite.runtime.LogMel`, ONNX
# sidecars): magnitude sqrt(re^2 + im^2 + MAGNITUDE_EPS), log(max(mel, LOG_CLAMP_MIN)).
MAGNITUDE_EPS = 1e-9
LOG_CLAMP_MIN = 1e-5


@dataclass(frozen=True)
class MelConfig:
    """Mel front-end settings (official HiFi-GAN LJSpeech values by default)."""

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = 8000.0

    def loss_variant(self) -> "MelConfig":
        """The mel used inside the mel-L1 loss: identical but fmax = Nyquist."""
        return dataclasses.replace(self, fmax=None)


# What a mel's producer and its consumer must agree on (an acoustic model and a vocoder, a corpus and
# a generator); the rest of the front-end (fmin, fmax, window) shapes the values, not the layout.
MEL_PAIRING_KEYS = ("sample_rate", "hop_length", "n_mels")


def mel_config(value: "MelConfig | Mapping[str, Any]", where: str = "mel") -> "MelConfig":
    """A `MelConfig` from itself or from stored settings (checkpoint metadata, corpus statistics,
    ONNX sidecars), whose unknown keys are an error."""
    return value if isinstance(value, MelConfig) else from_dict(MelConfig, dict(value), where)


def check_mel_pair(produced: "MelConfig | Mapping[str, Any]", expected: "MelConfig | Mapping[str, Any]",
                   producer: str = "acoustic model", consumer: str = "vocoder") -> None:
    """The one compatibility check between a mel's producer and its consumer (ConfigError naming the
    first setting that differs). Mappings may carry only `MEL_PAIRING_KEYS` (an ONNX sidecar's top level)."""
    def get(m: Any, key: str) -> int:
        return int(getattr(m, key) if isinstance(m, MelConfig) else m[key])

    for key in MEL_PAIRING_KEYS:
        if get(produced, key) != get(expected, key):
            raise ConfigError(f"{producer} {key} {get(produced, key)} does not match the {consumer}'s "
                              f"{get(expected, key)}")


__all__ = ["MelConfig", "MEL_PAIRING_KEYS", "mel_config", "check_mel_pair", "MAGNITUDE_EPS", "LOG_CLAMP_MIN"]
