"""Soak test (not CI): peak memory and time of the CLI on very long inputs, one run at a time.

    .venv/bin/python benchmarks/soak.py [--minutes 60] [--chars 50000] [--threads 1] [--work DIR]

1. `hifilite vocode` of a generated `--minutes`-long 22 050 Hz wav (tones, glides and noise) with
   `--model`, plain, `--stream` and `--backend onnx`, each also on a 5-s file of the same signal:
   the difference of the peak RSS is what the input's length costs (bounded by design: the audio
   is read, analysed, vocoded and written piece by piece).
2. `hifilite tts` of a `--chars`-character text (the shipped sentence list, repeated).

Each command runs as a child process; its own peak RSS comes from `wait4` (what `/usr/bin/time -v`
reports as "Maximum resident set size"). ONNX exports are made once in a warm-up run that is not
recorded. Writes benchmarks/results/soak.json and soak.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from hifilite.measure import machine_info

OUT = Path(__file__).parent / "results"
SENTENCES = Path(__file__).parents[1] / "src" / "hifilite" / "assets" / "sentences.txt"
MODES = {"plain": [], "stream": ["--stream"], "onnx": ["--backend", "onnx"]}


def write_signal(path: Path, seconds: float, sr: int = 22050, seed: int = 0) -> Path:
    """A long test signal written 10 s at a time (never held whole in memory)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    with sf.SoundFile(path, "w", sr, 1, subtype="PCM_16") as f:
        for s in range(0, n, sr * 10):
            t = np.arange(s, min(n, s + sr * 10)) / sr
            glide = 150 + 50 * np.sin(t / 3)
            x = 0.2 * np.sin(2 * np.pi * glide * t) + 0.1 * np.sin(2 * np.pi * 1234 * t)
            f.write((x + 0.05 * rng.standard_normal(t.size)).astype(np.float32))
    return path


def run(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run a command; its peak RSS (MB) and wall time (s). Raises on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return {"peak_rss_mb": usage.ru_maxrss / 1024, "seconds": time.perf_counter() - start}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--chars", type=int, default=50_000)
    ap.add_argument("--model", default="joe-lite")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--modes", default=",".join(MODES), help="vocode modes: plain,stream,onnx")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="hifilite-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "HIFILITE_CACHE": str(work / "cache")}
    hl = [sys.executable, "-m", "hifilite"]
    threads = ["--threads", str(args.threads)]
    print(f"writing a {args.minutes:g}-min test signal into {work}", flush=True)
    long_wav = write_signal(work / "long.wav", args.minutes * 60)
    short_wav = write_signal(work / "short.wav", 5.0)

    results: dict = {"machine": machine_info(), "threads": args.threads, "model": args.model,
                     "minutes": args.minutes, "vocode": {}, "tts": {}}
    for mode in args.modes.split(","):
        extra = MODES[mode]
        if mode == "onnx":  # export once (cached) outside the measured runs
            run([*hl, "vocode", str(short_wav), "-o", str(work / "warm"), "-m", args.model, *threads, *extra], env)
        row = {}
        for name, wav in (("5 s", short_wav), (f"{args.minutes:g} min", long_wav)):
            out = work / f"out-{mode}"
            shutil.rmtree(out, ignore_errors=True)
            row[name] = run([*hl, "vocode", str(wav), "-o", str(out), "-m", args.model, *threads, *extra], env)
            frames = sf.info(out / wav.with_suffix(".wav").name).frames
            row[name]["audio_seconds"] = frames / 22050
            print(f"vocode {mode:6s} {name:>7s}: {row[name]['peak_rss_mb']:7.1f} MB peak, "
                  f"{row[name]['seconds']:7.1f} s", flush=True)
        results["vocode"][mode] = row

    sentences = [s.strip() for s in SENTENCES.read_text(encoding="utf-8").splitlines() if s.strip()]
    text, i = [], 0
    while sum(len(s) + 1 for s in text) < args.chars:
        text.append(sentences[i % len(sentences)])
        i += 1
    text_file = work / "text.txt"
    text_file.write_text(" ".join(text)[:args.chars], encoding="utf-8")
    run([*hl, "tts", "Warm up.", "-o", str(work / "warm.wav"), *threads], env)  # exports, cached
    tts = run([*hl, "tts", "--text-file", str(text_file), "-o", str(work / "tts.wav"), *threads], env)
    tts["chars"] = len(text_file.read_text(encoding="utf-8"))
    tts["audio_seconds"] = sf.info(work / "tts.wav").frames / sf.info(work / "tts.wav").samplerate
    results["tts"] = tts
    print(f"tts {tts['chars']} chars -> {tts['audio_seconds'] / 60:.1f} min of speech: "
          f"{tts['peak_rss_mb']:.1f} MB peak, {tts['seconds']:.1f} s", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"# Soak: peak RSS and time ({args.threads} thread(s), `{args.model}`)", "",
             f"Command: `python benchmarks/soak.py --minutes {args.minutes:g} --chars {args.chars} "
             f"--threads {args.threads}`", "",
             "| command | input | peak RSS MB | wall s | audio s |", "|---|---|---:|---:|---:|"]
    for mode, row in results["vocode"].items():
        for name, r in row.items():
            lines.append(f"| vocode {mode} | {name} | {r['peak_rss_mb']:.0f} | {r['seconds']:.1f} | "
                         f"{r['audio_seconds']:.0f} |")
    lines.append(f"| tts | {tts['chars']} chars | {tts['peak_rss_mb']:.0f} | {tts['seconds']:.1f} | "
                 f"{tts['audio_seconds']:.0f} |")
    (args.out / "soak.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
