"""A model as its ONNX file sees it (`Graph`, built by `export.vocoder_graph` or
`acoustic_export.acoustic_graph`) and its writing to a file (`write_graph`).

`Graph.module(*tensors)` takes the inputs in the order of `Graph.inputs` and returns the one output;
`shapes` gives every input's and the output's dims, a string naming a dynamic axis (e.g. the
vocoder's mel (batch, n_mels, frames) -> audio (batch, samples)). `probes` are the inputs that
`parity.parity` runs in PyTorch and ONNX Runtime, as {input name: numpy array}.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..config import MelConfig
from ..io import atomic_write


@dataclass
class Graph:
    kind: str  # "vocoder" or "acoustic": the sidecar's `kind`
    name: str
    mel: MelConfig  # the mels the model takes (vocoder) or writes (acoustic model)
    module: nn.Module  # in eval mode, on the CPU
    inputs: tuple[str, ...]
    output: str
    shapes: dict[str, list[int | str]]
    example: tuple[torch.Tensor, ...]  # traced once
    probes: list[dict[str, np.ndarray]]
    tolerance: float  # largest |ONNX Runtime - PyTorch| an export accepts, in the output's units
    meta: dict[str, Any] = field(default_factory=dict)  # the kind's own sidecar keys
    doc: str = ""  # the ONNX file's doc string

    @property
    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        axes = {name: {i: d for i, d in enumerate(dims) if isinstance(d, str)} for name, dims in self.shapes.items()}
        return {name: a for name, a in axes.items() if a}


def write_graph(graph: Graph, path: str | os.PathLike, opset: int) -> Path:
    """Trace `graph.module` on `graph.example` into `path` (atomically), checked by `onnx.checker`."""

    def write(tmp: str) -> None:
        kwargs = dict(input_names=list(graph.inputs), output_names=[graph.output], opset_version=opset,
                      dynamic_axes=graph.dynamic_axes, do_constant_folding=True)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about Python-level branches on constants and shapes
            try:
                torch.onnx.export(graph.module, graph.example, tmp, dynamo=False, **kwargs)
            except TypeError:  # torch versions before the `dynamo` argument
                torch.onnx.export(graph.module, graph.example, tmp, **kwargs)
        import onnx

        proto = onnx.load(tmp)
        onnx.checker.check_model(proto)
        proto.doc_string = graph.doc
        onnx.save(proto, tmp)

    return atomic_write(path, write)


__all__ = ["Graph", "write_graph"]
