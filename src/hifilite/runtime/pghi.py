"""Phase from magnitude: real-time Phase Gradient Heap Integration (RTPGHI) and Griffin-Lim.

    log-magnitude (bins, frames) at hop `a`, Gaussian window of N samples
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
are reconstructed too. Frames go in blocks: derivatives and integration in one compiled loop
(float64), then cos / sin, inverse FFTs and windowed overlap-add over the block (float32). Torch-free:
numpy, and numba (a dependency of librosa) for the loops, which run as plain Python without it.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError
from .stft import _jit, _overlap_add, gaussian_window, griffin_lim

LOG_FLOOR = math.log(1e-7)  # log-magnitude floor: silent bins must not give infinite derivatives
LOG_MAX = math.log(np.finfo(np.float64).max)  # larger log-magnitudes are infinite magnitudes
DEFAULT_TOL = 1e-5  # bins quieter than tol x the loudest of the two frames get no integrated phase
BUCKETS = 2048  # priority levels over the integrated range (tol): about 0.05 dB apart at tol 1e-5
TWO_PI = 2.0 * math.pi
BLOCK = 32  # frames phased, transformed and overlap-added at a time (their buffers stay in cache)


@_jit
def _enqueue(head, nxt, item, count, level, entry):  # pragma: no cover - compiled
    """Put `entry` at priority `level` (last in, first out within a level); returns the new count."""
    item[count] = entry
    nxt[count] = head[level]
    head[level] = count
    return count + 1


@_jit
def _integrate(s_prev, phase_prev, tgrad_prev, sig_prev, s_cur, tgrad_cur, fgrad_cur, tol_log,
               phase, sig, done, level, head, nxt, item):  # pragma: no cover - compiled
    """One RTPGHI frame: the phases of frame m from those of frame m - 1 (float64 (F,) arrays).

    `sig_prev` marks the bins of frame m - 1 whose phase was integrated; writes frame m's `phase`
    and `sig`. "Loudest known bin first" uses a bucket queue over log-magnitude (`BUCKETS` levels
    between the threshold and the peak, last in first out within a level) instead of a binary
    heap: the same order up to 0.05 dB, in constant time per step. Entries are `bin` (frame m - 1)
    and `F + bin` (frame m); `done`, `level`, `head`, `nxt`, `item` are scratch arrays."""
    n = s_cur.shape[0]
    top_level = head.shape[0] - 1
    top = s_cur[0]
    for k in range(n):
        top = max(top, s_cur[k], s_prev[k])
    thresh = top + tol_log
    scale = top_level / max(top - thresh, 1e-12)
    todo = 0
    for k in range(n):
        level[k] = min(top_level, max(0, int((s_prev[k] - thresh) * scale)))
        level[n + k] = min(top_level, max(0, int((s_cur[k] - thresh) * scale)))
        sig[k] = s_cur[k] > thresh
        done[k] = not sig[k]  # too quiet to integrate: phase 0
        phase[k] = 0.0
        todo += sig[k]
    head[:] = -1
    count = 0
    size = 0
    cur = 0
    for k in range(n):  # every integrated bin of the previous frame whose bin here is pending
        if sig_prev[k] and sig[k]:
            count = _enqueue(head, nxt, item, count, level[k], k)
            size += 1
            cur = max(cur, level[k])
    while todo > 0:
        if size == 0:  # nothing known reaches the rest: a new island from its loudest bin
            best = -1
            for k in range(n):
                if not done[k] and (best < 0 or s_cur[k] > s_cur[best]):
                    best = k
            done[best] = True
            todo -= 1
            count = _enqueue(head, nxt, item, count, level[n + best], n + best)
            size += 1
            cur = max(cur, level[n + best])
        while head[cur] < 0:
            cur -= 1
        e = head[cur]
        head[cur] = nxt[e]
        size -= 1
        k = item[e]
        if k < n:  # a bin of the previous frame: one step forward in time
            if done[k]:
                continue
            phase[k] = phase_prev[k] + 0.5 * (tgrad_prev[k] + tgrad_cur[k])
            done[k] = True
            todo -= 1
            new0, new1 = k, -1
        else:  # a bin of this frame: one step to each neighbour in frequency
            k -= n
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
                count = _enqueue(head, nxt, item, count, level[n + j], n + j)
                size += 1
                cur = max(cur, level[n + j])


@_jit
def _gradients(s_prev, s, s_next, omega, tfac, half_ffac, tgrad, fgrad):  # pragma: no cover - compiled
    """The phase derivatives of a frame from its log-magnitude `s` and its neighbours in time:
    tgrad = omega + tfac * ds/dk, fgrad = pi - (ffac / 2) (s_next - s_prev) (central differences,
    one-sided at the edges)."""
    n = s.shape[0]
    for k in range(n):
        ds_dk = 0.5 * (s[min(k + 1, n - 1)] - s[max(k - 1, 0)])
        tgrad[k] = omega[k] + tfac * ds_dk
        fgrad[k] = math.pi - half_ffac * (s_next[k] - s_prev[k])


@_jit
def _integrate_frames(G, r0, r1, first, omega, tfac, half_ffac, tol_log, phase, tgrad, sig,
                      out):  # pragma: no cover - compiled
    """Phase rows [r0, r1) of the log-magnitude grid G (a frame's neighbours in time are the rows
    around it, itself at either end of the signal), each from the one before: row r0 - 1's
    (phase, tgrad, sig) come in `phase`, `tgrad`, `sig` (ignored for the signal's first frame,
    `first`) and row r1 - 1's go out in them. `out` (r1 - r0, F) float32 gets the phases wrapped
    to [-pi, pi]."""
    rows, n = G.shape
    head = np.empty(BUCKETS, dtype=np.int32)
    nxt = np.empty(2 * n + 2, dtype=np.int32)
    item = np.empty(2 * n + 2, dtype=np.int32)
    level = np.empty(2 * n, dtype=np.int32)
    done = np.empty(n, dtype=np.bool_)
    fgrad = np.empty(n)
    phase_prev, tgrad_prev, sig_prev = phase.copy(), tgrad.copy(), sig.copy()
    if first:
        sig_prev[:] = False
    for r in range(r0, r1):
        s_prev = G[r] if first and r == r0 else G[r - 1]
        _gradients(s_prev, G[r], G[min(r + 1, rows - 1)], omega, tfac, half_ffac, tgrad, fgrad)
        _integrate(s_prev, phase_prev, tgrad_prev, sig_prev, G[r], tgrad, fgrad, tol_log,
                   phase, sig, done, level, head, nxt, item)
        for k in range(n):
            out[r - r0, k] = phase[k] - TWO_PI * np.rint(phase[k] / TWO_PI)
        phase, phase_prev = phase_prev, phase
        tgrad, tgrad_prev = tgrad_prev, tgrad
        sig, sig_prev = sig_prev, sig
    if (r1 - r0) % 2 == 0:  # the last frame's state lies in the scratch copies
        phase[:], tgrad[:], sig[:] = phase_prev, tgrad_prev, sig_prev


class PhaseStream:
    """RTPGHI and overlap-add for one signal, fed magnitude frames as they arrive.

    Args:
        n_fft: FFT size and Gaussian window length (the magnitudes must be of this window).
        frame_hop: hop of the magnitude frames pushed (the mel hop, 256).
        hop: hop of the phase reconstruction, a divisor of `frame_hop`; frames in between are
            linearly interpolated in magnitude (finer hops reconstruct better, at more cost).
        offset: sample at which magnitude frame 0 is centred (HiFi-GAN's framing: frame_hop / 2).
        tol: relative magnitude below which a bin gets no integrated phase.

    `push_log(logmag)` takes natural-log magnitudes (n_fft // 2 + 1, f), `push(mag)` linear ones,
    and both return the samples that no later frame can change; `finish()` returns the rest. The
    output has exactly `frames * frame_hop` samples, and is the same for any way of cutting the
    input into pushes. The integration runs in float64 (phases accumulate over the whole signal);
    spectra, inverse FFTs and windowed segments are float32 (the output's precision).
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
        self._win2 = self.window**2
        self.tol_log = math.log(tol)
        self.tfac = hop * n_fft / gamma  # time step: x ds/dk
        self.ffac = gamma / (hop * n_fft)  # bin step: x ds/dm
        self.omega = 2.0 * math.pi * hop * np.arange(self.bins) / n_fft
        self._logs = np.zeros((0, self.bins))  # input log-magnitude frames [log_start, received), rows
        self._log_start = 0
        self.received = 0
        self._grid = np.zeros((0, self.bins))  # floored log-magnitudes of grid frames [grid_start, ...)
        self._grid_lin = np.zeros((0, self.bins), np.float32)  # and their linear magnitudes
        self._grid_start = 0
        self.phased = 0  # grid frames whose phase is known
        self._phase = np.zeros(self.bins)  # the last phased frame's phase, time derivative, integrated bins
        self._tgrad = np.zeros(self.bins)
        self._sig = np.zeros(self.bins, dtype=np.bool_)
        self._acc = np.zeros(0)  # overlap-add numerator / denominator from sample `emitted`
        self._den = np.zeros(0)
        self.emitted = 0
        self._finished = False

    # ------------------------------------------------------------------------------ interface
    def push(self, mag: np.ndarray) -> np.ndarray:
        """Add linear magnitude frames (bins, f); return the output samples now final (float32)."""
        mag = np.asarray(mag, dtype=np.float64)
        self._check(mag)
        if not np.isfinite(mag).all() or (mag < 0).any():
            raise DataError("magnitudes must be finite and >= 0")
        with np.errstate(divide="ignore"):  # a zero magnitude is a log of -inf, floored on the grid
            return self._push(np.log(mag))

    def push_log(self, logmag: np.ndarray) -> np.ndarray:
        """Add log-magnitude frames (bins, f) (-inf for a zero magnitude); return the output
        samples now final (float32)."""
        logmag = np.asarray(logmag)
        self._check(logmag)
        if not (logmag < LOG_MAX).all():
            raise DataError("log-magnitudes must be below log(float max) and not NaN")
        return self._push(logmag)

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
    def _check(self, frames: np.ndarray) -> None:
        if self._finished:
            raise DataError("stream already finished")
        if frames.ndim != 2 or frames.shape[0] != self.bins:
            raise DataError(f"expected magnitudes of shape ({self.bins}, frames), got {frames.shape}")

    def _push(self, logmag: np.ndarray) -> np.ndarray:
        if logmag.shape[1]:
            self._logs = np.concatenate([self._logs, logmag.T])
            self.received += logmag.shape[1]
        return self._advance(final=False)

    def _grid_frames(self, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray]:
        """Floored log-magnitudes (float64) and linear magnitudes (float32) of grid frames [j0, j1)
        (rows), interpolated in linear magnitude between input frames."""
        j = np.arange(j0, j1)
        i0, w = np.divmod(j, self.ratio)
        last = self.received - 1
        a = self._logs[np.minimum(i0, last) - self._log_start]
        if self.ratio == 1:
            return np.maximum(a, LOG_FLOOR), np.exp(a.astype(np.float32))
        b = self._logs[np.minimum(i0 + 1, last) - self._log_start]
        t = (w / self.ratio)[:, None]
        lin = (1.0 - t) * np.exp(a) + t * np.exp(b)
        return np.log(np.maximum(lin, math.exp(LOG_FLOOR))), lin.astype(np.float32)

    def _advance(self, final: bool) -> np.ndarray:
        # grid frames computable now: interpolation needs input frame j // ratio + 1 (or the end)
        made = self._grid_start + len(self._grid)
        ready = self.total_grid if final else max(0, (self.received - 1) * self.ratio + 1)
        if ready > made:
            log, lin = self._grid_frames(made, ready)
            self._grid = np.concatenate([self._grid, log])
            self._grid_lin = np.concatenate([self._grid_lin, lin])
        made = max(made, ready)
        j0, j1 = self.phased, made if final else made - 1  # a frame needs its look-ahead frame (or the end)
        total = self.received * self.frame_hop
        pieces = []
        for b0 in range(j0, j1, BLOCK):  # blocks small enough to stay in cache, emitted as they end
            self._phase_frames(b0, min(b0 + BLOCK, j1))
            pieces.append(self._emit(min(total, self._start(self.phased))))
        # drop what no later frame needs
        keep = max(0, self.phased - 1)
        if keep > self._grid_start:
            self._grid = self._grid[keep - self._grid_start:]
            self._grid_lin = self._grid_lin[keep - self._grid_start:]
            self._grid_start = keep
        keep_in = max(0, min(self.received - 1, self.phased // self.ratio))
        if keep_in > self._log_start:
            self._logs = self._logs[keep_in - self._log_start:]
            self._log_start = keep_in
        pieces.append(self._emit(total if final else min(total, self._start(self.phased))))
        return np.concatenate(pieces)

    def _phase_frames(self, j0: int, j1: int) -> None:
        """Phase grid frames [j0, j1) (all of their neighbours on the grid are known) and add them."""
        r0, r1 = j0 - self._grid_start, j1 - self._grid_start
        wrapped = np.empty((j1 - j0, self.bins), np.float32)
        _integrate_frames(self._grid, r0, r1, j0 == 0, self.omega, self.tfac, self.ffac * 0.5, self.tol_log,
                          self._phase, self._tgrad, self._sig, wrapped)
        lin = self._grid_lin[r0:r1]
        spectra = np.empty(wrapped.shape, np.complex64)
        np.multiply(lin, np.cos(wrapped), out=spectra.real)
        np.multiply(lin, np.sin(wrapped), out=spectra.imag)
        segs = np.fft.irfft(spectra, n=self.n_fft, axis=-1)
        starts = self._start(np.arange(j0, j1)) - self.emitted
        need = int(starts[-1]) + self.n_fft
        if need > self._acc.size:
            self._acc = np.concatenate([self._acc, np.zeros(need - self._acc.size)])
            self._den = np.concatenate([self._den, np.zeros(need - self._den.size)])
        _overlap_add(self._acc, self._den, segs, starts.astype(np.int64), self.window, self._win2)
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
        out = np.zeros(n, np.float32)
        np.divide(acc, den, out=out, where=den > 1e-8)
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
        logmag = np.asarray(logmag)
        if logmag.ndim != 3:
            raise DataError(f"expected log-magnitudes (batch, bins, frames), got {logmag.shape}")
        if self.method == "griffin-lim":
            self._held.append(np.exp(logmag.astype(np.float64)))
            return np.zeros((logmag.shape[0], 0), np.float32)
        while len(self.streams) < logmag.shape[0]:
            self.streams.append(PhaseStream(self.n_fft, self.frame_hop, self.hop))
        return np.stack([s.push_log(m) for s, m in zip(self.streams, logmag)])

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
