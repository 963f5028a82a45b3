"""PGHI speed: the phase reconstruction of `pghi` and `universal-pghi`, baseline and now, in one run.

    .venv/bin/python benchmarks/pghi_speed.py [--baseline 316dc0f] [--seconds 10] [--repeats 7]

One thread everywhere (OpenMP/MKL/OpenBLAS/numba set before any import, torch, ONNX Runtime).
Input: about `--seconds` of recordings from `--data` (concatenated), or a synthetic speech-like
signal (gliding harmonics plus noise) where none is found. The baseline is `runtime/pghi.py` and
`runtime/stft.py` of the `--baseline` revision, loaded from git beside the current ones; the
vocoders' `BatchPhase` is swapped for it while the baseline is timed. Both are timed in the same
run, alternating, so the ratio holds whatever else loads the machine (the load average is kept).

Reported (x real time = audio seconds / median wall seconds, after a warm-up call):
- the PGHI stage alone: `BatchPhase` offline on universal-pghi's log-magnitudes of the input, and
  fed in pieces of 8 frames (a stream), with a breakdown from timers wrapped around the module's
  functions: phase integration (`_integrate_frames`; the baseline also makes the complex spectra
  there), spectra (cos / sin), FFT (`np.fft.irfft`), overlap-add (`_overlap_add`, `_emit`), rest;
- the network alone (eager, ONNX Runtime), universal-pghi end to end (eager, ONNX Runtime on the
  shipped export) and the zero-parameter `pghi` floor (eager);
- the output: relative RMS difference baseline -> now, and spectral convergence against the input
  (Gaussian window, hop 64) for universal-pghi, the floor and PGHI of the input's true magnitude.
Writes benchmarks/results/pghi_speed.json and .md.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from hifilite.deploy.cache import vocoder_onnx
from hifilite.measure import Stopwatch, machine_info, time_call, times_real_time
from hifilite.runtime import OnnxVocoder, contract, pghi, stft
from hifilite.vocoder.api import load_vocoder

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results"
SR = 22050
STAGES = ("phase integration", "spectra (cos, sin)", "FFT", "overlap-add")


def speech(data: Path, seconds: float) -> tuple[np.ndarray, str]:
    """About `seconds` of recordings from `data`/wavs, else a gliding harmonic signal with noise."""
    pieces, total = [], 0
    for path in sorted(data.glob("wavs/*.wav")):
        y, sr = sf.read(path, dtype="float32")
        if sr == SR and y.ndim == 1:
            pieces.append(y)
            total += y.size
        if total >= seconds * SR:
            return np.concatenate(pieces)[:int(seconds * SR)], f"{len(pieces)} recordings of {data}"
    t = np.arange(int(seconds * SR)) / SR
    f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    y = sum(np.sin(h * phase) / h for h in range(1, 30)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2)
    y = y + 0.01 * np.random.default_rng(0).standard_normal(t.size)
    return (0.3 * y / np.abs(y).max()).astype(np.float32), "synthetic gliding harmonics + noise"


def baseline_modules(rev: str, folder: Path):
    """`runtime/stft.py` and `runtime/pghi.py` of `rev`, imported as hifilite.runtime._baseline_*."""
    mods = []
    for name in ("stft", "pghi"):
        src = subprocess.run(["git", "show", f"{rev}:src/hifilite/runtime/{name}.py"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        path = folder / f"_baseline_{name}.py"
        path.write_text(src.replace("from .stft import", "from ._baseline_stft import"))
        spec = importlib.util.spec_from_file_location(f"hifilite.runtime._baseline_{name}", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        mods.append(mod)
    return mods[1]


class _Timed:
    """Attribute access to `target`, with the named functions' seconds added to `totals`."""

    def __init__(self, target, names: dict[str, str], totals: dict[str, float]) -> None:
        self._target, self._names, self._totals = target, names, totals

    def __getattr__(self, attr):
        fn = getattr(self._target, attr)
        return _timer(fn, self._names[attr], self._totals) if attr in self._names else fn


def _timer(fn, stage: str, totals: dict[str, float]):
    def call(*args, **kwargs):
        with Stopwatch() as sw:
            out = fn(*args, **kwargs)
        totals[stage] += sw.seconds
        return out
    return call


def breakdown(mod, logmag: np.ndarray, repeats: int) -> dict[str, float]:
    """Median seconds per stage of `BatchPhase` offline, timers around `mod`'s functions."""
    mod.BatchPhase()(logmag)  # compiled before anything is wrapped
    saved = {name: getattr(mod, name) for name in ("np", "_integrate_frames", "_overlap_add")}
    emit = mod.PhaseStream._emit
    runs = []
    try:
        for _ in range(repeats):
            totals: dict[str, float] = defaultdict(float)
            mod.np = _Timed(np, {"cos": STAGES[1], "sin": STAGES[1]}, totals)
            mod.np.fft = _Timed(np.fft, {"irfft": STAGES[2]}, totals)
            mod._integrate_frames = _timer(saved["_integrate_frames"], STAGES[0], totals)
            mod._overlap_add = _timer(saved["_overlap_add"], STAGES[3], totals)
            mod.PhaseStream._emit = _timer(emit, STAGES[3], totals)
            with Stopwatch() as sw:
                mod.BatchPhase()(logmag)
            totals["rest"] = sw.seconds - sum(totals.values())
            totals["total"] = sw.seconds
            runs.append(dict(totals))
    finally:
        for name, value in saved.items():
            setattr(mod, name, value)
        mod.PhaseStream._emit = emit
    return {k: float(np.median([r.get(k, 0.0) for r in runs])) for k in (*STAGES, "rest", "total")}


def streamed(mod, logmag: np.ndarray, piece: int) -> np.ndarray:
    phase = mod.BatchPhase()
    out = [phase.push(logmag[..., s:s + piece]) for s in range(0, logmag.shape[-1], piece)]
    return np.concatenate([*out, phase.finish()], axis=-1)


def convergence(wav: np.ndarray, ref: np.ndarray) -> float:
    n = min(wav.size, ref.size)
    a, b = stft.stft_magnitude(wav[:n], hop=64), stft.stft_magnitude(ref[:n], hop=64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def relative(new: np.ndarray, old: np.ndarray) -> float:
    return float(np.linalg.norm(new.astype(np.float64) - old) / np.linalg.norm(old))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", default="316dc0f", help="git revision of the baseline pghi.py / stft.py")
    ap.add_argument("--data", type=Path, default=Path("/work/corpora/joe"))
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=2, help="baseline / now alternations per measurement")
    args = ap.parse_args()
    torch.set_num_threads(1)
    import numba

    numba.set_num_threads(1)
    load_before = os.getloadavg()
    wav, source = speech(args.data, args.seconds)
    base = baseline_modules(args.baseline, Path(tempfile.mkdtemp(prefix="pghi-baseline-")))
    impls = {"baseline": base, "now": pghi}
    voc, floor = load_vocoder("universal-pghi"), load_vocoder("pghi")
    onnx = OnnxVocoder(vocoder_onnx("universal-pghi"), threads=1)
    mel = voc.check_mel(voc.mel(wav))
    mel_np = mel.numpy()
    with torch.no_grad():
        logmag = voc.generate(mel).numpy()
    audio_s = logmag.shape[-1] * voc.hop_length / SR
    true_mag = stft.stft_magnitude(wav)

    def eager(v):
        def run():
            with torch.no_grad():
                return v(mel)[0].numpy()
        return run

    jobs = {
        "PGHI stage (BatchPhase, offline)": lambda m: (lambda: m.BatchPhase()(logmag)[0]),
        "PGHI stage (streamed, 8-frame pieces)": lambda m: (lambda: streamed(m, logmag, 8)[0]),
        "universal-pghi eager": lambda m: eager(voc),
        "universal-pghi ONNX Runtime": lambda m: (lambda: onnx(mel_np)[0]),
        "pghi floor eager": lambda m: eager(floor),
        "PGHI of the true magnitude": lambda m: (lambda: m.reconstruct(true_mag)),
    }
    seconds: dict[str, dict[str, list[float]]] = {job: {k: [] for k in impls} for job in jobs}
    outputs: dict[str, dict[str, np.ndarray]] = {job: {} for job in jobs}
    for _ in range(args.rounds):
        for job, make in jobs.items():
            for key, mod in impls.items():
                contract.BatchPhase = mod.BatchPhase
                timing = time_call(make(mod), repeats=args.repeats, warmup=1)
                seconds[job][key].extend(timing.seconds)
                outputs[job][key] = np.asarray(timing.result)
    contract.BatchPhase = pghi.BatchPhase
    with torch.no_grad():
        net = {"eager": time_call(lambda: voc.generate(mel), repeats=args.repeats).median,
               "onnx": time_call(lambda: onnx.generate(mel_np), repeats=args.repeats).median}
    stages = {key: breakdown(mod, logmag, args.repeats) for key, mod in impls.items()}
    rows = []
    for job in jobs:
        med = {k: float(np.median(v)) for k, v in seconds[job].items()}
        old, new = outputs[job]["baseline"], outputs[job]["now"]
        rows.append({"job": job, "ms": {k: 1e3 * v for k, v in med.items()},
                     "x_real_time": {k: times_real_time(audio_s, v) for k, v in med.items()},
                     "speed_up": med["baseline"] / med["now"], "relative_rms_change": relative(new, old),
                     "spectral_convergence": {"baseline": convergence(old, wav), "now": convergence(new, wav)}})
    doc = {"machine": machine_info(), "args": {**vars(args), "data": str(args.data)}, "input": source,
           "audio_seconds": audio_s, "load_average": {"before": load_before, "after": os.getloadavg()},
           "network_ms": {k: 1e3 * v for k, v in net.items()},
           "network_x_real_time": {k: times_real_time(audio_s, v) for k, v in net.items()},
           "rows": rows, "stages_ms": {k: {s: 1e3 * v for s, v in st.items()} for k, st in stages.items()}}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pghi_speed.json").write_text(json.dumps(doc, indent=2) + "\n")
    (OUT / "pghi_speed.md").write_text(markdown(doc))
    print(markdown(doc))


def markdown(doc: dict) -> str:
    la = doc["load_average"]
    title = (f"### PGHI speed: baseline {doc['args']['baseline']} vs now ({doc['audio_seconds']:.1f} s of "
             f"{doc['input']}, one thread)")
    load = (f"CPU {doc['machine']['cpu']}; load average (1, 5, 15 min) "
            f"{' / '.join(f'{v:.2f}' for v in la['before'])} before, {' / '.join(f'{v:.2f}' for v in la['after'])} "
            "after (other jobs share the cores: compare within this table).")
    header = ("| path | baseline ×real-time | now ×real-time | speed-up | baseline ms | now ms | relative RMS change "
              "| spectral convergence baseline | now |")
    lines = [title, "", load, "", header, "|---|---|---|---|---|---|---|---|---|"]
    for r in doc["rows"]:
        x, ms, sc = r["x_real_time"], r["ms"], r["spectral_convergence"]
        lines.append(f"| {r['job']} | {x['baseline']:.0f} | {x['now']:.0f} | {r['speed_up']:.2f}× | {ms['baseline']:.1f} "
                     f"| {ms['now']:.1f} | {r['relative_rms_change']:.1e} | {sc['baseline']:.4f} | {sc['now']:.4f} |")
    net, nx = doc["network_ms"], doc["network_x_real_time"]
    network = (f"Network alone: eager {net['eager']:.1f} ms ({nx['eager']:.0f}× real time), "
               f"ONNX Runtime {net['onnx']:.1f} ms ({nx['onnx']:.0f}×).")
    note = ("PGHI stage (BatchPhase offline), ms per run, medians of timers around the module's functions "
            "(the baseline computes cos / sin inside the integration kernel):")
    lines += ["", network, "", note, "", "| stage | baseline | now |", "|---|---|---|"]
    st = doc["stages_ms"]
    for stage in (*STAGES, "rest", "total"):
        lines.append(f"| {stage} | {st['baseline'][stage]:.1f} | {st['now'][stage]:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
