"""Sentences -> espeak-ng phonemes -> Piper phoneme ids.

The acoustic models are trained on corpora written by `hifilite.data.synth`, whose phoneme ids are
Piper's: per sentence `^ _ p1 _ p2 _ ... $`, phonemes from espeak-ng (through the `espeakbridge`
that piper-tts bundles, with its own espeak-ng data) decomposed into NFD code points, and ids from
the voice's `phoneme_id_map`. `Phonemizer` reproduces exactly that, without loading the voice's
ONNX model, so text at synthesis time gets the ids the model was trained on.

Normalisation (`text.normalize`, which `Phonemizer` applies unless told not to) runs before espeak:
espeak reads digits too, but not dates, times, currency amounts, ordinals, years, URLs or
abbreviations the way a listener expects, and reads emoji and symbols by their names.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import HifiliteError, TextError
from .normalize import normalize_text
from .sentences import check_text

BOS, EOS, PAD = "^", "$", "_"


@dataclass(frozen=True)
class Phonemized:
    """One text as the model sees it: espeak phonemes per sentence and the Piper id sequence."""

    text: str
    phonemes: list[list[str]]
    ids: list[int]


_ESPEAK_LOCK = threading.Lock()
_ESPEAK: dict[str, str] = {}  # "voice": what espeak-ng has now, whoever set it (absent: not initialised)


def _tracked_bridge():
    """piper-tts's espeakbridge, its `initialize` and `set_voice` wrapped once so that the voice
    espeak-ng has is known, whoever sets it (piper-tts's own phonemiser included), and `set_voice`
    does nothing when the voice does not change: it leaks about 1.6 kB a call (piper-tts 1.8), which
    a server speaking sentence after sentence would accumulate without bound."""
    from piper import espeakbridge

    if not getattr(espeakbridge.set_voice, "tracked", False):
        set_voice, initialize = espeakbridge.set_voice, espeakbridge.initialize

        def set_voice_on_change(voice: str) -> None:
            if _ESPEAK.get("voice") != voice:
                set_voice(voice)
                _ESPEAK["voice"] = voice

        def initialize_anew(*args: object) -> None:
            initialize(*args)
            _ESPEAK["voice"] = ""  # a fresh espeak-ng has no voice of ours set

        set_voice_on_change.tracked = True  # type: ignore[attr-defined]
        espeakbridge.set_voice, espeakbridge.initialize = set_voice_on_change, initialize_anew
    return espeakbridge


def _espeak_clauses(voice: str, text: str) -> list[tuple[str, str, bool]]:
    try:
        from piper.phonemize_espeak import ESPEAK_DATA_DIR
    except ImportError:
        raise HifiliteError("piper-tts is not installed: pip install 'hifilite[data]'") from None
    with _ESPEAK_LOCK:
        bridge = _tracked_bridge()
        if "voice" not in _ESPEAK:
            bridge.initialize(str(ESPEAK_DATA_DIR))
        bridge.set_voice(voice)
        return list(bridge.get_phonemes(text))


@dataclass
class Phonemizer:
    """English text -> Piper phoneme ids, the same as `PiperVoice.phonemize` + `phonemes_to_ids`.

    `id_map` is the voice's `phoneme_id_map` (symbol -> list of ids), `espeak_voice` its espeak-ng
    voice. `hifilite.data.synth.voice_phonemizer()` gives the bundled joe voice's; `from_dict` takes
    what an acoustic checkpoint stores.
    """

    id_map: Mapping[str, Sequence[int]]
    espeak_voice: str = "en-us"
    vowel_clusters: tuple[tuple[str, ...], ...] = ()
    normalize: bool = True
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        missing = [s for s in (BOS, EOS, PAD) if s not in self.id_map]
        if missing:
            raise TextError(f"phoneme id map lacks the control symbol(s) {' '.join(missing)}")

    @classmethod
    def from_voice_config(cls, config: Mapping) -> "Phonemizer":
        """From a Piper voice's `.onnx.json` contents."""
        if config.get("phoneme_type", "espeak") != "espeak":
            raise TextError(f"only espeak voices are supported, not {config.get('phoneme_type')!r}")
        return cls(id_map={k: list(v) for k, v in config["phoneme_id_map"].items()},
                   espeak_voice=config.get("espeak", {}).get("voice", "en-us"),
                   vowel_clusters=tuple(tuple(c) for c in config.get("vowel_clusters", []) or []))

    def to_dict(self) -> dict:
        return {"id_map": {k: list(v) for k, v in self.id_map.items()}, "espeak_voice": self.espeak_voice,
                "vowel_clusters": [list(c) for c in self.vowel_clusters]}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Phonemizer":
        return cls(id_map=data["id_map"], espeak_voice=data.get("espeak_voice", "en-us"),
                   vowel_clusters=tuple(tuple(c) for c in data.get("vowel_clusters", [])))

    @property
    def num_symbols(self) -> int:
        return 1 + max(i for ids in self.id_map.values() for i in ids)

    def phonemes(self, text: str) -> list[list[str]]:
        """espeak phonemes per sentence, as Piper builds them (NFD code points, punctuation kept,
        a space after clause punctuation `, : ;`)."""
        sentences: list[list[str]] = []
        current: list[str] = []
        for phon, terminator, end in _espeak_clauses(self.espeak_voice, text):
            phon = re.sub(r"\([^)]+\)", "", phon) + terminator
            if terminator in (",", ":", ";"):
                phon += " "
            current.extend(unicodedata.normalize("NFD", phon))
            if end:
                sentences.append(self._merge(current))
                current = []
        if current:
            sentences.append(self._merge(current))
        return [s for s in sentences if s]

    def _merge(self, phones: list[str]) -> list[str]:
        if not self.vowel_clusters:
            return phones
        clusters = set(self.vowel_clusters)
        longest = max(len(c) for c in clusters)
        out, i = [], 0
        while i < len(phones):
            for n in range(min(longest, len(phones) - i), 1, -1):
                if tuple(phones[i:i + n]) in clusters:
                    out.append("".join(phones[i:i + n]))
                    i += n
                    break
            else:
                out.append(phones[i])
                i += 1
        return out

    def ids(self, phonemes: Sequence[str]) -> list[int]:
        """`^ _ p1 _ p2 _ ... $` for one sentence; TextError on a symbol the map lacks."""
        unknown = sorted({p for p in phonemes if p not in self.id_map})
        if unknown:
            raise TextError(f"phoneme(s) {' '.join(repr(u) for u in unknown)} are not in the voice's symbol table")
        pad = list(self.id_map[PAD])
        out = list(self.id_map[BOS]) + pad
        for p in phonemes:
            out += list(self.id_map[p]) + pad
        return out + list(self.id_map[EOS])

    def __call__(self, text: str) -> Phonemized:
        """Normalise (if `normalize`) and phonemise `text`; all its sentences in one id sequence,
        exactly as a corpus utterance was built."""
        original = text
        if self.normalize:
            text = normalize_text(text)
            if not text:
                check_text(original)  # nothing left (emoji or markup only): say what the input lacks
        text = check_text(text)
        phonemes = self.phonemes(text)
        if not any(p.strip() for s in phonemes for p in s if p not in ".,!?;:'\"-()"):
            raise TextError(f"text has nothing to speak: {original!r}")
        ids: list[int] = []
        for sentence in phonemes:
            ids.extend(self.ids(sentence))
        return Phonemized(text=text, phonemes=phonemes, ids=ids)


def load_id_map(path: str | Path) -> Phonemizer:
    """Phonemizer from a corpus.json (`phoneme_id_map`) or a Piper `.onnx.json`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if "espeak" in data:
        return Phonemizer.from_voice_config(data)
    return Phonemizer(id_map=data["phoneme_id_map"])
