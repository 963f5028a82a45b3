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

import statistics
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..errors import ConfigError
from ..acoustic.models import ENERGY_SCALES, AcousticModel, LoadedAcoustic, PRESETS, arch_string, load_acoustic, parse_arch


@dataclass
class Sentence:
    id: str
    text: str
    ids: torch.Tensor  # (N,)
    durations: torch.Tensor  # (N,)
    mel: torch.Tensor  # (n_mels, T) ground truth
    wav: np.ndarray  # the recording
    pitch: torch.Tensor  # (N,) reference phoneme pitch, normalised by the corpus's train statistics
    energy: dict[str, torch.Tensor]  # energy scale (linear, log) -> (N,) reference energy, normalised
    log_f0: np.ndarray  # (N,) reference phoneme-mean log-F0 (0: none), for other models' statistics
    energy_raw: np.ndarray  # (N,) reference phoneme energy before normalisation


ALL = "all"  # every utterance of every split: a corpus of held-out sentences is all test


def split_ids(stats: dict[str, Any], split: str) -> list[str]:
    """The utterance ids of a split of a prepared corpus, or of all of them (`"all"`, id order)."""
    if split == ALL:
        return sorted(uid for ids in stats["splits"].values() for uid in ids)
    if split not in stats["splits"]:
        raise ConfigError(f"split must be one of {', '.join([*stats['splits'], ALL])}, not {split!r}")
    return list(stats["splits"][split])


def load_sentences(data_root: str | Path, split: str = "test", limit: int | None = None) -> list[Sentence]:
    """The sentences of one split (or `"all"`) of a prepared corpus, with their reference features."""
    from ..audio import load_audio
    from ..data.corpora import read_ljspeech
    from ..data.features import AcousticDataset, feature_dir, load_features, read_stats

    stats = read_stats(data_root)
    ids = split_ids(stats, split)
    ids = ids[:limit] if limit else ids
    if not ids:
        raise ConfigError(f"{data_root}: the {split} split is empty")
    scales = [e for e in ENERGY_SCALES if e == "linear" or "energy_log" in stats]
    data = {e: AcousticDataset(data_root, "test", stats, ids=ids, energy=e) for e in scales}
    utts = {u.id: u for u in read_ljspeech(data_root)}
    out = []
    for i, uid in enumerate(ids):
        item = data["linear"][i]
        wav, _ = load_audio(utts[uid].wav_path, int(stats["mel"]["sample_rate"]))
        energy = {e: item["energy"] if e == "linear" else data[e][i]["energy"] for e in scales}
        raw = load_features(feature_dir(data_root) / "features" / f"{uid}.npz")
        out.append(Sentence(uid, utts[uid].text, item["ids"], item["durations"], item["mel"].T, wav,
                            item["pitch"], energy, raw.pitch, raw.energy))
    return out


def reference_variance(s: Sentence, stats: dict[str, Any], energy: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The sentence's reference pitch and energy (each (N,)) normalised by a model's own statistics
    (`LoadedAcoustic.stats`), as its training data was: a model trained on another corpus than the
    benchmark's is teacher-forced with the values it would have seen for this speech. Pitch from
    another extractor than the model's is not comparable (see `check_pitch_backend`)."""
    from ..data.features import normalise_energy

    has = s.durations.numpy() > 0
    ps = stats["pitch"]
    pitch = np.where(has & (s.log_f0 > 0), (s.log_f0 - ps["mean"]) / ps["std"], 0.0)
    values = np.where(has, normalise_energy(s.energy_raw, stats, energy), 0.0)
    return torch.from_numpy(pitch.astype(np.float32)), torch.from_numpy(values.astype(np.float32))


def check_pitch_backend(label: str, model_stats: dict[str, Any], stats: dict[str, Any]) -> None:
    """Teacher-forced pitch means something only from the extractor the model was trained with:
    pyworld and pyin differ by far more than a model's pitch error."""
    mine, theirs = model_stats.get("pitch_backend"), stats.get("pitch_backend")
    if mine and theirs and mine != theirs:
        raise ConfigError(f"{label} was trained on {mine} pitch, the corpus's is from {theirs}: prepare the corpus "
                          f"with `hifilite acoustic prepare --pitch {mine}` for the WER diagnosis")


def resolve_acoustic(spec: str | Path, stats: dict[str, Any]) -> LoadedAcoustic:
    """A preset or architecture string (random weights, sized for the corpus), a checkpoint, a run
    folder or a shipped model's name."""
    from ..registry import shipped
    from ..acoustic.task import config_for_corpus, model_stats

    spec_s = str(spec)
    path = Path(spec_s)
    if path.exists() or spec_s in shipped("acoustic"):
        return load_acoustic(path)
    if spec_s.split(";")[0] in PRESETS or "/" in spec_s.split(";")[0]:
        torch.manual_seed(0)
        model = AcousticModel(**config_for_corpus(parse_arch(spec_s), stats).to_dict()).eval()
        return LoadedAcoustic(model, stats["symbols"], model_stats(stats), stats["mel"], {"step": 0})
    raise ConfigError(f"{spec_s!r} is neither an acoustic model file nor a preset / architecture string")


def piper_voice(voice: str | Path | None = None, threads: int = 1):
    """A Piper voice whose ONNX Runtime session uses `threads` intra-op threads and one inter-op."""
    import json

    import onnxruntime as ort
    from piper import PiperVoice
    from piper.config import PiperConfig

    from ..data.synth import resolve_voice

    files = resolve_voice(voice)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(files.model), sess_options=opts, providers=["CPUExecutionProvider"])
    config = PiperConfig.from_dict(json.loads(files.config.read_text(encoding="utf-8")))
    return PiperVoice(session=session, config=config), files


def _piper_speak(voice, text: str) -> np.ndarray:
    """A Piper voice's audio for `text`, all its sentences joined."""
    return np.concatenate([c.audio_float_array for c in voice.synthesize(text)]).astype(np.float32)


def onnx_params(path: str | Path) -> int:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return int(sum(int(np.prod(t.dims)) for t in model.graph.initializer))


def _dnsmos_ovrl(wavs: Sequence[np.ndarray], sr: int) -> float:
    from .metrics import dnsmos

    scores = [dnsmos(w, sr)["ovrl"] for w in wavs if len(w) > sr // 10]
    scores = [s for s in scores if np.isfinite(s)]
    return float(statistics.fmean(scores)) if scores else float("nan")


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _speak_timed(speak: Callable[[str], np.ndarray], texts: Sequence[str],
                 skip: tuple[type[BaseException], ...] = ()) -> tuple[list[np.ndarray | None], float]:
    """Each text through `speak`, timed: (wavs, seconds of compute). A text raising `skip` gets None."""
    wavs: list[np.ndarray | None] = []
    wall = 0.0
    for text in texts:
        try:
            wav, dt = _timed(lambda: speak(text))
        except skip:
            wavs.append(None)
            continue
        wavs.append(wav)
        wall += dt
    return wavs, wall


def _free_running(wavs: list[np.ndarray | None], wall: float, sr: int, dnsmos: bool) -> dict[str, Any]:
    """Spoken count, seconds, x-real-time and DNSMOS of free-running speech (None: not spoken)."""
    spoken = [w for w in wavs if w is not None]
    seconds = sum(len(w) for w in spoken) / sr
    return {"spoken": len(spoken), "seconds": seconds, "xrt": seconds / wall if wall else float("nan"),
            "dnsmos_ovrl": _dnsmos_ovrl(spoken, sr) if dnsmos and spoken else float("nan")}


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
        w, dt = _timed(lambda: voc(mel[None])[0].numpy())
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
    from ..vocoder.api import load_vocoder
    from ..data.features import read_stats
    from ..acoustic.models import durations_from_log
    from ..tts.synthesis import Synthesizer
    from ..text import Phonemizer, TextError

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
                report["vocoders"][name] = {"params": sum(p.numel() for p in voc.parameters()), "xrt": seconds / t}
                if dnsmos and recordings:
                    report["ground_truth"][f"dnsmos_ovrl_copy_{name}"] = _dnsmos_ovrl(wavs, sr)
                if wer and recordings:
                    report["ground_truth"][f"wer_copy_{name}"] = heard(f"recordings through {name}", wavs, sr)
                log(f"vocoder {name}: {seconds / t:.1f}x real-time")
            if dnsmos and recordings:
                report["ground_truth"]["dnsmos_ovrl_recording"] = _dnsmos_ovrl([s.wav for s in sentences], sr)

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
                    _, dt = _timed(lambda: phonemizer(s.text))
                    t_front += dt
                    out, dt = _timed(lambda: model(s.ids[None], durations=s.durations[None]))
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
                    t_pass = sum(_timed(lambda: model(s.ids[None], durations=s.durations[None]))[1] for s in sentences)
                    t_acoustic = min(t_acoustic, t_pass)
                row.update(acoustic_xrt=seconds / t_acoustic, mel_l1=l1_sum / l1_n,
                           mel_l1_ref_energy=l1_ref["energy"] / l1_n, mel_l1_ref_variance=l1_ref["variance"] / l1_n,
                           duration_mae_frames=d_err / d_n,
                           frontend_s=t_front)
                for vname, voc in vocs.items():
                    wavs, t = _vocode_all(voc, mels)
                    row[f"xrt_{vname}"] = seconds / (t_front + t_acoustic + t)
                    if dnsmos:
                        row[f"dnsmos_ovrl_{vname}"] = _dnsmos_ovrl(wavs, sr)
                    if wer:
                        row[f"wer_{vname}"] = heard(f"{label} + {vname}, ref. durations", wavs, sr)
                if diagnose:
                    for key, what in (("energy", "ref. durations and energy"),
                                      ("variance", "ref. durations, pitch and energy")):
                        wavs, _ = _vocode_all(vocs[first_voc], ref_mels[key])
                        row[f"wer_ref_{key}_{first_voc}"] = heard(f"{label} + {first_voc}, {what}", wavs, sr)
                # free running: the model's own durations, what `hifilite tts` does
                synth = Synthesizer(loaded, vocs[first_voc], phonemizer)
                wavs, wall = _speak_timed(synth, texts, skip=(TextError,))
                row[f"free_{first_voc}"] = _free_running(wavs, wall, sr, dnsmos)
                if wer:
                    row[f"free_{first_voc}"]["wer"] = heard(f"{label} + {first_voc}", wavs, sr)
                if onnx:
                    wavs, wall = _free_onnx(loaded, first_voc, sentences, threads, workdir)
                    row[f"free_onnx_{first_voc}"] = _free_running(wavs, wall, sr, dnsmos)
                    if wer:
                        row[f"free_onnx_{first_voc}"]["wer"] = heard(f"{label} + {first_voc}, ONNX Runtime", wavs, sr)
                report["acoustic"].append(row)
                log(f"{label}: {row['params']:,} params, acoustic {row['acoustic_xrt']:.1f}x real-time, "
                    f"mel L1 {row['mel_l1']:.3f} ({row['mel_l1_ref_energy']:.3f} with the reference energy, "
                    f"{row['mel_l1_ref_variance']:.3f} with reference pitch and energy), "
                    f"duration error {row['duration_mae_frames']:.2f} frames")

            if wer_runs:
                report["wer_curves"] = {name: checkpoint_wer(run, vocs[first_voc], phonemizer, heard, name)
                                        for name, run in wer_runs.items()}

        if piper:
            voice, files = piper_voice(threads=threads)
            speak = partial(_piper_speak, voice)
            speak(texts[0])  # warm-up
            wavs, t = _speak_timed(speak, texts)
            spoken = sum(len(w) for w in wavs) / voice.config.sample_rate
            report["piper"] = {"voice": files.name, "params": onnx_params(files.model), "seconds": spoken,
                               "xrt": spoken / t,
                               "dnsmos_ovrl": _dnsmos_ovrl(wavs, voice.config.sample_rate) if dnsmos else None}
            if wer:
                report["piper"]["wer"] = heard(f"Piper {files.name}", wavs, int(voice.config.sample_rate))
            log(f"piper {files.name}: {spoken / t:.1f}x real-time")
    finally:
        torch.set_num_threads(prev_threads)
        workdir.cleanup()
    if wer:
        report["intelligibility"] = heard.results
        report["asr_xrt"] = heard.asr.xrt
    ref = report["acoustic"][0]
    for row in report["acoustic"]:
        row["vs_" + ref["name"]] = {"fewer_params": ref["params"] / row["params"],
                                    "acoustic_speedup": row["acoustic_xrt"] / ref["acoustic_xrt"]}
        if report["piper"]:
            row["vs_piper"] = {v: row[f"xrt_{v}"] / report["piper"]["xrt"] for v in vocoders}
            free = row.get(f"free_onnx_{vocoders[0]}")
            if free:
                row["vs_piper_onnx"] = free["xrt"] / report["piper"]["xrt"]
    return report


def checkpoint_wer(run: str | Path, vocoder, phonemizer, heard: _Intelligibility, name: str) -> list[dict[str, Any]]:
    """WER of every training checkpoint a run folder kept (`checkpoints/step_*.pt`; a run keeps its
    last `keep_checkpoints`, 3 by default), free-running with `vocoder`, oldest first. The model's
    architecture, symbols and statistics come from the run's `acoustic.safetensors`."""
    from ..errors import CheckpointError, DataError
    from ..train.state import list_checkpoints, load_checkpoint
    from ..tts.synthesis import Synthesizer
    from ..errors import TextError

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
        wavs, _ = _speak_timed(Synthesizer(loaded, vocoder, phonemizer), heard.texts, skip=(TextError,))
        label = f"{name} at step {step}"
        value = heard(label, wavs, int(loaded.mel["sample_rate"]))
        points.append({"step": step, "wer": value, "cer": heard.results[label]["cer"]})
    return points


def _free_onnx(loaded: LoadedAcoustic, vocoder: str, sentences: list[Sentence], threads: int,
               workdir) -> tuple[list[np.ndarray | None], float]:
    """`hifilite tts --backend onnx` on every sentence (both models exported, ONNX Runtime only): wavs, seconds."""
    from ..deploy.export import export_onnx as export_vocoder
    from ..runtime import OnnxTTS
    from ..deploy.acoustic_export import export_onnx as export_acoustic
    from ..errors import TextError

    folder = Path(workdir.name)
    acoustic_path = export_acoustic(loaded, folder / f"acoustic-{len(list(folder.iterdir()))}.onnx")
    vocoder_path = folder / f"vocoder-{Path(vocoder).stem}.onnx"
    if not vocoder_path.is_file():
        export_vocoder(vocoder, vocoder_path)
    tts = OnnxTTS(acoustic_path, vocoder_path, threads=threads)
    tts(sentences[0].text)  # warm-up: ONNX Runtime allocates on the first call
    return _speak_timed(tts, [s.text for s in sentences], skip=(TextError,))


def learning_curves(runs: dict[str, str | Path], tag: str = "mel/loss", split: str = "val") -> dict[str, Any]:
    """One validation scalar of several training runs, compared at equal steps.

    Runs trained with the same data, batch, schedule and seed (what `acoustic train` and the
    search do) are compared where each logged the scalar (`read_scalars`); the first run is the
    reference and `relative` is each run's value over the reference's minus one. The default
    tag is the teacher-forced validation mel L1 (`mel/loss`)."""
    from ..train.logging import read_scalars

    if not runs:
        raise ConfigError("learning curves need at least one run")
    curves = {name: read_scalars(run, tag, split) for name, run in runs.items()}
    points = {name: dict(c) for name, c in curves.items()}
    ref = next(iter(curves))
    table = []
    for step in sorted(set.intersection(*(set(p) for p in points.values()))):
        values = {name: p[step] for name, p in points.items()}
        table.append({"step": step, "values": values,
                      "relative": {name: v / values[ref] - 1.0 for name, v in values.items() if name != ref}})
    return {"tag": f"{split}/{tag}", "reference": ref, "runs": {k: str(v) for k, v in runs.items()},
            "curves": {k: [[s, v] for s, v in c] for k, c in curves.items()}, "equal_steps": table}


def curves_markdown(curves: dict[str, Any]) -> str:
    """A table of `learning_curves` at the steps every run logged."""
    names = list(curves["curves"])
    ref = curves["reference"]
    head = ["step"] + [n if n == ref else f"{n} (vs {ref})" for n in names]
    lines = [f"{curves['tag']} at equal training steps (same data, batch, schedule and seed):", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in curves["equal_steps"]:
        cells = [str(row["step"])]
        for n in names:
            v = row["values"][n]
            cells.append(f"{v:.3f}" if n == ref else f"{v:.3f} ({100 * row['relative'][n]:+.1f} %)")
        lines.append("| " + " | ".join(cells) + " |")
    last = {n: c[-1] for n, c in curves["curves"].items()}
    lines += ["", "Last logged: " + ", ".join(f"{n} {v:.3f} at step {s}" for n, (s, v) in last.items()) + "."]
    return "\n".join(lines) + "\n"


def _f(v: Any, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return format(v, fmt)


def _pct(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{100 * v:.1f} %"


def _free_cell(free: dict[str, Any], wer: bool) -> str:
    cell = f"{_f(free.get('xrt'), '.1f')} / {_f(free.get('dnsmos_ovrl'), '.2f')}"
    return cell + (f" / {_pct(free.get('wer'))}" if wer else "")


def markdown_report(report: dict[str, Any]) -> str:
    """The tables README shows: acoustic models with each vocoder, then Piper and the ceiling; with
    WER, the WER diagnosis, WER by sentence length and WER against training step."""
    vocs = list(report["vocoders"])
    first = vocs[0]
    wer = bool(report.get("intelligibility"))
    head = ["model", "steps", "params", "acoustic xRT", "mel L1", "mel L1, ref. energy", "mel L1, ref. pitch/energy",
            "dur. err (frames)"]
    for v in vocs:
        head += [f"text→wav xRT ({v})", f"DNSMOS ({v})"] + ([f"WER ({v})"] if wer else [])
    free_what = "xRT / DNSMOS / WER" if wer else "xRT / DNSMOS"
    head += [f"free: {free_what} ({first})"]
    onnx = any(f"free_onnx_{first}" in r for r in report["acoustic"])
    if onnx:
        head += [f"free, ONNX Runtime: {free_what} ({first})"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ref = report["acoustic"][0]["name"]
    for r in report["acoustic"]:
        cells = [f"{r['name']} (`{r['arch']}`)", str(r["steps"]), f"{r['params'] / 1e6:.2f} M",
                 _f(r["acoustic_xrt"], ".1f"), _f(r["mel_l1"], ".3f"),
                 _f(r.get("mel_l1_ref_energy"), ".3f"), _f(r.get("mel_l1_ref_variance"), ".3f"),
                 _f(r["duration_mae_frames"], ".2f")]
        for v in vocs:
            cells += [_f(r[f"xrt_{v}"], ".1f"), _f(r.get(f"dnsmos_ovrl_{v}"), ".2f")]
            cells += [_pct(r.get(f"wer_{v}"))] if wer else []
        free = r[f"free_{first}"]
        cells.append(f"{_free_cell(free, wer)} ({free['spoken']}/{len(report['sentences'])} spoken)")
        if onnx:
            cells.append(_free_cell(r.get(f"free_onnx_{first}") or {}, wer))
        lines.append("| " + " | ".join(cells) + " |")
    p = report.get("piper")
    if p:
        per_voc = 3 if wer else 2
        cells = [f"Piper {p['voice']} (VITS, ONNX Runtime)", "–", f"{p['params'] / 1e6:.2f} M"] + ["–"] * 5
        cells += [_f(p["xrt"], ".1f"), _f(p.get("dnsmos_ovrl"), ".2f")] + ([_pct(p.get("wer"))] if wer else [])
        cells += [""] * (per_voc * (len(vocs) - 1))
        cells += [_free_cell(p, wer)] + ([_free_cell(p, wer)] if onnx else [])
        lines.append("| " + " | ".join(cells) + " |")
    ratios = []
    for r in report["acoustic"][1:]:
        v = r[f"vs_{ref}"]
        piece = f"{r['name']}: {v['fewer_params']:.1f}x fewer params and {v['acoustic_speedup']:.1f}x faster than {ref}"
        if np.isfinite(r["mel_l1"]) and np.isfinite(report["acoustic"][0]["mel_l1"]):
            piece += f", mel L1 {100 * (r['mel_l1'] / report['acoustic'][0]['mel_l1'] - 1):+.1f} %"
        if r.get("vs_piper"):
            piece += f", text→wav {r['vs_piper'][first]:.1f}x Piper's speed with {first}"
            if r.get("vs_piper_onnx"):
                piece += f" ({r['vs_piper_onnx']:.1f}x, own durations, ONNX Runtime)"
        ratios.append(piece)
    if len(report["acoustic"]) == 1 and report["acoustic"][0].get("vs_piper"):
        ratios.append(f"{ref}: text→wav {report['acoustic'][0]['vs_piper'][first]:.1f}x Piper's speed with {first}")
    lines += ["", "; ".join(ratios) + "." if ratios else ""]
    gt = report.get("ground_truth", {})
    split = "every utterance" if report["split"] == "all" else f"the {report['split']} split"
    extra = [f"{len(report['sentences'])} sentences ({split}, {report['speech_seconds']:.1f} s of speech), "
             f"{report['threads']} thread(s); acoustic x-real-time: the fastest of {report.get('acoustic_passes', 1)} "
             f"pass(es); text→wav columns use the recordings' durations, `free` the model's own (what `hifilite tts` "
             f"says)."]
    if "dnsmos_ovrl_recording" in gt:
        extra.append("DNSMOS OVRL of the recordings " + _f(gt.get("dnsmos_ovrl_recording"), ".2f") + "; of their "
                     "copy-synthesis: " + ", ".join(f"{v} {_f(gt.get(f'dnsmos_ovrl_copy_{v}'), '.2f')}" for v in vocs)
                     + ".")
    if "wer_recording" in gt:
        extra.append(f"WER of the recordings {_pct(gt['wer_recording'])}; of their copy-synthesis: "
                     + ", ".join(f"{v} {_pct(gt.get(f'wer_copy_{v}'))}" for v in vocs) + ".")
    extra.append("Vocoders alone: " + ", ".join(f"{v} {report['vocoders'][v]['params'] / 1e6:.2f} M params, "
                                                f"{report['vocoders'][v]['xrt']:.1f}x real-time" for v in vocs) + ".")
    text = "\n".join(lines) + "\n\n" + " ".join(extra) + "\n"
    if wer:
        text += "\n" + wer_markdown(report)
    if report.get("curves"):
        text += "\n" + curves_markdown(report["curves"])
    return text


def wer_markdown(report: dict[str, Any]) -> str:
    """The WER diagnosis (own predictions vs teacher-forced variance), WER by sentence length and
    WER against training step."""
    from .intelligibility import markdown_buckets

    first = next(iter(report["vocoders"]))
    parts = []
    diag = [r for r in report["acoustic"] if f"wer_ref_variance_{first}" in r]
    if diag:
        head = ["model", "own durations, pitch, energy", "ref. durations", "ref. durations + energy",
                "ref. durations + pitch + energy"]
        lines = [f"WER with {first}, the model's own predictions against the recordings' (teacher-forced) "
                 "durations, energy and pitch:", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in diag:
            lines.append("| " + " | ".join([r["name"], _pct(r[f"free_{first}"].get("wer")), _pct(r.get(f"wer_{first}")),
                                            _pct(r.get(f"wer_ref_energy_{first}")),
                                            _pct(r.get(f"wer_ref_variance_{first}"))]) + " |")
        parts.append("\n".join(lines) + "\n")
    parts.append("WER and CER by sentence length (normalised reference words; sentences in brackets):\n\n"
                 + markdown_buckets(report["intelligibility"]))
    curves = report.get("wer_curves") or {}
    if curves:
        steps = sorted({p["step"] for points in curves.values() for p in points})
        values = {name: {p["step"]: p["wer"] for p in points} for name, points in curves.items()}
        lines = [f"WER against training step (free-running with {first}; the checkpoints each run kept):", "",
                 "| step | " + " | ".join(curves) + " |", "|" + "---|" * (len(curves) + 1)]
        for step in steps:
            lines.append(f"| {step} | " + " | ".join(_pct(values[n].get(step)) for n in curves) + " |")
        parts.append("\n".join(lines) + "\n")
    asr = report.get("asr_xrt")
    parts.append(f"Recogniser: pocketsphinx (US English model of its wheel), one thread, "
                 f"{_f(asr, '.1f')}x real time here; WER = word edits / reference words over all sentences.\n")
    return "\n".join(parts)


def tts_vs_piper(texts: Sequence[str], *, model: str | Path, vocoder: str | Path = "joe-lite", threads: int = 1,
                 dnsmos: bool = True, wer: bool = True, wav_dir: str | Path | None = None,
                 log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """`hifilite tts` (ONNX Runtime path, exports cached) and the Piper voice on the same texts.

    Per system: seconds of speech, x-real-time on `threads` threads (text front-end included,
    one warm-up sentence first), DNSMOS OVRL and, with `wer`, the recogniser's WER and CER
    (`hifilite.evaluate.intelligibility`); `wav_dir` keeps every wav (`<system>-<i>.wav`).
    Returns {"systems": [...], "texts": n, "threads": threads}.
    """
    from ..audio import save_audio
    from ..deploy.cache import acoustic_onnx, vocoder_onnx
    from ..runtime import OnnxTTS

    if not texts:
        raise ConfigError("no texts to speak")
    tts = OnnxTTS(acoustic_onnx(model), vocoder_onnx(vocoder), threads=threads)
    voice, files = piper_voice(threads=threads)
    if wer:
        from .intelligibility import Recognizer, intelligibility

        asr = Recognizer()

    systems = [(f"hifilite {Path(str(model)).name} + {Path(str(vocoder)).name}", "hifilite", tts, tts.sample_rate),
               (f"Piper {files.name}", "piper", partial(_piper_speak, voice), int(voice.config.sample_rate))]
    rows = []
    for label, key, speak, sr in systems:
        speak(texts[0])  # warm-up: sessions allocate and espeak-ng initialises on first use
        wavs, wall = _speak_timed(speak, texts)
        for i, wav in enumerate(wavs if wav_dir is not None else []):
            save_audio(Path(wav_dir) / f"{key}-{i}.wav", wav, sr)
        seconds = sum(len(w) for w in wavs) / sr
        row = {"system": label, "seconds": seconds, "xrt": seconds / wall,
               "dnsmos_ovrl": _dnsmos_ovrl(wavs, sr) if dnsmos else None}
        if wer:
            heard = intelligibility(texts, wavs, sr, recognizer=asr)
            row.update(wer=heard["wer"], cer=heard["cer"], hypotheses=[r["hypothesis"] for r in heard["rows"]])
        rows.append(row)
        log(f"{label}: {seconds:.1f} s of speech, {row['xrt']:.1f}x real-time"
            + (f", WER {100 * row['wer']:.1f} %" if wer else ""))
    out = {"systems": rows, "texts": len(texts), "threads": threads,
           "speedup_vs_piper": rows[0]["xrt"] / rows[1]["xrt"]}
    if wer:
        out["asr_xrt"] = asr.xrt
    return out
