"""The vocoder benchmark's outputs: the JSON report and the rich and markdown tables of its rows
(`hifilite.evaluate.bench`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..measure import machine_info


def bench_report(rows: list[dict[str, Any]], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document `--json` writes: machine, settings and one row per model."""
    return {"machine": machine_info(), "settings": settings or {}, "results": rows}


def write_json(path: str | os.PathLike, report: dict[str, Any]) -> Path:
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def _deploy_columns(rows: list[dict[str, Any]]) -> tuple[bool, bool, bool]:
    """Which optional column groups the rows need: (backend/threads, streaming, long input)."""
    varied = len({(r.get("backend", "torch"), r["threads"]) for r in rows}) > 1 \
        or any(r.get("backend", "torch") != "torch" for r in rows)
    return varied, any("stream" in r for r in rows), any("long_peak_mb" in r for r in rows)


def _deploy_cells(r: dict[str, Any], cols: tuple[bool, bool, bool]) -> tuple[list[str], list[str]]:
    head, tail = [], []
    if cols[0]:
        head = [r.get("backend", "torch"), str(r["threads"])]
    if cols[1]:
        st = r.get("stream")
        tail += ["", ""] if st is None else [f"{st['first_audio_ms']:.1f}", f"{st['per_chunk_ms']:.1f}"]
    if cols[2]:
        tail += ["", ""] if "long_peak_mb" not in r else [f"{r['long_peak_mb']:.0f}", f"{r['long_x_real_time']:.1f}"]
    return head, tail


def bench_table(rows: list[dict[str, Any]], title: str | None = None):
    """A rich Table of bench rows; the first row is the baseline of the "speed-up" column."""
    from rich.table import Table

    cols = _deploy_columns(rows)
    table = Table(title=title, caption="GMAC/s: per second of audio. ×RT: times faster than "
                  "real time. rel.: ×RT over the first row's. +MB: RSS growth during inference."
                  + (" first ms / chunk ms: streaming first-audio latency / cost per chunk." if cols[1] else "")
                  + (" long MB / long ×RT: peak RSS / speed streaming the long input." if cols[2] else ""))
    names = ["model"] + (["backend", "threads"] if cols[0] else []) + \
        ["params", "MB", "GMAC/s", "×RT", "rel.", "ms", "RSS MB", "+MB"] + \
        (["first ms", "chunk ms"] if cols[1] else []) + (["long MB", "long ×RT"] if cols[2] else [])
    for col in names:
        table.add_column(col, justify="left" if col in ("model", "backend") else "right")
    base = rows[0]["x_real_time"] if rows else None
    for r in rows:
        head, tail = _deploy_cells(r, cols)
        table.add_row(
            r["model"], *head,
            f"{r['params'] / 1e6:.2f} M",
            f"{r['size_mb']:.1f}",
            f"{r['macs_per_second'] / 1e9:.2f}",
            f"{r['x_real_time']:.1f}",
            f"{r['x_real_time'] / base:.2f}×",
            f"{r['median_s'] * 1e3:.0f}",
            f"{r['rss_peak_mb']:.0f}",
            "" if r["infer_peak_mb"] is None else f"{r['infer_peak_mb']:.0f}",
            *tail,
        )
    return table


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The same columns as `bench_table`, as a GitHub-flavoured markdown table."""
    cols = _deploy_columns(rows)
    head = ("model",) + (("backend", "threads") if cols[0] else ()) + \
        ("params", "GMAC / s audio", "×real-time", "speed-up", "median ms", "audio s", "peak RSS MB") + \
        (("first audio ms", "ms / chunk") if cols[1] else ()) + \
        (("long-input peak RSS MB", "long ×real-time") if cols[2] else ())
    from .report import render_markdown

    base = rows[0]["x_real_time"] if rows else 1.0
    body = []
    for r in rows:
        h, t = _deploy_cells(r, cols)
        body.append([
            r["model"], *h, f"{r['params'] / 1e6:.2f} M", f"{r['macs_per_second'] / 1e9:.2f}",
            f"{r['x_real_time']:.1f}", f"{r['x_real_time'] / base:.2f}×", f"{r['median_s'] * 1e3:.0f}",
            f"{r['audio_seconds']:.2f}", f"{r['rss_peak_mb']:.0f}", *t,
        ])
    return render_markdown(head, body, right_align=False) + "\n"

__all__ = ["bench_report", "write_json", "bench_table", "markdown_table"]
