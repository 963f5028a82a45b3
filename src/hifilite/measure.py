"""The one measurement layer: timing, the probe input, the machine a number was measured on.

Every bench and search times with `time_call` (median of `repeats` calls after `warmup` discarded
ones), a single run of something longer with `Stopwatch` (a `with` block's seconds), and states
speed the same way:

    x real time       = audio seconds / compute seconds   (bigger is faster; `times_real_time`)
    real-time factor  = compute seconds / audio seconds   (smaller is faster; RTF in papers)

Vocoders are timed on `probe_mel` (1, n_mels, frames), a speech-like log-mel: the values only matter
in that they must look like speech and never be denormal, which would slow a CPU for reasons that
have nothing to do with the model. Torch-free at import (numpy and the standard library).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import ConfigError


@dataclass(frozen=True)
class Timing:
    """Seconds of each timed call (warm-up excluded) and the last call's result."""

    seconds: tuple[float, ...]
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def time_call(fn: Callable[[], Any], *, repeats: int = 3, warmup: int = 1) -> Timing:
    """Call `fn` `warmup + repeats` times; time the last `repeats` (wall clock, perf_counter)."""
    if repeats < 1 or warmup < 0:
        raise ConfigError(f"timing needs repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return Timing(tuple(times), out)


class Stopwatch:
    """Wall-clock seconds (perf_counter) of a `with` block: `seconds` is the time so far inside the
    block and the block's whole time after it.

        with Stopwatch() as sw:
            work()
        sw.seconds
    """

    def __init__(self) -> None:
        self._start: float | None = None
        self._stop: float | None = None

    def __enter__(self) -> Stopwatch:
        self._start, self._stop = time.perf_counter(), None
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = time.perf_counter()

    @property
    def seconds(self) -> float:
        if self._start is None:
            return 0.0
        return (self._stop if self._stop is not None else time.perf_counter()) - self._start


def times_real_time(audio_seconds: float, compute_seconds: float) -> float:
    """x real time: seconds of audio made per second of compute (inf for a zero time)."""
    return audio_seconds / compute_seconds if compute_seconds > 0 else float("inf")


def probe_mel(n_mels: int, frames: int, seed: int = 0) -> np.ndarray:
    """A speech-like log-mel (1, n_mels, frames) float32: smooth spectral envelope with a moving
    formant-like peak, plus noise; the same for a given seed everywhere (timing, export parity)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[None, :]
    f = np.arange(n_mels)[:, None]
    peak = n_mels * (0.3 + 0.15 * np.sin(2 * np.pi * t / 37.0))
    mel = -6.0 + 4.0 * np.exp(-((f - peak) ** 2) / (2 * (n_mels / 10) ** 2)) - 0.04 * f
    mel = mel + 0.5 * rng.standard_normal((n_mels, frames))
    return mel[None].astype(np.float32)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """What a reader needs to interpret timings: CPU, core counts, library versions (torch where
    it is installed)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info: dict[str, Any] = {
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        import torch
    except ImportError:
        return info
    info.update({"torch": torch.__version__, "torch_threads_default": torch.get_num_threads()})
    return info


def rss_now_bytes() -> int | None:
    """The resident set size now (Linux /proc; None elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_bytes() -> int:
    """The RSS high-water mark: VmHWM (which `clear_refs` resets) where Linux gives it, else
    ru_maxrss (which keeps the process-lifetime peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource  # POSIX only, so imported where it is needed

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS reports bytes, Linux KiB


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux >= 4.0), so ru_maxrss measures from now."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# Streaming latency: time to first audio and cost per chunk, for any `VocoderBackend`.
# The mel arrives in chunks of `chunk_frames` (as an acoustic model or a network would deliver it)
# and is consumed as fast as the vocoder can: `first_audio_ms` is the wall time from handing over
# the first chunk until the first audio piece is ready, and includes the generator calls for the
# `receptive_field_frames` of look-ahead that first audio needs. `per_chunk_ms` is the median wall
# time between later pieces, each covering `chunk_frames` frames (`chunk_audio_ms` of audio), so a
# stream keeps up with real time while per_chunk_ms < chunk_audio_ms. Torch-free; works for
# `hifilite.Vocoder` and `hifilite.runtime.OnnxVocoder` alike.


def stream_latency(voc: Any, mel: np.ndarray, chunk_frames: int, *, repeats: int = 3,
                   to_input=None) -> dict[str, Any]:
    """Streaming latency (see `STREAM_LATENCY`): `voc.stream` on `mel` (1, n_mels, frames) cut into chunks of `chunk_frames`.

    `to_input` converts a numpy chunk to what `voc.stream` takes (e.g. `torch.from_numpy`).
    The first of `repeats + 1` passes warms up and is discarded; figures are medians over the rest.
    """
    if chunk_frames < 1:
        raise ConfigError(f"chunk_frames must be >= 1, got {chunk_frames}")
    if repeats < 1:
        raise ConfigError(f"repeats must be >= 1, got {repeats}")
    mel = np.ascontiguousarray(mel, dtype=np.float32)
    total = mel.shape[-1]
    context = int(voc.receptive_field_frames)
    conv = to_input or (lambda x: x)
    firsts, per_chunk, totals = [], [], []
    for rep in range(repeats + 1):
        chunks = [conv(mel[..., s:s + chunk_frames]) for s in range(0, total, chunk_frames)]
        stamps = []
        samples = 0
        with Stopwatch() as clock:
            for piece in voc.stream(chunks):
                stamps.append(clock.seconds)
                samples += int(piece.shape[-1])
        if samples != total * voc.hop_length:
            raise RuntimeError(f"stream produced {samples} samples for {total} frames")
        if rep == 0:
            continue
        firsts.append(stamps[0])
        gaps = np.diff(stamps[:-1]) if len(stamps) > 2 else np.diff(stamps)  # the last piece is the tail
        per_chunk.extend(gaps.tolist())
        totals.append(clock.seconds)
    sr, hop = voc.sample_rate, voc.hop_length
    audio_s = total * hop / sr
    return {
        "chunk_frames": chunk_frames,
        "chunk_audio_ms": 1e3 * chunk_frames * hop / sr,
        "context_frames": context,
        "lookahead_ms": 1e3 * context * hop / sr,
        "first_audio_ms": 1e3 * statistics.median(firsts),
        "per_chunk_ms": 1e3 * statistics.median(per_chunk) if per_chunk else float("nan"),
        "stream_rtf_x": audio_s / statistics.median(totals),
        "audio_seconds": audio_s,
    }


__all__ = ["Timing", "time_call", "Stopwatch", "times_real_time", "probe_mel", "cpu_name", "machine_info",
           "rss_now_bytes", "peak_rss_bytes", "reset_peak_rss", "stream_latency"]
