"""Word error rate of a vocoder training run through `hifilite tts`, checkpoint by checkpoint.

    python benchmarks/tts_vocoder_curve.py RUN [--every 2000] [--limit 40] [--acoustic joe-lightspeech-10h] \\
        [--reference joe-lite] [--out DIR]

Every kept checkpoint of RUN (a `hifilite train` folder) whose step is a multiple of `--every` is
written as a generator file (as `vocoder_curve.py` does), exported to ONNX and paired with the
acoustic model in `hifilite.tts.OnnxTTS`, the path `hifilite tts` takes: the first `--limit` held-out
sentences (src/hifilite/assets/heldout_sentences.txt, in no training corpus) are spoken from text
with the model's own durations, then heard by the recogniser (WER, CER) and DNSMOS (OVRL). The
`--reference` vocoders are scored the same way in the same run. The time axis is the CPU time the
checkpoint recorded. Writes OUT/<run name>_tts_curve.{json,md} (default benchmarks/results).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SENTENCES = Path(__file__).resolve().parents[1] / "src" / "hifilite" / "assets" / "heldout_sentences.txt"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from vocoder_curve import checkpoint_generators  # noqa: E402


def score(vocoder: str, acoustic: str, texts: list[str], asr) -> dict:
    """WER, CER, DNSMOS OVRL and text->wav x-real-time of `hifilite tts`'s ONNX path with `vocoder`."""
    from hifilite.deploy.cache import acoustic_onnx, vocoder_onnx
    from hifilite.evaluate.intelligibility import intelligibility
    from hifilite.evaluate.speaking import dnsmos_ovrl_of, speak_timed
    from hifilite.tts import OnnxTTS

    tts = OnnxTTS(acoustic_onnx(acoustic), vocoder_onnx(vocoder), threads=1)
    tts(texts[0])  # warm-up
    wavs, wall = speak_timed(tts, texts)
    seconds = sum(len(w) for w in wavs) / tts.sample_rate
    heard = intelligibility(texts, wavs, tts.sample_rate, recognizer=asr)
    return {"wer": heard["wer"], "cer": heard["cer"], "dnsmos_ovrl": dnsmos_ovrl_of(wavs, tts.sample_rate),
            "x_real_time": seconds / wall, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--every", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--acoustic", default="joe-lightspeech-10h")
    parser.add_argument("--reference", nargs="*", default=["joe-lite"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from hifilite.evaluate.intelligibility import Recognizer
    from hifilite.measure import machine_info

    texts = [t.strip() for t in SENTENCES.read_text(encoding="utf-8").splitlines() if t.strip()][:args.limit]
    asr = Recognizer()
    rows = []
    for name in args.reference:
        rows.append({"vocoder": name, "step": None, "cpu_seconds": None, **score(name, args.acoustic, texts, asr)})
        print(json.dumps(rows[-1]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for ck in checkpoint_generators(args.run, args.every, Path(tmp)):
            row = {"vocoder": f"{args.run.name} step {ck['step']}", "step": ck["step"],
                   "cpu_seconds": ck["cpu_seconds"], **score(ck["path"], args.acoustic, texts, asr)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    command = "python benchmarks/tts_vocoder_curve.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result = {"command": command, "machine": machine_info(), "acoustic": args.acoustic, "sentences": len(texts),
              "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{args.run.name}_tts_curve"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2))
    lines = [f"Made by `{command}`: `hifilite tts`'s ONNX Runtime path ({args.acoustic}, its own durations) on the "
             f"first {len(texts)} held-out sentences, one thread, pocketsphinx; {result['machine'].get('cpu', '')}. "
             "Speed columns are only comparable within this table (a training run may share the cores).", "",
             "| vocoder | step | CPU-hours | WER | CER | DNSMOS OVRL | text→wav ×real-time |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        hours = f"{r['cpu_seconds'] / 3600:.2f}" if r["cpu_seconds"] else "–"
        lines.append(f"| {r['vocoder']} | {r['step'] if r['step'] is not None else '–'} | {hours} | "
                     f"{100 * r['wer']:.1f} % | {100 * r['cer']:.1f} % | {r['dnsmos_ovrl']:.3f} | {r['x_real_time']:.1f} |")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(stem.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
