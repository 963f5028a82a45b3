"""Short-time Fourier helpers of the phase reconstructions: windows, the framing `PhaseStream`
reconstructs (frames centred at offset + m * hop, HiFi-GAN's), magnitudes in that framing, a
compiled windowed overlap-add, and fast Griffin-Lim. Torch-free: numpy, and numba (a dependency of librosa)."""

from __future__ import annotations

import math

import numpy as np


def gaussian_window(n_fft: int) -> tuple[np.ndarray, float]:
    """A Gaussian window of `n_fft` samples that falls to 1 % at its ends, and its `gamma`
    (g(l) = exp(-pi (l - n_fft/2)^2 / gamma))."""
    lam2 = n_fft**2 / (8.0 * math.log(100.0))  # variance in samples^2: exp(-(n/2)^2 / (2 lam2)) = 0.01
    n = np.arange(n_fft) - n_fft / 2
    return np.exp(-(n**2) / (2.0 * lam2)), 2.0 * math.pi * lam2


def _numba_jit():
    try:
        from numba import njit
    except ImportError:  # pragma: no cover - numba comes with librosa
        return lambda f: f
    return njit(cache=True, nogil=True)


_jit = _numba_jit()


@_jit
def _overlap_add(acc, den, segs, starts, win, win2):  # pragma: no cover
    """acc[s:s+N] += seg * win and den[s:s+N] += win2 for each segment, skipping indices below 0."""
    n = segs.shape[1]
    for i in range(segs.shape[0]):
        s = starts[i]
        lo = 0 if s >= 0 else -s
        for k in range(lo, n):
            acc[s + k] += segs[i, k] * win[k]
            den[s + k] += win2[k]


def _frames_of(wav: np.ndarray, window: np.ndarray, hop: int, offset: int, frames: int) -> np.ndarray:
    """STFT (bins, frames) of `wav` with frames centred at offset + m * hop (zeros outside)."""
    n_fft = window.size
    left = n_fft // 2 - offset
    padded = np.pad(wav, (max(0, left), n_fft))
    start = 0 if left >= 0 else -left
    view = np.lib.stride_tricks.sliding_window_view(padded[start:], n_fft)[::hop][:frames]
    return np.fft.rfft(view * window, axis=-1).T


def hann_window(n_fft: int) -> np.ndarray:
    """The periodic Hann window of the mel front-end (as torch.hann_window)."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)


def analysis_window(name: str, n_fft: int) -> np.ndarray:
    """The window a magnitude is taken with: "gaussian" (the phase reconstruction's) or "hann" (the mel
    front-end's); any other name is an error."""
    if name == "gaussian":
        return gaussian_window(n_fft)[0]
    if name == "hann":
        return hann_window(n_fft)
    raise ValueError(f"window must be 'gaussian' or 'hann', got {name!r}")


def stft_magnitude(wav: np.ndarray, n_fft: int = 1024, hop: int = 256, offset: int | None = None,
                   window: str = "gaussian") -> np.ndarray:
    """|STFT| (bins, len // hop) with the framing `PhaseStream` reconstructs: frames centred at
    offset + m * hop (offset hop / 2), Gaussian (default) or periodic Hann window, zeros outside."""
    wav = np.asarray(wav, dtype=np.float64)
    win = analysis_window(window, n_fft)
    return np.abs(_frames_of(wav, win, hop, hop // 2 if offset is None else offset, wav.size // hop))


def griffin_lim(mag: np.ndarray, n_fft: int = 1024, hop: int = 256, iterations: int = 32,
                momentum: float = 0.99, seed: int = 0, window: str = "hann",
                init: np.ndarray | None = None) -> np.ndarray:
    """Fast Griffin-Lim (Perraudin et al. 2013) from magnitudes (bins, frames) in HiFi-GAN's framing
    (periodic Hann window, or the Gaussian one of the phase reconstruction) -> (frames * hop,) float32.
    The initial phase is random from `seed`, or that of `init`, a waveform in the same framing (e.g.
    PGHI's output, to refine it). Iterative over the whole signal, so it does not stream."""
    mag = np.asarray(mag, dtype=np.float64)
    frames = mag.shape[1]
    length = frames * hop
    offset = hop // 2
    win = analysis_window(window, n_fft)
    if init is None:
        angles = np.exp(2j * np.pi * np.random.default_rng(seed).random(mag.shape))
        rebuilt = np.zeros_like(angles)
    else:
        rebuilt = _frames_of(np.asarray(init, dtype=np.float64), win, hop, offset, frames)
        angles = rebuilt / (np.abs(rebuilt) + 1e-16)
    starts = (n_fft + offset + np.arange(frames) * hop - n_fft // 2).astype(np.int64)  # acc[n_fft] is sample 0
    den = np.zeros(length + 2 * n_fft)  # the windows' squared overlap: the same every iteration
    _overlap_add(np.zeros_like(den), den, np.zeros((frames, n_fft)), starts, win, win**2)
    den = np.maximum(den[n_fft:n_fft + length], 1e-8)

    def istft(spec: np.ndarray) -> np.ndarray:
        segs = np.fft.irfft(spec.T, n=n_fft, axis=-1)
        acc = np.zeros(length + 2 * n_fft)
        _overlap_add(acc, np.zeros_like(acc), segs, starts, win, np.zeros(n_fft))
        return acc[n_fft:n_fft + length] / den

    for _ in range(iterations):
        wav = istft(mag * angles)
        spec = _frames_of(wav, win, hop, offset, frames)
        tprev, rebuilt = rebuilt, spec
        angles = rebuilt - (momentum / (1 + momentum)) * tprev
        angles /= np.abs(angles) + 1e-16
    return istft(mag * angles).astype(np.float32)


__all__ = ["gaussian_window", "hann_window", "analysis_window", "stft_magnitude", "griffin_lim"]
