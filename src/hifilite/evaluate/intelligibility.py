"""Intelligibility: what an independent recogniser hears, as word and character error rates.

    from hifilite.evaluate.intelligibility import Recognizer, intelligibility

    asr = Recognizer()
    result = intelligibility(texts, wavs, sample_rate=22050, recognizer=asr)
    result["wer"], result["cer"], result["buckets"]["9-16"]["wer"], result["rows"][0]["hypothesis"]

The recogniser is pocketsphinx with the US English acoustic model, language model and dictionary
inside its wheel (offline, no download), default configuration, audio resampled to 16 kHz mono
int16. It is weak next to modern recognisers (about 20 % WER on clean synthetic speech), so its
numbers compare systems with each other on the same sentences; they are not absolute. The
cepstral mean is reset before every utterance, so a sentence's transcript does not depend on
which sentences were decoded before it.

Reference and hypothesis are normalised the same way (`normalize_transcript`): the project's text
normaliser (numbers, dates, currency and abbreviations to words, as the speech front-end reads
them, so "5" in a reference matches "five" from the recogniser), lower case, hyphens and slashes
to spaces, apostrophes and other punctuation removed, whitespace collapsed, and runs of single
letters joined (the front-end's "PM" and "U S" and the dictionary's "p.m." and "u.s." all become
"pm" and "us"). The scores:

- corpus **WER** = (substitutions + deletions + insertions) / reference words over all sentences
  (not a mean of per-sentence rates, which would weigh a three-word sentence like a thirty-word
  one); **CER** the same on characters (spaces between words count as characters);
- per sentence: words, the three edit counts, WER, CER, hypothesis;
- per length bucket of normalised reference words (`LENGTH_BUCKETS`: 1-8, 9-16, 17+): sentences,
  words and the bucket's corpus WER and CER. Long sentences are where weak models fail first.

The held-out sentences (`hifilite/assets/heldout_sentences.txt`, `heldout_sentences()`) exist to
be scored here: no model may be trained on them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import ConfigError, DataError, HifiliteError
from ..measure import Stopwatch

ASR_SAMPLE_RATE = 16000
# (label, fewest, most) normalised reference words; None = no upper bound
LENGTH_BUCKETS: tuple[tuple[str, int, int | None], ...] = (("1-8", 1, 8), ("9-16", 9, 16), ("17+", 17, None))
HELDOUT_ASSET = "assets/heldout_sentences.txt"


# ------------------------------------------------------------------------------- normalisation

_DROP = re.compile(r"[<\[][^>\]]*[>\]]")  # recogniser fillers such as <sil> or [NOISE]
_ALTERNATE = re.compile(r"\(\d+\)")  # dictionary alternates: "read(2)"
_SPLIT = re.compile(r"[-‐‑‒–—/_]+")
_NOT_WORD = re.compile(r"[^\w\s]+")
_LETTERS = re.compile(r"\b[a-z](?: [a-z]\b)+")  # "p m", "u s": letters said one by one


def normalize_transcript(text: str) -> str:
    """`"Mr. Lee paid $5 at 10:30-ish!"` -> `"mister lee paid five dollars at ten thirty ish"`.

    The same function for references and for recogniser output, so that only differences in the
    words count (see the module docstring)."""
    from ..text.normalize import normalize_text

    text = _ALTERNATE.sub("", _DROP.sub(" ", unicodedata.normalize("NFKC", text)))
    text = normalize_text(text).lower()
    text = _SPLIT.sub(" ", text).replace("'", "").replace("`", "")
    text = " ".join(_NOT_WORD.sub(" ", text).replace("_", " ").split())
    return _LETTERS.sub(lambda m: m.group(0).replace(" ", ""), text)


# ---------------------------------------------------------------------------------- recogniser


class Recognizer:
    """pocketsphinx's bundled US English recogniser: float audio at any rate -> lower-case words.

    One decoder, loaded once (about 0.3 s); `seconds` and `compute_s` accumulate the audio decoded
    and the time it took (resampling included), so `x_real_time` is its speed on this machine. The
    decoder runs on the calling thread only.
    """

    def __init__(self) -> None:
        try:
            import pocketsphinx
        except ImportError:  # pragma: no cover - declared in the eval extra
            raise HifiliteError("pocketsphinx is not installed: pip install 'hifilite[eval]'") from None
        self.decoder = pocketsphinx.Decoder(loglevel="FATAL")  # the bundled model, default settings
        self._cmn = self.decoder.get_cmn()
        self.seconds = 0.0
        self.compute_s = 0.0

    @property
    def x_real_time(self) -> float:
        """Seconds of audio decoded per second of compute, so far."""
        return self.seconds / self.compute_s if self.compute_s else float("nan")

    def __call__(self, wav: np.ndarray, sample_rate: int) -> str:
        from ..audio import resample

        wav = np.asarray(wav, dtype=np.float32).reshape(-1)
        if wav.size == 0:  # nothing said, nothing heard
            return ""
        if not np.isfinite(wav).all():
            raise DataError("audio to transcribe contains NaN or infinite samples")
        with Stopwatch() as sw:
            x = resample(wav, int(sample_rate), ASR_SAMPLE_RATE)
            pcm = (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
            self.decoder.set_cmn(self._cmn)
            self.decoder.start_utt()
            self.decoder.process_raw(pcm, full_utt=True)
            self.decoder.end_utt()
            hyp = self.decoder.hyp()
        self.compute_s += sw.seconds
        self.seconds += len(wav) / sample_rate
        return " ".join(hyp.hypstr.split()) if hyp is not None else ""


# --------------------------------------------------------------------------------------- scores


@dataclass(frozen=True)
class Counts:
    """Edit counts of one sentence after normalisation."""

    words: int
    substitutions: int
    deletions: int
    insertions: int
    chars: int
    char_errors: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions


def count_errors(reference: str, hypothesis: str) -> Counts:
    """Word and character edit counts of two already normalised strings (reference not empty)."""
    try:
        import jiwer
    except ImportError:  # pragma: no cover - declared in the eval extra
        raise HifiliteError("jiwer is not installed: pip install 'hifilite[eval]'") from None
    if not reference:
        raise DataError("a reference text has no words after normalisation")
    w = jiwer.process_words(reference, hypothesis)
    c = jiwer.process_characters(reference, hypothesis)
    return Counts(words=len(reference.split()), substitutions=w.substitutions, deletions=w.deletions,
                  insertions=w.insertions, chars=len(reference),
                  char_errors=c.substitutions + c.deletions + c.insertions)


def _rate(errors: int, total: int) -> float:
    return errors / total if total else float("nan")


def bucket_of(words: int) -> str:
    for label, lo, hi in LENGTH_BUCKETS:
        if words >= lo and (hi is None or words <= hi):
            return label
    raise DataError(f"no length bucket for {words} word(s)")


def _summary(counts: Iterable[Counts]) -> dict[str, Any]:
    counts = list(counts)
    words, chars = sum(c.words for c in counts), sum(c.chars for c in counts)
    errors, char_errors = sum(c.errors for c in counts), sum(c.char_errors for c in counts)
    return {"sentences": len(counts), "words": words, "errors": errors, "wer": _rate(errors, words),
            "chars": chars, "char_errors": char_errors, "cer": _rate(char_errors, chars)}


def score(references: Sequence[str], hypotheses: Sequence[str], ids: Sequence[str] | None = None) -> dict[str, Any]:
    """Corpus WER/CER, per-sentence rows and per-length buckets of raw texts and transcripts.

    Returns {"wer", "cer", "sentences", "words", "errors", "chars", "char_errors",
    "buckets": {label: the same summary}, "rows": [{"id", "reference", "hypothesis", "words",
    "substitutions", "deletions", "insertions", "wer", "cer", "bucket"}]}."""
    if len(references) != len(hypotheses):
        raise ConfigError(f"{len(references)} reference(s) but {len(hypotheses)} hypothesis(es)")
    if not references:
        raise DataError("nothing to score: no reference texts")
    ids = list(ids) if ids is not None else [str(i) for i in range(len(references))]
    if len(ids) != len(references):
        raise ConfigError(f"{len(ids)} id(s) for {len(references)} reference(s)")
    rows, counts = [], []
    for uid, ref, hyp in zip(ids, references, hypotheses):
        r, h = normalize_transcript(ref), normalize_transcript(hyp)
        if not r:
            raise DataError(f"{uid}: reference {ref!r} has no words after normalisation")
        c = count_errors(r, h)
        counts.append(c)
        rows.append({"id": uid, "reference": r, "hypothesis": h, "words": c.words, "substitutions": c.substitutions,
                     "deletions": c.deletions, "insertions": c.insertions, "wer": _rate(c.errors, c.words),
                     "cer": _rate(c.char_errors, c.chars), "bucket": bucket_of(c.words)})
    out = _summary(counts)
    out["buckets"] = {label: _summary(c for c, row in zip(counts, rows) if row["bucket"] == label)
                      for label, _, _ in LENGTH_BUCKETS}
    out["rows"] = rows
    return out


def intelligibility(texts: Sequence[str], wavs: Sequence[np.ndarray], sample_rate: int, *,
                    ids: Sequence[str] | None = None, recognizer: Recognizer | None = None) -> dict[str, Any]:
    """Transcribe each wav and `score` it against its text; adds "asr_x_real_time" (the recogniser's speed
    on these wavs, seconds of audio per second, one thread)."""
    if len(texts) != len(wavs):
        raise ConfigError(f"{len(texts)} text(s) but {len(wavs)} wav(s)")
    asr = recognizer or Recognizer()
    seconds, compute = asr.seconds, asr.compute_s
    hypotheses = [asr(w, sample_rate) for w in wavs]
    out = score(texts, hypotheses, ids)
    spent = asr.compute_s - compute
    out["asr_x_real_time"] = (asr.seconds - seconds) / spent if spent else float("nan")
    return out


def compact(result: dict[str, Any]) -> dict[str, Any]:
    """A result without its reference texts: what a benchmark report keeps per system (the
    references are the report's sentences; the hypotheses and edit counts stay)."""
    rows = [{k: v for k, v in row.items() if k != "reference"} for row in result["rows"]]
    return {**{k: v for k, v in result.items() if k != "rows"}, "rows": rows}


# ----------------------------------------------------------------------------- texts and files


def heldout_sentences() -> list[str]:
    """The held-out sentences shipped for intelligibility tests: no model is trained on them."""
    text = resources.files("hifilite").joinpath(HELDOUT_ASSET).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def heldout_path() -> Path:
    """The held-out sentence file on disk (for `hifilite corpus synth --texts`)."""
    return Path(str(resources.files("hifilite").joinpath(HELDOUT_ASSET)))


def _natural_key(path: Path) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]


def audio_files(folder: str | Path) -> list[Path]:
    """The audio files directly inside `folder`, in natural order (`x-2.wav` before `x-10.wav`)."""
    from ..audio import is_audio_file

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    files = [p for p in folder.iterdir() if p.is_file() and is_audio_file(p) and not p.name.startswith(".")]
    if not files:
        raise DataError(f"{folder}: no audio files")
    return sorted(files, key=_natural_key)


def score_files(texts: Sequence[str], files: Sequence[str | Path], *,
                recognizer: Recognizer | None = None) -> dict[str, Any]:
    """`intelligibility` of audio files, the i-th file speaking the i-th text; ids are file names."""
    from ..audio import load_audio

    if len(texts) != len(files):
        raise DataError(f"{len(texts)} text(s) but {len(files)} audio file(s): give one audio file per text line")
    asr = recognizer or Recognizer()
    hypotheses, seconds, compute = [], asr.seconds, asr.compute_s
    for path in files:
        wav, sr = load_audio(path)
        hypotheses.append(asr(wav, sr))
    out = score(texts, hypotheses, [Path(p).name for p in files])
    spent = asr.compute_s - compute
    out["asr_x_real_time"] = (asr.seconds - seconds) / spent if spent else float("nan")
    return out


ALL_SPLITS = "all"  # every utterance of a corpus, e.g. one made of held-out sentences only


def corpus_utterances(root: str | Path, split: str = "test", limit: int | None = None) -> list:
    """The utterances of one split of a corpus, or of every split with `split="all"` (in id order)."""
    from ..data.corpora import SPLITS, corpus_splits, load_split

    if split == ALL_SPLITS:
        utts = sorted((u for part in corpus_splits(root).values() for u in part), key=lambda u: u.id)
    elif split in SPLITS:
        utts = load_split(root, split)
    else:
        raise ConfigError(f"split must be one of {', '.join(SPLITS + (ALL_SPLITS,))}, not {split!r}")
    utts = utts[:limit] if limit else utts
    if not utts:
        raise DataError(f"{root}: the {split} split is empty")
    missing = [u.id for u in utts if not u.text.strip()]
    if missing:
        raise DataError(f"{root}: {len(missing)} utterance(s) have no transcript (e.g. {missing[0]})")
    return utts


def score_recordings(root: str | Path, split: str = "test", limit: int | None = None, *,
                     recognizer: Recognizer | None = None) -> dict[str, Any]:
    """`score_files` of a corpus's recordings against their own transcripts (ids: utterance ids)."""
    utts = corpus_utterances(root, split, limit)
    out = score_files([u.text for u in utts], [u.wav_path for u in utts], recognizer=recognizer)
    for row, u in zip(out["rows"], utts):
        row["id"] = u.id
    return out


def write_results(result: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """`intelligibility.json` (everything) and `intelligibility.csv` (one row per sentence)."""
    import csv
    import io
    import json

    from ..io import atomic_write

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2)
    atomic_write(out / "intelligibility.json", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    fields = ["id", "bucket", "words", "substitutions", "deletions", "insertions", "wer", "cer", "reference",
              "hypothesis"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(result["rows"])
    atomic_write(out / "intelligibility.csv", lambda tmp: Path(tmp).write_text(buf.getvalue(), encoding="utf-8"))
    return {"json": out / "intelligibility.json", "csv": out / "intelligibility.csv"}


def markdown_buckets(results: dict[str, dict[str, Any]]) -> str:
    """One row per system: corpus WER / CER, then WER per length bucket (sentences in brackets)."""
    head = ["system", "WER", "CER"] + [f"WER, {label} words" for label, _, _ in LENGTH_BUCKETS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in results.items():
        cells = [name, _pct(r["wer"]), _pct(r["cer"])]
        for label, _, _ in LENGTH_BUCKETS:
            b = r["buckets"][label]
            cells.append(f"{_pct(b['wer'])} ({b['sentences']})" if b["sentences"] else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _pct(v: float | None) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{100 * v:.1f} %"
