"""ONNX exports kept on disk, so `--backend onnx` pays for an export (and its parity check) once.

    path = vocoder_onnx("joe-lite")          # exported on first use, then reused
    path = acoustic_onnx("runs/ls")         # an acoustic checkpoint, a run folder or a shipped name

Files live in `$HIFILITE_CACHE/onnx` (default `$XDG_CACHE_HOME/hifilite`, else `~/.cache/hifilite`),
named `<kind>-<stem>-<digest>.onnx` with their sidecar `.json` beside them. The digest covers the
source checkpoint's bytes and the hifilite version, so retraining a run folder or upgrading
hifilite exports again instead of reusing a stale graph. Presets with random weights have no
stable source and are refused; export them with `hifilite export`. Names and paths are resolved by
`hifilite.registry.resolve`, so a run folder's entry is named after the folder, any kind alike.

A finished export is stamped with the SHA-256 of its files (`<file>.onnx.sha256`); an entry whose
files are missing, truncated or altered does not match its stamp and is exported again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import ConfigError
from ..registry import Resolved, resolve
from ..runtime.sidecar import sidecar_path
from ..version import __version__

CHUNK = 1 << 20


def cache_dir() -> Path:
    """Root of hifilite's on-disk cache (folders under it are made when something is written)."""
    root = os.environ.get("HIFILITE_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(base) / "hifilite"
    return Path(root)


def _digest(files: list[Path]) -> str:
    h = hashlib.sha256(f"hifilite {__version__}".encode())
    for path in files:
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                h.update(block)
    return h.hexdigest()[:16]


def _target(kind: str, stem: str, files: list[Path]) -> Path:
    return cache_dir() / "onnx" / f"{kind}-{stem}-{_digest(files)}.onnx"


def _file_digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for path in files:
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                h.update(block)
    return h.hexdigest()


def _stamp(target: Path) -> Path:
    return Path(f"{target}.sha256")


def is_complete(target: Path, files: list[Path]) -> bool:
    """Whether a cache entry (its `files`: the graph and its sidecar) matches the stamp written
    when its export finished; False for a missing, truncated or altered entry."""
    try:
        want = _stamp(target).read_text(encoding="ascii").strip()
        return all(f.is_file() for f in files) and _file_digest(files) == want
    except (OSError, UnicodeDecodeError):
        return False


def _seal(target: Path, files: list[Path]) -> None:
    from ..io import atomic_write

    digest = _file_digest(files)
    atomic_write(_stamp(target), lambda tmp: Path(tmp).write_text(digest + "\n", encoding="ascii"))


def vocoder_onnx(model: str | os.PathLike) -> Path:
    """The ONNX export of a vocoder (name, run folder or checkpoint), made on first use."""
    return _cached(resolve(model, "vocoder"), model)


def acoustic_onnx(model: str | os.PathLike) -> Path:
    """The ONNX export of an acoustic model (file, run folder or shipped name), made on first use.
    An entry of an earlier release (sidecar `<name>.onnx.json`) does not match and is exported again."""
    return _cached(resolve(model, "acoustic"), model)


def _cached(source: Resolved, model: str | os.PathLike) -> Path:
    from .export import export_onnx

    if source.source == "preset":
        raise ConfigError(f"{model!r} is a preset with random weights: there is nothing to cache; "
                          "export it with `hifilite export` instead")
    if source.source == "onnx":
        return source.checkpoint  # already an export
    target = _target(source.kind, source.stem, source.files)
    entry = [target, sidecar_path(target)]
    if not is_complete(target, entry):
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.kind == "acoustic":
            from ..acoustic.checkpoint import load_acoustic

            export_onnx(load_acoustic(source.checkpoint), target)
            Path(f"{target}.json").unlink(missing_ok=True)  # an earlier release's sidecar name
        else:
            export_onnx(model, target)
        _seal(target, entry)
    return target


__all__ = ["cache_dir", "vocoder_onnx", "acoustic_onnx"]
