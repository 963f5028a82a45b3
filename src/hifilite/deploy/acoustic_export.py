"""The ONNX graph of an acoustic model (exported by `export.export_onnx`): phoneme ids -> log-mel.

The graph takes `ids` (1, N) int64 and `duration_scale` (1,) float32 (1 / speaking rate) and
returns `mel` (1, n_mels, T), where N and T are dynamic: the length regulator is a cumulative sum,
a comparison and a gather (see `models.length_regulate`), so the number of frames is computed
inside the graph. The sidecar carries the symbol table, statistics and mel settings, so the file
is usable without the safetensors checkpoint.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..version import __version__
from ..acoustic.checkpoint import LoadedAcoustic
from .graph import Graph
from ..runtime.sidecar import ACOUSTIC_INPUTS, ACOUSTIC_OUTPUT

PARITY_TOLERANCE = 1e-3  # log-mel units; measured ~2e-6
PROBE_LENGTHS = (1, 9, 61, 97)  # phonemes, each at two speaking rates
PROBE_SCALES = (1.0, 0.8)


class _OnnxWrapper(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor, duration_scale: torch.Tensor) -> torch.Tensor:
        out = self.model(ids, duration_scale=duration_scale)
        return out["mel"].transpose(1, 2)


def acoustic_graph(loaded: LoadedAcoustic) -> Graph:
    """The graph of `loaded.model` (put in eval mode), probed on random id sequences of
    `PROBE_LENGTHS` at the `PROBE_SCALES` (the frame counts must agree too)."""
    model = loaded.model.eval()
    ids_name, scale_name = ACOUSTIC_INPUTS
    gen = torch.Generator().manual_seed(0)
    n_symbols = int(model.config.num_symbols)
    probes = []
    for n in PROBE_LENGTHS:
        ids = torch.randint(1, n_symbols, (1, n), generator=gen).numpy()
        probes += [{ids_name: ids, scale_name: np.asarray([s], dtype=np.float32)} for s in PROBE_SCALES]
    return Graph(
        kind="acoustic", name=type(model).__name__, mel=loaded.mel, module=_OnnxWrapper(model).eval(),
        inputs=ACOUSTIC_INPUTS, output=ACOUSTIC_OUTPUT,
        shapes={ids_name: [1, "phonemes"], scale_name: [1], ACOUSTIC_OUTPUT: [1, loaded.mel.n_mels, "frames"]},
        example=(torch.randint(3, 40, (1, 23)), torch.ones(1)),
        probes=probes,
        tolerance=PARITY_TOLERANCE,
        meta={"config": model.config.to_dict(), "symbols": loaded.symbols, "stats": loaded.stats,
              "extra": loaded.extra},
        doc=f"hifilite {__version__} acoustic model: {ids_name} (1, phonemes) int64, {scale_name} (1,) -> "
            f"{ACOUSTIC_OUTPUT} (1, {loaded.mel.n_mels}, frames)",
    )


__all__ = ["acoustic_graph", "PARITY_TOLERANCE"]
