"""Checks the commands share: numeric ranges and devices (run while the command line is parsed, so
a bad value costs no model load), output paths (run before any work starts), and the warning for
randomly initialised presets.

Integer options use typer's `min=`/`max=`; floats use `number(...)`, which also refuses NaN and
infinity (click's float ranges let NaN through).
"""

from __future__ import annotations

import math
import os
import tempfile
from enum import Enum
from pathlib import Path
from typing import Callable, Iterable, Optional

import typer

from ..errors import OutputError


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False) -> Callable:
    """Parse-time check of a float option: finite, >= lo (> lo with `lo_open`) and <= hi (< hi
    with `hi_open`)."""
    if lo is not None and hi is not None:
        wanted = f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    elif lo is not None:
        wanted = f"a finite number {'>' if lo_open else '>='} {lo:g}"
    else:
        wanted = "a finite number" + (f" <= {hi:g}" if hi is not None else "")

    def check(value: Optional[float]) -> Optional[float]:
        if value is None:
            return value
        ok = math.isfinite(value)
        if ok and lo is not None:
            ok = value > lo if lo_open else value >= lo
        if ok and hi is not None:
            ok = value < hi if hi_open else value <= hi
        if not ok:
            raise typer.BadParameter(f"{value:g} is not {wanted}")
        return value

    return check


def device(*, auto: bool = False) -> Callable:
    """Parse-time check of a --device option: one of the known choices, and CUDA only where this
    torch build sees a CUDA device."""
    choices = ("auto", "cpu", "cuda") if auto else ("cpu", "cuda")

    def check(value: str) -> str:
        if value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}")
        if value == "cuda":
            import torch

            if not torch.cuda.is_available():
                build = "a CPU-only build" if torch.version.cuda is None else "no visible GPU"
                raise typer.BadParameter(f"CUDA was asked for, but this torch ({build}) sees no CUDA device; "
                                         "use --device cpu")
        return value

    return check


def opset(value: int) -> int:
    """Parse-time check of an ONNX opset: 17 (STFT, needed by iSTFT heads) up to what onnx knows."""
    if value == 17:
        return value
    from onnx.defs import onnx_opset_version

    top = onnx_opset_version()
    if not 17 <= value <= top:
        raise typer.BadParameter(f"{value} is not an opset in [17, {top}]")
    return value


# ----------------------------------------------------------------------------------- outputs


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _check_can_create_in(folder: Path) -> None:
    """OutputError unless files can be created in `folder` (made later if missing): its nearest
    existing ancestor must be a folder that accepts a new file."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"cannot create {folder}: {probe} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write in {probe} ({_reason(exc)})") from None


def refuse_overwriting(outputs: Iterable[Path], inputs: Iterable[Path], hint: str) -> None:
    """OutputError if an output is the same file as an input (same path, symlink or hard link)."""

    def identity(p: Path):
        try:
            st = os.stat(p)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    by_id = {identity(p): p for p in inputs}
    by_id.pop(None, None)
    clashes = [(o, by_id[k]) for o in outputs if (k := identity(o)) is not None and k in by_id]
    if clashes:
        out, src = clashes[0]
        more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
        same = "" if Path(out) == Path(src) else f" (the input {src})"
        raise OutputError(f"refusing to overwrite an input: {out}{same} would be replaced{more}; {hint}")


def output_file(path: Path, inputs: Iterable[Path] = ()) -> Path:
    """Check, before any work, that a single output file can be written at `path`."""
    if path.is_dir():
        raise OutputError(f"{path} is a folder: give a file path (e.g. {path / ('out' + (path.suffix or '.wav'))})")
    refuse_overwriting([path], inputs, "choose another output path")
    _check_can_create_in(path.parent)
    return path


def output_folder(path: Path) -> Path:
    """Check, before any work, that `path` is (or can become) a folder files can be written in."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path} is not a folder (-o takes a folder here)")
    _check_can_create_in(path)
    return path


def write_error(path: Path, exc: OSError) -> OutputError:
    """The one-line error for an output that failed to write."""
    return OutputError(f"{path}: cannot write ({_reason(exc)})")


# ----------------------------------------------------------------------------------- warnings


def warn_if_random(model: str, console) -> None:
    """One line on stderr when `model` names a preset with random weights (noise, not speech); the
    one place this is said (`hifilite.registry.Resolved.random`)."""
    from ..errors import ModelNotFoundError
    from ..registry import COPY_VOCODER, resolve

    try:
        random = resolve(model, "vocoder").random
    except ModelNotFoundError:
        return  # reported where the model is loaded
    if random:
        console.print(f"warning: {model} is a preset with random weights: its output is noise, not speech "
                      f"(fine for benchmarking; use a trained model such as {COPY_VOCODER} for audio)",
                      markup=False, highlight=False, soft_wrap=True)


class Backend(str, Enum):
    """`vocode --backend`: eager PyTorch, or ONNX Runtime on a cached export."""

    torch = "torch"
    onnx = "onnx"


class TtsBackend(str, Enum):
    """`tts --backend`: ONNX Runtime when installed (auto), or the one named."""

    auto = "auto"
    onnx = "onnx"
    torch = "torch"


class StdoutFormat(str, Enum):
    """What `-o -` writes: a 16-bit wav with an open-ended header, or raw s16le samples."""

    wav = "wav"
    raw = "raw"


class ModelKind(str, Enum):
    vocoder = "vocoder"
    acoustic = "acoustic"
    all = "all"


class BenchBackend(str, Enum):
    torch = "torch"
    onnx = "onnx"
    onnx_int8 = "onnx-int8"


class DecompositionForm(str, Enum):
    """`compress decompose --form`: channel SVD, or depthwise + pointwise."""

    lowrank = "lowrank"
    separable = "separable"


class StudentFamily(str, Enum):
    lite = "lite"
    fourier = "fourier"
    decomposed = "decomposed"


class BaselineSize(str, Enum):
    matched = "matched"
    preset = "preset"


class TranscriptSource(str, Enum):
    auto = "auto"
    sidecar = "sidecar"
    soundtheme = "soundtheme"
    none = "none"


class CalibrationMethod(str, Enum):
    minmax = "minmax"
    entropy = "entropy"
    percentile = "percentile"
