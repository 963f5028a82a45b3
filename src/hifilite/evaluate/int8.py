"""What int8 costs and buys: an int8 vocoder (`deploy.quantize`) against its fp32 source.

`int8_report` scores both on recordings that calibration did not see (PESQ-wb and log-mel distance
to the recording, and of int8 to fp32) and times both on the same mel and threads.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import DataError
from ..measure import time_call


def time_model(voc, mel: np.ndarray, repeats: int = 3, warmup: int = 1) -> float:
    """Median seconds of one `voc.generate(mel)` call."""
    return time_call(lambda: voc.generate(mel), repeats=repeats, warmup=warmup).median


def int8_report(fp32_path: str | os.PathLike, int8_path: str | os.PathLike, eval_files: Sequence[Path],
                *, threads: int = 1, repeats: int = 3, seconds: float = 5.0) -> dict[str, Any]:
    """Quality and speed of the int8 model against its fp32 source.

    Quality on `eval_files` (recordings not used for calibration): PESQ-wb of each output against
    the recording (`pesq_fp32`, `pesq_int8`, `pesq_drop` = mean fp32 - mean int8) and the mean
    |log-mel| distance of each output to the recording and of int8 to fp32. Speed: median time on
    the first `seconds` of the evaluation mels, same threads (`speedup` = fp32 time / int8 time).
    """
    from ..audio import load_audio
    from ..runtime import OnnxVocoder
    from .metrics import MetricWarning, pesq_wb

    if not eval_files:
        raise DataError("int8_report needs at least one evaluation recording")
    v32 = OnnxVocoder(fp32_path, threads=threads)
    v8 = OnnxVocoder(int8_path, threads=threads)
    sr = v32.sample_rate
    rows = []
    for f in eval_files:
        ref, _ = load_audio(f, sr)
        mel = v32.mel(ref)
        y32, y8 = v32(mel)[0], v8(mel)[0]
        n = min(len(ref), len(y32))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MetricWarning)
            p32, p8 = pesq_wb(ref[:n], y32[:n], sr), pesq_wb(ref[:n], y8[:n], sr)
        m32, m8 = v32.mel(y32), v32.mel(y8)
        rows.append({
            "file": f.name, "seconds": len(ref) / sr, "pesq_fp32": p32, "pesq_int8": p8,
            "mel_l1_fp32": float(np.abs(m32 - mel[..., :m32.shape[-1]]).mean()),
            "mel_l1_int8": float(np.abs(m8 - mel[..., :m8.shape[-1]]).mean()),
            "mel_l1_int8_vs_fp32": float(np.abs(m8 - m32).mean()),
            "max_abs_int8_vs_fp32": float(np.abs(y8 - y32).max()),
        })

    def mean(key):
        vals = [r[key] for r in rows if np.isfinite(r[key])]
        return float(np.mean(vals)) if vals else float("nan")

    frames = max(1, int(round(seconds * sr / v32.hop_length)))
    mel_all = np.concatenate([v32.mel(load_audio(f, sr)[0]) for f in eval_files[:8]], axis=-1)
    while mel_all.shape[-1] < frames:
        mel_all = np.concatenate([mel_all, mel_all], axis=-1)
    bench_mel = np.ascontiguousarray(mel_all[..., :frames])
    t32, t8 = time_model(v32, bench_mel, repeats), time_model(v8, bench_mel, repeats)
    audio_s = frames * v32.hop_length / sr
    return {
        "items": len(rows), "threads": threads,
        "pesq_fp32": mean("pesq_fp32"), "pesq_int8": mean("pesq_int8"),
        "pesq_drop": mean("pesq_fp32") - mean("pesq_int8"),
        "mel_l1_fp32": mean("mel_l1_fp32"), "mel_l1_int8": mean("mel_l1_int8"),
        "mel_l1_int8_vs_fp32": mean("mel_l1_int8_vs_fp32"),
        "bench_audio_seconds": audio_s, "fp32_s": t32, "int8_s": t8,
        "fp32_rtf_x": audio_s / t32, "int8_rtf_x": audio_s / t8, "speedup": t32 / t8,
        "size_fp32_mb": Path(fp32_path).stat().st_size / 2**20,
        "size_int8_mb": Path(int8_path).stat().st_size / 2**20,
        "per_item": rows,
    }
