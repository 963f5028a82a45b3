"""Speech corpora: readers (LJSpeech, VCTK 0.80 / 0.92, any folder of audio), deterministic splits, summaries.

Every reader returns a list of `Utterance` records and never loads audio: reading the 44 k-file
VCTK tree takes a directory walk, not a decode. Splits are a pure function of (seed, utterance id),
so they do not depend on the order files were listed in, on the machine, or on Python's randomised
`hash`; a `splits.json` next to the corpus (written by `synthesize_corpus`) overrides them.

The readers are in `hifilite.data.readers` and the splits in `hifilite.data.splits`; this module
reads a corpus and applies its split (`corpus_splits`, `load_split`), summarises it, and keeps
every name of the two importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..audio import check_audio
from ..errors import AudioError, ConfigError
from .readers import (  # noqa: F401  (importable from here too)
    VCTK_MICS,
    Layout,
    Utterance,
    detect_layout,
    read_corpus,
    read_folder,
    read_ljspeech,
    read_vctk,
)
from .splits import (  # noqa: F401  (importable from here too)
    SPLIT_FILE,
    SPLITS,
    VCTK_UNSEEN_SPEAKERS,
    read_split_file,
    speaker_split,
    split_utterances,
)


# ---------------------------------------------------------------------------------------- splits


def corpus_splits(
    root: str | Path,
    *,
    val: int | float = 0.05,
    test: int | float = 0.05,
    seed: int = 0,
    held_out_speakers: Iterable[str] | None = None,
) -> dict[str, list[Utterance]]:
    """Read a corpus and split it: `root/splits.json` if it exists, else a speaker split when
    `held_out_speakers` is given, else the hash split."""
    utts = read_corpus(root)
    split_file = Path(root) / SPLIT_FILE
    if split_file.is_file():
        return read_split_file(split_file, utts)
    if held_out_speakers is not None:
        return speaker_split(utts, held_out_speakers, val=val, seed=seed)
    return split_utterances(utts, val=val, test=test, seed=seed)


def load_split(
    root: str | Path,
    split: str,
    *,
    val: int | float = 0.05,
    test: int | float = 0.05,
    seed: int = 0,
    held_out_speakers: Iterable[str] | None = None,
) -> list[Utterance]:
    """The utterances of one split ("train", "val" or "test") of the corpus at `root`."""
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    parts = corpus_splits(root, val=val, test=test, seed=seed, held_out_speakers=held_out_speakers)
    return parts[split]


# --------------------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class CorpusSummary:
    """What `hifilite corpus info` shows. `seconds` sums the audio headers (no decoding);
    `unreadable` counts files that fail `hifilite.audio.check_audio` (undecodable header, empty,
    truncated): the files training would refuse before its first step."""

    root: Path
    layout: Layout
    utterances: int
    speakers: dict[str, int]
    untranscribed: int
    seconds: float
    unreadable: int
    splits: dict[str, int]
    split_source: str


def summarize_corpus(
    root: str | Path, *, val: int | float = 0.05, test: int | float = 0.05, seed: int = 0
) -> CorpusSummary:
    """Count utterances, speakers, audio duration and split sizes of the corpus at `root`."""
    import soundfile as sf

    root = Path(root)
    layout = detect_layout(root)
    utts = read_corpus(root)
    seconds, unreadable = 0.0, 0
    for u in utts:
        try:
            check_audio(u.wav_path)  # the check training makes before its first step
            info = sf.info(str(u.wav_path))
            seconds += info.frames / info.samplerate
        except (AudioError, RuntimeError, ValueError):  # sf.LibsndfileError is a RuntimeError
            unreadable += 1
    speakers: dict[str, int] = {}
    for u in utts:
        speakers[u.speaker] = speakers.get(u.speaker, 0) + 1
    split_file = root / SPLIT_FILE
    if split_file.is_file():
        parts, source = read_split_file(split_file, utts), SPLIT_FILE
    else:
        parts, source = split_utterances(utts, val=val, test=test, seed=seed), f"hash (seed {seed})"
    return CorpusSummary(
        root=root,
        layout=layout,
        utterances=len(utts),
        speakers=dict(sorted(speakers.items())),
        untranscribed=sum(1 for u in utts if not u.text),
        seconds=seconds,
        unreadable=unreadable,
        splits={k: len(v) for k, v in parts.items()},
        split_source=source,
    )
