"""Shipped acoustic models, found by name: `load_acoustic("NAME")`, `hifilite tts --model NAME`.

A shipped acoustic model is a `save_acoustic` file in `hifilite/assets/NAME.safetensors` (written
by `tools/ship_acoustic.py`, which records the exact training command in its metadata). Names are
discovered from the files themselves: an asset is an acoustic model when its safetensors header
says so (only the header is read), so the vocoders shipped in the same folder are not mistaken for
one, and shipping a model needs no code change.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_ACOUSTIC = "joe-lightspeech-3h"  # what `hifilite tts` speaks with when no --model is given
DEFAULT_VOCODER = "joe-lite"
MAX_HEADER = 16 << 20


def _format(path: Path) -> str | None:
    """The `format` entry of a safetensors file's metadata, reading only its header."""
    try:
        with open(path, "rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            if size > MAX_HEADER:
                return None
            header = json.loads(f.read(size))
    except (OSError, struct.error, json.JSONDecodeError, UnicodeDecodeError):
        return None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return meta.get("format") if isinstance(meta, dict) else None


def shipped_models(assets: Path | None = None) -> dict[str, Path]:
    """Name -> file of every acoustic model in the assets folder."""
    from .models import FORMAT

    folder = ASSETS if assets is None else Path(assets)
    return {p.stem: p for p in sorted(folder.glob("*.safetensors")) if _format(p) == FORMAT}
