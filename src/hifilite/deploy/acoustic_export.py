"""ONNX export of an acoustic model: phoneme ids -> log-mel with dynamic lengths.

The graph takes `ids` (1, N) int64 and `duration_scale` (1,) float32 (1 / speaking rate) and
returns `mel` (1, n_mels, T), where N and T are dynamic: the length regulator is a cumulative sum,
a comparison and a gather (see `models.length_regulate`), so the number of frames is computed
inside the graph. The symbol table, statistics and mel settings are written beside the model as
`<name>.onnx.json` so the file is usable without the safetensors checkpoint.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch import nn

from ..version import __version__
from ..config import to_dict
from ..errors import HifiliteError
from ..io import atomic_write
from ..acoustic.checkpoint import LoadedAcoustic

OPSET = 17
PARITY_TOLERANCE = 1e-3  # log-mel units; measured ~2e-6


class _OnnxWrapper(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor, duration_scale: torch.Tensor) -> torch.Tensor:
        out = self.model(ids, duration_scale=duration_scale)
        return out["mel"].transpose(1, 2)


def parity(path: str | Path, model: nn.Module, lengths: tuple[int, ...] = (1, 9, 61)) -> float:
    """Largest |ONNX Runtime - PyTorch| over the mels of random id sequences of `lengths`, at two
    speaking rates (the frame counts must agree too; a mismatch counts as infinite)."""
    from ..runtime import session

    sess = session(path, threads=1)
    gen = torch.Generator().manual_seed(0)
    n_symbols = int(model.config.num_symbols)
    worst = 0.0
    for n in lengths:
        ids = torch.randint(1, n_symbols, (1, n), generator=gen)
        for scale in (1.0, 0.8):
            with torch.no_grad():
                ref = model(ids, duration_scale=torch.tensor([scale]))["mel"].transpose(1, 2)[0].numpy()
            got = onnx_mel(sess, ids[0].tolist(), scale)
            worst = max(worst, float("inf") if got.shape != ref.shape else float(abs(got - ref).max(initial=0.0)))
    return worst


def export_onnx(loaded: LoadedAcoustic, path: str | Path, check: bool = True,
                tolerance: float = PARITY_TOLERANCE) -> Path:
    """Write `loaded.model` as ONNX (opset 17) plus `<path>.json`; returns the .onnx path.

    With `check`, the export is refused (no file left behind) when ONNX Runtime and PyTorch differ
    by more than `tolerance` on random phoneme sequences of several lengths."""
    path = Path(path)
    model = loaded.model.eval()
    wrapper = _OnnxWrapper(model).eval()
    example = (torch.randint(3, 40, (1, 23)), torch.ones(1))
    kwargs = dict(input_names=["ids", "duration_scale"], output_names=["mel"], opset_version=OPSET,
                  dynamic_axes={"ids": {1: "phonemes"}, "mel": {2: "frames"}})

    def write(tmp: str) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about Python-level branches on shapes
            try:
                torch.onnx.export(wrapper, example, tmp, dynamo=False, **kwargs)
            except TypeError:  # torch versions before the `dynamo` argument
                torch.onnx.export(wrapper, example, tmp, **kwargs)

    atomic_write(path, write)
    if check:
        try:
            diff = parity(path, model)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if not diff <= tolerance:
            path.unlink(missing_ok=True)
            raise HifiliteError(f"ONNX Runtime differs from PyTorch by {diff:.3g} (> {tolerance:g}); export refused")
    meta = {"format": "hifilite.acoustic.onnx/1", "hifilite_version": __version__, "config": model.config.to_dict(),
            "symbols": loaded.symbols, "stats": loaded.stats, "mel": to_dict(loaded.mel), "extra": loaded.extra}
    text = json.dumps(meta, ensure_ascii=False)
    atomic_write(Path(f"{path}.json"), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path


def onnx_mel(session, ids: list[int], duration_scale: float = 1.0):
    """Run an exported model with ONNX Runtime: (n_mels, T) numpy log-mel."""
    import numpy as np

    out = session.run(["mel"], {"ids": np.asarray([ids], dtype=np.int64),
                                "duration_scale": np.asarray([duration_scale], dtype=np.float32)})[0]
    return out[0]
