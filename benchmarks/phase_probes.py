"""Zero-training probes of the phase-reconstruction vocoders on unseen voices (PESQ-wb, per clip and mean).

    python benchmarks/phase_probes.py comb --data /work/corpora/ktuberling --limit 30
    python benchmarks/phase_probes.py fgla --data /work/corpora/ktuberling --limit 30
    python benchmarks/phase_probes.py head --data /work/corpora/joe10k-1200 --limit 20 [--model joe-fourier]

`comb`: the pseudo-inverse magnitude (`pghi`'s) with a harmonic comb at the recording's own F0 (torchcrepe on
the recording: an oracle pitch no vocoder has) laid over its envelope above a crossover, weighted by the
frame's periodicity:  |X| = E * ((1 - w) + w * C_f0),  C_f0 = sum_h G(f - h f0) scaled to mean 1 (G the
Gaussian window's spectral lobe, so the mel of |X| stays that of E), w = ramp(f) * periodicity. It asks
whether knowing the pitch is what the magnitude lacks above ~1.5 kHz.

`fgla`: PGHI's phase refined by k iterations of fast Griffin-Lim (Perraudin et al. 2013) on the same
Gaussian-window magnitude, for `pghi` and `universal-pghi`: is the phase, not the magnitude, what is left?

`head`: a Fourier-head vocoder (`--model`, the `fourier` family: learned magnitude and phase, inverse STFT)
against PGHI on its own predicted magnitude (at hop 64 and at the frame hop) and on the recording's
Gaussian-window magnitude: does its magnitude carry the pitch, or does its learned phase? Scores PESQ and the
torchcrepe periodicity RMSE, V/UV F1 and gross pitch error.

Clips are taken across speakers as in `students.py --spread`, each scored against the whole recording
(`whole_frames` padding, output trimmed to its length).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from students import spread  # noqa: E402

SR, N_FFT, HOP = 22050, 1024, 256


def comb_variants(logmag: np.ndarray, f0: np.ndarray, periodicity: np.ndarray) -> dict[str, np.ndarray]:
    """Log-magnitudes (bins, T): the floor and comb-over-envelope variants (crossover, voicing map)."""
    from hifilite.runtime.stft import gaussian_window

    freqs = np.arange(N_FFT // 2 + 1) * SR / N_FFT
    lam = math.sqrt(gaussian_window(N_FFT)[1] / (2 * math.pi))  # window std in samples
    sigma = SR / (2 * math.pi * lam)  # its spectral lobe's std in Hz
    envelope = np.exp(logmag)
    comb = np.ones_like(envelope)
    for t, f in enumerate(f0):
        if f > 0:
            h = np.arange(1, int(SR / 2 / f) + 2)[:, None] * f
            lobes = np.exp(-((freqs[None] - h) ** 2) / (2 * sigma**2)).sum(0)
            comb[:, t] = lobes * f / (math.sqrt(2 * math.pi) * sigma)
    out = {"floor": logmag}
    for name, lo, hi, voicing in [("comb >1 kHz", 1000, 1500, periodicity),
                                  ("comb >1 kHz, voiced/unvoiced", 1000, 1500, (periodicity > 0.1625).astype(float)),
                                  ("comb >600 Hz", 600, 1000, periodicity),
                                  ("comb everywhere", 0, 1, periodicity)]:
        w = np.clip((freqs - lo) / (hi - lo), 0, 1)[:, None] * voicing[None]
        out[name] = np.log(np.maximum(envelope * ((1 - w) + w * comb), 1e-5))
    return out


def head_probe(voc, wav: np.ndarray, x: np.ndarray) -> dict[str, float]:
    """PESQ and torchcrepe scores of a Fourier-head vocoder's output, of PGHI on its predicted magnitude,
    and of PGHI on the recording's magnitude (each at hop 64 and at the frame hop)."""
    import torch

    from hifilite.evaluate.metrics import pesq_wb
    from hifilite.evaluate.periodicity import periodicity_errors
    from hifilite.runtime.pghi import BatchPhase
    from hifilite.runtime.stft import stft_magnitude
    from hifilite.vocoder.fourier import MAX_LOG_MAGNITUDE, FourierGenerator

    gen = voc.generator
    if not isinstance(gen, FourierGenerator):
        sys.exit(f"head: {voc.name} is not a Fourier-head vocoder")
    with torch.inference_mode():
        mel = voc.mel(x)
        head_log_mag = gen.head.proj(gen.backbone(mel))[0, :, : gen.head.istft.bins].T.numpy()
        outputs = {"own": gen(mel)[0, 0].numpy()}
    logmags = {"its magnitude": np.minimum(head_log_mag, MAX_LOG_MAGNITUDE),
               "recording's magnitude": np.log(np.maximum(stft_magnitude(x, N_FFT, HOP), 1e-5))}
    for label, lm in logmags.items():
        for hop in (64, HOP):
            outputs[f"{label} + PGHI hop {hop}"] = BatchPhase(N_FFT, HOP, hop)(lm[None].astype(np.float32))[0]
    row = {}
    for label, y in outputs.items():
        y = np.pad(y[: len(wav)], (0, max(0, len(wav) - len(y))))
        scores = periodicity_errors(wav, y, SR)
        row[f"{label}: PESQ"] = pesq_wb(wav, y, SR)
        for key in ("periodicity", "crepe_vuv_f1", "crepe_gpe"):
            row[f"{label}: {key}"] = scores[key]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("probe", choices=("comb", "fgla", "head"))
    ap.add_argument("--data", required=True, help="a corpus (its test split)")
    ap.add_argument("--limit", type=int, default=30)
    ap.add_argument("--iterations", type=int, nargs="+", default=[0, 4, 8], help="fgla: Griffin-Lim iterations")
    ap.add_argument("--model", default="joe-fourier", help="head: a Fourier-head vocoder")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import soundfile as sf
    import torch

    from hifilite.data.corpora import load_split
    from hifilite.evaluate.metrics import pesq_wb
    from hifilite.evaluate.periodicity import track
    from hifilite.evaluate.runner import whole_frames
    from hifilite.runtime.pghi import BatchPhase
    from hifilite.runtime.stft import griffin_lim
    from hifilite.vocoder.api import load_vocoder

    torch.set_num_threads(1)
    vocoders = {"pghi": load_vocoder("pghi")} if args.probe != "head" else {args.model: load_vocoder(args.model)}
    if args.probe == "fgla":
        vocoders["universal-pghi"] = load_vocoder("universal-pghi")
    rows = []
    for utt in spread(load_split(args.data, "test"), args.limit):
        wav, sr = sf.read(utt.wav_path, dtype="float32")
        if sr != SR or wav.ndim != 1:
            sys.exit(f"{utt.wav_path}: expected mono {SR} Hz (a prepared corpus)")
        x = whole_frames(wav, HOP)
        if args.probe == "comb":
            f0, per = track(wav, SR)  # the recording's pitch, once per clip
        row: dict[str, float] = {}
        if args.probe == "head":
            row.update(head_probe(vocoders[args.model], wav, x))
        for name, voc in (vocoders.items() if args.probe != "head" else ()):
            with torch.inference_mode():
                logmag = voc.generator(voc.mel(x))[0].numpy().astype(np.float64)
            if args.probe == "comb":
                t_mel, t_crepe = np.arange(logmag.shape[1]) * HOP / SR, np.arange(len(f0)) * 0.01
                variants = comb_variants(logmag, np.interp(t_mel, t_crepe, f0), np.interp(t_mel, t_crepe, per))
                for label, lm in variants.items():
                    y = BatchPhase(N_FFT, HOP, HOP)(lm[None].astype(np.float32))[0]
                    row[label] = pesq_wb(wav, y[: len(wav)], SR)
            else:
                y0 = BatchPhase(N_FFT, HOP, HOP)(logmag[None].astype(np.float32))[0]
                for k in args.iterations:
                    y = y0 if k == 0 else griffin_lim(np.exp(logmag), N_FFT, HOP, k, window="gaussian", init=y0)
                    row[f"{name} + {k} FGLA"] = pesq_wb(wav, y[: len(wav)], SR)
        rows.append({"id": utt.id, **row})
        print(utt.id, {k: round(v, 3) for k, v in row.items()}, flush=True)
    keys = [k for k in rows[0] if k != "id"]
    scored = [r for r in rows if all(np.isfinite(r[k]) for k in keys)]
    means = {k: float(np.mean([r[k] for r in scored])) for k in keys}
    print(f"{len(scored)} of {len(rows)} clips scored (PESQ finds no speech in the others):")
    for k, v in means.items():
        print(f"  {k:32s} {v:.3f}")
    if args.out:
        args.out.write_text(json.dumps({"command": " ".join(sys.argv), "clips": len(scored), "mean": means,
                                        "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
