"""Validation metrics of training runs at equal steps, from their TensorBoard logs.

    python benchmarks/curves.py gt=/work/runs/ft-gt kd=/work/runs/ft-kd [--tag mel/loss] [--out FILE.md]

The first run is the reference (see `hifilite.evaluate.tts_bench.learning_curves`); prints the markdown
table, and writes it with the data as FILE.md / FILE.json when `--out` is given.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from bench_tts import _pairs

from hifilite.evaluate.tts_report import curves_markdown, learning_curves
from hifilite.io import atomic_write


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", metavar="NAME=RUN")
    ap.add_argument("--tag", default="mel/loss")
    ap.add_argument("--split", default="val")
    ap.add_argument("--out", type=Path, default=None, help="write OUT.md and OUT.json")
    args = ap.parse_args()
    curves = learning_curves(_pairs("run", args.runs), tag=args.tag, split=args.split)
    md = curves_markdown(curves)
    print(md, end="")
    if args.out:
        out = args.out.with_suffix("")
        command = " ".join(shlex.quote(a) for a in ["python", "benchmarks/curves.py", *sys.argv[1:]])
        text = f"Made by `{command}`.\n\n{md}"
        atomic_write(out.with_suffix(".md"), lambda tmp: Path(tmp).write_text(text))
        atomic_write(out.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(curves, indent=2)))


if __name__ == "__main__":
    main()
