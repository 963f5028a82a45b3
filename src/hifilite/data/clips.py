"""Cutting a recording into clips: trimming silence at the ends, splitting long recordings at pauses.

Used by `hifilite.data.importer`; numpy at import, librosa when a function runs.
"""

from __future__ import annotations

import numpy as np


def trim_silence(wav: np.ndarray, sr: int, top_db: float, margin: float) -> np.ndarray:
    """`wav` without its leading and trailing silence (frames more than `top_db` below the peak),
    keeping `margin` seconds of what was cut at each end."""
    if top_db <= 0 or wav.size == 0:
        return wav
    import librosa

    _, (start, end) = librosa.effects.trim(wav, top_db=top_db, frame_length=1024, hop_length=256)
    pad = int(round(margin * sr))
    return wav[max(0, start - pad): min(len(wav), end + pad)]


def split_long(wav: np.ndarray, sr: int, max_seconds: float, top_db: float) -> list[np.ndarray]:
    """Cut `wav` into pieces of at most `max_seconds`, at pauses where possible.

    The non-silent stretches (`librosa.effects.split`, `top_db` below the peak) are grouped greedily
    in order while a group spans at most `max_seconds`; each piece is a group with up to half of the
    pause on each side (within the limit), so cuts fall in pauses. A stretch longer than
    `max_seconds` on its own is cut into equal pieces.
    """
    limit = int(max_seconds * sr)
    if len(wav) <= limit:
        return [wav]
    import librosa

    spans = librosa.effects.split(wav, top_db=top_db or 40.0, frame_length=1024, hop_length=256)
    if len(spans) == 0:
        spans = np.array([[0, len(wav)]])
    groups: list[list[int]] = []
    for start, end in spans:
        if groups and end - groups[-1][0] <= limit:
            groups[-1][1] = int(end)
        else:
            groups.append([int(start), int(end)])
    bounds = [0] + [(a[1] + b[0]) // 2 for a, b in zip(groups, groups[1:])] + [len(wav)]
    pieces = []
    for (start, end), lo, hi in zip(groups, bounds, bounds[1:]):
        if end - start > limit:  # speech with no pause long enough: equal pieces
            n = -(-(end - start) // limit)
            edges = np.linspace(start, end, n + 1).astype(int)
            pieces += [wav[a:b] for a, b in zip(edges, edges[1:])]
            continue
        pad = (limit - (end - start)) // 2  # keep some of the pause on each side, within the limit
        pieces.append(wav[max(lo, start - pad): min(hi, end + pad)])
    return pieces
