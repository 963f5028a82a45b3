"""Speed and size benchmark of vocoders: parameters, MACs, ×real-time and peak memory.

Each model is measured in a fresh `spawn`ed process, for two reasons: the peak resident set size
(the only memory figure that sees torch's allocator; `tracemalloc` does not) is per process, so a
big model measured first would hide a small one's peak; and thread pools, allocator caches and
oneDNN kernels warmed by one model would flatter the next.

Timing: `torch.set_num_threads(threads)`, `torch.inference_mode()`, one fixed seeded random
log-mel of `seconds` of audio, `warmup` untimed calls then `repeats` timed calls of `model(mel)`.
Speed is reported as ×real-time = audio seconds / median wall seconds (higher is faster).
Absolute times are noisy on a shared machine; ratios between models measured in one run are not.
"""

from __future__ import annotations

import copy
import gc
import math
import os
import statistics
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, HifiliteError
from .bench_tables import bench_report, bench_table, markdown_table, write_json
from ..measure import (Stopwatch, peak_rss_bytes, probe_mel, reset_peak_rss, rss_now_bytes, time_call,
                       times_real_time)

ModelSpec = Any  # a name / path for `load_vocoder`, or an nn.Module (Vocoder or Generator)
BACKENDS = ("torch", "onnx", "onnx-int8")
LONG_CHUNK_FRAMES = 1024  # chunk of the long-input run (as `Vocoder.chunk_frames`)


@dataclass(frozen=True)
class BenchSettings:
    threads: int = 1
    seconds: float = 5.0
    repeats: int = 5
    warmup: int = 1
    seed: int = 0
    backend: str = "torch"  # "torch" (eager), "onnx" (ONNX Runtime fp32) or "onnx-int8"
    long_seconds: float = 0.0  # > 0: also stream an input this long in bounded chunks, record peak memory
    stream_frames: int = 0  # > 0: also measure streaming first-audio latency with chunks of this many frames
    calibration: str | None = None  # folder of recordings for onnx-int8 (default: the bench input)

    def check(self) -> "BenchSettings":
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.long_seconds < 0 or self.stream_frames < 0:
            raise ConfigError("long_seconds and stream_frames must be >= 0")
        if self.threads < 1:
            raise ConfigError(f"threads must be >= 1, got {self.threads}")
        if not self.seconds > 0:
            raise ConfigError(f"seconds must be > 0, got {self.seconds}")
        if self.repeats < 1 or self.warmup < 0:
            raise ConfigError("repeats must be >= 1 and warmup >= 0")
        return self


# ----------------------------------------------------------------------------------- machine


# ------------------------------------------------------------------------------- one model


def _resolve(model: ModelSpec):
    """(label, callable module, generator, sample_rate, hop, n_mels) for a name, path or module."""
    from torch import nn

    if isinstance(model, (str, os.PathLike)):
        from ..vocoder.api import load_vocoder

        module = load_vocoder(model)
        label = str(getattr(module, "name", "") or model)
    elif isinstance(model, nn.Module):
        module = model
        label = str(getattr(model, "name", "") or type(model).__name__)
    else:
        raise ConfigError(f"cannot benchmark {model!r}: give a model name, a path or an nn.Module")
    generator = getattr(module, "generator", module)
    mel_cfg = getattr(module, "mel_config", None)
    sample_rate = int(getattr(module, "sample_rate", None) or getattr(mel_cfg, "sample_rate", 22050))
    hop = int(getattr(module, "hop_length", None) or generator.hop_length)
    n_mels = getattr(mel_cfg, "n_mels", None)
    if n_mels is None:
        first = next(m for m in generator.modules() if isinstance(m, (nn.Conv1d, nn.Linear)))
        n_mels = first.in_channels if isinstance(first, nn.Conv1d) else first.in_features
    return label, module, generator, sample_rate, hop, int(n_mels)


def measure(model: ModelSpec, settings: BenchSettings) -> dict[str, Any]:
    """Benchmark one model in the current process (see module doc). Returns one result row."""
    import torch

    from ..vocoder.weight_norm import fuse_weight_norm
    from .macs import macs_per_second

    torch.set_num_threads(settings.threads)
    label, module, generator, sr, hop, n_mels = _resolve(model)
    fuse_weight_norm(module)
    module.eval()
    params = sum(p.numel() for p in generator.parameters())
    frames = max(1, math.ceil(settings.seconds * sr / hop))
    audio_seconds = frames * hop / sr
    mel = torch.from_numpy(probe_mel(n_mels, frames, settings.seed))  # speech-like, never denormal

    backend = None
    if settings.backend != "torch":
        backend = _onnx_backend(generator, label, mel.numpy(), settings)
        call = backend  # chunked like Vocoder.forward (1024 frames)
        mel_in = mel.numpy()
    else:
        call, mel_in = module, mel

    gc.collect()
    rss_loaded = rss_now_bytes()
    peak_reset = reset_peak_rss()
    with torch.inference_mode():
        timing = time_call(lambda: call(mel_in), repeats=settings.repeats, warmup=settings.warmup)
    peak = peak_rss_bytes()
    times, out = list(timing.seconds), timing.result
    n_out = out.shape[-1]
    if n_out != frames * hop:
        raise HifiliteError(f"{label}: produced {n_out} samples for {frames} frames x hop {hop}")

    median = statistics.median(times)
    mib = 1024.0 ** 2
    return {
        "model": label,
        "sample_rate": sr,
        "hop_length": hop,
        "params": params,
        "size_mb": params * 4 / mib,  # float32 weights
        "macs_per_second": macs_per_second(generator, sample_rate=sr, hop_length=hop, n_mels=n_mels),
        "threads": settings.threads,
        "audio_seconds": audio_seconds,
        "frames": frames,
        "warmup": settings.warmup,
        "repeats": settings.repeats,
        "times_s": times,
        "median_s": median,
        "min_s": min(times),
        "x_real_time": times_real_time(audio_seconds, median),
        "rss_loaded_mb": rss_loaded / mib if rss_loaded is not None else None,
        "rss_peak_mb": peak / mib,
        # Growth of the resident set during inference; exact only if the high-water mark could be
        # reset after loading (Linux), otherwise a lower bound.
        "infer_peak_mb": (max(0, peak - rss_loaded) / mib) if rss_loaded is not None else None,
        "peak_since_load": peak_reset,
        "backend": settings.backend,
        **_extras(backend or _torch_backend(module, generator, sr, hop, n_mels), n_mels, settings),
    }


def _torch_backend(module, generator, sample_rate: int, hop: int, n_mels: int):
    """The PyTorch `VocoderBackend` of what is benchmarked: the `Vocoder` itself, or a bare generator
    with the default mel front-end at its rate and hop (for the streaming and long-input measures)."""
    from ..config import MelConfig
    from ..runtime.contract import VocoderBackend
    from ..vocoder.api import Vocoder

    if isinstance(module, VocoderBackend):
        return module
    mel = MelConfig(sample_rate=sample_rate, hop_length=hop, n_mels=n_mels)
    return Vocoder(generator, generator.config, mel, name=type(generator).__name__).eval()


def _onnx_backend(generator, label: str, mel, settings: BenchSettings):
    """Export `generator` to a temporary ONNX file (int8-quantised for "onnx-int8") and load it in
    ONNX Runtime with `settings.threads` intra-op threads. int8 calibrates on `settings.calibration`
    recordings, or else on the bench input itself (enough for timing, not for judging quality)."""
    import tempfile

    from ..deploy.export import export_onnx
    from ..runtime import OnnxVocoder

    tmp = Path(tempfile.mkdtemp(prefix="hifilite-bench-"))
    path, _ = export_onnx(generator, tmp / "model.onnx")
    if settings.backend == "onnx-int8":
        from ..deploy.quantize import audio_files, load_mels, quantize_int8

        fp32 = OnnxVocoder(path, threads=settings.threads)
        calib = (load_mels(audio_files(settings.calibration)[:16], fp32) if settings.calibration
                 else [mel[..., i:i + 256] for i in range(0, mel.shape[-1], 256)])
        path, _ = quantize_int8(path, tmp / "model-int8.onnx", calib)
    voc = OnnxVocoder(path, threads=settings.threads)
    voc.name = label
    return voc


def _extras(backend, n_mels: int, settings: BenchSettings) -> dict[str, Any]:
    """Streaming latency and long-input peak memory, when asked for."""
    import numpy as np

    extra: dict[str, Any] = {}
    if settings.stream_frames:
        from ..measure import stream_latency

        g = np.random.default_rng(settings.seed)
        frames = max(4 * settings.stream_frames, 2 * backend.receptive_field_frames + settings.stream_frames)
        mel = (g.standard_normal((1, n_mels, frames)) * 2.0 - 5.0).astype(np.float32)
        extra["stream"] = stream_latency(backend, mel, settings.stream_frames, repeats=2)
    if settings.long_seconds:
        frames = max(1, math.ceil(settings.long_seconds * backend.sample_rate / backend.hop_length))
        def chunks():  # made on the fly: the long mel itself is never held whole
            for s in range(0, frames, LONG_CHUNK_FRAMES):
                yield probe_mel(n_mels, min(LONG_CHUNK_FRAMES, frames - s), seed=settings.seed + s)

        gc.collect()
        before = rss_now_bytes()
        reset_peak_rss()
        with Stopwatch() as clock:
            samples = sum(int(p.shape[-1]) for p in backend.stream(chunks(), max_frames=LONG_CHUNK_FRAMES))
        wall = clock.seconds
        if samples != frames * backend.hop_length:
            raise HifiliteError(f"long input: {samples} samples for {frames} frames")
        peak = peak_rss_bytes()
        extra.update({
            "long_seconds": frames * backend.hop_length / backend.sample_rate,
            "long_x_real_time": times_real_time(frames * backend.hop_length / backend.sample_rate, wall),
            "long_peak_mb": peak / 1024.0**2,
            "long_growth_mb": (max(0, peak - before) / 1024.0**2) if before is not None else None,
        })
    return extra


def _measure_in_worker(model: ModelSpec, settings: BenchSettings) -> dict[str, Any]:
    row = measure(model, settings)
    row["isolated"] = True
    return row


def _portable(model: ModelSpec) -> ModelSpec:
    """A module fit for pickling to the worker: a fused copy (parametrized modules do not pickle)."""
    from ..vocoder.weight_norm import fuse_weight_norm

    if isinstance(model, (str, os.PathLike)):
        return model
    model = copy.deepcopy(model)
    fuse_weight_norm(model)
    # weight_norm leaves a closure as a load_state_dict pre-hook (for old checkpoints), which
    # cannot be pickled; the worker only runs inference, so state-dict hooks can go.
    for m in model.modules():
        m._load_state_dict_pre_hooks.clear()
        m._state_dict_pre_hooks.clear()
        m._state_dict_hooks.clear()
    return model


def bench_models(
    models: Sequence[ModelSpec],
    threads: int = 1,
    seconds: float = 5.0,
    repeats: int = 5,
    warmup: int = 1,
    *,
    isolate: bool = True,
    seed: int = 0,
    progress=None,
    backends: Sequence[str] = ("torch",),
    thread_counts: Sequence[int] | None = None,
    long_seconds: float = 0.0,
    stream_frames: int = 0,
    calibration: str | os.PathLike | None = None,
) -> list[dict[str, Any]]:
    """Benchmark each model (a `load_vocoder` name or path such as "lj-v1", "v1", "v2", "v3", or
    an nn.Module) and return one row per model, in order.

    Row keys: model, sample_rate, hop_length, params (weight norm fused), size_mb (fp32),
    macs_per_second, threads, audio_seconds, frames, warmup, repeats, times_s, median_s, min_s,
    x_real_time (×real-time), rss_loaded_mb, rss_peak_mb, infer_peak_mb, peak_since_load, isolated.

    With `isolate=True` (default) every model runs in its own spawned process; `isolate=False`
    measures in this process (faster to start, memory figures then include earlier models).
    `progress(label)` is called before each model if given.

    Deployment comparison: every model is measured once per backend in `backends` ("torch" eager,
    "onnx" fp32, "onnx-int8") and per thread count in `thread_counts` (default `[threads]`), rows
    in that order, each with a `backend` key. `long_seconds > 0` also streams a synthetic input that
    long in chunks of 1024 frames and records `long_peak_mb` / `long_growth_mb` / `long_x_real_time`;
    `stream_frames > 0` records `stream` (first-audio latency and per-chunk cost, see
    `hifilite.deploy.measure`). `calibration`: recordings for int8 calibration.
    """
    counts = list(thread_counts) if thread_counts else [threads]
    if not backends:
        raise ConfigError("no backends to benchmark")
    variants = [BenchSettings(t, seconds, repeats, warmup, seed, b, long_seconds, stream_frames,
                              str(calibration) if calibration else None).check()
                for b in backends for t in counts]
    if not models:
        raise ConfigError("no models to benchmark")
    rows = []
    # One fused copy per model, made once: deep-copying a weight-normed module a second time after
    # fusing a first copy fails (the copies share parametrization state).
    fused = {id(m): _portable(m) for m in models if not isinstance(m, (str, os.PathLike))}
    for model, settings in ((m, v) for m in models for v in variants):
        label = model if isinstance(model, (str, os.PathLike)) else type(model).__name__
        if len(variants) > 1:
            label = f"{label} [{settings.backend}, {settings.threads} thread(s)]"
        if progress is not None:
            progress(str(label))
        if not isolate:
            row = measure(model if isinstance(model, (str, os.PathLike)) else copy.deepcopy(fused[id(model)]),
                          settings)
            row["isolated"] = False
            rows.append(row)
            continue
        import multiprocessing

        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as ex:
            try:
                rows.append(ex.submit(_measure_in_worker, fused.get(id(model), model), settings).result())
            except BrokenProcessPool:
                raise HifiliteError(
                    f"{label}: benchmark process died (out of memory?)"
                ) from None
    return rows


__all__ = ["BenchSettings", "measure", "bench_models", "bench_report", "bench_table", "markdown_table",
           "write_json"]
