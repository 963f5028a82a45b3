"""The acoustic model's configuration: `AcousticConfig` and the layer operations it may name.

The architectures it describes, the presets and the architecture strings are in
`hifilite.acoustic.arch`; the model is `hifilite.acoustic.models.AcousticModel`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .base import from_dict, to_dict

SEP_KERNELS = (1, 5, 9, 13, 17, 21, 25)
ATTN_HEADS = (2, 4, 8)
OPS: tuple[str, ...] = tuple(f"sep{k}" for k in SEP_KERNELS) + tuple(f"attn{h}" for h in ATTN_HEADS) + ("ffn", "id")


def check_op(op: str) -> str:
    if op not in OPS:
        raise ConfigError(f"unknown layer operation {op!r}; choose from {', '.join(OPS)}")
    return op


ENERGY_SCALES = ("linear", "log")


@dataclass(frozen=True)
class AcousticConfig:
    """Constructor arguments of `AcousticModel`. Pitch/energy ranges are in normalised units
    (z-scores of the train split) and set the bucket boundaries of their embeddings."""

    num_symbols: int = 256
    n_mels: int = 80
    hidden: int = 256
    encoder: tuple[str, ...] = ("attn2", "ffn") * 4
    decoder: tuple[str, ...] = ("attn2", "ffn") * 4
    ffn_filter: int = 1024
    ffn_kernel: int = 9
    dropout: float = 0.2
    predictor: str = "conv"  # "conv" (FastSpeech 2) or "sep" (LightSpeech: separable convs)
    predictor_channels: int = 256
    predictor_kernel: int = 3
    predictor_dropout: float = 0.5
    n_bins: int = 256
    pitch_range: tuple[float, float] = (-4.0, 4.0)
    energy_range: tuple[float, float] = (-2.0, 4.0)
    # "linear": phoneme energy as FastSpeech 2 defines it (mean frame L2 norm of the STFT magnitude);
    # "log": its logarithm, so the predictor's squared error weighs quiet phonemes as the log-mel does
    energy: str = "linear"

    def __post_init__(self) -> None:
        for op in (*self.encoder, *self.decoder):
            check_op(op)
        if not self.encoder or not self.decoder:
            raise ConfigError("encoder and decoder need at least one layer each")
        if self.predictor not in ("conv", "sep"):
            raise ConfigError(f"predictor must be conv or sep, not {self.predictor!r}")
        if self.energy not in ENERGY_SCALES:
            raise ConfigError(f"energy must be {' or '.join(ENERGY_SCALES)}, not {self.energy!r}")
        for op in (*self.encoder, *self.decoder):
            if op.startswith("attn") and self.hidden % int(op[4:]):
                raise ConfigError(f"hidden {self.hidden} is not divisible by the heads of {op}")
        if self.hidden < 1 or self.n_bins < 2 or self.num_symbols < 1:
            raise ConfigError("hidden, n_bins and num_symbols must be positive (n_bins >= 2)")
        for name in ("pitch_range", "energy_range"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ConfigError(f"{name} must be (low, high) with low < high")

    def to_dict(self) -> dict[str, Any]:
        """`hifilite.config.to_dict(self)`: what a checkpoint's metadata stores."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AcousticConfig":
        """`hifilite.config.from_dict` for this class (unknown keys fail)."""
        return from_dict(cls, data, "acoustic config")
