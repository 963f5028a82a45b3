"""ONNX export of any model, with its JSON sidecar (`sidecar.py`): the one export path.

    export_onnx("lj-v1", "lj-v1.onnx")                          # a vocoder: lj-v1.onnx + lj-v1.json
    export_onnx(load_acoustic("joe-lightspeech"), "a.onnx")     # an acoustic model: a.onnx + a.json

A vocoder (teacher, v1-v3, students, iSTFT and Fourier heads) is exported as `Generator.forward`
with weight norm fused: input `mel` (batch, n_mels, frames) float32, output `audio` (batch,
frames * hop) float32, batch and time axes dynamic. A prior-family vocoder (`pghi`, `universal-prior`)
exports its network only, output `logmag` (batch, bins, frames); its sidecar's `phase` names the
reconstruction the runtime runs after it (`hifilite.runtime.pghi`, numpy). An acoustic model's graph is described in
`acoustic_export.py`. Opset fixed (`sidecar.OPSET`). Right after export the file is run in ONNX
Runtime against PyTorch (`parity.parity`); the difference is recorded in the sidecar and an export
above tolerance is refused, leaving no file behind.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..version import __version__
from ..config import MelConfig, PriorConfig, to_dict
from ..errors import ConfigError, HifiliteError
from ..measure import probe_mel
from ..vocoder.weight_norm import fuse_weight_norm, has_weight_norm
from .graph import Graph, write_graph
from .parity import parity, refuse_unless_close
from ..config import LOG_CLAMP_MIN, MAGNITUDE_EPS
from ..runtime.sidecar import FORMAT, INPUT_NAME, MAGNITUDE_OUTPUT, OPSET, OUTPUT_NAME, sidecar_path, write_sidecar

PARITY_TOLERANCE = 1e-4  # audio samples (vocoders; acoustic models: acoustic_export.PARITY_TOLERANCE)


class _Waveform(nn.Module):
    """Generator (B, n_mels, frames) -> (B, 1, samples), exported as (B, samples)."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.generator(mel).squeeze(1)


def _load(model: Any):
    from ..vocoder.api import Vocoder, load_vocoder

    if isinstance(model, Vocoder):
        return model
    if isinstance(model, (str, os.PathLike)):
        return load_vocoder(model)
    raise ConfigError(f"cannot export {model!r}: give a model name, a path, a Vocoder or a loaded acoustic model")


def _fused(generator: nn.Module) -> nn.Module:
    gen = fuse_weight_norm(copy.deepcopy(generator).cpu().eval())
    if has_weight_norm(gen):
        raise HifiliteError("weight norm is still present after fusing it")
    return gen


def inference_generator(voc) -> nn.Module:
    """A copy of the vocoder's generator with weight norm fused, in eval mode, on the CPU."""
    return _fused(voc.generator)


def vocoder_graph(model: Any) -> Graph:
    """The graph of a vocoder (anything `load_vocoder` accepts, a Vocoder, or a bare generator with
    the default mel settings), probed on speech-like mels of three lengths around its receptive field."""
    if isinstance(model, nn.Module) and hasattr(model, "receptive_field_frames"):
        gen = _fused(model)
        n_mels = gen.in_channels if hasattr(gen, "in_channels") else gen.conv_pre.in_channels
        mel = dataclasses.replace(MelConfig(), n_mels=int(n_mels), hop_length=int(gen.hop_length))
        name, gen_config = type(model).__name__, None
    else:
        voc = _load(model)
        gen, mel, name, gen_config = inference_generator(voc), voc.mel_config, voc.name, to_dict(voc.gen_config)
    ctx = int(gen.receptive_field_frames())
    lengths = (1, ctx + 3, 3 * ctx + 11)
    phase = getattr(gen, "config", None)
    if isinstance(phase, PriorConfig):  # the network only: the phase is reconstructed by the runtime
        bins = phase.n_fft // 2 + 1
        return Graph(
            kind="vocoder", name=name, mel=mel, module=gen.eval(),
            inputs=(INPUT_NAME,), output=MAGNITUDE_OUTPUT,
            shapes={INPUT_NAME: ["batch", mel.n_mels, "frames"], MAGNITUDE_OUTPUT: ["batch", bins, "frames"]},
            example=(torch.from_numpy(probe_mel(mel.n_mels, 2 * ctx + 7)),),
            probes=[{INPUT_NAME: probe_mel(mel.n_mels, n, seed=i)} for i, n in enumerate(lengths)],
            tolerance=PARITY_TOLERANCE,
            meta={"generator": to_dict(phase), "receptive_field_frames": ctx, "magnitude_eps": MAGNITUDE_EPS,
                  "log_clamp_min": LOG_CLAMP_MIN,
                  "phase": phase.phase_settings()},
            doc=f"hifilite {__version__} vocoder network: {INPUT_NAME} (batch, n_mels, frames) -> "
                f"{MAGNITUDE_OUTPUT} (batch, {bins}, frames), Gaussian-window log-magnitude; the phase "
                f"({phase.phase}) is reconstructed outside the graph",
        )
    return Graph(
        kind="vocoder", name=name, mel=mel, module=_Waveform(gen).eval(),
        inputs=(INPUT_NAME,), output=OUTPUT_NAME,
        shapes={INPUT_NAME: ["batch", mel.n_mels, "frames"], OUTPUT_NAME: ["batch", "samples"]},
        example=(torch.from_numpy(probe_mel(mel.n_mels, 2 * ctx + 7)),),
        probes=[{INPUT_NAME: probe_mel(mel.n_mels, n, seed=i)} for i, n in enumerate(lengths)],
        tolerance=PARITY_TOLERANCE,
        meta={"generator": gen_config, "receptive_field_frames": ctx, "magnitude_eps": MAGNITUDE_EPS,
              "log_clamp_min": LOG_CLAMP_MIN, "input": INPUT_NAME},  # "input": read by earlier releases
        doc=f"hifilite {__version__} vocoder: {INPUT_NAME} (batch, n_mels, frames) -> "
            f"{OUTPUT_NAME} (batch, frames * {mel.hop_length})",
    )


def model_graph(model: Any) -> Graph:
    """The graph of an acoustic model (`LoadedAcoustic`, as `load_acoustic` returns it) or a vocoder."""
    from ..acoustic.checkpoint import LoadedAcoustic

    if isinstance(model, LoadedAcoustic):
        from .acoustic_export import acoustic_graph

        return acoustic_graph(model)
    return vocoder_graph(model)


def export_onnx(
    model: Any,
    out: str | os.PathLike,
    *,
    opset: int = OPSET,
    check: bool = True,
    tolerance: float | None = None,
) -> tuple[Path, Path]:
    """Export `model` (a vocoder as `vocoder_graph` takes it, or a `LoadedAcoustic`) to `out` (.onnx)
    and its sidecar beside it (`sidecar.sidecar_path`). Returns (onnx path, sidecar path).

    With `check`, the export is refused (HifiliteError, no file left behind) if ONNX Runtime and
    PyTorch differ by more than `tolerance` (default: the kind's, 1e-4 for audio, 1e-3 for log-mels)
    on the graph's probe inputs; the difference is the sidecar's `parity_max_abs_diff`.
    """
    out = Path(out)
    if out.suffix != ".onnx":
        raise ConfigError(f"{out}: the output file must end in .onnx")
    graph = model_graph(model)
    onnx_path = write_graph(graph, out, opset)
    limit = graph.tolerance if tolerance is None else tolerance
    diff = refuse_unless_close(onnx_path, lambda: parity(onnx_path, graph), limit) if check else None
    return onnx_path, write_sidecar(sidecar_path(onnx_path), sidecar_meta(graph, opset=opset, parity_max_abs_diff=diff))


def sidecar_meta(graph: Graph, *, opset: int, parity_max_abs_diff: float | None) -> dict[str, Any]:
    """The sidecar of an export of `graph` (see `sidecar.py` for the keys)."""
    mel = graph.mel
    return {
        "format": FORMAT,
        "kind": graph.kind,
        "name": graph.name,
        "sample_rate": mel.sample_rate,
        "hop_length": mel.hop_length,
        "n_mels": mel.n_mels,
        "mel": to_dict(mel),
        **graph.meta,
        "params": int(sum(p.numel() for p in graph.module.parameters())),
        "inputs": list(graph.inputs),
        "output": graph.output,
        "shapes": graph.shapes,
        "opset": opset,
        "precision": "fp32",
        "parity_max_abs_diff": parity_max_abs_diff,
        "hifilite_version": __version__,
    }


__all__ = ["export_onnx", "vocoder_graph", "model_graph", "inference_generator", "sidecar_meta", "PARITY_TOLERANCE"]
