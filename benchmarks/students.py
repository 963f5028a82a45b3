"""Shipped students against the teachers, in one run: quality on any number of named data sets
(the training voice, held-out real voices of the training data, unseen real voices), and speed.

    python benchmarks/students.py --data joe=corpora/joe --data fillets=/work/corpora/fillets \\
        --data ktuberling=/work/corpora/ktuberling [--models lj-v1 universal-v1 joe-lite joe-tiny] \\
        [--limit N] [--limit-for NAME=N] [--spread] [--no-pitch] [--no-speed]

Each `--data NAME=CORPUS` is scored on its test split (every clip, or `--limit` of them, or
`--limit-for NAME=N` for one data set: the first by id, or with `--spread` taken in turn from each
speaker so that every voice / language is in).
`--seen CORPUS` and `--unseen CORPUS` are the older spellings of `--data seen=...` and
`--data unseen:<folder>=...`. Metrics: PESQ-wb, STOI, mel L1, MR-STFT, MCD, DNSMOS and, unless
`--no-pitch`, torchcrepe periodicity RMSE, V/UV F1, median cents and gross pitch error
(`hifilite.evaluate.periodicity`) and the WORLD/pYIN F0 error and V/UV F1 (`hifilite.evaluate.metrics`). Speed: params, MACs per
second of audio, 1-thread median x-real-time on 4 s of audio in eager PyTorch and ONNX Runtime.
Writes OUT/students.{json,md} (default benchmarks/results) and every clip's scores in
OUT/clips/NAME/results.{json,csv}.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from itertools import zip_longest
from pathlib import Path

from rich.console import Console

RESULTS = Path(__file__).resolve().parent / "results"
METRICS = ("pesq", "stoi", "logmel_l1", "mrstft", "mcd", "dnsmos")
COLUMNS = ("pesq", "stoi", "logmel_l1", "mrstft", "mcd", "dnsmos_ovrl", "periodicity", "crepe_vuv_f1", "crepe_cents",
           "crepe_gpe", "f0_cents", "gpe", "vuv_f1")


def named_sets(args: argparse.Namespace) -> dict[str, Path]:
    sets: dict[str, Path] = {}
    if args.seen:
        sets["seen"] = args.seen
    for p in args.unseen:
        sets[f"unseen:{p.name}"] = p
    for item in args.data:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            sys.exit(f"--data expects NAME=CORPUS, got {item!r}")
        if name in sets:
            sys.exit(f"data set name {name!r} given twice")
        sets[name] = Path(path)
    if not sets:
        sys.exit("give at least one --data NAME=CORPUS")
    return sets


def spread(utts: list, limit: int | None) -> list:
    """Up to `limit` utterances taken in turn from each speaker (speakers and clips by id)."""
    by_speaker: dict[str, list] = {}
    for u in sorted(utts, key=lambda u: u.id):
        by_speaker.setdefault(u.speaker, []).append(u)
    order = [u for group in zip_longest(*by_speaker.values()) for u in group if u is not None]
    return order[:limit]


def main() -> None:
    from hifilite.data.corpora import load_split
    from hifilite.evaluate.bench import bench_models
    from hifilite.measure import machine_info
    from hifilite.evaluate.runner import SHORT_NAMES, evaluate_models

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", action="append", default=[], metavar="NAME=CORPUS",
                    help="A named data set (its test split); repeatable.")
    ap.add_argument("--seen", type=Path, default=None, help="Same as --data seen=CORPUS.")
    ap.add_argument("--unseen", type=Path, nargs="*", default=[], help="Same as --data unseen:<folder>=CORPUS.")
    ap.add_argument("--models", nargs="+", default=["lj-v1", "universal-v1", "joe-lite", "joe-tiny"])
    ap.add_argument("--limit", type=int, default=None, help="Test utterances per data set.")
    ap.add_argument("--limit-for", action="append", default=[], metavar="NAME=N",
                    help="Another --limit for one data set; repeatable.")
    ap.add_argument("--spread", action="store_true", help="Take the --limit utterances across speakers.")
    ap.add_argument("--no-pitch", action="store_true", help="Skip the F0 / V/UV metrics.")
    ap.add_argument("--no-speed", action="store_true", help="Skip the speed measurements.")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    console = Console(stderr=True)
    sets = named_sets(args)
    metrics = [*METRICS, *(() if args.no_pitch else ("periodicity", "pitch"))]

    limits = {name: args.limit for name in sets}
    for item in args.limit_for:
        name, _, n = item.partition("=")
        if name not in sets or not n.isdigit() or int(n) < 1:
            sys.exit(f"--limit-for expects NAME=N with a --data NAME and N >= 1, got {item!r}")
        limits[name] = int(n)
    quality = {}
    for name, corpus in sets.items():
        utts = load_split(corpus, "test")
        chosen = spread(utts, limits[name]) if args.spread else utts[: limits[name]]
        res = evaluate_models(args.models, corpus, split="test", metrics=metrics, console=console, utterances=chosen,
                              out_dir=args.out / "clips" / name)  # every clip's scores: what a mean hides
        quality[name] = {"corpus": str(corpus), "utterances": res.info["data"]["utterances"],
                         "speakers": len({u.speaker for u in chosen}),
                         "audio_seconds": res.info["data"]["audio_seconds"], "summary": res.summary}
    speed: dict[str, list] = {}
    if not args.no_speed:
        rows = bench_models(args.models, threads=1, seconds=4.0, repeats=5, warmup=1, backends=("torch", "onnx"))
        speed = {b: [{k: r[k] for k in ("model", "params", "macs_per_second", "x_real_time", "median_s")}
                     for r in rows if r["backend"] == b] for b in ("torch", "onnx")}
    command = "python benchmarks/students.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    out = {"machine": machine_info(), "command": command, "quality": quality, "speed": speed}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "students.json").write_text(json.dumps(out, indent=2, default=float))

    # the evaluation's labels (a model given by path is labelled by its file's stem), in --models order
    labelled = lambda q: [m for m in q["summary"] if m != "reference"]  # noqa: E731
    cols = [c for c in COLUMNS if any(isinstance(q["summary"][m].get(c), dict)
                                      for q in quality.values() for m in labelled(q))]
    lines = ["| data | model | " + " | ".join(SHORT_NAMES.get(c, c) for c in cols) + " |",
             "|---|---|" + "---:|" * len(cols)]
    for name, q in quality.items():
        for model in labelled(q):
            entry = q["summary"][model]
            vals = [f"{entry[c]['mean']:.3f}" if isinstance(entry.get(c), dict) else "–" for c in cols]
            lines.append(f"| {name} ({q['utterances']} clips, {q['speakers']} voices) | {model} | "
                         + " | ".join(vals) + " |")
    if speed:
        lines += ["", "| model | params | GMAC / s audio | ×real-time eager | ×real-time ONNX |",
                  "|---|---:|---:|---:|---:|"]
        for t, o in zip(speed["torch"], speed["onnx"]):
            lines.append(f"| {t['model']} | {t['params'] / 1e6:.2f} M | {t['macs_per_second'] / 1e9:.2f} | "
                         f"{t['x_real_time']:.1f} | {o['x_real_time']:.1f} |")
    lines += ["", f"Machine: {out['machine'].get('cpu', '')}, 1 thread; regenerate with `{command}`."]
    (args.out / "students.md").write_text("\n".join(lines) + "\n")
    console.print("\n".join(lines))


if __name__ == "__main__":
    main()
