"""Phase from magnitude: real-time Phase Gradient Heap Integration (RTPGHI) and Griffin-Lim.

    mag (bins, frames) at hop `a`, Gaussian window of N samples
      -> phase derivatives from the log-magnitude (exact for a Gaussian window)
      -> heap integration, one frame at a time, from the previous frame and along frequency
      -> inverse FFT, dual-window overlap-add -> waveform

Průša, Balazs & Søndergaard (2017), "A noniterative method for reconstruction of phase from STFT
magnitude", give the phase gradient of a Gaussian-window STFT in terms of its log-magnitude s:

    time step (frame m -> m+1, bin k):  dphi = 2 pi a k / N + (a N / gamma) * ds/dk
    bin step (bin k -> k+1, frame m):   dphi = -(gamma / (a N)) * ds/dm + pi

(`gamma` is the window's time-frequency spread, g(l) = exp(-pi l^2 / gamma); the `+ pi` is the
half-window shift of a frame referenced at its first sample.) Průša & Holighaus (2016), "Toward
high-quality real-time signal reconstruction from STFT magnitude", integrate them frame by frame:
frame m's phase comes from frame m - 1's phases (time step) and, inside frame m, from louder
neighbours (bin step), always from the loudest known bin first. ds/dm needs frame m + 1, so a frame
is phased with one frame of look-ahead. `PhaseStream` runs exactly that, so offline reconstruction
is the stream run to its end: streaming equals offline by construction.

Frames are centred where HiFi-GAN's mel frames are (sample `offset + m * a`, offset = mel hop / 2);
the output is normalised by the overlap of the windows that exist, so the first and last samples
are reconstructed too. Torch-free: numpy, and numba (a dependency of librosa) for the heap.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError
from .stft import _jit, _overlap_add, gaussian_window, griffin_lim

LOG_FLOOR = math.log(1e-7)  # log-magnitude floor: silent bins must not give infinite derivatives
DEFAULT_TOL = 1e-5  # bins quieter than tol x the loudest of the two frames get no integrated phase


BUCKETS = 2048  # priority levels over the integrated range (tol): about 0.05 dB apart at tol 1e-5


@_jit
def _enqueue(head, nxt, item, count, level, entry):  # pragma: no cover - compiled
    """Put `entry` at priority `level` (last in, first out within a level); returns the new count."""
    item[count] = entry
    nxt[count] = head[level]
    head[level] = count
    return count + 1


@_jit
def _integrate(s_prev, phase_prev, tgrad_prev, sig_prev, s_cur, tgrad_cur, fgrad_cur, tol_log,
               head, nxt, item):  # pragma: no cover - compiled
    """One RTPGHI frame: the phases of frame m from those of frame m - 1 (float64 (F,) arrays).

    `sig_prev` marks the bins of frame m - 1 whose phase was integrated. Returns (phase, sig) of
    frame m. "Loudest known bin first" uses a bucket queue over log-magnitude (`BUCKETS` levels
    between the threshold and the peak, last in first out within a level) instead of a binary
    heap: the same order up to 0.05 dB, in constant time per step. Entries are `bin` (frame m - 1)
    and `F + bin` (frame m); `head`, `nxt`, `item` are scratch arrays (BUCKETS,), (2F,), (2F,).
    """
    n = s_cur.shape[0]
    top = max(s_cur.max(), s_prev.max())
    thresh = top + tol_log
    scale = (head.shape[0] - 1) / max(top - thresh, 1e-12)
    phase = np.zeros(n)
    done = np.zeros(n, dtype=np.bool_)
    sig = s_cur > thresh
    todo = 0
    for k in range(n):
        if sig[k]:
            todo += 1
        else:
            done[k] = True  # too quiet to integrate: phase 0
    head[:] = -1
    top_level = head.shape[0] - 1
    count = 0
    size = 0
    cur = 0
    for k in range(n):  # every integrated bin of the previous frame whose bin here is pending
        if sig_prev[k] and sig[k]:
            b = min(top_level, max(0, int((s_prev[k] - thresh) * scale)))
            count = _enqueue(head, nxt, item, count, b, k)
            size += 1
            cur = max(cur, b)
    while todo > 0:
        if size == 0:  # nothing known reaches the rest: a new island from its loudest bin
            best = -1
            for k in range(n):
                if not done[k] and (best < 0 or s_cur[k] > s_cur[best]):
                    best = k
            done[best] = True
            todo -= 1
            b = min(top_level, max(0, int((s_cur[best] - thresh) * scale)))
            count = _enqueue(head, nxt, item, count, b, n + best)
            size += 1
            cur = max(cur, b)
        while head[cur] < 0:
            cur -= 1
        e = head[cur]
        head[cur] = nxt[e]
        size -= 1
        top_i = item[e]
        if top_i < n:  # a bin of the previous frame: one step forward in time
            k = top_i
            if done[k]:
                continue
            phase[k] = phase_prev[k] + 0.5 * (tgrad_prev[k] + tgrad_cur[k])
            done[k] = True
            todo -= 1
            new0, new1 = k, -1
        else:  # a bin of this frame: one step to each neighbour in frequency
            k = top_i - n
            new0, new1 = -1, -1
            if k + 1 < n and not done[k + 1]:
                phase[k + 1] = phase[k] + 0.5 * (fgrad_cur[k] + fgrad_cur[k + 1])
                done[k + 1] = True
                todo -= 1
                new0 = k + 1
            if k > 0 and not done[k - 1]:
                phase[k - 1] = phase[k] - 0.5 * (fgrad_cur[k] + fgrad_cur[k - 1])
                done[k - 1] = True
                todo -= 1
                new1 = k - 1
        for j in (new0, new1):
            if j >= 0:
                b = min(top_level, max(0, int((s_cur[j] - thresh) * scale)))
                count = _enqueue(head, nxt, item, count, b, n + j)
                size += 1
                cur = max(cur, b)
    return phase, sig


@_jit
def _integrate_frames(S, lin, tgrad, fgrad, s_prev, phase_prev, tgrad_prev, sig_prev, tol_log):  # pragma: no cover
    """`_integrate` over consecutive frames (rows of S, tgrad, fgrad), each from the one before.
    Returns (phases, integrated-bin masks, spectra lin * exp(i phase))."""
    n = S.shape[1]
    head = np.empty(BUCKETS, dtype=np.int64)
    nxt = np.empty(2 * n + 2, dtype=np.int64)
    item = np.empty(2 * n + 2, dtype=np.int64)
    phases = np.empty_like(S)
    sigs = np.empty(S.shape, dtype=np.bool_)
    spectra = np.empty(S.shape, dtype=np.complex128)
    for m in range(S.shape[0]):
        phase, sig = _integrate(s_prev, phase_prev, tgrad_prev, sig_prev, S[m], tgrad[m], fgrad[m], tol_log,
                                head, nxt, item)
        phases[m] = phase
        sigs[m] = sig
        for k in range(n):
            spectra[m, k] = complex(lin[m, k] * np.cos(phase[k]), lin[m, k] * np.sin(phase[k]))
        s_prev, phase_prev, tgrad_prev, sig_prev = S[m], phases[m], tgrad[m], sigs[m]
    return phases, sigs, spectra


class PhaseStream:
    """RTPGHI and overlap-add for one signal, fed magnitude frames as they arrive.

    Args:
        n_fft: FFT size and Gaussian window length (the magnitudes must be of this window).
        frame_hop: hop of the magnitude frames pushed (the mel hop, 256).
        hop: hop of the phase reconstruction, a divisor of `frame_hop`; frames in between are
            linearly interpolated in magnitude (finer hops reconstruct better, at more cost).
        offset: sample at which magnitude frame 0 is centred (HiFi-GAN's framing: frame_hop / 2).
        tol: relative magnitude below which a bin gets no integrated phase.

    `push(mag)` takes linear magnitudes (n_fft // 2 + 1, f) and returns the samples that no later
    frame can change; `finish()` returns the rest. The output has exactly `frames * frame_hop`
    samples, and is the same for any way of cutting the input into pushes.
    """

    def __init__(self, n_fft: int = 1024, frame_hop: int = 256, hop: int = 256, offset: int | None = None,
                 tol: float = DEFAULT_TOL) -> None:
        if hop < 1 or frame_hop % hop:
            raise DataError(f"the phase hop ({hop}) must divide the frame hop ({frame_hop})")
        if not 0 < tol < 1:
            raise DataError(f"tol must be in (0, 1), got {tol}")
        self.n_fft, self.frame_hop, self.hop = n_fft, frame_hop, hop
        self.ratio = frame_hop // hop
        self.offset = frame_hop // 2 if offset is None else offset
        self.bins = n_fft // 2 + 1
        self.window, gamma = gaussian_window(n_fft)
        self.tol_log = math.log(tol)
        self.tfac = hop * n_fft / gamma  # time step: x ds/dk
        self.ffac = gamma / (hop * n_fft)  # bin step: x ds/dm
        self.omega = 2.0 * math.pi * hop * np.arange(self.bins) / n_fft
        self._mags = np.zeros((self.bins, 0))  # input frames [mag_start, received)
        self._mag_start = 0
        self.received = 0
        self._grid = np.zeros((0, self.bins))  # log-magnitudes of grid frames [grid_start, grid_start + len)
        self._grid_lin = np.zeros((0, self.bins))
        self._grid_start = 0
        self.phased = 0  # grid frames whose phase is known
        self._prev: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None  # s, phase, tgrad, sig
        self._acc = np.zeros(0)  # overlap-add numerator / denominator from sample `emitted`
        self._den = np.zeros(0)
        self.emitted = 0
        self._finished = False

    # ------------------------------------------------------------------------------ interface
    def push(self, mag: np.ndarray) -> np.ndarray:
        """Add magnitude frames (bins, f); return the output samples now final (float32)."""
        if self._finished:
            raise DataError("stream already finished")
        mag = np.asarray(mag, dtype=np.float64)
        if mag.ndim != 2 or mag.shape[0] != self.bins:
            raise DataError(f"expected magnitudes of shape ({self.bins}, frames), got {mag.shape}")
        if not np.isfinite(mag).all() or (mag < 0).any():
            raise DataError("magnitudes must be finite and >= 0")
        if mag.shape[1]:
            self._mags = np.concatenate([self._mags, mag], axis=1)
            self.received += mag.shape[1]
        return self._advance(final=False)

    def finish(self) -> np.ndarray:
        """End of the input: phase the last frames and return the remaining samples."""
        if self._finished:
            return np.zeros(0, np.float32)
        if self.received == 0:
            raise DataError("the magnitude stream held no frames")
        out = self._advance(final=True)
        self._finished = True
        return out

    @property
    def total_grid(self) -> int:
        return self.received * self.ratio

    # ------------------------------------------------------------------------------ internals
    def _grid_frames(self, j0: int, j1: int) -> np.ndarray:
        """Linear magnitudes of grid frames [j0, j1) (rows), interpolated between input frames."""
        j = np.arange(j0, j1)
        i0, w = np.divmod(j, self.ratio)
        last = self.received - 1
        a = self._mags[:, np.minimum(i0, last) - self._mag_start].T
        if self.ratio == 1:
            return a
        b = self._mags[:, np.minimum(i0 + 1, last) - self._mag_start].T
        t = (w / self.ratio)[:, None]
        return (1.0 - t) * a + t * b

    def _advance(self, final: bool) -> np.ndarray:
        # grid frames computable now: interpolation needs input frame j // ratio + 1 (or the end)
        made = self._grid_start + len(self._grid)
        ready = self.total_grid if final else max(0, (self.received - 1) * self.ratio + 1)
        if ready > made:
            lin = self._grid_frames(made, ready)
            self._grid_lin = np.concatenate([self._grid_lin, lin])
            self._grid = np.concatenate([self._grid, np.log(np.maximum(lin, math.exp(LOG_FLOOR)))])
        made = max(made, ready)
        j0, j1 = self.phased, made if final else made - 1  # a frame needs its look-ahead frame (or the end)
        if j1 > j0:
            self._phase_frames(j0, j1, made)
        # drop what no later frame needs
        keep = max(0, self.phased - 1)
        if keep > self._grid_start:
            self._grid = self._grid[keep - self._grid_start:]
            self._grid_lin = self._grid_lin[keep - self._grid_start:]
            self._grid_start = keep
        keep_in = max(0, min(self.received - 1, self.phased // self.ratio))
        if keep_in > self._mag_start:
            self._mags = self._mags[:, keep_in - self._mag_start:]
            self._mag_start = keep_in
        total = self.received * self.frame_hop
        end = total if final else min(total, self._start(self.phased))
        return self._emit(end)

    def _phase_frames(self, j0: int, j1: int, made: int) -> None:
        """Phase grid frames [j0, j1) (all of their neighbours below `made` are known) and add them."""
        g0 = self._grid_start
        G = self._grid
        S = G[j0 - g0:j1 - g0]
        prev = G[max(0, j0 - 1) - g0:j1 - 1 - g0] if j0 > 0 else np.concatenate([S[:1], G[:j1 - 1 - g0]])
        nxt = G[j0 + 1 - g0:min(j1 + 1, made) - g0]
        if nxt.shape[0] < S.shape[0]:  # the last frame: its own magnitude stands in for the next one
            nxt = np.concatenate([nxt, S[-1:]])
        ds_dk = np.empty_like(S)
        ds_dk[:, 1:-1] = 0.5 * (S[:, 2:] - S[:, :-2])
        ds_dk[:, 0], ds_dk[:, -1] = 0.5 * (S[:, 1] - S[:, 0]), 0.5 * (S[:, -1] - S[:, -2])
        tgrad = self.omega + self.tfac * ds_dk
        fgrad = math.pi - self.ffac * 0.5 * (nxt - prev)
        if self._prev is None:
            zeros = np.zeros(self.bins)
            state = (S[0], zeros, tgrad[0], np.zeros(self.bins, dtype=np.bool_))
        else:
            state = self._prev
        lin = self._grid_lin[j0 - g0:j1 - g0]
        phases, sigs, spectra = _integrate_frames(S, lin, tgrad, fgrad, *state, self.tol_log)
        self._prev = (S[-1], phases[-1], tgrad[-1], sigs[-1])
        segs = np.fft.irfft(spectra, n=self.n_fft, axis=-1)
        segs *= self.window
        starts = self._start(np.arange(j0, j1)) - self.emitted
        need = int(starts[-1]) + self.n_fft
        if need > self._acc.size:
            self._acc = np.concatenate([self._acc, np.zeros(need - self._acc.size)])
            self._den = np.concatenate([self._den, np.zeros(need - self._den.size)])
        _overlap_add(self._acc, self._den, segs, starts.astype(np.int64), self.window**2)
        self.phased = j1

    def _start(self, j):
        """First sample of grid frame j's window."""
        return self.offset + j * self.hop - self.n_fft // 2

    def _emit(self, end: int) -> np.ndarray:
        n = max(0, end - self.emitted)
        if n == 0:
            return np.zeros(0, np.float32)
        acc = self._acc[:n]
        den = self._den[:n]
        if acc.size < n:  # the end of the signal lies past every window (cannot happen with offset < n_fft / 2)
            acc = np.pad(acc, (0, n - acc.size))
            den = np.pad(den, (0, n - den.size))
        out = np.where(den > 1e-8, acc / np.maximum(den, 1e-8), 0.0).astype(np.float32)
        self._acc, self._den = self._acc[n:], self._den[n:]
        self.emitted = end
        return out


def reconstruct(mag: np.ndarray, n_fft: int = 1024, frame_hop: int = 256, hop: int = 256,
                tol: float = DEFAULT_TOL) -> np.ndarray:
    """Offline RTPGHI reconstruction of magnitudes (bins, frames) -> (frames * frame_hop,) float32:
    the stream fed everything at once."""
    stream = PhaseStream(n_fft, frame_hop, hop, tol=tol)
    return np.concatenate([stream.push(mag), stream.finish()])


class BatchPhase:
    """Log-magnitude pieces (B, bins, f) of a batch of signals -> audio pieces (B, samples), one
    `PhaseStream` per item (or, for "griffin-lim", everything at `finish`: it is not causal)."""

    def __init__(self, n_fft: int = 1024, frame_hop: int = 256, hop: int = 256, method: str = "pghi",
                 iterations: int = 32) -> None:
        if method not in ("pghi", "griffin-lim"):
            raise DataError(f"unknown phase reconstruction {method!r}")
        self.n_fft, self.frame_hop, self.hop, self.method, self.iterations = n_fft, frame_hop, hop, method, iterations
        self.streams: list[PhaseStream] = []
        self._held: list[np.ndarray] = []  # griffin-lim: every piece until the end

    def push(self, logmag: np.ndarray) -> np.ndarray:
        """Add frames; return the samples (B, n) now final (n may be 0)."""
        mag = np.exp(np.asarray(logmag, dtype=np.float64))
        if mag.ndim != 3:
            raise DataError(f"expected log-magnitudes (batch, bins, frames), got {mag.shape}")
        if self.method == "griffin-lim":
            self._held.append(mag)
            return np.zeros((mag.shape[0], 0), np.float32)
        while len(self.streams) < mag.shape[0]:
            self.streams.append(PhaseStream(self.n_fft, self.frame_hop, self.hop))
        return np.stack([s.push(m) for s, m in zip(self.streams, mag)])

    def finish(self) -> np.ndarray:
        """End of input: the remaining samples (B, n)."""
        if self.method == "griffin-lim":
            if not self._held:
                raise DataError("the magnitude stream held no frames")
            mag = np.concatenate(self._held, axis=-1)
            self._held = []
            return np.stack([griffin_lim(m, self.n_fft, self.frame_hop, self.iterations) for m in mag])
        if not self.streams:
            raise DataError("the magnitude stream held no frames")
        return np.stack([s.finish() for s in self.streams])

    def __call__(self, logmag: np.ndarray) -> np.ndarray:
        """Offline: all frames (B, bins, T) -> (B, T * frame_hop)."""
        return np.concatenate([self.push(logmag), self.finish()], axis=-1)
