"""The JSON written beside an exported `.onnx`: everything needed to use the file alone.

    {"format": "hifilite.onnx/1", "sample_rate": 22050, "hop_length": 256, "n_mels": 80,
     "mel": {MelConfig fields}, "log_clamp_min": 1e-5, "magnitude_eps": 1e-9,
     "generator": {GeneratorConfig fields}, "receptive_field_frames": 16,
     "input": "mel", "output": "audio", "opset": 17, "precision": "fp32", ...}

Torch-free: the runtime reads it with nothing but the standard library.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelNotFoundError

FORMAT = "hifilite.onnx/1"
INPUT_NAME = "mel"
OUTPUT_NAME = "audio"
OPSET = 17
# The front-end's fixed constants (hifilite.audio.MelSpectrogram): sqrt(re^2 + im^2 + eps), log(max(x, clamp)).
MAGNITUDE_EPS = 1e-9
LOG_CLAMP_MIN = 1e-5

REQUIRED = ("format", "sample_rate", "hop_length", "n_mels", "mel", "receptive_field_frames", "input", "output")
MEL_KEYS = ("sample_rate", "n_fft", "hop_length", "win_length", "n_mels", "fmin", "fmax")


def sidecar_path(onnx_path: str | os.PathLike) -> Path:
    """`model.onnx` -> `model.json`."""
    return Path(onnx_path).with_suffix(".json")


def write_sidecar(path: str | os.PathLike, meta: dict[str, Any]) -> Path:
    from ..io import atomic_write

    text = json.dumps(meta, indent=2) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def read_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a sidecar; ConfigError for anything missing or inconsistent."""
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: no such sidecar JSON (written by `hifilite export` beside the .onnx)")
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)}")
    if meta["format"] != FORMAT:
        raise ConfigError(f"{path}: format {meta['format']!r} is not {FORMAT!r}")
    mel = meta["mel"]
    if not isinstance(mel, dict) or any(k not in mel for k in MEL_KEYS):
        raise ConfigError(f"{path}: 'mel' must hold {', '.join(MEL_KEYS)}")
    unknown = set(mel) - set(MEL_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown mel setting(s) {', '.join(sorted(unknown))}")
    if mel["hop_length"] != meta["hop_length"] or mel["n_mels"] != meta["n_mels"] \
            or mel["sample_rate"] != meta["sample_rate"]:
        raise ConfigError(f"{path}: top-level sample_rate/hop_length/n_mels disagree with 'mel'")
    if not isinstance(meta["receptive_field_frames"], int) or meta["receptive_field_frames"] < 0:
        raise ConfigError(f"{path}: receptive_field_frames must be an integer >= 0")
    return meta
