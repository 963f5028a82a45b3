"""Architectures as data: the search-space operations, `AcousticConfig`, the presets and the
architecture strings (`parse_arch`, `arch_string`). Torch-free; the model is `hifilite.acoustic.models`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

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
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AcousticConfig":
        from ..config import from_dict

        return from_dict(cls, data, "acoustic config")


PRESETS: dict[str, AcousticConfig] = {
    "fastspeech2": AcousticConfig(),
    "lightspeech": AcousticConfig(
        encoder=("sep5", "sep25", "sep13", "sep9"),
        decoder=("sep17", "sep21", "sep9", "sep13"),
        predictor="sep",
    ),
}

_INT_KEYS = {"hidden", "ffn_filter", "ffn_kernel", "predictor_channels", "predictor_kernel", "n_bins"}
_FLOAT_KEYS = {"dropout", "predictor_dropout"}
_STR_KEYS = {"predictor", "energy"}


def parse_arch(spec: str, **overrides: Any) -> AcousticConfig:
    """A preset name (`fastspeech2`, `lightspeech`) or an architecture string

        "sep5,sep25,attn2,ffn/sep17,id,sep9;hidden=128;predictor=sep"

    encoder ops, "/", decoder ops, then optional `;key=value` settings (hidden, ffn_filter,
    ffn_kernel, dropout, predictor, predictor_channels, predictor_kernel, predictor_dropout,
    n_bins, energy: linear or log). A preset may take the settings too: "lightspeech;hidden=128". `overrides` are
    further constructor arguments (e.g. num_symbols, pitch_range).
    """
    spec = spec.strip()
    head, *settings = [s.strip() for s in spec.split(";")]
    if head in PRESETS:
        base = PRESETS[head]
    elif "/" in head:
        enc, _, dec = head.partition("/")
        base = AcousticConfig(encoder=tuple(o.strip() for o in enc.split(",") if o.strip()),
                              decoder=tuple(o.strip() for o in dec.split(",") if o.strip()))
    else:
        raise ConfigError(f"architecture {spec!r}: not a preset ({', '.join(PRESETS)}) nor 'ENC_OPS/DEC_OPS'")
    values: dict[str, Any] = {}
    for item in settings:
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(f"architecture setting {item!r}: expected key=value")
        try:
            if key in _INT_KEYS:
                values[key] = int(value)
            elif key in _FLOAT_KEYS:
                values[key] = float(value)
            elif key in _STR_KEYS:
                values[key] = value.strip()
            else:
                raise ConfigError(f"unknown architecture setting {key!r}; valid: "
                                  f"{', '.join(sorted(_INT_KEYS | _FLOAT_KEYS | _STR_KEYS))}")
        except ValueError:
            raise ConfigError(f"architecture setting {item!r}: bad number") from None
    values.update(overrides)
    if "predictor_channels" not in values and "hidden" in values:
        values["predictor_channels"] = values["hidden"]
    if "ffn_filter" not in values and "hidden" in values:
        values["ffn_filter"] = 4 * values["hidden"]
    try:
        return dataclasses.replace(base, **values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None


def arch_string(cfg: AcousticConfig) -> str:
    """The `parse_arch` string of `cfg`: layers, hidden, predictor, and every other architecture
    setting that differs from what the string would otherwise give (so it round-trips)."""
    text = f"{','.join(cfg.encoder)}/{','.join(cfg.decoder)};hidden={cfg.hidden};predictor={cfg.predictor}"
    implied = parse_arch(text)
    for key in sorted(_INT_KEYS | _FLOAT_KEYS | (_STR_KEYS - {"predictor"})):
        if getattr(cfg, key) != getattr(implied, key):
            text += f";{key}={getattr(cfg, key)}"
    return text
