"""Voices the training never saw, derived from a corpus when no multi-speaker data is at hand.

`shifted_voices` pitch-shifts each utterance of one split by a few semitones (librosa's phase
vocoder + resampling, which moves pitch and formants together: a smaller or larger vocal tract,
not just a higher note) and writes each shift as its own speaker of a folder corpus whose
`splits.json` puts everything in the test split:

    OUT/<speaker>+3st/<id>.wav, OUT/<speaker>-3st/<id>.wav, ..., OUT/splits.json

A proxy for unseen speakers, stated as such in reports; a real VCTK folder (see
`hifilite.data.corpora`, unseen speaker list `VCTK_UNSEEN_SPEAKERS`) is the real test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from ..audio import load_audio, save_audio
from ..errors import ConfigError
from ..io import atomic_write
from .corpora import load_split
from .splits import SPLIT_FILE


def shifted_voices(
    src: str | Path, out: str | Path, semitones: Sequence[float] = (-4.0, 3.0), split: str = "test",
    limit: int | None = None,
) -> Path:
    import librosa

    if not semitones or any(s == 0 for s in semitones):
        raise ConfigError("give non-zero semitone shifts, e.g. -4,3")
    out = Path(out)
    utts = load_split(src, split)[:limit]
    ids = []
    for shift in semitones:
        for u in utts:
            name = f"{u.speaker}{shift:+g}st"
            uid = f"{name}/{Path(u.id).name}"
            path = out / f"{uid}.wav"
            ids.append(uid)
            if path.is_file():
                continue  # resumable
            wav, sr = load_audio(u.wav_path)
            save_audio(path, librosa.effects.pitch_shift(wav, sr=sr, n_steps=float(shift)), sr)
    text = json.dumps({"train": [], "val": [], "test": sorted(ids)}, indent=1)
    atomic_write(out / SPLIT_FILE, lambda tmp: Path(tmp).write_text(text))
    return out
