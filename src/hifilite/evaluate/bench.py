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
import platform
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, HifiliteError

ModelSpec = Any  # a name / path for `load_vocoder`, or an nn.Module (Vocoder or Generator)


@dataclass(frozen=True)
class BenchSettings:
    threads: int = 1
    seconds: float = 5.0
    repeats: int = 5
    warmup: int = 1
    seed: int = 0

    def check(self) -> "BenchSettings":
        if self.threads < 1:
            raise ConfigError(f"threads must be >= 1, got {self.threads}")
        if not self.seconds > 0:
            raise ConfigError(f"seconds must be > 0, got {self.seconds}")
        if self.repeats < 1 or self.warmup < 0:
            raise ConfigError("repeats must be >= 1 and warmup >= 0")
        return self


# ----------------------------------------------------------------------------------- machine


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """What a reader needs to interpret timings: CPU, core counts, library versions."""
    import torch

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads_default": torch.get_num_threads(),
    }


# -------------------------------------------------------------------------------- memory


def _rss_now_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _peak_rss_bytes() -> int:
    """The RSS high-water mark: VmHWM (which `clear_refs` resets) where Linux gives it, else
    ru_maxrss (which keeps the process-lifetime peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS reports bytes, Linux KiB


def _reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux >= 4.0), so ru_maxrss measures from now."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


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


def fuse_weight_norm(module) -> None:
    """Fold weight norm (parametrization or legacy hook) into plain weights, in place."""
    from torch.nn.utils import parametrize

    for m in module.modules():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
        elif hasattr(m, "weight_g") and hasattr(m, "weight_v"):
            import torch

            torch.nn.utils.remove_weight_norm(m)


def measure(model: ModelSpec, settings: BenchSettings) -> dict[str, Any]:
    """Benchmark one model in the current process (see module doc). Returns one result row."""
    import torch

    from .macs import macs_per_second

    torch.set_num_threads(settings.threads)
    label, module, generator, sr, hop, n_mels = _resolve(model)
    fuse_weight_norm(module)
    module.eval()
    params = sum(p.numel() for p in generator.parameters())
    frames = max(1, math.ceil(settings.seconds * sr / hop))
    audio_seconds = frames * hop / sr
    # Log-mel-like values (natural log, speech lies in about -11 … 2); the value only matters in
    # that it must not be denormal, which would slow the CPU down for reasons unrelated to the model.
    g = torch.Generator().manual_seed(settings.seed)
    mel = torch.randn(1, n_mels, frames, generator=g) * 2.0 - 5.0

    gc.collect()
    rss_loaded = _rss_now_bytes()
    peak_reset = _reset_peak_rss()
    times = []
    with torch.inference_mode():
        for i in range(settings.warmup + settings.repeats):
            t0 = time.perf_counter()
            out = module(mel)
            dt = time.perf_counter() - t0
            if i >= settings.warmup:
                times.append(dt)
    peak = _peak_rss_bytes()
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
        "rtf_x": audio_seconds / median,
        "rss_loaded_mb": rss_loaded / mib if rss_loaded is not None else None,
        "rss_peak_mb": peak / mib,
        # Growth of the resident set during inference; exact only if the high-water mark could be
        # reset after loading (Linux), otherwise a lower bound.
        "infer_peak_mb": (max(0, peak - rss_loaded) / mib) if rss_loaded is not None else None,
        "peak_since_load": peak_reset,
    }


def _measure_in_worker(model: ModelSpec, settings: BenchSettings) -> dict[str, Any]:
    row = measure(model, settings)
    row["isolated"] = True
    return row


def _portable(model: ModelSpec) -> ModelSpec:
    """A module fit for pickling to the worker: a fused copy (parametrized modules do not pickle)."""
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
) -> list[dict[str, Any]]:
    """Benchmark each model (a `load_vocoder` name or path such as "lj-v1", "v1", "v2", "v3", or
    an nn.Module) and return one row per model, in order.

    Row keys: model, sample_rate, hop_length, params (weight norm fused), size_mb (fp32),
    macs_per_second, threads, audio_seconds, frames, warmup, repeats, times_s, median_s, min_s,
    rtf_x (×real-time), rss_loaded_mb, rss_peak_mb, infer_peak_mb, peak_since_load, isolated.

    With `isolate=True` (default) every model runs in its own spawned process; `isolate=False`
    measures in this process (faster to start, memory figures then include earlier models).
    `progress(label)` is called before each model if given.
    """
    settings = BenchSettings(threads, seconds, repeats, warmup, seed).check()
    if not models:
        raise ConfigError("no models to benchmark")
    rows = []
    for model in models:
        label = model if isinstance(model, (str, os.PathLike)) else type(model).__name__
        if progress is not None:
            progress(str(label))
        if not isolate:
            row = measure(copy.deepcopy(model) if not isinstance(model, (str, os.PathLike)) else model,
                          settings)
            row["isolated"] = False
            rows.append(row)
            continue
        import multiprocessing

        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as ex:
            try:
                rows.append(ex.submit(_measure_in_worker, _portable(model), settings).result())
            except BrokenProcessPool:
                raise HifiliteError(
                    f"{label}: benchmark process died (out of memory?)"
                ) from None
    return rows


# ----------------------------------------------------------------------------------- output


def bench_report(rows: list[dict[str, Any]], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document `--json` writes: machine, settings and one row per model."""
    return {"machine": machine_info(), "settings": settings or {}, "results": rows}


def write_json(path: str | os.PathLike, report: dict[str, Any]) -> Path:
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def bench_table(rows: list[dict[str, Any]], title: str | None = None):
    """A rich Table of bench rows; the first row is the baseline of the "speed-up" column."""
    from rich.table import Table

    table = Table(title=title, caption="GMAC/s: per second of audio. ×RT: times faster than "
                  "real time. rel.: ×RT over the first model's. +MB: RSS growth during inference.")
    for col in ("model", "params", "MB", "GMAC/s", "×RT", "rel.", "ms", "RSS MB", "+MB"):
        table.add_column(col, justify="left" if col == "model" else "right")
    base = rows[0]["rtf_x"] if rows else None
    for r in rows:
        table.add_row(
            r["model"],
            f"{r['params'] / 1e6:.2f} M",
            f"{r['size_mb']:.1f}",
            f"{r['macs_per_second'] / 1e9:.2f}",
            f"{r['rtf_x']:.1f}",
            f"{r['rtf_x'] / base:.2f}×",
            f"{r['median_s'] * 1e3:.0f}",
            f"{r['rss_peak_mb']:.0f}",
            "" if r["infer_peak_mb"] is None else f"{r['infer_peak_mb']:.0f}",
        )
    return table


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The same columns as `bench_table`, as a GitHub-flavoured markdown table."""
    head = ("model", "params", "GMAC / s audio", "×real-time", "speed-up", "median ms",
            "audio s", "peak RSS MB")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base = rows[0]["rtf_x"] if rows else 1.0
    for r in rows:
        lines.append("| " + " | ".join([
            r["model"], f"{r['params'] / 1e6:.2f} M", f"{r['macs_per_second'] / 1e9:.2f}",
            f"{r['rtf_x']:.1f}", f"{r['rtf_x'] / base:.2f}×", f"{r['median_s'] * 1e3:.0f}",
            f"{r['audio_seconds']:.2f}", f"{r['rss_peak_mb']:.0f}",
        ]) + " |")
    return "\n".join(lines) + "\n"
