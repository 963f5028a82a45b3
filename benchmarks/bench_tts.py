"""Text to speech in one run: FastSpeech 2, the LightSpeech preset, a searched model and Piper.

    python benchmarks/bench_tts.py --data /work/corpora/joe-sub \
        --model fastspeech2=fastspeech2 --model lightspeech=lightspeech \
        --model searched=/work/runs/ls-search/acoustic.safetensors [--vocoders joe-lite lj-v1] [--threads 1] \
        [--curve fastspeech2=/work/runs/as-fs2 --curve searched=/work/runs/as-searched]

A model is NAME=SPEC where SPEC is an acoustic checkpoint (or run folder), or a preset /
architecture string (random weights: its speed and size are real, its quality is not). Every
model speaks the sentences of the corpus's test split; see `hifilite.evaluate.tts_bench` for what each
column measures. Writes `benchmarks/results/tts.json` and `tts.md` (the table docs/tts.md shows);
training steps are a column, so a briefly trained model is reported as such. `--curve NAME=RUN`
adds the runs' validation mel L1 (teacher-forced, from their TensorBoard logs) at equal training
steps, the first run the reference.

Intelligibility (WER/CER by pocketsphinx, on by default; `--no-wer` skips it) belongs on the
held-out sentences, which no model is trained on:

    hifilite corpus synth --texts src/hifilite/assets/heldout_sentences.txt --out /work/corpora/heldout
    hifilite acoustic prepare --data /work/corpora/heldout
    python benchmarks/bench_tts.py --data /work/corpora/heldout --split all --diagnose \
        --model joe-lightspeech=joe-lightspeech [--wer-curve NAME=RUN] --out benchmarks/results/heldout

`--diagnose` adds the WER with the recordings' energy and pitch (teacher-forced) beside the models'
own predictions; `--wer-curve NAME=RUN` the WER of every training checkpoint the run folder kept.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from rich.console import Console

from hifilite.evaluate.tts_bench import bench_tts
from hifilite.evaluate.tts_report import learning_curves, markdown_report
from hifilite.errors import HifiliteError
from hifilite.measure import machine_info
from hifilite.io import atomic_write

RESULTS = Path(__file__).resolve().parent / "results"


def _pairs(option: str, items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise SystemExit(f"{option} expects NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="prepared corpus (hifilite acoustic prepare)")
    ap.add_argument("--model", action="append", default=[], metavar="NAME=SPEC")
    ap.add_argument("--vocoders", nargs="+", default=["joe-lite", "lj-v1"])
    ap.add_argument("--split", default="test", help="train, val, test, or all (a corpus of held-out sentences)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many sentences")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--acoustic-passes", type=int, default=3, help="acoustic speed: the fastest of this many passes")
    ap.add_argument("--no-piper", action="store_true")
    ap.add_argument("--no-dnsmos", action="store_true")
    ap.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime text->wav column")
    ap.add_argument("--no-wer", action="store_true", help="skip the recogniser's WER/CER")
    ap.add_argument("--no-recordings", action="store_true",
                    help="skip scoring the recordings and their copy-synthesis (the same in every run on a corpus)")
    ap.add_argument("--diagnose", action="store_true",
                    help="WER with the reference energy, and pitch and energy, beside the models' own predictions")
    ap.add_argument("--wer-curve", action="append", default=[], metavar="NAME=RUN",
                    help="a training run whose kept checkpoints to score (WER against training step)")
    ap.add_argument("--curve", action="append", default=[], metavar="NAME=RUN",
                    help="a training run whose validation mel L1 to compare at equal steps (first = reference)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    console = Console()
    models = _pairs("--model", args.model or ["fastspeech2=fastspeech2", "lightspeech=lightspeech"])
    curves = _pairs("--curve", args.curve)
    try:
        report = bench_tts(data_root=args.data, models=models, vocoders=args.vocoders, split=args.split,
                           limit=args.limit, piper=not args.no_piper, dnsmos=not args.no_dnsmos,
                           threads=args.threads, onnx=not args.no_onnx, acoustic_passes=args.acoustic_passes,
                           wer=not args.no_wer, diagnose=args.diagnose,
                           wer_runs=_pairs("--wer-curve", args.wer_curve), recordings=not args.no_recordings,
                           log=lambda s: console.print(s, highlight=False, markup=False))
    except HifiliteError as exc:
        raise SystemExit(f"error: {exc}") from None
    if curves:
        report["curves"] = learning_curves(curves)
    report["machine"] = machine_info()
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2)
    atomic_write(args.out / "tts.json", lambda tmp: Path(tmp).write_text(text))
    md = markdown_report(report)
    command = " ".join(shlex.quote(a) for a in ["python", "benchmarks/bench_tts.py", *sys.argv[1:]])
    atomic_write(args.out / "tts.md", lambda tmp: Path(tmp).write_text(f"Made by `{command}`.\n\n{md}"))
    console.print(md, markup=False, highlight=False)


if __name__ == "__main__":
    main()
