"""Text -> sentences -> phoneme ids -> mel -> audio, shared by the PyTorch and ONNX Runtime paths.

`SentenceSpeaker` holds what does not depend on the inference engine: checking and normalising
the text once (so abbreviations' periods do not end sentences), splitting it into sentences,
phonemising each, and joining the sentences' audio with a short pause, or with the silence an SSML
`<break time="500ms"/>` asks for (a break inside a sentence splits it there). Memory and latency stay
bounded per sentence, and the models only see sentence-length inputs like their training data.
Subclasses supply `mel(ids, rate)` and `vocode(mel)`. This module does not import torch.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import numpy as np

from ..config import MelConfig, check_mel_pair
from ..errors import ConfigError, TextError
from ..runtime.contract import AcousticBackend, VocoderBackend
from ..text import Phonemizer, check_text, normalize_text, refuse_control_characters, split_breaks, split_sentences

SENTENCE_PAUSE_S = 0.2
RATE_RANGE = (0.25, 4.0)  # speaking rates the duration predictor is asked for (4x faster .. 4x slower)


def phonemizer_for(symbols: Mapping[str, Any], source: str) -> Phonemizer:
    """The text front-end an acoustic model was trained with (its stored symbol table)."""
    if symbols.get("kind") != "espeak":
        raise ConfigError(f"{source}: this model was trained on aligner phones ({symbols.get('kind')}); "
                          "text input needs a model trained on espeak phoneme ids")
    return Phonemizer.from_dict({**symbols, "espeak_voice": symbols.get("espeak_voice", "en-us")})


def check_pair(acoustic_mel: MelConfig | Mapping[str, Any], vocoder_mel: MelConfig | Mapping[str, Any]) -> None:
    """The vocoder must expect the mels the acoustic model writes (`hifilite.config.check_mel_pair`)."""
    check_mel_pair(acoustic_mel, vocoder_mel, "acoustic model", "vocoder")


class SentenceSpeaker:
    """Text -> audio with an `AcousticBackend` and a `VocoderBackend` (`hifilite.runtime.contract`)
    of any engine; subclasses only load them (`Synthesizer`: PyTorch, `OnnxTTS`: ONNX Runtime)."""

    acoustic: AcousticBackend
    vocoder: VocoderBackend
    phonemizer: Phonemizer

    @property
    def sample_rate(self) -> int:
        return self.vocoder.sample_rate

    def mel_from_ids(self, ids: list[int], rate: float) -> Any:
        """(n_mels, frames) log-mel for one sentence's phoneme ids."""
        return self.acoustic(ids, rate)

    def vocode(self, mel: Any) -> np.ndarray:
        """(samples,) float32 audio for one (n_mels, frames) mel."""
        return self.vocoder.to_numpy(self.vocoder(mel))[0]

    def script(self, text: str) -> list[str | float]:
        """What to say: normalised sentences (str) and the seconds of silence between them (float).

        `SENTENCE_PAUSE_S` between sentences, an SSML `<break>`'s own pause where the text has one.
        TextError if `text` is empty, has no words, has control characters (NUL, escape, ...) or
        uses a script the voice cannot read.
        """
        refuse_control_characters(text)
        items: list[str | float] = []
        pieces = split_breaks(text)
        for i, (piece, pause) in enumerate(pieces):
            for sentence in split_sentences(normalize_text(piece)):
                if not any(c.isalpha() for c in sentence):
                    continue
                check_text(sentence)
                if items and isinstance(items[-1], str):
                    items.append(SENTENCE_PAUSE_S)
                items.append(sentence)
            if i < len(pieces) - 1:  # a <break>, even of 0 s, replaces the sentence pause
                if items and isinstance(items[-1], float):
                    items[-1] += pause
                else:
                    items.append(pause)
        if not any(isinstance(item, str) for item in items):
            check_text(text)  # empty, or no words at all
            raise TextError(f"text has nothing to speak: {text!r}")
        return items

    def sentences(self, text: str) -> list[str]:
        """Normalised sentences of `text`; TextError if nothing is speakable."""
        return [item for item in self.script(text) if isinstance(item, str)]

    def ids(self, sentence: str) -> list[int]:
        seq = [i for s in self.phonemizer.phonemes(sentence) for i in self.phonemizer.ids(s)]
        if not seq:
            raise TextError(f"nothing to speak in {sentence!r}")
        return seq

    def mel(self, sentence: str, rate: float = 1.0) -> Any:
        """(n_mels, frames) for one normalised sentence; `rate` > 1 speaks faster."""
        if not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:  # NaN fails too
            raise ConfigError(f"rate must be in [{RATE_RANGE[0]:g}, {RATE_RANGE[1]:g}], got {rate}")
        mel = self.mel_from_ids(self.ids(sentence), rate)
        if mel.shape[-1] == 0:
            raise TextError(f"the model predicted no frames for {sentence!r}")
        return mel

    def speak(self, text: str, rate: float = 1.0) -> Iterator[np.ndarray]:
        """Audio piece by piece (sentence, pause, sentence, ...) as each sentence is ready."""
        for item in self.script(text):
            if isinstance(item, float):
                yield np.zeros(int(round(item * self.sample_rate)), dtype=np.float32)
            else:
                yield np.asarray(self.vocode(self.mel(item, rate)), dtype=np.float32).reshape(-1)

    def __call__(self, text: str, rate: float = 1.0) -> np.ndarray:
        """Speech for `text` (any length) as float32 samples at `sample_rate`."""
        return np.concatenate(list(self.speak(text, rate))).astype(np.float32)


__all__ = ["SentenceSpeaker", "SENTENCE_PAUSE_S", "phonemizer_for", "check_pair"]
