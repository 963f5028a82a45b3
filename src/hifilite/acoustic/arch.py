"""Architectures as data: the presets and the architecture strings (`parse_arch`, `arch_string`)
over `AcousticConfig` (`hifilite.config.acoustic`, whose names are importable from here too).
Torch-free; the model is `hifilite.acoustic.models`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..config.acoustic import (  # noqa: F401  (importable from here too)
    ATTN_HEADS,
    ENERGY_SCALES,
    OPS,
    SEP_KERNELS,
    AcousticConfig,
    check_op,
)
from ..errors import ConfigError

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
