"""Text -> sentences -> phoneme ids -> mel -> audio, shared by the PyTorch and ONNX Runtime paths.

`SentenceSpeaker` holds what does not depend on the inference engine: checking and normalising
the text once (so abbreviations' periods do not end sentences), splitting it into sentences,
phonemising each, and joining the sentences' audio with a short pause. Memory and latency stay
bounded per sentence, and the models only see sentence-length inputs like their training data.
Subclasses supply `mel(ids, rate)` and `vocode(mel)`. This module does not import torch.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import numpy as np

from ..errors import ConfigError
from .text import Phonemizer, TextError, check_text, normalize_text, split_sentences

SENTENCE_PAUSE_S = 0.2


def phonemizer_for(symbols: Mapping[str, Any], source: str) -> Phonemizer:
    """The text front-end an acoustic model was trained with (its stored symbol table)."""
    if symbols.get("kind") != "espeak":
        raise ConfigError(f"{source}: this model was trained on aligner phones ({symbols.get('kind')}); "
                          "text input needs a model trained on espeak phoneme ids")
    return Phonemizer.from_dict({**symbols, "espeak_voice": symbols.get("espeak_voice", "en-us")})


def check_pair(acoustic_mel: Mapping[str, Any], vocoder_mel: Mapping[str, Any]) -> None:
    """The vocoder must expect the mels the acoustic model writes."""
    for key in ("sample_rate", "hop_length", "n_mels"):
        if int(acoustic_mel[key]) != int(vocoder_mel[key]):
            raise ConfigError(f"acoustic model {key} {acoustic_mel[key]} does not match the vocoder's "
                              f"{vocoder_mel[key]}")


class SentenceSpeaker:
    phonemizer: Phonemizer

    @property
    def sample_rate(self) -> int:
        raise NotImplementedError

    def mel_from_ids(self, ids: list[int], rate: float) -> Any:
        """(n_mels, frames) log-mel for one sentence's phoneme ids."""
        raise NotImplementedError

    def vocode(self, mel: Any) -> np.ndarray:
        """(samples,) float32 audio for one (n_mels, frames) mel."""
        raise NotImplementedError

    def sentences(self, text: str) -> list[str]:
        """Normalised sentences of `text`; TextError if nothing is speakable."""
        text = check_text(text)
        return [s for s in split_sentences(normalize_text(text)) if any(c.isalpha() for c in s)]

    def ids(self, sentence: str) -> list[int]:
        seq = [i for s in self.phonemizer.phonemes(sentence) for i in self.phonemizer.ids(s)]
        if not seq:
            raise TextError(f"nothing to speak in {sentence!r}")
        return seq

    def mel(self, sentence: str, rate: float = 1.0) -> Any:
        """(n_mels, frames) for one normalised sentence; `rate` > 1 speaks faster."""
        if not rate > 0:
            raise ConfigError(f"rate must be > 0, got {rate}")
        mel = self.mel_from_ids(self.ids(sentence), rate)
        if mel.shape[-1] == 0:
            raise TextError(f"the model predicted no frames for {sentence!r}")
        return mel

    def speak(self, text: str, rate: float = 1.0) -> Iterator[np.ndarray]:
        """Audio piece by piece (sentence, pause, sentence, ...) as each sentence is ready."""
        sentences = self.sentences(text)
        if not sentences:
            raise TextError(f"text has nothing to speak: {text!r}")
        pause = np.zeros(int(SENTENCE_PAUSE_S * self.sample_rate), dtype=np.float32)
        for i, sentence in enumerate(sentences):
            if i:
                yield pause
            yield np.asarray(self.vocode(self.mel(sentence, rate)), dtype=np.float32).reshape(-1)

    def __call__(self, text: str, rate: float = 1.0) -> np.ndarray:
        """Speech for `text` (any length) as float32 samples at `sample_rate`."""
        return np.concatenate(list(self.speak(text, rate))).astype(np.float32)


__all__ = ["SentenceSpeaker", "SENTENCE_PAUSE_S", "phonemizer_for", "check_pair"]
