"""Teacher outputs cached on disk, so distillation does not run the teacher at every step.

A frozen teacher costs the same at every epoch: HiFi-GAN V1 runs at about real time on a CPU
thread, ten or more times a small student's training step. The cache holds, per utterance, the
input mel of the (peak-normalised) recording and the teacher's waveform for the whole utterance:

    CACHE/manifest.json          teacher, mel settings, normalisation (checked on reuse)
    CACHE/<id>.mel.npy           (n_mels, frames) float32
    CACHE/<id>.teacher.npy       (frames * hop,) float32

`VocoderDataset(teacher_cache=CACHE)` then cuts frame-aligned windows of mel, recording and teacher
output at the same place, so the student sees exactly the mel the teacher vocoded. Building is
resumable (finished files are kept; each is written atomically) and shows progress.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..audio import load_audio
from ..config import MelConfig, to_dict
from ..errors import ConfigError, DataError
from ..data.dataset import peak_normalise, teacher_cache_files
from ..io import atomic_write, save_npy

MANIFEST = "manifest.json"


def check_manifest(cache: Path, teacher: str, mel: MelConfig) -> None:
    """Fail if `cache` was built for another teacher or front-end."""
    path = Path(cache) / MANIFEST
    if not path.is_file():
        raise DataError(f"{cache}: not a teacher cache (no {MANIFEST}); build it with build_teacher_cache")
    meta = json.loads(path.read_text())
    if meta.get("teacher") != teacher or meta.get("mel") != to_dict(mel):
        raise ConfigError(f"{cache}: cached for teacher {meta.get('teacher')!r} with other settings; "
                          f"use another folder for {teacher!r}")


def build_teacher_cache(
    teacher_name: str, utterances: Sequence, cache: str | Path, *, device: str = "cpu", progress: bool = True,
) -> Path:
    """Vocode every utterance's mel with the teacher and store mel + output (see module doc)."""
    from ..audio import MelSpectrogram
    from .api import load_vocoder

    cache = Path(cache)
    voc = load_vocoder(teacher_name, device=device)
    manifest = cache / MANIFEST
    if manifest.is_file():
        check_manifest(cache, teacher_name, voc.mel_config)
    else:
        text = json.dumps({"teacher": teacher_name, "mel": to_dict(voc.mel_config), "normalise": "peak 0.95"}, indent=2)
        atomic_write(manifest, lambda tmp: Path(tmp).write_text(text))
    mel_fn = MelSpectrogram.from_config(voc.mel_config).to(voc.device)
    unique = {u.id: u for u in utterances}.values()  # a weighted mixture repeats utterances
    todo = [u for u in unique if not all(p.is_file() for p in teacher_cache_files(cache, u.id))]
    iterator = todo
    if progress and todo:
        from ..console import progress as progress_bar

        iterator = progress_bar(todo, f"caching {teacher_name} outputs")
    hop = voc.hop_length
    for utt in iterator:
        audio, _ = load_audio(utt.wav_path, voc.sample_rate)
        audio = peak_normalise(audio).astype(np.float32)
        frames = max(1, len(audio) // hop)
        audio = np.pad(audio, (0, max(0, frames * hop - len(audio))))[: frames * hop]
        with torch.inference_mode():
            mel = mel_fn(torch.from_numpy(audio).to(voc.device)[None])[..., :frames]
            out = voc.infer(mel, chunk_frames=512)[0]
        mel_path, out_path = teacher_cache_files(cache, utt.id)
        save_npy(mel_path, mel[0].cpu().numpy())
        save_npy(out_path, out.cpu().numpy())
    return cache
