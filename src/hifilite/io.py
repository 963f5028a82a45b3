"""Atomic file writing: a crash or Ctrl-C never leaves a half-written file that looks complete.

A file is written as `.<name>.<owner>.<random>.part` beside its final name and renamed into place.
`<owner>` is `<host tag>-<pid>` of the writing process, so the partial files a killed process
leaves behind (kill -9, power loss) are recognised as stale by the next process that writes into
the same folder, and removed: only when the writer ran on this machine and is no longer alive, so
two live runs sharing a folder never delete each other's partial files.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any, Callable

# .<name>.<8 hex host tag>-<pid>.<random>.part
_TAGGED_PART = re.compile(r"^\..+\.([0-9a-f]{8})-(\d+)\.[A-Za-z0-9_]+\.part$")
# what versions before owner tags wrote: .<name>.<8 random>.part
_UNTAGGED_PART = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")
UNTAGGED_STALE_SECONDS = 3600.0  # an untagged partial file unchanged this long has no live writer
_swept: set[str] = set()


def _host_tag() -> str:
    return f"{zlib.crc32(socket.gethostname().encode()) & 0xFFFFFFFF:08x}"


def part_prefix(path: str | os.PathLike) -> str:
    """The name prefix of this process's partial files for `path` (`.<name>.<owner>.`)."""
    return f".{Path(path).name}.{_host_tag()}-{os.getpid()}."


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError as exc:
        return exc.errno != errno.ESRCH
    try:  # a killed child not yet reaped by its parent still answers signal 0
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def is_stale_part(path: Path, now: float | None = None) -> bool:
    """Whether `path` is a partial file whose writer is gone (see the module docstring)."""
    m = _TAGGED_PART.match(path.name)
    if m:
        return m.group(1) == _host_tag() and not pid_alive(int(m.group(2)))
    if _UNTAGGED_PART.match(path.name):
        try:
            age = (now or time.time()) - path.stat().st_mtime
        except OSError:
            return False
        return age > UNTAGGED_STALE_SECONDS
    return False


def remove_stale_parts(folder: str | os.PathLike) -> list[Path]:
    """Delete the partial files in `folder` left by writers that are no longer running; returns them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if entry.name.endswith(".part") and entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
            path = Path(entry.path)
            if is_stale_part(path, now):
                try:
                    path.unlink()
                    removed.append(path)
                except OSError:  # removed by a concurrent sweep, or not ours to remove
                    pass
    return removed


def sweep_once(folder: str | os.PathLike) -> None:
    """`remove_stale_parts(folder)` the first time this process writes into `folder`."""
    key = os.path.abspath(folder)
    if key not in _swept:
        _swept.add(key)
        remove_stale_parts(folder)


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call `write(tmp_path)` on a temporary file beside `path`, then rename it into place.

    The file gets the usual permissions for new files (0666 less the umask). The first write into
    a folder removes the stale partial files other, dead processes left there.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_once(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=part_prefix(path), suffix=".part", dir=path.parent)
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


MAX_SAFETENSORS_HEADER = 16 << 20  # bytes of JSON header a model file may have


def read_safetensors_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The metadata strings of a safetensors file, from its header alone (no tensors read, no
    torch); CheckpointError if it cannot be read. The one header reader: the registry, the
    loaders and the CLI all use it."""
    import json
    import struct

    from .errors import CheckpointError

    try:
        with open(path, "rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            if size > MAX_SAFETENSORS_HEADER:
                raise CheckpointError(f"{path}: safetensors header of {size} bytes is implausibly large")
            header = json.loads(f.read(size))
    except (OSError, struct.error, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if meta is None:
        return {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise CheckpointError(f"{path}: safetensors metadata must map names to strings")
    return meta


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


def safe_torch_load(path: str | os.PathLike) -> Any:
    """`torch.load` restricted to tensors and plain containers; refuses pickled code."""
    import pickle

    import torch

    from .errors import CheckpointError

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unsafe content"
        raise CheckpointError(
            f"{path}: refused to load: the file needs arbitrary unpickling (possible code), "
            f"only plain tensor checkpoints are accepted ({first})"
        ) from None
    except Exception as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({type(exc).__name__}: {exc})") from None
