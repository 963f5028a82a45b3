"""The compression report: quality, size and speed of every model `compress run` produced."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any, Sequence

ORDER_NOTE = (
    "PESQ wide-band at 16 kHz and the other metrics are copy-synthesis against the recordings of the test "
    "split; speed is the median x-real-time of one thread on {seconds:g} s of audio on this machine; MACs "
    "per second of audio."
)


def _mean(entry: dict[str, Any], key: str) -> float:
    value = entry.get(key)
    return float(value["mean"]) if isinstance(value, dict) else math.nan


def write_compression_report(
    out: Path, data: Path, labels: dict[str, str], summary: dict[str, Any],
    ablation: Sequence[tuple[str, str]], settings, console,
) -> Path:
    from ..audio import load_audio
    from ..evaluate.bench import bench_models
    from ..measure import machine_info
    from ..evaluate.report import Report, plot_spectrograms
    from ..evaluate.runner import SHORT_NAMES, evaluate_models

    specs = list(labels.values())
    result = evaluate_models(specs, data, split="test", limit=settings.eval_limit, out_dir=out / "eval",
                             save_audio=True, metrics=settings.metrics, device=settings.device, console=console)
    console.rule("8/8 speed, size and report")
    rows = bench_models(specs, threads=1, seconds=settings.bench_seconds, repeats=3, warmup=1, isolate=False)
    by_path = {spec: row for spec, row in zip(specs, rows)}
    metric_keys = [k for k in SHORT_NAMES if any(k in r for r in result.rows)]
    label_of = {m["spec"]: m["label"] for m in result.info.get("models", []) if "spec" in m}
    table = []
    for name, spec in labels.items():
        entry = result.summary.get(label_of.get(spec, Path(spec).stem), {}) or result.summary.get(name, {})
        b = by_path[spec]
        table.append({"model": name, "params": b["params"] / 1e6, "macs": b["macs_per_second"] / 1e9,
                      "x_real_time": b["x_real_time"], **{k: _mean(entry, k) for k in metric_keys}})
    summary["table"] = table
    summary["machine"] = machine_info()
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))

    report = Report("hifilite compression report")
    s = summary["settings"]
    report.text("Setup", (
        f"Teacher `{s['teacher']}`, student family `{s['family']}`, {s['steps']} steps per training stage "
        f"(batch {s['train']['batch_size']} x {s['train']['segment_size']} samples), {s['trials']} search "
        f"trials, device {s['device']}. Data: `{data}` (test split, first {settings.eval_limit or 'all'} "
        f"utterances). Machine: {summary['machine'].get('cpu', '')}. Chosen path: ranks "
        f"{tuple(summary['chosen']['ranks'])}. Regenerate with `hifilite compress run` and the same options."))
    columns = [("model", "model", ""), ("params", "params M", ".3f"), ("macs", "GMAC/s", ".3f"),
               ("x_real_time", "x real-time", ".1f")] + [(k, SHORT_NAMES[k], ".3f") for k in metric_keys]
    report.table("Models", table, columns, note=ORDER_NOTE.format(seconds=settings.bench_seconds))
    if ablation:
        base = next(r for r in table if r["model"] == "searched")
        abl = [{"term": "(none: full objective)", **{k: base[k] for k in metric_keys}}]
        for term, name in ablation:
            row = next(r for r in table if r["model"] == name)
            abl.append({"term": term, **{k: row[k] for k in metric_keys}})
        report.table("Ablation: the fine-tune with one distillation term switched off", abl,
                     [("term", "term off", "")] + [(k, SHORT_NAMES[k], ".3f") for k in metric_keys])
    pareto = out / "search" / "pareto.png"
    if pareto.is_file():
        shutil.copyfile(pareto, out / "pareto.png")
        report.image("Search: Pareto front", "pareto.png",
                     "log-mel L1 to the teacher vs measured 1-thread speed, every trial and the front")
    audio_rows = [r for r in result.rows if r.get("audio")]
    if audio_rows:
        first = sorted({r["id"] for r in audio_rows})[0]
        wavs, sr = {}, None
        for r in audio_rows:
            if r["id"] == first and (r["model"] in ("reference", label_of.get(labels.get(settings.teacher, ""), ""),
                                                    "searched") or r["model"].endswith("-scratch")):
                wavs[f"{r['model']} {first}"], sr = load_audio(out / "eval" / r["audio"])
        if len(wavs) > 1:
            n = min(len(w) for w in wavs.values())
            plot_spectrograms({k: w[:n] for k, w in wavs.items()}, sr, out / "spectrograms.png")
            report.image("Spectrograms", "spectrograms.png", f"{first}")
        report.audio("Audio", [(f"{r['model']} {r['id']}", f"eval/{r['audio']}") for r in audio_rows
                               if r["id"] == first])
    md, _ = report.write(out)
    console.print(f"report: {md}")
    return md
