"""Import any folders of recordings into a corpus the rest of the project reads.

`import_audio(["SRC", ...], "DIR")` walks each source folder, decodes every audio file libsndfile
reads, mixes it down to mono, resamples it to the model rate (soxr), trims leading and trailing
silence, optionally drops clips that are too short and cuts clips that are too long at pauses, and
writes a folder corpus (`hifilite.data.corpora.read_folder` reads it; `corpus info` shows it):

    DIR/<speaker>/<clip>.wav        16-bit mono at `sample_rate`
    DIR/<speaker>/<clip>.txt        transcript, where the text source knows one
    DIR/splits.json                 train / val / test ids (the split every command uses)
    DIR/manifest.csv                one row per clip: id, source file, speaker, split, seconds, ...
    DIR/manifest.json               the settings, the licence note, counts and every skipped file

Speakers are folders: a clip's speaker is its parent folder below the source root (the first
`speaker_depth` components of that path, joined by "-"), so `sound/city/cs/x.ogg` imported from
`sound/` is speaker `city-cs` (clip `city-cs/x`; with depth 1, speaker `city`, clip `city/cs-x`), and
`sounds/en/ball.ogg` imported from `sounds/` is speaker `en`.
Splits are by folder, so that test voices are never heard in training: clips whose folder matches
a `test_folders` pattern go to test, `val_folders` to val, the rest to train with a `val_fraction`
of their clips (hash of the id, as `split_utterances`) moved to val; `all_test` puts everything in
test (an evaluation-only corpus). A pattern is an `fnmatch` glob matched against the folder path
relative to the source root and each of its leading parts: `city` matches `city/cs` and `city/en`.

Files that cannot be decoded, are empty, or are silent are skipped with one warning naming the
count (every skipped file and its reason is in manifest.json), never silently. Re-running with
the same settings reuses the clips already written (a source file whose size and modification time
are unchanged is not decoded again), so an interrupted import resumes.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..audio import AUDIO_EXTENSIONS, load_audio, save_audio
from ..errors import AudioError, ConfigError, DataError
from ..io import atomic_write
from .clips import split_long, trim_silence
from .splits import SPLIT_FILE, SPLITS
from .transcripts import TextSource, make_text_source

MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"
MANIFEST_COLUMNS = ("id", "source", "speaker", "split", "seconds", "sample_rate", "source_rate",
                    "source_channels", "text")
SILENCE_PEAK = 1e-4  # a clip whose peak stays below this (-80 dBFS) holds nothing to learn from
IMPORT_EXTENSIONS = (*AUDIO_EXTENSIONS, ".opus", ".oga")  # libsndfile reads Opus and Vorbis in Ogg


@dataclass(frozen=True)
class ImportSettings:
    """How sources become clips (everything that changes the written audio or the splits).

    Attributes:
        sample_rate: output rate (the model's, 22 050 Hz).
        trim_db: silence threshold for trimming the ends, in dB below the clip's peak
            (`librosa.effects.trim`'s `top_db`); 0 turns trimming off.
        trim_margin: seconds of the trimmed-off audio kept at each end, so word onsets and
            releases are not clipped.
        min_seconds: clips shorter than this (after trimming) are skipped; 0 keeps all.
        max_seconds: clips longer than this are cut at pauses (stretches `trim_db` below the
            peak) into pieces of at most this length; a stretch of speech longer than it with no
            pause is cut into equal pieces. None keeps clips whole.
        speaker_depth: how many folder levels below the source root name the speaker
            (None: the whole folder path).
        test_folders / val_folders: glob patterns of folders whose clips go to test / val.
        val_fraction: fraction of the remaining clips moved to val (by a hash of the id).
        all_test: every clip in test (an evaluation-only corpus); the folder options must then
            be empty.
        exclude: glob patterns (on the path relative to the source root) of files to leave out.
        dedupe: skip a file whose bytes equal an earlier file's (packages ship copies).
        seed: seed of the val hash.
        licence: a note stored in manifest.json (where the audio comes from, what it may be
            used for).
    """

    sample_rate: int = 22050
    trim_db: float = 40.0
    trim_margin: float = 0.05
    min_seconds: float = 0.0
    max_seconds: float | None = None
    speaker_depth: int | None = None
    test_folders: tuple[str, ...] = ()
    val_folders: tuple[str, ...] = ()
    val_fraction: float = 0.0
    all_test: bool = False
    exclude: tuple[str, ...] = ()
    dedupe: bool = True
    seed: int = 0
    licence: str = ""

    def check(self) -> "ImportSettings":
        if self.sample_rate < 1000:
            raise ConfigError(f"sample rate {self.sample_rate} Hz is too low")
        if self.trim_db < 0 or self.trim_margin < 0 or self.min_seconds < 0:
            raise ConfigError("trim threshold, trim margin and minimum duration must be >= 0")
        if self.max_seconds is not None and self.max_seconds <= max(self.min_seconds, 0.1):
            raise ConfigError(f"max duration {self.max_seconds} s must exceed the minimum "
                              f"({self.min_seconds} s) and 0.1 s")
        if self.speaker_depth is not None and self.speaker_depth < 1:
            raise ConfigError("speaker depth must be >= 1 (or unset for the whole folder path)")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"val fraction must be in [0, 1), not {self.val_fraction}")
        if self.all_test and (self.test_folders or self.val_folders or self.val_fraction):
            raise ConfigError("all-test puts every clip in test: give no test/val folders or val fraction")
        return self


@dataclass
class ImportResult:
    """What an import wrote: the corpus folder, its clips (manifest rows) and the skipped files."""

    root: Path
    rows: list[dict]
    skipped: list[dict] = field(default_factory=list)
    reused: int = 0

    def seconds(self, split: str | None = None) -> float:
        return sum(r["seconds"] for r in self.rows if split is None or r["split"] == split)

    def count(self, split: str | None = None) -> int:
        return sum(1 for r in self.rows if split is None or r["split"] == split)

    def speakers(self, split: str | None = None) -> list[str]:
        return sorted({r["speaker"] for r in self.rows if split is None or r["split"] == split})


# -------------------------------------------------------------------------------------- the walk


def _matches(folder: str, patterns: Iterable[str]) -> bool:
    parts = folder.split("/") if folder else []
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatchcase(p, pat) for pat in patterns for p in prefixes)


def _speaker(folder: str, depth: int | None, root: Path) -> str:
    parts = folder.split("/") if folder else [root.resolve().name]
    return "-".join(parts[:depth] if depth else parts)


def _val_hash(seed: int, uid: str) -> float:
    digest = hashlib.blake2b(f"{seed}\x00{uid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _sources(roots: Sequence[Path], exclude: Sequence[str]) -> list[tuple[Path, Path]]:
    """(root, file) for every non-hidden audio file under the roots, in a stable order."""
    found = []
    for root in roots:
        if not root.is_dir():
            raise DataError(f"{root}: source folder does not exist")
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if any(part.startswith(".") for part in rel.split("/")) or path.suffix.lower() not in IMPORT_EXTENSIONS:
                continue
            if not path.is_file() or any(fnmatch.fnmatchcase(rel, pat) or _matches(rel, [pat]) for pat in exclude):
                continue
            found.append((root, path))
    return found


def _previous(out: Path, settings: ImportSettings) -> dict[str, list[dict]]:
    """Rows of an earlier import with the same settings, by source path (for resuming)."""
    meta_path, rows_path = out / MANIFEST_JSON, out / MANIFEST_CSV
    if not (meta_path.is_file() and rows_path.is_file()):
        return {}
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}
    if meta.get("settings") != _settings_dict(settings):
        return {}
    by_source: dict[str, list[dict]] = {}
    with rows_path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            by_source.setdefault(row["source"], []).append(row)
    stamps = meta.get("sources", {})
    return {src: rows for src, rows in by_source.items() if stamps.get(src)}


def _settings_dict(settings: ImportSettings) -> dict:
    d = asdict(settings)
    d.pop("licence")  # a note, not something that changes the audio
    return json.loads(json.dumps(d))  # tuples as lists, as they come back from the file


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def import_audio(
    sources: Sequence[str | Path],
    out: str | Path,
    settings: ImportSettings = ImportSettings(),
    *,
    text: str | TextSource = "auto",
    progress: bool = False,
) -> ImportResult:
    """Import every audio file under `sources` into the folder corpus `out` (see the module doc).

    `text` is a text-source kind (see `make_text_source`) or a callable `Path -> str | None`.

    Raises:
        DataError: a source folder is missing, two files map to the same clip id, nothing could be
            imported, or the folder split leaves no training clip (unless `all_test`).
        ConfigError: invalid settings.
    """
    settings.check()
    roots = [Path(s) for s in sources]
    if not roots:
        raise ConfigError("give at least one source folder")
    out = Path(out)
    if out.is_dir() and not (out / MANIFEST_JSON).is_file() and any(
            p.suffix.lower() in IMPORT_EXTENSIONS for p in out.rglob("*")):
        raise DataError(f"{out}: holds audio but no {MANIFEST_JSON}; import into a new or empty folder")
    if not (out / MANIFEST_JSON).is_file():  # marks the folder as an import's, before any clip is written
        first = json.dumps({"settings": _settings_dict(settings), "sources": {}})
        atomic_write(out / MANIFEST_JSON, lambda tmp: Path(tmp).write_text(first))
    lookup = make_text_source(text, roots) if isinstance(text, str) else text
    files = _sources(roots, settings.exclude)
    if not files:
        raise DataError(f"no audio files under {', '.join(map(str, roots))}")
    previous = _previous(out, settings)
    old_stamps = {}
    if previous:
        old_stamps = json.loads((out / MANIFEST_JSON).read_text(encoding="utf-8")).get("sources", {})

    iterator: Iterable = files
    if progress:
        from ..console import progress as progress_bar

        iterator = progress_bar(files, "importing")
    rows: list[dict] = []
    skipped: list[dict] = []
    stamps: dict[str, list[int]] = {}
    seen_hash: dict[str, str] = {}
    taken: dict[str, str] = {}
    reused = 0
    for root, path in iterator:
        src = str(path.resolve())
        rel = path.relative_to(root)
        folder = rel.parent.as_posix() if rel.parent != Path(".") else ""
        if settings.dedupe:
            digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
            if digest in seen_hash:
                skipped.append({"source": src, "reason": f"same bytes as {seen_hash[digest]}"})
                continue
            seen_hash[digest] = src
        speaker = _speaker(folder, settings.speaker_depth, root)
        rest = folder.split("/")[settings.speaker_depth:] if folder and settings.speaker_depth else []
        base = f"{speaker}/{'-'.join([*rest, path.stem])}"  # folders below the speaker's go into the name
        if base in taken:
            raise DataError(f"{path} and {taken[base]} both become clip {base!r}; "
                            "import them into separate corpora or exclude one")
        taken[base] = src
        split = _split_of(folder, base, settings)
        stamp = _stamp(path)
        old = previous.get(src)
        if old and old_stamps.get(src) == stamp and all((out / f"{r['id']}.wav").is_file() for r in old):
            for r in old:  # unchanged source, same settings: keep its clips (split options may differ)
                rows.append(_row(r["id"], src, speaker, split, float(r["seconds"]), settings.sample_rate,
                                 int(r["source_rate"]), int(r["source_channels"]), r["text"]))
            stamps[src] = stamp
            reused += 1
            continue
        try:
            pieces, rate, channels = _decode(path, settings)
        except AudioError as exc:
            skipped.append({"source": src, "reason": str(exc).removeprefix(f"{path}: ")})
            continue
        if not pieces:
            skipped.append({"source": src, "reason": f"silent or shorter than {settings.min_seconds} s"})
            continue
        words = lookup(path) or ""
        for i, wav in enumerate(pieces):
            uid = base if len(pieces) == 1 else f"{base}_{i:02d}"
            save_audio(out / f"{uid}.wav", wav, settings.sample_rate)
            text_file = out / f"{uid}.txt"
            if words and len(pieces) == 1:  # a word list cannot be split with the audio
                atomic_write(text_file, lambda tmp, w=words: Path(tmp).write_text(w + "\n", encoding="utf-8"))
            else:
                text_file.unlink(missing_ok=True)
            rows.append(_row(uid, src, speaker, split, len(wav) / settings.sample_rate, settings.sample_rate,
                             rate, channels, words if len(pieces) == 1 else ""))
        stamps[src] = stamp
    if skipped:
        warnings.warn(f"skipped {len(skipped)} of {len(files)} file(s) (unreadable, empty, silent, too short "
                      f"or duplicate; reasons in {out / MANIFEST_JSON})", stacklevel=2)
    if not rows:
        raise DataError(f"nothing imported: all {len(files)} file(s) were skipped")
    result = ImportResult(out, sorted(rows, key=lambda r: r["id"]), skipped, reused)
    if not settings.all_test and result.count("train") == 0:
        raise DataError("the folder split leaves no training clips (use --all-test for an evaluation-only corpus)")
    _write(result, settings, stamps, roots)
    return result


def _split_of(folder: str, uid: str, settings: ImportSettings) -> str:
    if settings.all_test or _matches(folder, settings.test_folders):
        return "test"
    if _matches(folder, settings.val_folders):
        return "val"
    if settings.val_fraction and _val_hash(settings.seed, uid) < settings.val_fraction:
        return "val"
    return "train"


def _decode(path: Path, s: ImportSettings) -> tuple[list[np.ndarray], int, int]:
    """The clip(s) one source file becomes (empty when it is silent or too short)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:
        raise AudioError(f"{path}: cannot decode audio ({' '.join(str(exc).split())})") from None
    wav, sr = load_audio(path, s.sample_rate)  # mono mix-down and soxr resampling
    if float(np.abs(wav).max()) < SILENCE_PEAK:
        return [], info.samplerate, info.channels
    wav = trim_silence(wav, sr, s.trim_db, s.trim_margin)
    pieces = split_long(wav, sr, s.max_seconds, s.trim_db) if s.max_seconds else [wav]
    if len(pieces) > 1:
        pieces = [trim_silence(p, sr, s.trim_db, s.trim_margin) for p in pieces]
    pieces = [p for p in pieces if len(p) >= max(s.min_seconds * sr, 1) and float(np.abs(p).max()) >= SILENCE_PEAK]
    return pieces, info.samplerate, info.channels


def _row(uid, source, speaker, split, seconds, rate, source_rate, channels, text) -> dict:
    return {"id": uid, "source": source, "speaker": speaker, "split": split, "seconds": round(seconds, 4),
            "sample_rate": rate, "source_rate": source_rate, "source_channels": channels, "text": text}


def _write(result: ImportResult, settings: ImportSettings, stamps: dict, roots: Sequence[Path]) -> None:
    out = result.root
    old_csv = out / MANIFEST_CSV
    if old_csv.is_file():  # clips an earlier import wrote that this one did not: remove them
        keep = {r["id"] for r in result.rows}
        with old_csv.open(encoding="utf-8", newline="") as f:
            stale = {r["id"] for r in csv.DictReader(f)} - keep
        for uid in stale:
            (out / f"{uid}.wav").unlink(missing_ok=True)
            (out / f"{uid}.txt").unlink(missing_ok=True)
    splits = {name: [r["id"] for r in result.rows if r["split"] == name] for name in SPLITS}
    atomic_write(out / SPLIT_FILE, lambda tmp: Path(tmp).write_text(json.dumps(splits, indent=1)))

    def write_csv(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
            writer.writeheader()
            writer.writerows(result.rows)

    atomic_write(out / MANIFEST_CSV, write_csv)
    summary = {name: {"clips": result.count(name), "minutes": round(result.seconds(name) / 60, 2),
                      "speakers": len(result.speakers(name))} for name in SPLITS}
    meta = {"sources": stamps, "roots": [str(r.resolve()) for r in roots], "settings": _settings_dict(settings),
            "licence": settings.licence, "summary": summary, "skipped": result.skipped}
    atomic_write(out / MANIFEST_JSON, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1)))
