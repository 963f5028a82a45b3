"""Phoneme durations in mel frames: the boundary rounding rule, and Montreal Forced Aligner TextGrids.

A duration is a count of frames of `hop_length` samples; an utterance's durations sum to the frames
the HiFi-GAN front-end yields for its audio (`len(wav) // hop`). Piper alignments are exact by
construction (`hifilite.data.synth.read_alignment`); TextGrid interval ends are rounded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DataError


def durations_from_boundaries(
    ends: Sequence[float], *, sample_rate: int, hop_length: int, num_frames: int | None = None,
    tolerance: int = 2,
) -> np.ndarray:
    """Frame durations of consecutive intervals ending at `ends` seconds (the first starts at 0).

    Rounding rule: each boundary goes to the nearest frame index, `floor(t * sr / hop + 0.5)`
    (halves round up), and a duration is the difference of consecutive boundaries. Rounding the
    boundaries rather than each duration keeps the error from accumulating: every boundary is
    within half a frame of the truth and `sum(durations) == round(ends[-1])`. With `num_frames`
    the last boundary is moved to it (the audio's frame count), which must be within `tolerance`
    frames of the rounded end, else DataError.
    """
    t = np.asarray(ends, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) < 0) or t[0] < 0:
        raise DataError("interval end times must be a non-empty, non-decreasing list of seconds >= 0")
    bounds = np.floor(t * sample_rate / hop_length + 0.5).astype(np.int64)
    if num_frames is not None:
        if abs(int(bounds[-1]) - num_frames) > tolerance:
            raise DataError(f"alignment ends at frame {int(bounds[-1])} but the audio has {num_frames} frames")
        bounds[-1] = num_frames
        bounds = np.minimum(bounds, num_frames)
    durations = np.diff(np.concatenate([[0], bounds]))
    if np.any(durations < 0):
        raise DataError("alignment intervals end after the audio")
    return durations


@dataclass(frozen=True)
class TextGridAlignment:
    phones: list[str]
    durations: np.ndarray  # frames per phone, sum == num_frames


SILENCE_LABELS = ("", "sil", "sp", "spn")
SILENCE = "sil"


def read_textgrid(path: str | Path, tier: str = "phones") -> list[tuple[float, float, str]]:
    """(start, end, label) intervals of one tier of a Praat TextGrid (as MFA writes them), with
    the gaps MFA leaves for silence filled by empty labels, so the intervals tile the file."""
    try:
        from praatio import textgrid
    except ImportError:
        raise DataError("reading TextGrid files needs praatio: pip install 'hifilite[acoustic]'") from None
    path = Path(path)
    try:
        tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=True)
    except Exception as exc:
        raise DataError(f"{path}: not a readable TextGrid ({exc})") from None
    if tier not in tg.tierNames:
        raise DataError(f"{path}: no tier {tier!r} (tiers: {', '.join(tg.tierNames)})")
    entries = [(float(e.start), float(e.end), str(e.label).strip()) for e in tg.getTier(tier).entries]
    out: list[tuple[float, float, str]] = []
    cursor = float(tg.minTimestamp)
    for start, end, label in entries:
        if start > cursor + 1e-6:
            out.append((cursor, start, ""))
        out.append((start, end, label))
        cursor = end
    if float(tg.maxTimestamp) > cursor + 1e-6:
        out.append((cursor, float(tg.maxTimestamp), ""))
    if not out:
        raise DataError(f"{path}: tier {tier!r} is empty")
    return out


def textgrid_alignment(
    path: str | Path, *, sample_rate: int, hop_length: int, num_frames: int, tier: str = "phones",
) -> TextGridAlignment:
    """Phones and frame durations from an MFA TextGrid; silence labels ("", sil, sp, spn) become
    `sil`, and adjacent silences merge."""
    intervals = read_textgrid(path, tier)
    phones: list[str] = []
    ends: list[float] = []
    for _, end, label in intervals:
        phone = SILENCE if label.lower() in SILENCE_LABELS else label
        if phones and phone == SILENCE and phones[-1] == SILENCE:
            ends[-1] = end
        else:
            phones.append(phone)
            ends.append(end)
    durations = durations_from_boundaries(ends, sample_rate=sample_rate, hop_length=hop_length,
                                          num_frames=num_frames)
    return TextGridAlignment(phones, durations)


__all__ = ["durations_from_boundaries", "TextGridAlignment", "read_textgrid", "textgrid_alignment",
           "SILENCE", "SILENCE_LABELS"]
