"""Speech corpus readers: LJSpeech, VCTK 0.80 / 0.92, any folder of audio.

Every reader returns a list of `Utterance` records and never loads audio: reading the 44 k-file
VCTK tree takes a directory walk, not a decode. `hifilite.data.corpora` splits and summarises what
they read.
"""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..audio import is_audio_file
from ..errors import ConfigError, DataError

VCTK_MICS = ("mic1", "mic2")


@dataclass(frozen=True)
class Utterance:
    """One recording: a unique `id` within its corpus, the audio file, its transcript ("" when the
    corpus has none) and the speaker. `alignment_path` points at per-phoneme durations when the
    corpus was synthesised (see `hifilite.data.synth`)."""

    id: str
    wav_path: Path
    text: str
    speaker: str
    alignment_path: Path | None = None


# --------------------------------------------------------------------------------------- readers


def _existing_dir(root: str | Path) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: corpus folder does not exist")
    return root


def _read_text(path: Path) -> str:
    """A transcript file's text on one line. A few VCTK files are not valid UTF-8."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return " ".join(text.split())


def _ljspeech_speaker(root: Path) -> str:
    """Speaker of a single-speaker corpus: corpus.json's `speaker` (synthesised corpora), "LJ" for
    the LJSpeech release folder, else the folder name."""
    info = root / "corpus.json"
    if info.is_file():
        try:
            speaker = json.loads(info.read_text(encoding="utf-8")).get("speaker")
        except (json.JSONDecodeError, AttributeError):
            raise DataError(f"{info}: not a JSON object") from None
        if speaker:
            return str(speaker)
    name = root.resolve().name
    return "LJ" if name.lower().startswith("ljspeech") else name


def read_ljspeech(
    root: str | Path,
    *,
    speaker: str | None = None,
    on_missing: Literal["error", "skip"] = "error",
) -> list[Utterance]:
    """Read an LJSpeech-layout corpus: `metadata.csv` (`id|raw text|normalized text`, no header, no
    quoting) and `wavs/<id>.wav`.

    The normalized text (third field) is used when present, else the raw text; rows with only two
    fields exist in the wild. Utterances keep the metadata order. A row whose wav is missing is an
    error listing the missing ids (`on_missing="error"`), or is dropped with a `UserWarning` giving
    the count (`on_missing="skip"`): never silently.
    """
    if on_missing not in ("error", "skip"):
        raise ConfigError(f"on_missing must be 'error' or 'skip', not {on_missing!r}")
    root = _existing_dir(root)
    meta = root / "metadata.csv"
    if not meta.is_file():
        raise DataError(f"{root}: no metadata.csv (not an LJSpeech-layout corpus)")
    speaker = speaker or _ljspeech_speaker(root)
    align_dir = root / "alignments"
    utts: list[Utterance] = []
    missing: list[str] = []
    seen: set[str] = set()
    with meta.open(encoding="utf-8", newline="") as f:
        for lineno, row in enumerate(csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE), 1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2:
                raise DataError(f"{meta}:{lineno}: expected 'id|text[|normalized text]'")
            uid = row[0].strip()
            if not uid or uid in seen:
                raise DataError(f"{meta}:{lineno}: empty or duplicate id {uid!r}")
            seen.add(uid)
            text = row[2].strip() if len(row) > 2 and row[2].strip() else row[1].strip()
            wav = root / "wavs" / f"{uid}.wav"
            if not wav.is_file():
                missing.append(uid)
                continue
            align = align_dir / f"{uid}.json"
            utts.append(Utterance(uid, wav, text, speaker, align if align.is_file() else None))
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        msg = f"{root}: {len(missing)} metadata row(s) have no wavs/<id>.wav ({shown})"
        if on_missing == "error":
            raise DataError(msg)
        warnings.warn(msg + "; skipped", stacklevel=2)
    if not utts:
        raise DataError(f"{root}: metadata.csv lists no utterances with audio")
    return utts


def read_vctk(root: str | Path, *, mic: str = "mic1") -> list[Utterance]:
    """Read VCTK 0.92 (`wav48_silence_trimmed/pXXX/pXXX_YYY_<mic>.flac`) or 0.80
    (`wav48/pXXX/pXXX_YYY.wav`), with transcripts from `txt/pXXX/pXXX_YYY.txt`.

    0.92 records every sentence with two microphones; only `mic` is read, and ids drop the mic
    suffix (`p225_001`) so they match the transcript names. Audio without a transcript (all of
    p315, a few others) is kept with text "" — vocoders need no text. Transcripts without audio
    are ignored. Sorted by id.
    """
    if mic not in VCTK_MICS:
        raise ConfigError(f"mic must be one of {VCTK_MICS}, not {mic!r}")
    root = _existing_dir(root)
    if (root / "wav48_silence_trimmed").is_dir():
        audio_dir, pattern, suffix = root / "wav48_silence_trimmed", f"*_{mic}.flac", f"_{mic}"
    elif (root / "wav48").is_dir():
        audio_dir, pattern, suffix = root / "wav48", "*.wav", ""
    else:
        raise DataError(f"{root}: no wav48_silence_trimmed/ or wav48/ (not a VCTK corpus)")
    txt_dir = root / "txt"
    utts = []
    for wav in audio_dir.glob(f"*/{pattern}"):
        if wav.name.startswith("."):
            continue
        speaker = wav.parent.name
        uid = wav.stem[: len(wav.stem) - len(suffix)] if suffix else wav.stem
        txt = txt_dir / speaker / f"{uid}.txt"
        utts.append(Utterance(uid, wav, _read_text(txt) if txt.is_file() else "", speaker))
    if not utts:
        raise DataError(f"{audio_dir}: no {pattern} files")
    utts.sort(key=lambda u: u.id)
    _check_unique(utts, root)
    return utts


def read_folder(root: str | Path) -> list[Utterance]:
    """Read every audio file under `root` (recursively; hidden files are skipped).

    The transcript is a sibling `<stem>.txt` or `<stem>.lab` if one exists, else "". The speaker is
    the parent folder's name. The id is the path relative to `root` without extension, with "/"
    separators (`spk1/utt01`), which keeps ids unique when speakers reuse file names; consumers
    that build file names from ids must allow the "/".
    """
    root = _existing_dir(root)
    utts = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not is_audio_file(path):
            continue
        if not path.is_file():
            continue
        text = ""
        for ext in (".txt", ".lab"):
            if path.with_suffix(ext).is_file():
                text = _read_text(path.with_suffix(ext))
                break
        utts.append(Utterance(rel.with_suffix("").as_posix(), path, text, path.parent.name))
    if not utts:
        raise DataError(f"{root}: no audio files found")
    utts.sort(key=lambda u: u.id)
    _check_unique(utts, root)
    return utts


def _check_unique(utts: Sequence[Utterance], root: Path) -> None:
    ids = [u.id for u in utts]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise DataError(f"{root}: several audio files map to the same id: {', '.join(dup)}")


Layout = Literal["ljspeech", "vctk", "folder"]


def detect_layout(root: str | Path) -> Layout:
    """The layout of `root`: "ljspeech" (metadata.csv + wavs/), "vctk" (wav48_silence_trimmed/
    or wav48/), else "folder"."""
    root = _existing_dir(root)
    if (root / "metadata.csv").is_file() and (root / "wavs").is_dir():
        return "ljspeech"
    if (root / "wav48_silence_trimmed").is_dir() or (root / "wav48").is_dir():
        return "vctk"
    return "folder"


def read_corpus(root: str | Path) -> list[Utterance]:
    """Read a corpus of any supported layout (see `detect_layout`)."""
    layout = detect_layout(root)
    reader = {"ljspeech": read_ljspeech, "vctk": read_vctk, "folder": read_folder}[layout]
    return reader(root)
