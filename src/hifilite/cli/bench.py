"""`hifilite bench`: parameters, MACs, ×real-time and peak memory of vocoders, in one run."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..console import console, stdout_console
from ._app import app
from ._options import BenchBackend, number



@app.command()
def bench(
    model: List[str] = typer.Option(..., "--model", "-m", help="Model name (lj-v1, v1, v2, v3, ...) or path; repeat to compare."),
    threads: int = typer.Option(1, min=1, help="torch CPU threads (pinned for every model)."),
    seconds: float = typer.Option(5.0, callback=number(0, lo_open=True), help="Length of the synthetic mel input, in seconds of audio."),
    repeats: int = typer.Option(5, min=1, help="Timed runs per model (the median is reported)."),
    warmup: int = typer.Option(1, min=0, help="Untimed runs before timing."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Also write the results (with machine info) to this JSON file."),
    backend: List[BenchBackend] = typer.Option([BenchBackend.torch], "--backend", "-b", help="torch, onnx or onnx-int8; repeat to compare side by side."),
    all_threads: bool = typer.Option(False, "--all-threads", help="Also measure with every usable CPU (besides --threads)."),
    long_seconds: float = typer.Option(0.0, callback=number(0), help="Also stream an input this long (e.g. 600) in chunks and report its peak memory."),
    stream_frames: int = typer.Option(0, min=0, help="Also measure streaming first-audio latency with chunks of this many frames."),
    calibration: Optional[Path] = typer.Option(None, help="Recordings for onnx-int8 calibration (default: the bench input)."),
) -> None:
    """Measure each model in a fresh process with the same input and threads; the first model is
    the baseline of the speed-up column. Absolute times vary with machine load, ratios less."""
    from ..evaluate.bench import bench_models, bench_report, bench_table, write_json

    import os

    status = console
    counts = [threads]
    if all_threads:
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        counts += [usable] if usable != threads else []
    rows = bench_models(model, threads=threads, seconds=seconds, repeats=repeats, warmup=warmup,
                        backends=[b.value for b in backend], thread_counts=counts, long_seconds=long_seconds,
                        stream_frames=stream_frames, calibration=calibration,
                        progress=lambda label: status.print(f"measuring {label} ...", highlight=False))
    title = f"{'/'.join(map(str, counts))} thread(s), {seconds:g} s of audio, median of {repeats}"
    stdout_console.print(bench_table(rows, title=title))
    if json_path is not None:
        settings = {"threads": threads, "seconds": seconds, "repeats": repeats, "warmup": warmup,
                    "backends": [b.value for b in backend], "thread_counts": counts, "long_seconds": long_seconds,
                    "stream_frames": stream_frames}
        stdout_console.print(f"wrote {write_json(json_path, bench_report(rows, settings))}", highlight=False)
