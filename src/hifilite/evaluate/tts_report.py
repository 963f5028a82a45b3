"""Reports of the text-to-speech bench (markdown tables, WER by sentence length) and learning curves
read back from training runs' TensorBoard logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError


def learning_curves(runs: dict[str, str | Path], tag: str = "mel/loss", split: str = "val") -> dict[str, Any]:
    """One validation scalar of several training runs, compared at equal steps.

    Runs trained with the same data, batch, schedule and seed (what `acoustic train` and the
    search do) are compared where each logged the scalar (`read_scalars`); the first run is the
    reference and `relative` is each run's value over the reference's minus one. The default
    tag is the teacher-forced validation mel L1 (`mel/loss`)."""
    from ..train.logging import read_scalars

    if not runs:
        raise ConfigError("learning curves need at least one run")
    curves = {name: read_scalars(run, tag, split) for name, run in runs.items()}
    points = {name: dict(c) for name, c in curves.items()}
    ref = next(iter(curves))
    table = []
    for step in sorted(set.intersection(*(set(p) for p in points.values()))):
        values = {name: p[step] for name, p in points.items()}
        table.append({"step": step, "values": values,
                      "relative": {name: v / values[ref] - 1.0 for name, v in values.items() if name != ref}})
    return {"tag": f"{split}/{tag}", "reference": ref, "runs": {k: str(v) for k, v in runs.items()},
            "curves": {k: [[s, v] for s, v in c] for k, c in curves.items()}, "equal_steps": table}


def curves_markdown(curves: dict[str, Any]) -> str:
    """A table of `learning_curves` at the steps every run logged."""
    names = list(curves["curves"])
    ref = curves["reference"]
    head = ["step"] + [n if n == ref else f"{n} (vs {ref})" for n in names]
    lines = [f"{curves['tag']} at equal training steps (same data, batch, schedule and seed):", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in curves["equal_steps"]:
        cells = [str(row["step"])]
        for n in names:
            v = row["values"][n]
            cells.append(f"{v:.3f}" if n == ref else f"{v:.3f} ({100 * row['relative'][n]:+.1f} %)")
        lines.append("| " + " | ".join(cells) + " |")
    last = {n: c[-1] for n, c in curves["curves"].items()}
    lines += ["", "Last logged: " + ", ".join(f"{n} {v:.3f} at step {s}" for n, (s, v) in last.items()) + "."]
    return "\n".join(lines) + "\n"


def _f(v: Any, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return format(v, fmt)


def _pct(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{100 * v:.1f} %"


def _free_cell(free: dict[str, Any], wer: bool) -> str:
    cell = f"{_f(free.get('x_real_time'), '.1f')} / {_f(free.get('dnsmos_ovrl'), '.2f')}"
    return cell + (f" / {_pct(free.get('wer'))}" if wer else "")


def markdown_report(report: dict[str, Any]) -> str:
    """The tables docs/tts.md shows: acoustic models with each vocoder, then Piper and the ceiling; with
    WER, the WER diagnosis, WER by sentence length and WER against training step."""
    vocs = list(report["vocoders"])
    first = vocs[0]
    wer = bool(report.get("intelligibility"))
    head = ["model", "steps", "params", "acoustic xRT", "mel L1", "mel L1, ref. energy", "mel L1, ref. pitch/energy",
            "dur. err (frames)"]
    for v in vocs:
        head += [f"text→wav xRT ({v})", f"DNSMOS ({v})"] + ([f"WER ({v})"] if wer else [])
    free_what = "xRT / DNSMOS / WER" if wer else "xRT / DNSMOS"
    head += [f"free: {free_what} ({first})"]
    onnx = any(f"free_onnx_{first}" in r for r in report["acoustic"])
    if onnx:
        head += [f"free, ONNX Runtime: {free_what} ({first})"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ref = report["acoustic"][0]["name"]
    for r in report["acoustic"]:
        cells = [f"{r['name']} (`{r['arch']}`)", str(r["steps"]), f"{r['params'] / 1e6:.2f} M",
                 _f(r["acoustic_x_real_time"], ".1f"), _f(r["mel_l1"], ".3f"),
                 _f(r.get("mel_l1_ref_energy"), ".3f"), _f(r.get("mel_l1_ref_variance"), ".3f"),
                 _f(r["duration_mae_frames"], ".2f")]
        for v in vocs:
            cells += [_f(r[f"x_real_time_{v}"], ".1f"), _f(r.get(f"dnsmos_ovrl_{v}"), ".2f")]
            cells += [_pct(r.get(f"wer_{v}"))] if wer else []
        free = r[f"free_{first}"]
        cells.append(f"{_free_cell(free, wer)} ({free['spoken']}/{len(report['sentences'])} spoken)")
        if onnx:
            cells.append(_free_cell(r.get(f"free_onnx_{first}") or {}, wer))
        lines.append("| " + " | ".join(cells) + " |")
    p = report.get("piper")
    if p:
        per_voc = 3 if wer else 2
        cells = [f"Piper {p['voice']} (VITS, ONNX Runtime)", "–", f"{p['params'] / 1e6:.2f} M"] + ["–"] * 5
        cells += [_f(p["x_real_time"], ".1f"), _f(p.get("dnsmos_ovrl"), ".2f")] + ([_pct(p.get("wer"))] if wer else [])
        cells += [""] * (per_voc * (len(vocs) - 1))
        cells += [_free_cell(p, wer)] + ([_free_cell(p, wer)] if onnx else [])
        lines.append("| " + " | ".join(cells) + " |")
    ratios = []
    for r in report["acoustic"][1:]:
        v = r[f"vs_{ref}"]
        piece = f"{r['name']}: {v['fewer_params']:.1f}x fewer params and {v['acoustic_speedup']:.1f}x faster than {ref}"
        if np.isfinite(r["mel_l1"]) and np.isfinite(report["acoustic"][0]["mel_l1"]):
            piece += f", mel L1 {100 * (r['mel_l1'] / report['acoustic'][0]['mel_l1'] - 1):+.1f} %"
        if r.get("vs_piper"):
            piece += f", text→wav {r['vs_piper'][first]:.1f}x Piper's speed with {first}"
            if r.get("vs_piper_onnx"):
                piece += f" ({r['vs_piper_onnx']:.1f}x, own durations, ONNX Runtime)"
        ratios.append(piece)
    if len(report["acoustic"]) == 1 and report["acoustic"][0].get("vs_piper"):
        ratios.append(f"{ref}: text→wav {report['acoustic'][0]['vs_piper'][first]:.1f}x Piper's speed with {first}")
    lines += ["", "; ".join(ratios) + "." if ratios else ""]
    gt = report.get("ground_truth", {})
    split = "every utterance" if report["split"] == "all" else f"the {report['split']} split"
    extra = [f"{len(report['sentences'])} sentences ({split}, {report['speech_seconds']:.1f} s of speech), "
             f"{report['threads']} thread(s); acoustic x-real-time: the fastest of {report.get('acoustic_passes', 1)} "
             f"pass(es); text→wav columns use the recordings' durations, `free` the model's own (what `hifilite tts` "
             f"says)."]
    if "dnsmos_ovrl_recording" in gt:
        extra.append("DNSMOS OVRL of the recordings " + _f(gt.get("dnsmos_ovrl_recording"), ".2f") + "; of their "
                     "copy-synthesis: " + ", ".join(f"{v} {_f(gt.get(f'dnsmos_ovrl_copy_{v}'), '.2f')}" for v in vocs)
                     + ".")
    if "wer_recording" in gt:
        extra.append(f"WER of the recordings {_pct(gt['wer_recording'])}; of their copy-synthesis: "
                     + ", ".join(f"{v} {_pct(gt.get(f'wer_copy_{v}'))}" for v in vocs) + ".")
    extra.append("Vocoders alone: " + ", ".join(f"{v} {report['vocoders'][v]['params'] / 1e6:.2f} M params, "
                                                f"{report['vocoders'][v]['x_real_time']:.1f}x real-time" for v in vocs) + ".")
    text = "\n".join(lines) + "\n\n" + " ".join(extra) + "\n"
    if wer:
        text += "\n" + wer_markdown(report)
    if report.get("curves"):
        text += "\n" + curves_markdown(report["curves"])
    return text


def wer_markdown(report: dict[str, Any]) -> str:
    """The WER diagnosis (own predictions vs teacher-forced variance), WER by sentence length and
    WER against training step."""
    from .intelligibility import markdown_buckets

    first = next(iter(report["vocoders"]))
    parts = []
    diag = [r for r in report["acoustic"] if f"wer_ref_variance_{first}" in r]
    if diag:
        head = ["model", "own durations, pitch, energy", "ref. durations", "ref. durations + energy",
                "ref. durations + pitch + energy"]
        lines = [f"WER with {first}, the model's own predictions against the recordings' (teacher-forced) "
                 "durations, energy and pitch:", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in diag:
            lines.append("| " + " | ".join([r["name"], _pct(r[f"free_{first}"].get("wer")), _pct(r.get(f"wer_{first}")),
                                            _pct(r.get(f"wer_ref_energy_{first}")),
                                            _pct(r.get(f"wer_ref_variance_{first}"))]) + " |")
        parts.append("\n".join(lines) + "\n")
    parts.append("WER and CER by sentence length (normalised reference words; sentences in brackets):\n\n"
                 + markdown_buckets(report["intelligibility"]))
    curves = report.get("wer_curves") or {}
    if curves:
        steps = sorted({p["step"] for points in curves.values() for p in points})
        values = {name: {p["step"]: p["wer"] for p in points} for name, points in curves.items()}
        lines = [f"WER against training step (free-running with {first}; the checkpoints each run kept):", "",
                 "| step | " + " | ".join(curves) + " |", "|" + "---|" * (len(curves) + 1)]
        for step in steps:
            lines.append(f"| {step} | " + " | ".join(_pct(values[n].get(step)) for n in curves) + " |")
        parts.append("\n".join(lines) + "\n")
    asr = report.get("asr_x_real_time")
    parts.append(f"Recogniser: pocketsphinx (US English model of its wheel), one thread, "
                 f"{_f(asr, '.1f')}x real time here; WER = word edits / reference words over all sentences.\n")
    return "\n".join(parts)
