"""int8 static quantisation of an exported vocoder (ONNX Runtime, QDQ, per-channel) and its cost/benefit.

Calibration runs the fp32 model on real mels (`MelCalibrationReader`) to fix activation ranges;
weights get one scale per output channel. Layers whose error is heard most stay fp32 by default:
`conv_pre` (the mel input, wide dynamic range), the first upsampling layer (`ups.0`, the largest
ConvTranspose, which ONNX Runtime runs in fp32 anyway after dequantising), `conv_post` (the output
head, whose error lands directly on the waveform) and the fixed iSTFT head if present.
`hifilite.evaluate.int8.int8_report` measures what the choice costs and buys.

Torch-free: needs onnx and onnxruntime (the `export` extra), plus the runtime's numpy mel.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..audio import AUDIO_EXTENSIONS
from ..errors import ConfigError, DataError, HifiliteError
from ..io import part_prefix, sweep_once
from ..runtime.sidecar import read_sidecar, sidecar_path, write_sidecar

SENSITIVE = ("conv_pre", "ups.0", "conv_post", "istft")
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")


def audio_files(folder: str | os.PathLike) -> list[Path]:
    """Audio files (and .npy mels) under `folder`, sorted, so splits are reproducible."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and (p.suffix.lower() in AUDIO_EXTENSIONS or p.suffix == ".npy"))
    if not files:
        raise DataError(f"{folder}: holds no audio or .npy files")
    return files


def load_mels(files: Sequence[Path], voc, max_frames: int | None = 512) -> list[np.ndarray]:
    """(1, n_mels, frames) float32 mels of audio files (the runtime's front-end) or .npy mels,
    each cut to at most `max_frames` frames (calibration needs variety, not length)."""
    mels = []
    for f in files:
        if f.suffix == ".npy":
            try:
                mel = np.load(f, allow_pickle=False)
            except Exception as exc:
                raise DataError(f"{f}: cannot read .npy mel ({exc})") from None
            mel = voc.check_mel(mel)
        else:
            mel = voc.mel(f)
        mels.append(np.ascontiguousarray(mel[..., :max_frames] if max_frames else mel))
    return mels


class MelCalibrationReader:
    """ONNX Runtime `CalibrationDataReader` over a list of (1, n_mels, frames) mels."""

    def __init__(self, mels: Iterable[np.ndarray], input_name: str = "mel") -> None:
        self.mels = [np.ascontiguousarray(m, dtype=np.float32) for m in mels]
        if not self.mels:
            raise DataError("calibration needs at least one mel")
        self.input_name = input_name
        self._it = iter(self.mels)

    def get_next(self) -> dict[str, np.ndarray] | None:
        m = next(self._it, None)
        return None if m is None else {self.input_name: m}

    def rewind(self) -> None:
        self._it = iter(self.mels)


def _reader(mels, input_name):
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(MelCalibrationReader, CalibrationDataReader):
        pass

    return Reader(mels, input_name)


def module_nodes(model_path: str | os.PathLike, modules: Sequence[str]) -> list[str]:
    """Names of the graph nodes inside the given generator modules (torch names such as `conv_pre`,
    `ups.0`, `resblocks.3`). The exporter names a node `/generator/<module>/<sub>/.../<Op>`."""
    import onnx

    wanted = []
    for node in onnx.load(str(model_path)).graph.node:
        scope = node.name.strip("/").split("/")[:-1]
        if scope and scope[0] == "generator":
            scope = scope[1:]
        dotted = ".".join(scope)
        if dotted and any(dotted == m or dotted.startswith(m + ".") for m in modules):
            wanted.append(node.name)
    return wanted


def quantize_int8(
    fp32_path: str | os.PathLike,
    out: str | os.PathLike,
    calibration: Sequence[np.ndarray],
    *,
    keep_fp32: Sequence[str] = SENSITIVE,
    per_channel: bool = True,
    method: str = "minmax",
) -> tuple[Path, Path]:
    """Quantise an exported fp32 model to int8 (QDQ) with activation ranges from `calibration` mels.

    `keep_fp32`: generator module names (`conv_pre`, `ups.0`, `conv_post`, `resblocks.3`, ...)
    left in fp32. Writes `out` and its sidecar (the fp32 one plus a `quantization` record);
    returns both paths.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    fp32_path, out = Path(fp32_path), Path(out)
    if out.suffix != ".onnx":
        raise ConfigError(f"{out}: the output file must end in .onnx")
    if out.resolve() == fp32_path.resolve():
        raise ConfigError("the int8 model must not overwrite the fp32 model")
    if method not in CALIBRATION_METHODS:
        raise ConfigError(f"calibration method must be one of {', '.join(CALIBRATION_METHODS)}, got {method!r}")
    meta = read_sidecar(sidecar_path(fp32_path), kind="vocoder")
    if meta.get("precision") != "fp32":
        raise ConfigError(f"{fp32_path}: not an fp32 export (precision {meta.get('precision')!r})")
    excluded = module_nodes(fp32_path, keep_fp32)
    unknown = [m for m in keep_fp32 if m not in SENSITIVE and not module_nodes(fp32_path, [m])]
    if unknown:
        raise ConfigError(f"no layer named {', '.join(unknown)} in {fp32_path}")
    if method != "minmax":  # histogram calibrators stack activations: equal lengths needed
        shortest = min(int(m.shape[-1]) for m in calibration)
        calibration = [m[..., :shortest] for m in calibration]
    reader = _reader(calibration, meta["inputs"][0])
    calib = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
             "percentile": CalibrationMethod.Percentile}[method]
    out.parent.mkdir(parents=True, exist_ok=True)
    sweep_once(out.parent)
    tmp = out.with_name(f"{part_prefix(out)}{os.urandom(4).hex()}.part")
    try:
        quantize_static(
            str(fp32_path), str(tmp), reader,
            quant_format=QuantFormat.QDQ,
            per_channel=per_channel,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["Conv", "ConvTranspose"],
            nodes_to_exclude=excluded,
            calibrate_method=calib,
            extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
        )
        os.replace(tmp, out)
    except HifiliteError:
        raise
    except Exception as exc:
        raise HifiliteError(f"quantisation failed: {' '.join(str(exc).split())[:300]}") from None
    finally:
        tmp.unlink(missing_ok=True)
        for extra in out.parent.glob(f"{glob.escape(tmp.name)}*"):
            extra.unlink(missing_ok=True)
    meta = dict(meta)
    meta["precision"] = "int8"
    meta["parity_max_abs_diff"] = None
    meta["quantization"] = {
        "format": "QDQ", "weights": "int8 symmetric, per-channel" if per_channel else "int8 symmetric, per-tensor",
        "activations": "uint8 asymmetric", "ops": ["Conv", "ConvTranspose"], "calibration_method": method,
        "calibration_mels": len(calibration),
        "calibration_frames": int(sum(m.shape[-1] for m in calibration)),
        "kept_fp32": list(keep_fp32), "kept_fp32_nodes": len(excluded), "fp32_model": fp32_path.name,
    }
    return out, write_sidecar(sidecar_path(out), meta)
