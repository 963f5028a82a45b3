"""Text-to-speech benchmark: acoustic models, vocoders and Piper on the same sentences, one run.

    report = bench_tts(data_root="corpora/joe-sub", models={"fastspeech2": "fastspeech2",
                       "searched": "runs/search/acoustic.safetensors"}, vocoders=("joe-lite", "lj-v1"))

The sentences are the utterances of one split (default `test`) of a prepared corpus, so every
model speaks the same texts and there are ground-truth ids, durations and mels. Per acoustic model:

- **params**, and the **training steps** of its checkpoint (0 for a preset: random weights);
- **acoustic x-real-time** on one thread: seconds of speech / seconds of compute, with the
  reference durations so every model produces the same frames (pitch and energy predicted);
  the fastest of `acoustic_passes` passes over all sentences, so that a busy moment on a shared
  machine does not decide a ratio between models;
- **mel L1** to the ground-truth log-mel with the reference durations (pitch and energy
  predicted), averaged over frames; the same **with the reference energy** and **with the reference
  pitch and energy** (the decoder's error alone: what the predictors add is the difference), and
  **duration error**: mean |predicted - reference| frames
  per phoneme (rounded predictions, as at inference);
- per vocoder, **text -> wav x-real-time** (text front-end + acoustic model + vocoder, reference
  durations) and **DNSMOS OVRL** of that speech; and for the first vocoder the same with the
  model's own durations (`*_free`): what `hifilite tts` says, empty if it predicts no frames;
  with `onnx`, that free-running text -> wav again with both models exported and run on ONNX
  Runtime (`hifilite.runtime.OnnxTTS`, what `hifilite tts --backend onnx` runs).

Piper (the bundled joe-medium VITS voice, ONNX Runtime with one intra-op and one inter-op
thread) speaks the same texts: params, x-real-time (its own phonemiser included) and DNSMOS.
The ground-truth recordings and their copy-synthesis through each vocoder give the DNSMOS ceiling.

Intelligibility (`wer`, `hifilite.evaluate.intelligibility`): the word error rate of a recogniser
(pocketsphinx) on the recordings, their copy-synthesis, Piper, and every model with every vocoder
(reference durations) and free-running, with per-sentence-length buckets. Held-out sentences
are what make it mean something: synthesise `hifilite/assets/heldout_sentences.txt` with
`hifilite corpus synth --texts ... --out DIR`, `hifilite acoustic prepare --data DIR`, and bench
with `split="all"` (every utterance of that corpus, since none was trained on). `diagnose` adds
the WER with the reference energy and with the reference pitch and energy (teacher-forced,
normalised by each model's own statistics) beside the model's own predictions; `wer_runs` the
WER of each training checkpoint a run folder kept.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..acoustic.checkpoint import LoadedAcoustic, load_acoustic
from ..acoustic.models import (
    PRESETS,
    AcousticModel,
    arch_string,
    parse_arch,
)
from ..errors import ConfigError
from ..measure import times_real_time
from .tts_sentences import Sentence, load_sentences, reference_variance
from .speaking import (
    dnsmos_ovrl_of,
    onnx_params,
    piper_speak,
    piper_voice,
    speak_timed,
    timed,
)


def check_pitch_backend(label: str, model_stats: dict[str, Any], stats: dict[str, Any]) -> None:
    """Teacher-forced pitch means something only from the extractor the model was trained with:
    pyworld and pyin differ by far more than a model's pitch error."""
    mine, theirs = model_stats.get("pitch_backend"), stats.get("pitch_backend")
    if mine and theirs and mine != theirs:
        raise ConfigError(f"{label} was trained on {mine} pitch, the corpus's is from {theirs}: prepare the corpus "
                          f"with `hifilite acoustic prepare --pitch {mine}` for the WER diagnosis")


def resolve_acoustic(spec: str | Path, stats: dict[str, Any]) -> LoadedAcoustic:
    """A preset or architecture string (random weights, sized for the corpus), or any acoustic model
    `hifilite.registry.resolve` knows (a checkpoint, a run folder, a shipped model's name)."""
    from ..acoustic.task import config_for_corpus, model_stats
    from ..errors import ModelNotFoundError
    from ..registry import resolve

    spec_s = str(spec)
    head = spec_s.split(";")[0]
    if not Path(spec_s).exists() and (head in PRESETS or "/" in head):
        torch.manual_seed(0)
        model = AcousticModel.from_config(config_for_corpus(parse_arch(spec_s), stats)).eval()
        return LoadedAcoustic(model, stats["symbols"], model_stats(stats), stats["mel"], {"step": 0})
    try:
        return load_acoustic(resolve(spec_s, "acoustic").checkpoint)
    except ModelNotFoundError as exc:
        raise ModelNotFoundError(f"{exc} (or an acoustic preset / architecture string)") from None


def _free_running(wavs: list[np.ndarray | None], wall: float, sr: int, dnsmos: bool) -> dict[str, Any]:
    """Spoken count, seconds, x-real-time and DNSMOS of free-running speech (None: not spoken)."""
    spoken = [w for w in wavs if w is not None]
    seconds = sum(len(w) for w in spoken) / sr
    return {"spoken": len(spoken), "seconds": seconds, "x_real_time": times_real_time(seconds, wall),
            "dnsmos_ovrl": dnsmos_ovrl_of(spoken, sr) if dnsmos and spoken else float("nan")}


class _Intelligibility:
    """WER/CER of every system on the benchmark's sentences, with one recogniser: each result is kept
    under its system's name (for the length-bucket table) and its WER returned for the main table.
    A sentence a system did not speak (None) counts as heard as nothing: all its words deleted."""

    def __init__(self, sentences: Sequence[Sentence], enabled: bool, log: Callable[[str], None]) -> None:
        self.texts, self.ids = [s.text for s in sentences], [s.id for s in sentences]
        self.enabled, self.log = enabled, log
        self.results: dict[str, dict[str, Any]] = {}
        self.asr = None
        if enabled:
            from .intelligibility import Recognizer

            self.asr = Recognizer()

    def __call__(self, name: str, wavs: Sequence[np.ndarray | None], sr: int) -> float:
        if not self.enabled:
            return float("nan")
        from .intelligibility import compact, intelligibility

        wavs = [w if w is not None else np.zeros(0, np.float32) for w in wavs]
        result = intelligibility(self.texts, wavs, sr, ids=self.ids, recognizer=self.asr)
        self.results[name] = compact(result)
        self.log(f"WER {100 * result['wer']:.1f} %: {name}")
        return float(result["wer"])


def _vocode_all(voc, mels: Sequence[torch.Tensor]) -> tuple[list[np.ndarray], float]:
    """Every mel (n_mels, T) through the vocoder, timed."""
    wavs, t = [], 0.0
    for mel in mels:
        w, dt = timed(lambda: voc(mel[None])[0].numpy())
        wavs.append(w)
        t += dt
    return wavs, t


def bench_tts(
    *, data_root: str | Path, models: dict[str, str], vocoders: Sequence[str] = ("joe-lite", "lj-v1"),
    split: str = "test", limit: int | None = None, piper: bool = True, dnsmos: bool = True, threads: int = 1,
    onnx: bool = True, acoustic_passes: int = 3, wer: bool = True, diagnose: bool = False,
    wer_runs: dict[str, str | Path] | None = None, recordings: bool = True,
    log: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """Measure every model on the same sentences (see the module docstring); returns the report.

    `split="all"` takes every utterance of the corpus (a corpus of held-out sentences). With `wer`,
    every system's speech is transcribed (`hifilite.evaluate.intelligibility`); `diagnose` adds the
    WER of each model with the reference energy, and with the reference pitch and energy, beside its
    own predictions; `wer_runs` {name: run folder} adds the WER of every training checkpoint a run
    kept, free-running with the first vocoder (WER against training step). `recordings=False` skips
    scoring the recordings and their copy-synthesis (the same for every model: one run per corpus is
    enough), keeping each vocoder's speed."""
    from ..acoustic.models import durations_from_log
    from ..data.features import read_stats
    from ..text import Phonemizer, TextError
    from ..tts.synthesis import Synthesizer
    from ..vocoder.api import load_vocoder

    if not models:
        raise ConfigError("give at least one acoustic model to benchmark")
    if not vocoders:
        raise ConfigError("give at least one vocoder")
    if acoustic_passes < 1:
        raise ConfigError("acoustic_passes must be at least 1")
    if (diagnose or wer_runs) and not wer:
        raise ConfigError("the WER diagnosis and WER against training step need wer=True")
    stats = read_stats(data_root)
    for label, spec in models.items() if diagnose else ():  # before any time is spent
        check_pitch_backend(label, resolve_acoustic(spec, stats).stats, stats)
    sr, hop = int(stats["mel"]["sample_rate"]), int(stats["mel"]["hop_length"])
    sentences = load_sentences(data_root, split, limit)
    texts = [s.text for s in sentences]
    seconds = sum(int(s.durations.sum()) * hop / sr for s in sentences)
    prev_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    workdir = tempfile.TemporaryDirectory(prefix="hifilite-bench-tts-")
    heard = _Intelligibility(sentences, wer, log)
    try:
        vocs = {name: load_vocoder(name) for name in vocoders}
        first_voc = next(iter(vocs))
        symbols = stats["symbols"]
        phonemizer = Phonemizer.from_dict({**symbols, "espeak_voice": symbols.get("espeak_voice", "en-us")})
        report: dict[str, Any] = {
            "data": str(data_root), "split": split, "sentences": [s.id for s in sentences],
            "speech_seconds": seconds, "threads": threads, "acoustic_passes": acoustic_passes, "vocoders": {},
            "acoustic": [], "piper": None,
            "ground_truth": {},
        }
        phonemizer(sentences[0].text)  # warm-up: espeak-ng initialises on first use
        with torch.inference_mode():
            if wer and recordings:
                report["ground_truth"]["wer_recording"] = heard("recordings", [s.wav for s in sentences], sr)
            for name, voc in vocs.items():
                voc(sentences[0].mel[None, :, :8])  # warm-up
                wavs, t = _vocode_all(voc, [s.mel for s in sentences])
                report["vocoders"][name] = {"params": sum(p.numel() for p in voc.parameters()), "x_real_time": times_real_time(seconds, t)}
                if dnsmos and recordings:
                    report["ground_truth"][f"dnsmos_ovrl_copy_{name}"] = dnsmos_ovrl_of(wavs, sr)
                if wer and recordings:
                    report["ground_truth"][f"wer_copy_{name}"] = heard(f"recordings through {name}", wavs, sr)
                log(f"vocoder {name}: {times_real_time(seconds, t):.1f}x real-time")
            if dnsmos and recordings:
                report["ground_truth"]["dnsmos_ovrl_recording"] = dnsmos_ovrl_of([s.wav for s in sentences], sr)

            for label, spec in models.items():
                loaded = resolve_acoustic(spec, stats)
                model = loaded.model.eval()
                row: dict[str, Any] = {"name": label, "source": str(spec), "steps": int(loaded.extra.get("step", 0)),
                                       "params": model.num_parameters(),
                                       "arch": arch_string(model.config), "hidden": model.config.hidden}
                first = sentences[0]
                model(first.ids[None], durations=first.durations[None])  # warm-up
                t_front, t_acoustic, l1_sum, l1_n, d_err, d_n = 0.0, 0.0, 0.0, 0, 0.0, 0
                l1_ref = {"energy": 0.0, "variance": 0.0}
                mels: list[torch.Tensor] = []
                ref_mels: dict[str, list[torch.Tensor]] = {"energy": [], "variance": []}
                for s in sentences:
                    _, dt = timed(lambda: phonemizer(s.text))
                    t_front += dt
                    out, dt = timed(lambda: model(s.ids[None], durations=s.durations[None]))
                    t_acoustic += dt
                    mel = out["mel"][0, : int(out["mel_lens"][0])].T
                    mels.append(mel)
                    l1_sum += float((mel - s.mel).abs().sum())
                    l1_n += s.mel.numel()
                    pitch, energy = (v[None] for v in reference_variance(s, loaded.stats, model.config.energy))
                    for key, ref in (("energy", model(s.ids[None], durations=s.durations[None], energy=energy)),
                                     ("variance", model(s.ids[None], durations=s.durations[None],
                                                        pitch=pitch, energy=energy))):
                        ref_mel = ref["mel"][0, : int(ref["mel_lens"][0])].T
                        ref_mels[key].append(ref_mel)
                        l1_ref[key] += float((ref_mel - s.mel).abs().sum())
                    pred = durations_from_log(out["log_duration"], out["src_mask"])[0]
                    d_err += float((pred - s.durations).abs().sum())
                    d_n += len(s.durations)
                for _ in range(acoustic_passes - 1):
                    t_pass = sum(timed(lambda: model(s.ids[None], durations=s.durations[None]))[1] for s in sentences)
                    t_acoustic = min(t_acoustic, t_pass)
                row.update(acoustic_x_real_time=times_real_time(seconds, t_acoustic), mel_l1=l1_sum / l1_n,
                           mel_l1_ref_energy=l1_ref["energy"] / l1_n, mel_l1_ref_variance=l1_ref["variance"] / l1_n,
                           duration_mae_frames=d_err / d_n,
                           frontend_s=t_front)
                for vname, voc in vocs.items():
                    wavs, t = _vocode_all(voc, mels)
                    row[f"x_real_time_{vname}"] = times_real_time(seconds, t_front + t_acoustic + t)
                    if dnsmos:
                        row[f"dnsmos_ovrl_{vname}"] = dnsmos_ovrl_of(wavs, sr)
                    if wer:
                        row[f"wer_{vname}"] = heard(f"{label} + {vname}, ref. durations", wavs, sr)
                if diagnose:
                    for key, what in (("energy", "ref. durations and energy"),
                                      ("variance", "ref. durations, pitch and energy")):
                        wavs, _ = _vocode_all(vocs[first_voc], ref_mels[key])
                        row[f"wer_ref_{key}_{first_voc}"] = heard(f"{label} + {first_voc}, {what}", wavs, sr)
                # free running: the model's own durations, what `hifilite tts` does
                synth = Synthesizer(loaded, vocs[first_voc], phonemizer)
                wavs, wall = speak_timed(synth, texts, skip=(TextError,))
                row[f"free_{first_voc}"] = _free_running(wavs, wall, sr, dnsmos)
                if wer:
                    row[f"free_{first_voc}"]["wer"] = heard(f"{label} + {first_voc}", wavs, sr)
                if onnx:
                    wavs, wall = _free_onnx(loaded, first_voc, sentences, threads, workdir)
                    row[f"free_onnx_{first_voc}"] = _free_running(wavs, wall, sr, dnsmos)
                    if wer:
                        row[f"free_onnx_{first_voc}"]["wer"] = heard(f"{label} + {first_voc}, ONNX Runtime", wavs, sr)
                report["acoustic"].append(row)
                log(f"{label}: {row['params']:,} params, acoustic {row['acoustic_x_real_time']:.1f}x real-time, "
                    f"mel L1 {row['mel_l1']:.3f} ({row['mel_l1_ref_energy']:.3f} with the reference energy, "
                    f"{row['mel_l1_ref_variance']:.3f} with reference pitch and energy), "
                    f"duration error {row['duration_mae_frames']:.2f} frames")

            if wer_runs:
                report["wer_curves"] = {name: checkpoint_wer(run, vocs[first_voc], phonemizer, heard, name)
                                        for name, run in wer_runs.items()}

        if piper:
            voice, files = piper_voice(threads=threads)
            speak = partial(piper_speak, voice)
            speak(texts[0])  # warm-up
            wavs, t = speak_timed(speak, texts)
            spoken = sum(len(w) for w in wavs) / voice.config.sample_rate
            report["piper"] = {"voice": files.name, "params": onnx_params(files.model), "seconds": spoken,
                               "x_real_time": times_real_time(spoken, t),
                               "dnsmos_ovrl": dnsmos_ovrl_of(wavs, voice.config.sample_rate) if dnsmos else None}
            if wer:
                report["piper"]["wer"] = heard(f"Piper {files.name}", wavs, int(voice.config.sample_rate))
            log(f"piper {files.name}: {times_real_time(spoken, t):.1f}x real-time")
    finally:
        torch.set_num_threads(prev_threads)
        workdir.cleanup()
    if wer:
        report["intelligibility"] = heard.results
        report["asr_x_real_time"] = heard.asr.x_real_time
    ref = report["acoustic"][0]
    for row in report["acoustic"]:
        row["vs_" + ref["name"]] = {"fewer_params": ref["params"] / row["params"],
                                    "acoustic_speedup": row["acoustic_x_real_time"] / ref["acoustic_x_real_time"]}
        if report["piper"]:
            row["vs_piper"] = {v: row[f"x_real_time_{v}"] / report["piper"]["x_real_time"] for v in vocoders}
            free = row.get(f"free_onnx_{vocoders[0]}")
            if free:
                row["vs_piper_onnx"] = free["x_real_time"] / report["piper"]["x_real_time"]
    return report


def checkpoint_wer(run: str | Path, vocoder, phonemizer, heard: _Intelligibility, name: str) -> list[dict[str, Any]]:
    """WER of every training checkpoint a run folder kept (`checkpoints/step_*.pt`; a run keeps its
    last `keep_checkpoints`, 3 by default), free-running with `vocoder`, oldest first. The model's
    architecture, symbols and statistics come from the run's `acoustic.safetensors`."""
    from ..errors import CheckpointError, DataError, TextError
    from ..train.state import list_checkpoints, load_checkpoint
    from ..tts.synthesis import Synthesizer

    loaded = load_acoustic(run)
    kept = list_checkpoints(Path(run))
    if not kept:
        raise DataError(f"{run}: no training checkpoints (checkpoints/step_*.pt) to score")
    points = []
    for step, path in kept:
        try:
            loaded.model.load_state_dict(load_checkpoint(path)["task"]["model"], strict=True)
        except (KeyError, RuntimeError) as exc:
            raise CheckpointError(f"{path}: not an acoustic training checkpoint of {run} "
                                  f"({str(exc).splitlines()[0]})") from None
        loaded.model.eval()
        wavs, _ = speak_timed(Synthesizer(loaded, vocoder, phonemizer), heard.texts, skip=(TextError,))
        label = f"{name} at step {step}"
        value = heard(label, wavs, loaded.mel.sample_rate)
        points.append({"step": step, "wer": value, "cer": heard.results[label]["cer"]})
    return points


def _free_onnx(loaded: LoadedAcoustic, vocoder: str, sentences: list[Sentence], threads: int,
               workdir) -> tuple[list[np.ndarray | None], float]:
    """`hifilite tts --backend onnx` on every sentence (both models exported, ONNX Runtime only): wavs, seconds."""
    from ..deploy.export import export_onnx
    from ..errors import TextError
    from ..tts.onnx import OnnxTTS

    folder = Path(workdir.name)
    acoustic_path, _ = export_onnx(loaded, folder / f"acoustic-{len(list(folder.iterdir()))}.onnx")
    vocoder_path = folder / f"vocoder-{Path(vocoder).stem}.onnx"
    if not vocoder_path.is_file():
        export_onnx(vocoder, vocoder_path)
    tts = OnnxTTS(acoustic_path, vocoder_path, threads=threads)
    tts(sentences[0].text)  # warm-up: ONNX Runtime allocates on the first call
    return speak_timed(tts, [s.text for s in sentences], skip=(TextError,))
















