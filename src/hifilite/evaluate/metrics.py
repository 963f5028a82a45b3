"""Objective quality metrics for copy-synthesis: reference waveform vs vocoder output.

Every function takes 1-D numpy signals (a torch tensor or a (1, T) array is accepted too) and a
sample rate, and trims both signals to the shorter one: HiFi-GAN returns `frames * hop` samples,
a little less than the `T` it was analysed from, and the two are sample-aligned from sample 0.

A metric that cannot be computed for a given pair (too short, silent, PESQ finds no utterance)
returns NaN and emits a `MetricWarning` that says why, instead of raising: one bad utterance must
not stop a corpus evaluation. Callers that want the reasons record the warnings
(`warnings.catch_warnings(record=True)`), as `hifilite.evaluate.runner` does.

Metrics (name in `compute_all` → meaning, direction):

    pesq       PESQ wide-band (ITU-T P.862.2) at 16 kHz, 1.04 … 4.64, higher is better
    stoi       short-time objective intelligibility, 0 … 1, higher is better
    mcd        mel-cepstral distortion in dB, lower is better
    logmel_l1  mean |log-mel difference| on the HiFi-GAN front-end, lower is better
    mrstft     multi-resolution STFT distance (spectral convergence + log-magnitude L1), lower
    dnsmos     non-intrusive DNSMOS P.835 of the estimate: dnsmos_ovrl/sig/bak/p808, 1 … 5, higher
    pitch      (only when asked for: a pitch tracker per signal costs about 0.5 s per second of
               audio with librosa's pYIN) f0_cents: RMS F0 error in cents over frames voiced in
               both, lower is better (dominated by the tracker's octave jumps where there are any);
               gpe: gross pitch error, the fraction of those frames more than 20 % off, lower is
               better; fpe_cents: fine pitch error, RMS cents over the other frames, lower is
               better; vuv_f1: F1 of the estimate's voiced/unvoiced decisions against the
               reference's, higher is better
    periodicity  (only when asked for: torchcrepe `tiny`, about 0.4 s per second of audio and
               signal on one thread; `full` with HIFILITE_CREPE_MODEL=full) periodicity RMSE, crepe_vuv_f1, crepe_cents (median), crepe_rms_cents and
               crepe_gpe by the CARGAN / Vocos protocol (`hifilite.evaluate.periodicity`): the
               tracker that separates a vocoder following the speaker's pitch from one that emits
               a fixed excitation
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Callable, Sequence

import numpy as np

from ..audio import resample
from ..errors import ConfigError

PESQ_SR = 16000
DNSMOS_SR = 16000
# P.862 needs at least 1/4 s; below ~0.5 s the utterance detector rarely finds speech anyway.
PESQ_MIN_SECONDS = 0.25
MCD_ORDER = 24  # cepstral coefficients c1..c24 (c0, the frame energy, is excluded)
MCD_CONSTANT = 10.0 / math.log(10.0) * math.sqrt(2.0)


class MetricWarning(UserWarning):
    """A metric returned NaN for one signal pair; the message says which metric and why."""


def _nan(metric: str, reason: str) -> float:
    warnings.warn(f"{metric}: {reason}", MetricWarning, stacklevel=3)
    return float("nan")


def as_mono(x) -> np.ndarray:
    """A float64 1-D copy of a signal given as numpy array or torch tensor of shape (T,) or (1, T)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim > 1:
        if x.size != x.shape[-1]:
            raise ValueError(f"expected a mono signal (T,) or (1, T), got shape {x.shape}")
        x = x.reshape(-1)
    return x


def align(ref, est) -> tuple[np.ndarray, np.ndarray]:
    """Both signals as 1-D float64, trimmed to the shorter (they start at the same sample)."""
    ref, est = as_mono(ref), as_mono(est)
    n = min(len(ref), len(est))
    return ref[:n], est[:n]


# --------------------------------------------------------------------------- intrusive metrics


def pesq_wb(ref, est, sr: int) -> float:
    """Wide-band PESQ (MOS-LQO, 1.04 … 4.64) of `est` against `ref`, both resampled to 16 kHz.

    NaN (with a `MetricWarning`) for pairs under 0.25 s, silent pairs, or when PESQ's
    utterance detector finds no speech (`NoUtterancesError`).
    """
    import pesq as _pesq

    ref, est = align(ref, est)
    if len(ref) < PESQ_MIN_SECONDS * sr:
        return _nan("pesq", f"signal too short ({len(ref) / sr:.3f} s < {PESQ_MIN_SECONDS} s)")
    if not np.any(ref) or not np.any(est):
        return _nan("pesq", "silent signal")
    r = resample(ref.astype(np.float32), sr, PESQ_SR)
    d = resample(est.astype(np.float32), sr, PESQ_SR)
    try:
        return float(_pesq.pesq(PESQ_SR, r, d, "wb"))
    except _pesq.PesqError as exc:  # NoUtterancesError, BufferTooShortError, ...
        return _nan("pesq", f"{type(exc).__name__}: {exc}")


def stoi(ref, est, sr: int) -> float:
    """STOI (Taal et al. 2011, not the extended variant), 0 … 1, via pystoi.

    pystoi resamples to 10 kHz itself and drops silent frames; when fewer than 30 frames (~0.4 s of
    speech) remain it would return 1e-5, which reads like a real score — here that is NaN.
    """
    from pystoi import stoi as _stoi

    ref, est = align(ref, est)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_stoi(ref, est, sr, extended=False))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return _nan("stoi", "fewer than 30 non-silent frames (signal too short or silent)")
    return value


@functools.lru_cache(maxsize=8)
def frontend_params(sr: int) -> dict:
    """HiFi-GAN-style STFT/mel settings at sample rate `sr` (the official values at 22 050 Hz).

    Other rates keep the ~46 ms window: n_fft is the power of two nearest to 1024 * sr / 22050,
    hop = n_fft / 4, 80 mels, fmax = min(8 kHz, Nyquist).
    """
    if sr == 22050:
        n_fft = 1024
    else:
        n_fft = 2 ** max(6, round(math.log2(1024 * sr / 22050)))
    return dict(sample_rate=sr, n_fft=n_fft, hop_length=n_fft // 4, win_length=n_fft,
                n_mels=80, fmin=0.0, fmax=min(8000.0, sr / 2))


def mel_cepstrum(wav: np.ndarray, sr: int, order: int = MCD_ORDER) -> np.ndarray:
    """MFCC-style mel cepstrum (frames, order + 1) including c0, analysed with librosa.

    Mel-filtered STFT magnitude (HiFi-GAN analysis settings for `sr`, but fmax = Nyquist so that
    the whole band counts), natural log with the front-end's 1e-5 floor, DCT-II scaled so that
    c_d are cepstral coefficients of the log-amplitude mel spectrum (c0 scaled alike; unused).

    Why MFCC and not WORLD/SPTK mcep: pyworld is installed but does not import in this
    environment (it needs `pkg_resources`, which current setuptools no longer ships), and pysptk
    is not installed. Absolute values are therefore on the MFCC scale, not comparable with
    mcep-based MCD numbers from papers; comparisons between models in one table are sound.
    """
    import librosa

    p = frontend_params(sr)
    mag = librosa.feature.melspectrogram(
        y=wav.astype(np.float32), sr=sr, n_fft=p["n_fft"], hop_length=p["hop_length"],
        win_length=p["win_length"], window="hann", center=True, power=1.0,
        n_mels=p["n_mels"], fmin=0.0, fmax=sr / 2,
    )
    logmel = np.log(np.maximum(mag, 1e-5))
    ortho = librosa.feature.mfcc(S=logmel, n_mfcc=order + 1, dct_type=2, norm="ortho").T
    # Rescale c1.. to the cepstrum convention log|X(w)| = c0 + 2 * sum_d c_d cos(d w), which the
    # MCD constant 10/ln10 * sqrt(2) assumes; the orthonormal DCT is sqrt(2 * n_mels) times larger.
    return ortho / math.sqrt(2 * logmel.shape[0])


def mcd(ref, est, sr: int, order: int = MCD_ORDER) -> float:
    """Mel-cepstral distortion in dB: mean over frames of 10/ln10 * sqrt(2 * sum_d (c_d - c'_d)^2).

    c0 (energy) is excluded, d = 1 … `order`. Frames are paired one-to-one without DTW: copy
    synthesis is time-aligned by construction (the vocoder reproduces the reference's timing), and
    DTW would hide timing errors a vocoder can make. See `mel_cepstrum` for the analysis.
    """
    ref, est = align(ref, est)
    p = frontend_params(sr)
    if len(ref) < p["n_fft"]:
        return _nan("mcd", f"signal shorter than one analysis window ({p['n_fft']} samples)")
    c_ref = mel_cepstrum(ref, sr, order)[:, 1:]
    c_est = mel_cepstrum(est, sr, order)[:, 1:]
    dist = MCD_CONSTANT * np.sqrt(np.sum((c_ref - c_est) ** 2, axis=1))
    return float(np.mean(dist))


@functools.lru_cache(maxsize=8)
def _mel_module(sr: int):
    from ..audio import MelSpectrogram

    return MelSpectrogram(**frontend_params(sr)).eval()


def logmel_l1(ref, est, sr: int) -> float:
    """Mean absolute difference of log-mels (natural log) on the HiFi-GAN front-end.

    Uses `hifilite.audio.MelSpectrogram` with its defaults at 22 050 Hz (fmax 8 kHz: the mel the
    vocoder is conditioned on, so this measures how faithfully the output re-analyses to its own
    input) and `frontend_params(sr)` at other rates.
    """
    import torch

    ref, est = align(ref, est)
    mel = _mel_module(sr)
    if len(ref) < mel.n_fft // 2 + 1:  # reflect padding needs more samples than the pad
        return _nan("logmel_l1", f"signal too short ({len(ref)} samples)")
    with torch.inference_mode():
        m_ref = mel(torch.from_numpy(ref).float())
        m_est = mel(torch.from_numpy(est).float())
        return float((m_ref - m_est).abs().mean())


@functools.lru_cache(maxsize=1)
def _mrstft_module():
    from ..vocoder.losses import MultiResolutionSTFTLoss

    return MultiResolutionSTFTLoss().eval()


def mrstft_distance(ref, est) -> float:
    """Multi-resolution STFT distance (Parallel WaveGAN's auxiliary loss as a metric; 0 = equal).

    Resolutions (n_fft, hop, win) = (1024, 120, 600), (2048, 240, 1200), (512, 50, 240) in
    samples, so values depend on the sample rate; compare models at the same rate.
    """
    import torch

    ref, est = align(ref, est)
    loss = _mrstft_module()
    longest = max(n_fft for n_fft, _, _ in loss.resolutions)
    if len(ref) <= longest // 2:
        return _nan("mrstft", f"signal too short ({len(ref)} samples, need > {longest // 2})")
    with torch.inference_mode():
        return float(loss(torch.from_numpy(est).float()[None], torch.from_numpy(ref).float()[None]))


# --------------------------------------------------------------------------- non-intrusive


def dnsmos(wav, sr: int) -> dict[str, float]:
    """DNSMOS P.835 (speechmos' bundled ONNX models) of one signal: {"ovrl", "sig", "bak", "p808"}.

    The signal is resampled to 16 kHz and clipped to [-1, 1] (speechmos rejects anything outside).
    DNSMOS scores 9.01-s windows and tiles shorter clips to that length; an empty signal (which
    would make speechmos loop forever) gives NaNs.
    """
    keys = ("ovrl", "sig", "bak", "p808")
    wav = as_mono(wav)
    if len(wav) < sr // 100 or not np.any(wav):
        reason = "empty signal" if len(wav) < sr // 100 else "silent signal"
        _nan("dnsmos", reason)
        return {k: float("nan") for k in keys}
    from speechmos import dnsmos as _dnsmos

    audio = np.clip(resample(wav.astype(np.float32), sr, DNSMOS_SR), -1.0, 1.0)
    out = _dnsmos.run(audio, DNSMOS_SR)
    return {k: float(out[f"{k}_mos"]) for k in keys}


# --------------------------------------------------------------------------- pitch


GROSS_PITCH_RATIO = 0.2  # |f0_est / f0_ref - 1| above this is a gross pitch error (the usual 20 %)


def pitch_errors(ref, est, sr: int, hop: int = 256) -> dict[str, float]:
    """F0 error and voicing agreement of `est` against `ref`: {"f0_cents", "gpe", "fpe_cents", "vuv_f1"}.

    Both signals are tracked with the acoustic features' F0 tracker (`hifilite.data.features`:
    WORLD DIO + StoneMask where pyworld imports, else pYIN) on the same frames. Over the frames
    voiced in both (all NaN if there are none): f0_cents is the RMS of 1200 log2(f0_est / f0_ref);
    gpe is the fraction of them off by more than `GROSS_PITCH_RATIO` (octave and tracker jumps);
    fpe_cents is the RMS cents over the rest (NaN if every frame is a gross error), the error
    a listener hears as intonation. A tracker's octave jump on a few frames makes f0_cents
    hundreds of cents while fpe_cents stays small, so the pair says which kind of error it is.
    vuv_f1 treats the reference's voiced frames as the positives (NaN if the reference has none).
    """
    from ..data.features import frame_f0, pitch_backend

    ref, est = align(ref, est)
    frames = len(ref) // hop
    if frames < 4:
        nan = _nan("pitch", f"signal too short ({len(ref)} samples)")
        return {"f0_cents": nan, "gpe": nan, "fpe_cents": nan, "vuv_f1": nan}
    backend = pitch_backend()
    f_ref = frame_f0(ref, sr, hop, frames, backend)
    f_est = frame_f0(est, sr, hop, frames, backend)
    v_ref, v_est = f_ref > 0, f_est > 0
    both = v_ref & v_est
    out = {}
    if both.any():
        ratio = f_est[both] / f_ref[both]
        cents = 1200.0 * np.log2(ratio)
        gross = np.abs(ratio - 1.0) > GROSS_PITCH_RATIO
        out["f0_cents"] = float(np.sqrt(np.mean(cents ** 2)))
        out["gpe"] = float(gross.mean())
        out["fpe_cents"] = (float(np.sqrt(np.mean(cents[~gross] ** 2))) if (~gross).any()
                            else _nan("fpe_cents", "every frame voiced in both is a gross pitch error"))
    else:
        nan = _nan("f0_cents", "no frame is voiced in both signals")
        out.update(f0_cents=nan, gpe=nan, fpe_cents=nan)
    if v_ref.any():
        tp = float(both.sum())
        out["vuv_f1"] = 2 * tp / float(v_ref.sum() + v_est.sum())
    else:
        out["vuv_f1"] = _nan("vuv_f1", "the reference has no voiced frame")
    return out


# --------------------------------------------------------------------------- all at once

INTRUSIVE: dict[str, Callable[[np.ndarray, np.ndarray, int], float]] = {
    "pesq": pesq_wb,
    "stoi": stoi,
    "mcd": mcd,
    "logmel_l1": logmel_l1,
    "mrstft": lambda ref, est, sr: mrstft_distance(ref, est),
}
METRICS: tuple[str, ...] = (*INTRUSIVE, "dnsmos")  # the default set
OPTIONAL_METRICS: tuple[str, ...] = ("pitch", "periodicity")  # computed only when named
EXPANDED: dict[str, tuple[str, ...]] = {
    "dnsmos": ("dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak", "dnsmos_p808"),
    "pitch": ("f0_cents", "gpe", "fpe_cents", "vuv_f1"),
    "periodicity": ("periodicity", "crepe_vuv_f1", "crepe_cents", "crepe_rms_cents", "crepe_gpe"),
}
HIGHER_IS_BETTER: dict[str, bool] = {
    "pesq": True, "stoi": True, "mcd": False, "logmel_l1": False, "mrstft": False,
    "dnsmos_ovrl": True, "dnsmos_sig": True, "dnsmos_bak": True, "dnsmos_p808": True,
    "f0_cents": False, "gpe": False, "fpe_cents": False, "vuv_f1": True,
    "periodicity": False, "crepe_vuv_f1": True, "crepe_cents": False, "crepe_rms_cents": False, "crepe_gpe": False,
}


def check_metrics(metrics: Sequence[str] | None) -> tuple[str, ...]:
    """Validate metric names (None = the default set, `METRICS`); unknown names are a ConfigError."""
    if metrics is None:
        return METRICS
    unknown = [m for m in metrics if m not in METRICS + OPTIONAL_METRICS]
    if unknown:
        raise ConfigError(f"unknown metric(s) {', '.join(unknown)}; choose from "
                          f"{', '.join(METRICS + OPTIONAL_METRICS)}")
    return tuple(metrics)


def compute_all(ref, est, sr: int, metrics: Sequence[str] | None = None) -> dict[str, float]:
    """Every requested metric of `est` against `ref` at rate `sr`, as {name: value}.

    `metrics` picks from `METRICS` and `OPTIONAL_METRICS` (default: `METRICS`). "dnsmos" expands
    to the four keys dnsmos_ovrl, dnsmos_sig, dnsmos_bak, dnsmos_p808, scored on `est` only;
    "pitch" to f0_cents and vuv_f1. Failed metrics are NaN.
    """
    names = check_metrics(metrics)
    ref, est = align(ref, est)
    out: dict[str, float] = {}
    for name in names:
        if name == "dnsmos":
            out.update({f"dnsmos_{k}": v for k, v in dnsmos(est, sr).items()})
        elif name == "pitch":
            out.update(pitch_errors(ref, est, sr))
        elif name == "periodicity":
            from .periodicity import periodicity_errors

            out.update(periodicity_errors(ref, est, sr))
        else:
            out[name] = INTRUSIVE[name](ref, est, sr)
    return out
