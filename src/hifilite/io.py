"""Atomic file writing: a crash or Ctrl-C never leaves a half-written file that looks complete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call `write(tmp_path)` on a temporary file beside `path`, then rename it into place.

    The file gets the usual permissions for new files (0666 less the umask).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_npy(path: str | os.PathLike, array) -> Path:
    """Write `array` as float32 .npy atomically (never pickled)."""
    import numpy as np

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:  # a handle: np.save would append ".npy" to the temporary name
            np.save(fh, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)

    return atomic_write(path, write)


def read_safetensors_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The metadata strings of a safetensors file, without reading its tensors; CheckpointError
    if it cannot be read."""
    from safetensors import safe_open

    from .errors import CheckpointError

    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None


def read_safetensors(path: str | os.PathLike) -> tuple[dict, dict[str, str]]:
    """(tensors, metadata) of a safetensors file; CheckpointError if it cannot be read.

    safetensors holds tensors and strings only, so reading never runs code from the file.
    """
    from safetensors.torch import load_file

    from .errors import CheckpointError

    meta = read_safetensors_metadata(path)
    try:
        return load_file(str(path)), meta
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None
