"""Speaking texts, timed: Piper (the bundled joe-medium voice on ONNX Runtime, one intra-op and one
inter-op thread) and any `text -> wav` function, with DNSMOS of what was said.

`tts_vs_piper` is `make demo`'s comparison: hifilite's default text-to-speech against Piper on the
same sentences, with word error rate and DNSMOS beside the speed.
"""

from __future__ import annotations

import statistics
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import ConfigError
from ..measure import time_call, times_real_time
from ..registry import DEFAULT_VOCODER


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


def piper_speak(voice, text: str, noise: bool = True) -> np.ndarray:
    """A Piper voice's audio for `text`, all its sentences joined. Piper draws its VITS noise anew on
    every call; `noise=False` sets both noise scales to 0, so the same text gives the same audio."""
    config = None
    if not noise:
        from piper.config import SynthesisConfig

        config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    return np.concatenate([c.audio_float_array for c in voice.synthesize(text, syn_config=config)]).astype(np.float32)


def onnx_params(path: str | Path) -> int:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return int(sum(int(np.prod(t.dims)) for t in model.graph.initializer))


def tts_vs_piper(texts: Sequence[str], *, model: str | Path, vocoder: str | Path = DEFAULT_VOCODER, threads: int = 1,
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
    from ..tts.onnx import OnnxTTS

    if not texts:
        raise ConfigError("no texts to speak")
    tts = OnnxTTS(acoustic_onnx(model), vocoder_onnx(vocoder), threads=threads)
    voice, files = piper_voice(threads=threads)
    if wer:
        from .intelligibility import Recognizer, intelligibility

        asr = Recognizer()

    systems = [(f"hifilite {Path(str(model)).name} + {Path(str(vocoder)).name}", "hifilite", tts, tts.sample_rate),
               (f"Piper {files.name}", "piper", partial(piper_speak, voice), int(voice.config.sample_rate))]
    rows = []
    for label, key, speak, sr in systems:
        speak(texts[0])  # warm-up: sessions allocate and espeak-ng initialises on first use
        wavs, wall = speak_timed(speak, texts)
        for i, wav in enumerate(wavs if wav_dir is not None else []):
            save_audio(Path(wav_dir) / f"{key}-{i}.wav", wav, sr)
        seconds = sum(len(w) for w in wavs) / sr
        row = {"system": label, "seconds": seconds, "x_real_time": times_real_time(seconds, wall),
               "dnsmos_ovrl": dnsmos_ovrl_of(wavs, sr) if dnsmos else None}
        if wer:
            heard = intelligibility(texts, wavs, sr, recognizer=asr)
            row.update(wer=heard["wer"], cer=heard["cer"], hypotheses=[r["hypothesis"] for r in heard["rows"]])
        rows.append(row)
        log(f"{label}: {seconds:.1f} s of speech, {row['x_real_time']:.1f}x real-time"
            + (f", WER {100 * row['wer']:.1f} %" if wer else ""))
    out = {"systems": rows, "texts": len(texts), "threads": threads,
           "speedup_vs_piper": rows[0]["x_real_time"] / rows[1]["x_real_time"]}
    if wer:
        out["asr_x_real_time"] = asr.x_real_time
    return out


def dnsmos_ovrl_of(wavs: Sequence[np.ndarray], sr: int) -> float:
    from .metrics import dnsmos

    scores = [dnsmos(w, sr)["ovrl"] for w in wavs if len(w) > sr // 10]
    scores = [s for s in scores if np.isfinite(s)]
    return float(statistics.fmean(scores)) if scores else float("nan")


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """(result, seconds) of one call of `fn` (`hifilite.measure.time_call`, no warm-up)."""
    timing = time_call(fn, repeats=1, warmup=0)
    return timing.result, timing.median


def speak_timed(speak: Callable[[str], np.ndarray], texts: Sequence[str],
                 skip: tuple[type[BaseException], ...] = ()) -> tuple[list[np.ndarray | None], float]:
    """Each text through `speak`, timed: (wavs, seconds of compute). A text raising `skip` gets None."""
    wavs: list[np.ndarray | None] = []
    wall = 0.0
    for text in texts:
        try:
            wav, dt = timed(lambda: speak(text))
        except skip:
            wavs.append(None)
            continue
        wavs.append(wav)
        wall += dt
    return wavs, wall
