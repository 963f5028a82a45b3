"""The main job: synthesise a small corpus, copy-synthesise its test split with the teacher, the
zero-parameter floor (pghi) and the shipped students, evaluate (with torchcrepe periodicity),
bench them beside v1/v2/v3, speak held-out sentences (never
trained on) with the shipped acoustic model + its vocoder beside Piper, with the recogniser's word
error rate, and write a report folder (markdown + HTML, spectrograms, audio)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def run_demo(
    out: str | Path,
    sentences: int = 48,
    test: int = 8,
    models: tuple[str, ...] = ("lj-v1", "pghi", "joe-lite", "joe-tiny"),
    bench_models_: tuple[str, ...] = ("v1", "v2", "v3", "pghi", "joe-lite", "joe-fourier", "joe-tiny"),
    bench_seconds: float = 4.0,
    threads: int = 1,
    tts_model: str | None = "auto",
) -> Path:
    from .audio import load_audio
    from .console import console
    from .data.synth import synthesize_corpus
    from .evaluate.bench import bench_models
    from .measure import machine_info
    from .evaluate.bench import markdown_table as bench_markdown
    from .evaluate.report import Report, plot_spectrograms
    from .evaluate.metrics import METRICS
    from .evaluate.runner import SHORT_NAMES, evaluate_models

    out = Path(out)
    if tts_model == "auto":  # the shipped acoustic model, when this install has one
        from .registry import DEFAULT_ACOUSTIC, shipped

        tts_model = DEFAULT_ACOUSTIC if DEFAULT_ACOUSTIC in shipped("acoustic") else None
    stages = 5 if tts_model else 4
    corpus = out / "corpus"
    console.rule(f"1/{stages} corpus")
    synthesize_corpus(corpus, sentences=sentences, val=max(1, sentences // 12), test=test)
    console.rule(f"2/{stages} copy-synthesis and evaluation with {', '.join(models)}")
    result = evaluate_models(list(models), corpus, split="test", out_dir=out / "eval", save_audio=True, console=console,
                             metrics=[*METRICS, "periodicity"])
    console.rule(f"3/{stages} speed and size")
    rows = bench_models(list(bench_models_), threads=threads, seconds=bench_seconds, repeats=3, warmup=1)
    (out / "bench.json").write_text(json.dumps({"machine": machine_info(), "results": rows}, indent=2))

    speech = None
    if tts_model:
        from .registry import DEFAULT_VOCODER

        console.rule(f"4/{stages} text to speech: {tts_model} + {DEFAULT_VOCODER} vs Piper")
        from .evaluate.speaking import tts_vs_piper
        from .evaluate.intelligibility import heldout_sentences

        held = heldout_sentences()  # short to long: every k-th one spans the lengths
        texts = held[:: max(1, len(held) // test)][:test]
        speech = tts_vs_piper(texts, model=tts_model, vocoder=DEFAULT_VOCODER, threads=threads, wav_dir=out / "tts",
                              log=lambda s: console.print(s, highlight=False))
        (out / "tts.json").write_text(json.dumps(speech, indent=2))

    console.rule(f"{stages}/{stages} report")
    report = Report("hifilite demo report")
    info = result.info
    report.text("Setup", (
        f"Corpus: {sentences} sentences synthesised offline with the Piper joe-medium voice "
        f"(22 050 Hz), test split of {info['data']['utterances']} utterances "
        f"({info['data']['audio_seconds']:.1f} s). Machine: {machine_info().get('cpu', '')}; "
        f"evaluation threads {info.get('torch_threads')}, bench threads {threads}. "
        f"Regenerate with `make demo`."))
    metric_keys = [k for k in SHORT_NAMES if any(k in r for r in result.rows)]
    summary_rows = []
    for name, entry in result.summary.items():
        row = {"model": name}
        for k in metric_keys:
            if isinstance(entry.get(k), dict):
                row[k] = entry[k]["mean"]
        summary_rows.append(row)
    report.table("Copy-synthesis quality (means over the test split)", summary_rows,
                 [("model", "model", "")] + [(k, SHORT_NAMES[k], ".3f") for k in metric_keys],
                 note="PESQ wide-band at 16 kHz; MCD from MFCC-based mel-cepstra; periodicity RMSE and the crepe "
                      "columns from torchcrepe against the recording (a vocoder that does not follow the "
                      "speaker's pitch shows there first); `pghi` is the zero-parameter floor (mel "
                      "pseudo-inverse + PGHI phase); `reference` is the DNSMOS of the recordings themselves.")
    report.text("Speed and size", bench_markdown(rows))
    if speech:
        report.table(f"Text to speech ({speech['texts']} held-out sentences)", speech["systems"],
                     [("system", "system", ""), ("seconds", "speech s", ".1f"), ("x_real_time", "x real-time", ".1f"),
                      ("dnsmos_ovrl", "DNSMOS OVRL", ".2f"), ("wer", "WER", ".3f"), ("cer", "CER", ".3f")],
                     note=f"{threads} thread(s), ONNX Runtime for both, text front-end included; hifilite speaks "
                          f"{speech['speedup_vs_piper']:.1f}x as fast as Piper. WER/CER: pocketsphinx's transcript "
                          f"against the text (numbers as words), on sentences from "
                          f"hifilite/assets/heldout_sentences.txt, which no model is trained on; a few sentences "
                          f"make it a rough figure (`benchmarks/bench_tts.py --split all` on all of them is the "
                          f"measurement). Audio in tts/.")
    first = sorted({r["id"] for r in result.rows})[0]
    ref_row = next(r for r in result.rows if r["id"] == first and r.get("audio") and r["model"] not in models)
    ref_wav, sr = load_audio(out / "eval" / ref_row["audio"])
    wavs = {f"recording {first}": ref_wav}
    for m in models:
        gen_row = next(r for r in result.rows if r["id"] == first and r["model"] == m)
        wavs[f"{m} copy-synthesis"] = load_audio(out / "eval" / gen_row["audio"])[0]
    n = min(len(w) for w in wavs.values())
    plot_spectrograms({k: w[:n] for k, w in wavs.items()}, sr, out / "spectrograms.png")
    report.image("Spectrograms", "spectrograms.png", f"{first}: recording vs {', '.join(models)}")
    report.audio("Audio", [(f"{r['model']} {r['id']}", f"eval/{r['audio']}")
                           for r in result.rows if r.get("audio")][:12])
    md, page = report.write(out)
    console.print(f"report: {md} and {page}")
    return md


def mean_pesq(results_json: Path, model: str) -> float:
    data = json.loads(Path(results_json).read_text())
    return float(np.asarray(data["summary"][model]["pesq"]["mean"]))
