"""Exported models on ONNX Runtime: `OnnxVocoder` and `OnnxAcoustic`, each an `.onnx` file with the
JSON sidecar its export wrote beside it (`hifilite.runtime.sidecar`). Both implement the backend
contract of `hifilite.runtime.contract`; nothing here imports torch."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..config import LOG_CLAMP_MIN, mel_config
from ..errors import ConfigError, ModelNotFoundError
from .contract import AcousticBackend, VocoderBackend
from .mel import LogMel
from .sidecar import read_sidecar, sidecar_of


def session(model_path: str | os.PathLike, threads: int | None = None):
    """An ONNX Runtime CPU session; `threads` pins the intra-op pool (None: ONNX Runtime's default).

    No memory patterns: ONNX Runtime would plan and keep one per input shape, and every sentence or
    chunk has its own length, so a long-running process (a server) would grow with each new length
    (measured on the held-out sentences: +115 MB and growing, against +71 MB and flat, same speed)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.enable_mem_pattern = False
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for invalid models
        reason = " ".join(str(exc).split())[:300]
        raise ModelNotFoundError(f"{model_path}: ONNX Runtime cannot load it ({reason})") from None


def _exported(model_path: str | os.PathLike, sidecar: str | os.PathLike | None, kind: str,
              threads: int | None, n_inputs: int) -> tuple[Path, dict[str, Any], Any]:
    """(path, checked sidecar, session) of an exported model of `kind` taking `n_inputs` inputs;
    the graph's inputs and output must be the ones its sidecar names."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ModelNotFoundError(f"{model_path}: no such ONNX file")
    meta = read_sidecar(sidecar or sidecar_of(model_path), kind=kind)
    if len(meta["inputs"]) != n_inputs:
        raise ConfigError(f"{model_path}: a {kind} graph takes {n_inputs} input(s), the sidecar names "
                          f"{', '.join(meta['inputs'])}")
    sess = session(model_path, threads)
    names = [i.name for i in sess.get_inputs()], [o.name for o in sess.get_outputs()]
    if names != (list(meta["inputs"]), [meta["output"]]):
        raise ConfigError(f"{model_path}: graph inputs/outputs {names} do not match the sidecar "
                          f"({', '.join(meta['inputs'])} -> {meta['output']})")
    return model_path, meta, sess


class OnnxVocoder(VocoderBackend):
    """An exported vocoder (`.onnx` + sidecar JSON) with the mel front-end it was trained on.

        voc = OnnxVocoder("lj-v1.onnx")          # reads lj-v1.json beside it (`hifilite export`)
        mel = voc.mel("speech.wav")              # (1, n_mels, frames) float32, same as hifilite.audio
        audio = voc(mel)                         # (1, frames * hop) float32
        for piece in voc.stream(mel_chunks):     # the pieces concatenate to `voc(mel)`
            ...
    """

    def __init__(self, model_path: str | os.PathLike, sidecar: str | os.PathLike | None = None,
                 threads: int | None = None) -> None:
        self.path, self.meta, self.session = _exported(model_path, sidecar, "vocoder", threads, 1)
        self.input = self.meta["inputs"][0]
        self.mel_config = mel_config(self.meta["mel"], f"{self.path}: mel")
        self.mel_fn = LogMel(**dataclasses.asdict(self.mel_config),
                             clamp_min=self.meta.get("log_clamp_min", LOG_CLAMP_MIN))
        self.name = self.meta.get("name") or self.path.stem

    @property
    def receptive_field_frames(self) -> int:
        return int(self.meta["receptive_field_frames"])

    @property
    def phase_settings(self) -> Mapping[str, Any] | None:
        return self.meta.get("phase")  # prior family: the graph gives log-magnitudes, the phase is ours

    def generate(self, mel: np.ndarray) -> np.ndarray:
        """One ONNX Runtime call: (B, n_mels, frames) -> (B, frames * hop), no checks, no chunking
        (a prior-family graph: -> log-magnitudes (B, bins, frames))."""
        return self.session.run([self.meta["output"]], {self.input: mel})[0]

    def log_mel(self, segment: np.ndarray) -> np.ndarray:
        return self.mel_fn(segment, padded=True)

    def as_array(self, x: Any) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(x, dtype=np.float32))

    def all_finite(self, x: np.ndarray) -> bool:
        return bool(np.isfinite(x).all())

    def concat(self, pieces: Sequence[np.ndarray], axis: int) -> np.ndarray:
        return np.concatenate(pieces, axis=axis)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def from_numpy(self, x: np.ndarray) -> np.ndarray:
        return x


class OnnxAcoustic(AcousticBackend):
    """An exported acoustic model (`hifilite acoustic export`, sidecar JSON beside it): phoneme ids
    -> (n_mels, frames)."""

    def __init__(self, model_path: str | os.PathLike, threads: int | None = None,
                 sidecar: str | os.PathLike | None = None) -> None:
        self.path, self.meta, self.session = _exported(model_path, sidecar, "acoustic", threads, 2)
        self.mel_config = mel_config(self.meta["mel"], f"{self.path}: mel")
        self.symbols = dict(self.meta["symbols"])

    def generate(self, ids: list[int], duration_scale: float) -> np.ndarray:
        ids_name, scale_name = self.meta["inputs"]
        out = self.session.run([self.meta["output"]], {ids_name: np.asarray([ids], dtype=np.int64),
                                                       scale_name: np.asarray([duration_scale], dtype=np.float32)})
        return out[0][0]


__all__ = ["OnnxVocoder", "OnnxAcoustic", "session"]
