"""Text -> wav with PyTorch: text front-end, acoustic model, vocoder.

    tts = Synthesizer.load("joe-lightspeech-10h", vocoder="joe-lite")
    audio = tts("Dr. Smith paid $5 on May 3rd.", rate=1.1)   # float32 at tts.sample_rate

The sentence handling is `tts.speaker.SentenceSpeaker`'s, shared with `hifilite.tts.OnnxTTS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..acoustic.checkpoint import LoadedAcoustic, load_acoustic
from ..registry import DEFAULT_VOCODER
from ..text.phonemes import Phonemizer
from ..vocoder.api import Vocoder
from .speaker import SENTENCE_PAUSE_S, SentenceSpeaker, check_pair, phonemizer_for


@dataclass
class Synthesizer(SentenceSpeaker):
    acoustic: LoadedAcoustic
    vocoder: Vocoder
    phonemizer: Phonemizer

    @classmethod
    def load(cls, acoustic: str | os.PathLike, vocoder: str | os.PathLike = DEFAULT_VOCODER) -> "Synthesizer":
        from ..vocoder.api import load_vocoder

        loaded = load_acoustic(acoustic)
        phonemizer = phonemizer_for(loaded.symbols, str(acoustic))
        voc = load_vocoder(vocoder)
        check_pair(loaded.mel, voc.mel_config)
        return cls(loaded, voc, phonemizer)


__all__ = ["Synthesizer", "SENTENCE_PAUSE_S"]
