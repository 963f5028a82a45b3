"""The JSON written beside every exported `.onnx` (`model.onnx` -> `model.json`), vocoder or acoustic
model alike: everything needed to use the file alone.

    {"format": "hifilite.onnx/1", "kind": "vocoder" or "acoustic", "name": "lj-v1",
     "sample_rate": 22050, "hop_length": 256, "n_mels": 80, "mel": {MelConfig fields},
     "inputs": ["mel"], "output": "audio", "shapes": {"mel": ["batch", 80, "frames"], ...},
     "opset": 17, "precision": "fp32", "parity_max_abs_diff": 1.2e-07, "params": 925770, ...}

plus, for a vocoder, "receptive_field_frames", "generator" (its config), "magnitude_eps" and
"log_clamp_min" (and "input", for runtimes of earlier releases), and for a prior-family vocoder
"phase" ({"method", "n_fft", "hop", "iterations"}: the reconstruction after its `logmag` output); for an acoustic model "symbols",
"config" (its constructor arguments), "stats" and "extra". `read_sidecar` checks all of that and
also reads the sidecars of earlier releases (vocoders without "kind"; acoustic models as
`model.onnx.json`, format "hifilite.acoustic.onnx/1"). Torch-free: standard library only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelNotFoundError

FORMAT = "hifilite.onnx/1"
KINDS = ("vocoder", "acoustic")
OPSET = 17
INPUT_NAME = "mel"  # vocoder: mel (batch, n_mels, frames) -> audio (batch, frames * hop)
OUTPUT_NAME = "audio"
MAGNITUDE_OUTPUT = "logmag"  # prior-family vocoders: mel -> log-magnitude (batch, bins, frames); "phase" says how
ACOUSTIC_INPUTS = ("ids", "duration_scale")  # acoustic: ids (1, N) int64, duration_scale (1,) -> mel (1, n_mels, T)
ACOUSTIC_OUTPUT = "mel"
LEGACY_ACOUSTIC_FORMAT = "hifilite.acoustic.onnx/1"

MEL_KEYS = ("sample_rate", "n_fft", "hop_length", "win_length", "n_mels", "fmin", "fmax")
_NUMBER = (int, float)
MEL_TYPES = {"sample_rate": int, "n_fft": int, "hop_length": int, "win_length": int, "n_mels": int,
             "fmin": _NUMBER, "fmax": (*_NUMBER, type(None))}
REQUIRED = {"format": str, "kind": str, "sample_rate": int, "hop_length": int, "n_mels": int, "mel": dict,
            "inputs": list, "output": str}
REQUIRED_BY_KIND = {"vocoder": {"receptive_field_frames": int}, "acoustic": {"symbols": dict, "config": dict}}
_TYPE_NAMES = {int: "an integer", str: "a string", dict: "an object", list: "a list", _NUMBER: "a number",
               MEL_TYPES["fmax"]: "a number or null"}


def sidecar_path(onnx_path: str | os.PathLike) -> Path:
    """`model.onnx` -> `model.json`, where an export writes its sidecar."""
    return Path(onnx_path).with_suffix(".json")


def sidecar_of(onnx_path: str | os.PathLike) -> Path:
    """The sidecar to read for `onnx_path`: `model.json`, else an earlier release's acoustic
    `model.onnx.json` if only that exists."""
    path, legacy = sidecar_path(onnx_path), Path(f"{onnx_path}.json")
    return legacy if not path.is_file() and legacy.is_file() else path


def write_sidecar(path: str | os.PathLike, meta: dict[str, Any]) -> Path:
    from ..io import atomic_write

    text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _upgrade(meta: dict[str, Any]) -> dict[str, Any]:
    """An earlier release's sidecar in today's shape (unchanged if it is today's)."""
    if meta.get("format") == LEGACY_ACOUSTIC_FORMAT:
        mel = meta.get("mel") if isinstance(meta.get("mel"), dict) else {}
        top = {k: mel[k] for k in ("sample_rate", "hop_length", "n_mels") if k in mel}
        return {**top, **meta, "format": FORMAT, "kind": "acoustic", "inputs": list(ACOUSTIC_INPUTS),
                "output": ACOUSTIC_OUTPUT}
    if meta.get("format") == FORMAT and "kind" not in meta and "inputs" not in meta:  # vocoders only, then
        return {**meta, "kind": "vocoder", **({"inputs": [meta["input"]]} if "input" in meta else {})}
    return meta


def _is(value: Any, kind: Any) -> bool:
    if isinstance(value, bool):  # JSON true/false are not numbers here
        return False
    return isinstance(value, kind)


def read_sidecar(path: str | os.PathLike, kind: str | None = None) -> dict[str, Any]:
    """Read and check a sidecar of either kind (or only of `kind`); ModelNotFoundError when there
    is no file, ConfigError (one line naming the key) for anything missing, mistyped or inconsistent."""
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: no such sidecar JSON (written by the export beside the .onnx)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    meta = _upgrade(meta)
    required = {**REQUIRED, **REQUIRED_BY_KIND.get(meta.get("kind"), {})}
    missing = [k for k in required if k not in meta]
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)} (not a sidecar written by hifilite's export?)")
    if meta["format"] != FORMAT:
        raise ConfigError(f"{path}: format {meta['format']!r} is not {FORMAT!r}")
    if meta["kind"] not in KINDS:
        raise ConfigError(f"{path}: kind {meta['kind']!r} is not one of {', '.join(KINDS)}")
    for key, want in required.items():
        if not _is(meta[key], want):
            raise ConfigError(f"{path}: {key} must be {_TYPE_NAMES[want]}, got {meta[key]!r:.60}")
    if kind is not None and meta["kind"] != kind:
        raise ConfigError(f"{path}: the sidecar of a model of kind {meta['kind']!r}, not {kind!r}")
    if not meta["inputs"] or not all(isinstance(n, str) for n in meta["inputs"]):
        raise ConfigError(f"{path}: inputs must be a non-empty list of graph input names")
    _check_mel(path, meta)
    if meta["kind"] == "vocoder" and meta["receptive_field_frames"] < 0:
        raise ConfigError(f"{path}: receptive_field_frames must be an integer >= 0")
    if meta["kind"] == "vocoder" and "phase" in meta:
        _check_phase(path, meta)
    return meta


def _check_phase(path: Path, meta: dict[str, Any]) -> None:
    phase = meta["phase"]
    if not isinstance(phase, dict) or phase.get("method") not in ("pghi", "griffin-lim"):
        raise ConfigError(f"{path}: phase must be an object whose method is pghi or griffin-lim")
    for key in ("n_fft", "hop", "iterations"):
        if not _is(phase.get(key), int) or phase[key] < 1:
            raise ConfigError(f"{path}: phase {key} must be an integer >= 1")
    if meta["hop_length"] % phase["hop"] or phase["n_fft"] < 2 * meta["hop_length"]:
        raise ConfigError(f"{path}: phase hop must divide hop_length and n_fft be at least twice it")
    if meta["output"] != MAGNITUDE_OUTPUT:
        raise ConfigError(f"{path}: a vocoder with a phase reconstruction outputs {MAGNITUDE_OUTPUT!r}")


def _check_mel(path: Path, meta: dict[str, Any]) -> None:
    mel = meta["mel"]
    missing = [k for k in MEL_KEYS if k not in mel]
    if missing:
        raise ConfigError(f"{path}: 'mel' must hold {', '.join(MEL_KEYS)} (missing {', '.join(missing)})")
    unknown = set(mel) - set(MEL_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown mel setting(s) {', '.join(sorted(unknown))}")
    for key, want in MEL_TYPES.items():
        if not _is(mel[key], want):
            raise ConfigError(f"{path}: mel {key} must be {_TYPE_NAMES[want]}, got {mel[key]!r:.60}")
    if any(mel[k] != meta[k] for k in ("sample_rate", "hop_length", "n_mels")):
        raise ConfigError(f"{path}: top-level sample_rate/hop_length/n_mels disagree with 'mel'")


__all__ = ["FORMAT", "KINDS", "MEL_KEYS", "sidecar_path", "sidecar_of", "write_sidecar", "read_sidecar"]
