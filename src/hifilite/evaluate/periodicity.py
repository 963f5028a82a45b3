"""Pitch and periodicity with a neural tracker (torchcrepe): the metrics that hear a vocoder's pitch.

The CARGAN / Vocos protocol: both signals resampled to 16 kHz, a torchcrepe model every 10 ms (f0
in 50-550 Hz, Viterbi-free argmax decoding), periodicity zeroed on frames below -60 dB, a frame
voiced where its periodicity exceeds 0.1625. The papers use the `full` model; it costs about 8 s
of one CPU thread per second of audio here, so the metric uses `tiny` (0.4 s) unless
HIFILITE_CREPE_MODEL=full. Against the reference recording:

    periodicity   RMSE of the periodicity track (all frames), lower is better: a vocoder with a
                  buzzy, fixed or noisy excitation changes it even where its f0 is right
    crepe_vuv_f1  F1 of the voiced decisions (2 TP / (voiced_ref + voiced_est)), higher is better
    crepe_cents   median |1200 log2(f0_est / f0_ref)| over frames voiced in both, lower is better
    crepe_rms_cents  the RMS of the same, lower is better (dominated by octave errors)
    crepe_gpe     fraction of those frames more than 20 % off, lower is better

torchcrepe imports torchaudio only to load files; where torchaudio is absent (our installs: its
wheels pin other torch builds), a stand-in module is registered whose `load` says so, and audio
comes from us as arrays.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import types

import numpy as np

CREPE_SR = 16000
CREPE_HOP = 160  # 10 ms
FMIN, FMAX = 50.0, 550.0
VOICED = 0.1625  # CARGAN's periodicity threshold
SILENCE_DB = -60.0
GROSS_RATIO = 0.2
KEYS = ("periodicity", "crepe_vuv_f1", "crepe_cents", "crepe_rms_cents", "crepe_gpe")


@functools.lru_cache(maxsize=1)
def _torchcrepe():
    if "torchaudio" not in sys.modules and importlib.util.find_spec("torchaudio") is None:
        stub = types.ModuleType("torchaudio")

        def load(*_, **__):
            raise ImportError("torchaudio is not installed; hifilite passes torchcrepe arrays, not files")

        stub.load = load
        sys.modules["torchaudio"] = stub
    try:
        import torchcrepe
    except ImportError as exc:
        raise ImportError("the periodicity metrics need torchcrepe: pip install --no-deps torchcrepe resampy "
                          f"({exc})") from None
    return torchcrepe


def crepe_model() -> str:
    """The torchcrepe model the metric uses: `tiny`, or `full` with HIFILITE_CREPE_MODEL=full."""
    import os

    model = os.environ.get("HIFILITE_CREPE_MODEL", "tiny")
    if model not in ("tiny", "full"):
        raise ValueError(f"HIFILITE_CREPE_MODEL must be tiny or full, got {model!r}")
    return model


def track(wav: np.ndarray, sr: int, model: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(f0 Hz, periodicity) per 10 ms frame of a mono signal, silence's periodicity set to 0."""
    import torch

    from ..audio import resample

    crepe = _torchcrepe()
    x = np.asarray(resample(np.asarray(wav, np.float32), sr, CREPE_SR) if sr != CREPE_SR else wav, np.float32)
    audio = torch.from_numpy(np.ascontiguousarray(x))[None]
    with torch.inference_mode():
        f0, per = crepe.predict(audio, CREPE_SR, hop_length=CREPE_HOP, fmin=FMIN, fmax=FMAX, model=model or crepe_model(),
                                return_periodicity=True, batch_size=512, device="cpu", pad=True)
        per = crepe.threshold.Silence(SILENCE_DB)(per, audio, CREPE_SR, CREPE_HOP)
    return f0[0].numpy().astype(np.float64), np.nan_to_num(per[0].numpy().astype(np.float64))


def compare(f_ref: np.ndarray, p_ref: np.ndarray, f_est: np.ndarray, p_est: np.ndarray) -> dict[str, float]:
    """The five metrics from two tracks (see the module docstring); NaN where undefined."""
    n = min(len(f_ref), len(f_est))
    f_ref, p_ref, f_est, p_est = f_ref[:n], p_ref[:n], f_est[:n], p_est[:n]
    v_ref, v_est = p_ref > VOICED, p_est > VOICED
    both = v_ref & v_est
    out = {"periodicity": float(np.sqrt(np.mean((p_est - p_ref) ** 2))) if n else float("nan")}
    denom = float(v_ref.sum() + v_est.sum())
    out["crepe_vuv_f1"] = 2.0 * float(both.sum()) / denom if v_ref.any() else float("nan")
    if both.any():
        ratio = f_est[both] / f_ref[both]
        cents = np.abs(1200.0 * np.log2(ratio))
        out.update(crepe_cents=float(np.median(cents)), crepe_rms_cents=float(np.sqrt(np.mean(cents**2))),
                   crepe_gpe=float(np.mean(np.abs(ratio - 1.0) > GROSS_RATIO)))
    else:
        out.update(crepe_cents=float("nan"), crepe_rms_cents=float("nan"), crepe_gpe=float("nan"))
    return out


_REFERENCE_TRACKS: dict[tuple[int, int, int, str], tuple[np.ndarray, np.ndarray]] = {}


def periodicity_errors(ref, est, sr: int) -> dict[str, float]:
    """torchcrepe metrics of `est` against `ref` (1-D signals at `sr`, trimmed to the shorter).
    The reference's track is kept for the next call (several models are scored against it)."""
    n = min(len(ref), len(est))
    ref = np.ascontiguousarray(np.asarray(ref, np.float32)[:n])
    key = (sr, n, hash(ref.tobytes()), crepe_model())
    if key not in _REFERENCE_TRACKS:
        if len(_REFERENCE_TRACKS) >= 64:
            _REFERENCE_TRACKS.pop(next(iter(_REFERENCE_TRACKS)))
        _REFERENCE_TRACKS[key] = track(ref, sr)
    return compare(*_REFERENCE_TRACKS[key], *track(np.asarray(est)[:n], sr))


__all__ = ["track", "compare", "periodicity_errors", "crepe_model", "KEYS"]
