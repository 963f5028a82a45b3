"""ONNX export of any generator (teacher, v1-v3, students, iSTFT heads), with a JSON sidecar.

The exported graph is `Generator.forward` with weight norm fused into plain weights: input `mel`
(batch, n_mels, frames) float32, output `audio` (batch, frames * hop) float32, batch and time
axes dynamic, opset fixed (`sidecar.OPSET`). The sidecar beside it holds the sample rate, the full
mel settings, the hop, the generator's constructor arguments and its receptive field in frames,
which is all that the torch-free runtime (`hifilite.runtime`) needs. Right after export the file
is run once in ONNX Runtime against PyTorch on a probe mel; the difference is recorded in the
sidecar and an export above tolerance is refused.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..version import __version__
from ..config import to_dict
from ..errors import ConfigError, HifiliteError
from ..io import atomic_write
from .sidecar import (FORMAT, INPUT_NAME, LOG_CLAMP_MIN, MAGNITUDE_EPS, OPSET, OUTPUT_NAME, sidecar_path,
                      write_sidecar)

PARITY_TOLERANCE = 1e-4


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
    raise ConfigError(f"cannot export {model!r}: give a model name, a path or a Vocoder")


def inference_generator(voc) -> nn.Module:
    """A copy of the vocoder's generator with weight norm fused, in eval mode, on the CPU."""
    gen = copy.deepcopy(voc.generator).cpu().eval()
    _fuse(gen)
    return gen


def probe_mel(n_mels: int, frames: int, seed: int = 0) -> np.ndarray:
    """A speech-like log-mel (1, n_mels, frames): smooth spectral envelope with a moving formant-like peak."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[None, :]
    f = np.arange(n_mels)[:, None]
    peak = n_mels * (0.3 + 0.15 * np.sin(2 * np.pi * t / 37.0))
    mel = -6.0 + 4.0 * np.exp(-((f - peak) ** 2) / (2 * (n_mels / 10) ** 2)) - 0.04 * f
    mel = mel + 0.5 * rng.standard_normal((n_mels, frames))
    return mel[None].astype(np.float32)


def parity(onnx_path: str | os.PathLike, generator: nn.Module, mels: list[np.ndarray],
           threads: int = 1) -> float:
    """Max |ONNX Runtime - PyTorch| over the given mels (each (1, n_mels, frames)), fp32."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    worst = 0.0
    with torch.inference_mode():
        for mel in mels:
            ref = generator(torch.from_numpy(mel)).squeeze(1).numpy()
            got = sess.run([OUTPUT_NAME], {INPUT_NAME: mel})[0]
            if got.shape != ref.shape:
                raise HifiliteError(f"ONNX output shape {got.shape} differs from PyTorch {ref.shape}")
            worst = max(worst, float(np.abs(got - ref).max()))
    return worst


def export_onnx(
    model: Any,
    out: str | os.PathLike,
    *,
    opset: int = OPSET,
    check: bool = True,
    tolerance: float = PARITY_TOLERANCE,
) -> tuple[Path, Path]:
    """Export `model` (anything `load_vocoder` accepts, a Vocoder, or a bare Generator with the
    default mel settings) to `out` (.onnx) and its sidecar. Returns (onnx path, sidecar path).

    With `check`, the export is refused (HifiliteError, no files left behind) if ONNX Runtime and
    PyTorch differ by more than `tolerance` on probe mels of three lengths.
    """
    out = Path(out)
    if out.suffix != ".onnx":
        raise ConfigError(f"{out}: the output file must end in .onnx")
    if isinstance(model, nn.Module) and hasattr(model, "receptive_field_frames"):
        from ..config import MelConfig

        gen = copy.deepcopy(model).cpu().eval()
        _fuse(gen)
        n_mels = gen.in_channels if hasattr(gen, "in_channels") else gen.conv_pre.in_channels
        mel_cfg = dataclasses.replace(MelConfig(), n_mels=int(n_mels),
                                      hop_length=int(gen.hop_length))
        info = {"name": type(model).__name__, "mel": mel_cfg, "generator": None}
    else:
        voc = _load(model)
        gen = inference_generator(voc)
        info = {"name": voc.name, "mel": voc.mel_config, "generator": to_dict(voc.gen_config)}
    n_mels, hop = info["mel"].n_mels, info["mel"].hop_length
    ctx = int(gen.receptive_field_frames())
    wrapper = _Waveform(gen).eval()
    example = torch.from_numpy(probe_mel(n_mels, 2 * ctx + 7))

    def write(tmp: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about Python-level branches on constants
            kwargs = dict(
                input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], opset_version=opset,
                dynamic_axes={INPUT_NAME: {0: "batch", 2: "frames"}, OUTPUT_NAME: {0: "batch", 1: "samples"}},
                do_constant_folding=True,
            )
            try:
                torch.onnx.export(wrapper, (example,), tmp, dynamo=False, **kwargs)
            except TypeError:  # torch versions before the `dynamo` argument
                torch.onnx.export(wrapper, (example,), tmp, **kwargs)
        import onnx

        proto = onnx.load(tmp)
        onnx.checker.check_model(proto)
        proto.doc_string = f"hifilite {__version__} vocoder: {INPUT_NAME} (batch, n_mels, frames) -> " \
                           f"{OUTPUT_NAME} (batch, frames * {hop})"
        onnx.save(proto, tmp)

    onnx_path = atomic_write(out, write)
    max_diff = None
    if check:
        try:
            lengths = (1, ctx + 3, 3 * ctx + 11)
            max_diff = parity(onnx_path, gen, [probe_mel(n_mels, n, seed=i) for i, n in enumerate(lengths)])
        except BaseException:
            onnx_path.unlink(missing_ok=True)
            raise
        if not max_diff <= tolerance:
            onnx_path.unlink(missing_ok=True)
            raise HifiliteError(f"ONNX Runtime differs from PyTorch by {max_diff:.3g} (> {tolerance:g}); "
                                "export refused")
    meta = sidecar_meta(info, gen, opset=opset, parity_max_abs_diff=max_diff)
    return onnx_path, write_sidecar(sidecar_path(onnx_path), meta)


def _fuse(gen: nn.Module) -> None:
    if hasattr(gen, "remove_weight_norm"):
        gen.remove_weight_norm()
    if any(hasattr(m, "parametrizations") for m in gen.modules()):
        raise HifiliteError("weight norm is still present after remove_weight_norm()")


def sidecar_meta(info: dict[str, Any], gen: nn.Module, *, opset: int,
                 parity_max_abs_diff: float | None) -> dict[str, Any]:
    mel = info["mel"]
    return {
        "format": FORMAT,
        "name": info["name"],
        "sample_rate": mel.sample_rate,
        "hop_length": mel.hop_length,
        "n_mels": mel.n_mels,
        "mel": to_dict(mel),
        "magnitude_eps": MAGNITUDE_EPS,
        "log_clamp_min": LOG_CLAMP_MIN,
        "generator": info["generator"],
        "receptive_field_frames": int(gen.receptive_field_frames()),
        "params": int(sum(p.numel() for p in gen.parameters())),
        "input": INPUT_NAME,
        "output": OUTPUT_NAME,
        "input_shape": ["batch", mel.n_mels, "frames"],
        "output_shape": ["batch", f"frames * {mel.hop_length}"],
        "opset": opset,
        "precision": "fp32",
        "parity_max_abs_diff": parity_max_abs_diff,
        "hifilite_version": __version__,
    }
