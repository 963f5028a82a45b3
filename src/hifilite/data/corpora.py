"""Speech corpus readers (LJSpeech, VCTK 0.80 / 0.92, any folder of audio) and deterministic splits.

Every reader returns a list of `Utterance` records and never loads audio: reading the 44 k-file
VCTK tree takes a directory walk, not a decode. Splits are a pure function of (seed, utterance id),
so they do not depend on the order files were listed in, on the machine, or on Python's randomised
`hash`; a `splits.json` next to the corpus (written by `synthesize_corpus`) overrides them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..audio import check_audio, is_audio_file
from ..errors import AudioError, ConfigError, DataError

SPLITS = ("train", "val", "test")
SPLIT_FILE = "splits.json"
VCTK_MICS = ("mic1", "mic2")

# Held out for unseen-speaker evaluation: 4 female, 4 male; English, Scottish, Northern Irish,
# Welsh and Indian accents (VCTK speaker-info.txt). A default, not a rule: every function that
# uses it takes the list as an argument.
VCTK_UNSEEN_SPEAKERS: tuple[str, ...] = (
    "p226",  # M, English
    "p228",  # F, English
    "p232",  # M, English
    "p237",  # M, Scottish
    "p238",  # F, Northern Irish
    "p248",  # F, Indian
    "p251",  # M, Indian
    "p253",  # F, Welsh
)


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


# ---------------------------------------------------------------------------------------- splits


def _stable_key(seed: int, uid: str) -> bytes:
    return hashlib.blake2b(f"{seed}\x00{uid}".encode(), digest_size=16).digest()


def _split_size(amount: int | float, total: int, name: str) -> int:
    """`amount` as a count: an int is a count, a float in [0, 1) a fraction of `total` (rounded).
    A non-zero fraction never rounds down to zero once there are 3 utterances (one per split);
    below that, fractions round normally so that a 1- or 2-utterance corpus is all train."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
        raise ConfigError(f"{name} must be a count (int) or a fraction in [0, 1), not {amount!r}")
    if isinstance(amount, float):
        if amount >= 1:
            raise ConfigError(f"{name}={amount}: a fraction must be < 1 (use an int for a count)")
        n = round(amount * total)
        return max(n, 1) if amount > 0 and total >= 3 else n
    return amount


def split_utterances(
    utts: Iterable[Utterance],
    *,
    val: int | float = 0.05,
    test: int | float = 0.05,
    seed: int = 0,
) -> dict[str, list[Utterance]]:
    """Deterministic train/val/test split.

    Utterances are ranked by a BLAKE2 hash of (seed, id), test takes the first ranks, val the next,
    train the rest, so the result is independent of input order and sizes are exact. `val`/`test`
    are counts (int) or fractions (float); with >= 3 utterances a non-zero fraction gets at least
    one, so every split is non-empty with the defaults; 1 or 2 utterances all go to train. Each split is returned sorted by id.

    Raises:
        DataError: duplicate ids, or val + test leaving no training utterances.
    """
    utts = list(utts)
    ids = [u.id for u in utts]
    if len(set(ids)) != len(ids):
        raise DataError("cannot split: utterance ids are not unique")
    n = len(utts)
    n_test = _split_size(test, n, "test")
    n_val = _split_size(val, n, "val")
    if n and n_test + n_val >= n:
        raise DataError(f"val ({n_val}) + test ({n_test}) leave no training data out of {n}")
    ranked = sorted(utts, key=lambda u: _stable_key(seed, u.id))
    parts = {
        "test": ranked[:n_test],
        "val": ranked[n_test : n_test + n_val],
        "train": ranked[n_test + n_val :],
    }
    return {name: sorted(parts[name], key=lambda u: u.id) for name in SPLITS}


def speaker_split(
    utts: Iterable[Utterance],
    held_out_speakers: Iterable[str] = VCTK_UNSEEN_SPEAKERS,
    *,
    val: int | float = 0.02,
    seed: int = 0,
) -> dict[str, list[Utterance]]:
    """Split for unseen-speaker evaluation: every utterance of `held_out_speakers` goes to "test";
    the other speakers' utterances are split into train/val by `split_utterances`.

    Raises:
        DataError: a held-out speaker does not occur in the corpus (a typo would otherwise
            silently evaluate on seen speakers), or no seen speakers remain.
    """
    utts = list(utts)
    held = set(held_out_speakers)
    unknown = sorted(held - {u.speaker for u in utts})
    if unknown:
        raise DataError(f"held-out speaker(s) not in the corpus: {', '.join(unknown)}")
    seen = [u for u in utts if u.speaker not in held]
    if not seen:
        raise DataError("every speaker is held out: nothing left to train on")
    parts = split_utterances(seen, val=val, test=0, seed=seed)
    parts["test"] = sorted((u for u in utts if u.speaker in held), key=lambda u: u.id)
    return parts


def read_split_file(path: str | Path, utts: Iterable[Utterance]) -> dict[str, list[Utterance]]:
    """Apply a `splits.json` ({"train": [ids], "val": [...], "test": [...]}) to `utts`.

    The file must match the corpus exactly: an id in no split, in two splits, or not in the corpus
    is an error rather than an utterance silently lost or duplicated.
    """
    path = Path(path)
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read split file ({exc})") from None
    if not isinstance(spec, dict) or set(spec) - set(SPLITS):
        raise DataError(f"{path}: expected an object with keys {', '.join(SPLITS)}")
    by_id = {u.id: u for u in utts}
    assigned: dict[str, str] = {}
    parts: dict[str, list[Utterance]] = {}
    for name in SPLITS:
        ids = spec.get(name, [])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise DataError(f"{path}: '{name}' must be a list of utterance ids")
        for uid in ids:
            if uid not in by_id:
                raise DataError(f"{path}: id {uid!r} ({name}) is not in the corpus")
            if uid in assigned:
                raise DataError(f"{path}: id {uid!r} is in both {assigned[uid]} and {name}")
            assigned[uid] = name
        parts[name] = sorted((by_id[i] for i in ids), key=lambda u: u.id)
    unassigned = sorted(set(by_id) - set(assigned))
    if unassigned:
        raise DataError(f"{path}: {len(unassigned)} utterance(s) in no split, e.g. {unassigned[0]}")
    return parts


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
