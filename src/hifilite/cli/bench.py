"""`hifilite bench`: parameters, MACs, ×real-time and peak memory of vocoders, in one run."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from ._app import app

console = Console()


@app.command()
def bench(
    model: List[str] = typer.Option(..., "--model", "-m", help="Model name (lj-v1, v1, v2, v3, ...) or path; repeat to compare."),
    threads: int = typer.Option(1, help="torch CPU threads (pinned for every model)."),
    seconds: float = typer.Option(5.0, help="Length of the synthetic mel input, in seconds of audio."),
    repeats: int = typer.Option(5, help="Timed runs per model (the median is reported)."),
    warmup: int = typer.Option(1, help="Untimed runs before timing."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Also write the results (with machine info) to this JSON file."),
) -> None:
    """Measure each model in a fresh process with the same input and threads; the first model is
    the baseline of the speed-up column. Absolute times vary with machine load, ratios less."""
    from ..evaluate.bench import bench_models, bench_report, bench_table, write_json

    status = Console(stderr=True)
    rows = bench_models(model, threads=threads, seconds=seconds, repeats=repeats, warmup=warmup,
                        progress=lambda label: status.print(f"measuring {label} ...", highlight=False))
    console.print(bench_table(rows, title=f"{threads} thread(s), {seconds:g} s of audio, median of {repeats}"))
    if json_path is not None:
        settings = {"threads": threads, "seconds": seconds, "repeats": repeats, "warmup": warmup}
        console.print(f"wrote {write_json(json_path, bench_report(rows, settings))}", highlight=False)
