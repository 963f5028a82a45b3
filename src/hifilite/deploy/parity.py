"""The one parity check of every ONNX export, vocoder or acoustic model: PyTorch against ONNX Runtime
on the same inputs.

`parity(onnx_path, graph)` runs `graph.probes` through `graph.module` and the file and returns
`max_abs_diff` over the (PyTorch, ONNX Runtime) output pairs (a shape mismatch, e.g. another
number of frames, counts as infinite); `refuse_unless_close` deletes the file and raises when the
difference exceeds the tolerance, so no export that differs is ever left behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np

from ..errors import HifiliteError

if TYPE_CHECKING:
    from .graph import Graph


def max_abs_diff(pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> float:
    """Largest |reference - output| over the pairs; inf where the shapes differ."""
    worst = 0.0
    for ref, got in pairs:
        ref, got = np.asarray(ref), np.asarray(got)
        if ref.shape != got.shape:
            return float("inf")
        worst = max(worst, float(np.abs(got - ref).max(initial=0.0)))
    return worst


def parity(onnx_path: str | os.PathLike, graph: "Graph", threads: int = 1) -> float:
    """Max |ONNX Runtime - PyTorch| of `graph.output` over `graph.probes`, fp32, on `threads` threads."""
    import torch

    from ..runtime import session

    sess = session(onnx_path, threads=threads)
    with torch.inference_mode():
        return max_abs_diff((graph.module(*(torch.from_numpy(feed[name]) for name in graph.inputs)).numpy(),
                             sess.run([graph.output], feed)[0]) for feed in graph.probes)


def refuse_unless_close(path: str | os.PathLike, measure: Callable[[], float], tolerance: float) -> float:
    """`measure()` (the export's parity) for the file at `path`; the file is removed, and the export
    refused with HifiliteError, when it fails or exceeds `tolerance`. Returns the difference."""
    path = Path(path)
    try:
        diff = measure()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if not diff <= tolerance:
        path.unlink(missing_ok=True)
        raise HifiliteError(f"ONNX Runtime differs from PyTorch by {diff:.3g} (> {tolerance:g}); export refused")
    return diff


__all__ = ["parity", "max_abs_diff", "refuse_unless_close"]
