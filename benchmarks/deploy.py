"""Deployment numbers for docs/deployment.md, in one run on this machine.

    .venv/bin/python benchmarks/deploy.py [--data /work/corpora/joe] [--long-seconds 600]

1. Speed: PyTorch eager vs ONNX Runtime fp32 vs int8, 1 thread and all threads, for v2, v3 and
   the `lite` student (iSTFT head), same synthetic input; streaming first-audio latency and cost
   per chunk; peak memory while streaming a long input (lite only, chunked).
2. int8 quality: lj-v1 exported, quantised with calibration on recordings, PESQ / log-mel drop on
   held-out recordings, for two choices of layers kept in fp32.
Writes benchmarks/results/deploy.json and deploy.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from hifilite.deploy.export import export_onnx
from hifilite.deploy.quantize import SENSITIVE, audio_files, load_mels, quantize_int8
from hifilite.evaluate.int8 import int8_report
from hifilite.evaluate.bench import bench_models, markdown_table
from hifilite.measure import machine_info
from hifilite.runtime import OnnxVocoder

OUT = Path(__file__).parent / "results"
STAGE3 = ["ups.3", "resblocks.9", "resblocks.10", "resblocks.11"]  # V1's last (22 kHz) stage


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/corpora/joe", help="recordings: calibration, then evaluation")
    ap.add_argument("--models", nargs="+", default=["v2", "v3", "lite"])
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--long-seconds", type=float, default=600.0)
    ap.add_argument("--stream-frames", type=int, default=8)
    ap.add_argument("--calibration-items", type=int, default=8)
    ap.add_argument("--eval-items", type=int, default=4)
    ap.add_argument("--skip-quality", action="store_true")
    args = ap.parse_args()
    import os

    usable = len(os.sched_getaffinity(0))
    doc = {"machine": machine_info(), "args": vars(args)}
    speed = bench_models(args.models, seconds=args.seconds, repeats=args.repeats, warmup=1,
                         backends=("torch", "onnx", "onnx-int8"), thread_counts=sorted({1, usable}),
                         stream_frames=args.stream_frames, progress=lambda l: print("measuring", l, flush=True))
    doc["speed"] = speed
    long_rows = []
    if args.long_seconds:
        long_rows = bench_models(["lite"], seconds=1.0, repeats=1, warmup=0, backends=("torch", "onnx", "onnx-int8"),
                                 long_seconds=args.long_seconds, progress=lambda l: print("long", l, flush=True))
    doc["long"] = long_rows
    quality = {}
    if not args.skip_quality:
        files = [f for f in audio_files(Path(args.data)) if f.suffix != ".npy"]
        calib, evals = files[:args.calibration_items], files[args.calibration_items:][:args.eval_items]
        tmp = Path(tempfile.mkdtemp(prefix="hifilite-deploy-"))
        fp32, _ = export_onnx("lj-v1", tmp / "lj-v1.onnx")
        mels = load_mels(calib, OnnxVocoder(fp32), max_frames=256)
        for name, keep in (("pre/post/ups.0 fp32", list(SENSITIVE)), ("+ last stage fp32", list(SENSITIVE) + STAGE3)):
            print("int8", name, flush=True)
            q, _ = quantize_int8(fp32, tmp / f"q{len(quality)}.onnx", mels, keep_fp32=keep)
            rep = int8_report(fp32, q, evals, threads=1, seconds=args.seconds)
            rep["kept_fp32"] = keep
            quality[name] = rep
    doc["int8_quality"] = quality
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "deploy.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = ["### Speed: eager vs ONNX Runtime (synthetic %.0f s input)\n" % args.seconds, markdown_table(speed)]
    ratios = []
    for m in args.models:
        for t in sorted({1, usable}):
            r = {x["backend"]: x for x in speed if x["model"] == m and x["threads"] == t}
            ratios.append(f"| {m} | {t} | {r['onnx']['rtf_x'] / r['torch']['rtf_x']:.2f}× | "
                          f"{r['onnx-int8']['rtf_x'] / r['onnx']['rtf_x']:.2f}× |")
    md += ["\n| model | threads | ONNX fp32 / eager | int8 / ONNX fp32 |\n|---|---|---|---|\n" + "\n".join(ratios) + "\n"]
    if long_rows:
        md += ["\n### Long input (%.0f s, streamed in 1024-frame chunks), lite, 1 thread\n" % args.long_seconds,
               "| backend | peak RSS MB | RSS growth MB | ×real-time |\n|---|---|---|---|\n" + "\n".join(
                   f"| {r['backend']} | {r['long_peak_mb']:.0f} | {r['long_growth_mb']:.0f} | {r['long_x_real_time']:.1f} |"
                   for r in long_rows) + "\n"]
    if quality:
        md += ["\n### int8 quality, lj-v1, %d held-out recordings, 1 thread\n" % args.eval_items,
               "| kept in fp32 | PESQ fp32 | PESQ int8 | drop | log-mel L1 fp32 → int8 | speed-up | MB |\n"
               "|---|---|---|---|---|---|---|\n" + "\n".join(
                   f"| {k} | {r['pesq_fp32']:.3f} | {r['pesq_int8']:.3f} | {r['pesq_drop']:.3f} | "
                   f"{r['mel_l1_fp32']:.3f} → {r['mel_l1_int8']:.3f} | {r['speedup']:.2f}× | "
                   f"{r['size_fp32_mb']:.0f} → {r['size_int8_mb']:.0f} |" for k, r in quality.items()) + "\n"]
    (OUT / "deploy.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
