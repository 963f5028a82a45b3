"""Shipped students against the teachers: quality on the training voice and on unseen voices, speed.

    python benchmarks/students.py --seen CORPUS [--unseen CORPUS ...] [--models lj-v1 universal-v1 lj-lite lj-tiny]

`--seen` is a corpus of the training speaker (its test split: utterances the student never saw);
each `--unseen` is a corpus of other speakers (a VCTK folder with held-out speakers, or voices made
with `hifilite corpus shift`). Speed: 1-thread median x-real-time on 4 s of audio, eager PyTorch
and ONNX Runtime. Writes benchmarks/results/students.{json,md}.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

RESULTS = Path(__file__).resolve().parent / "results"
METRICS = ("pesq", "stoi", "logmel_l1", "mcd", "dnsmos_ovrl")


def main() -> None:
    from hifilite.evaluate.bench import bench_models, machine_info
    from hifilite.evaluate.runner import SHORT_NAMES, evaluate_models

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seen", type=Path, required=True)
    ap.add_argument("--unseen", type=Path, nargs="*", default=[])
    ap.add_argument("--models", nargs="+", default=["lj-v1", "universal-v1", "lj-lite", "lj-tiny"])
    ap.add_argument("--limit", type=int, default=None, help="Test utterances per corpus.")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    console = Console(stderr=True)
    sets = {"seen": args.seen, **{f"unseen:{p.name}": p for p in args.unseen}}
    quality = {}
    for name, corpus in sets.items():
        res = evaluate_models(args.models, corpus, split="test", limit=args.limit, console=console)
        quality[name] = {"corpus": str(corpus), "utterances": res.info["data"]["utterances"],
                         "summary": res.summary}
    rows = bench_models(args.models, threads=1, seconds=4.0, repeats=5, warmup=1, backends=("torch", "onnx"))
    speed = {b: [r for r in rows if r["backend"] == b] for b in ("torch", "onnx")}
    out = {"machine": machine_info(), "quality": quality,
           "speed": {b: [{k: r[k] for k in ("model", "params", "macs_per_second", "rtf_x", "median_s")} for r in rows]
                     for b, rows in speed.items()}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "students.json").write_text(json.dumps(out, indent=2, default=float))

    cols = [m for m in METRICS]
    lines = ["| data | model | " + " | ".join(SHORT_NAMES.get(c, c) for c in cols) + " |",
             "|---|---|" + "---:|" * len(cols)]
    for name, q in quality.items():
        for model in args.models:
            entry = q["summary"].get(model, {})
            vals = [f"{entry[c]['mean']:.3f}" if isinstance(entry.get(c), dict) else "–" for c in cols]
            lines.append(f"| {name} ({q['utterances']} utts) | {model} | " + " | ".join(vals) + " |")
    lines += ["", "| model | params | GMAC / s audio | ×real-time eager | ×real-time ONNX |", "|---|---:|---:|---:|---:|"]
    for t, o in zip(speed["torch"], speed["onnx"]):
        lines.append(f"| {t['model']} | {t['params'] / 1e6:.2f} M | {t['macs_per_second'] / 1e9:.2f} | "
                     f"{t['rtf_x']:.1f} | {o['rtf_x']:.1f} |")
    lines += ["", f"Machine: {out['machine'].get('cpu', '')}, 1 thread; regenerate with "
              f"`python benchmarks/students.py --seen {args.seen} "
              + " ".join(f"--unseen {p}" for p in args.unseen)
              + (f" --limit {args.limit}" if args.limit else "") + f" --models {' '.join(args.models)}`."]
    (args.out / "students.md").write_text("\n".join(lines) + "\n")
    console.print("\n".join(lines))


if __name__ == "__main__":
    main()
