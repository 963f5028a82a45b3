"""Text -> wav: text front-end, acoustic model, vocoder.

    tts = Synthesizer.load("runs/ls", vocoder="lj-v1")
    audio = tts("Dr. Smith paid $5 on May 3rd.", rate=1.1)   # float32 at tts.sample_rate

Long text is normalised once (so abbreviations' periods do not end sentences), split into
sentences, and each sentence is synthesised on its own and joined with a short pause: memory and
latency stay bounded per sentence, and the models only ever see sentence-length inputs like their
training data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from .models import LoadedAcoustic, load_acoustic
from .text import Phonemizer, TextError, check_text, normalize_text, split_sentences

SENTENCE_PAUSE_S = 0.2


@dataclass
class Synthesizer:
    acoustic: LoadedAcoustic
    vocoder: torch.nn.Module  # hifilite.vocoder.Vocoder
    phonemizer: Phonemizer

    @classmethod
    def load(cls, acoustic: str | os.PathLike, vocoder: str | os.PathLike = "lj-v1") -> "Synthesizer":
        from ..vocoder.api import load_vocoder

        loaded = load_acoustic(acoustic)
        symbols = loaded.symbols
        if symbols.get("kind") != "espeak":
            raise ConfigError(f"{acoustic}: this model was trained on aligner phones ({symbols.get('kind')}); "
                              "text input needs a model trained on espeak phoneme ids")
        voc = load_vocoder(vocoder)
        mel = loaded.mel
        for key, have in (("sample_rate", voc.sample_rate), ("hop_length", voc.hop_length), ("n_mels", voc.n_mels)):
            if int(mel[key]) != int(have):
                raise ConfigError(f"acoustic model {key} {mel[key]} does not match the vocoder's {have}")
        return cls(loaded, voc, Phonemizer.from_dict({**symbols, "espeak_voice": symbols.get("espeak_voice", "en-us")}))

    @property
    def sample_rate(self) -> int:
        return int(self.acoustic.mel["sample_rate"])

    def sentences(self, text: str) -> list[str]:
        """Normalised sentences of `text`; TextError if nothing is speakable."""
        text = check_text(text)
        return [s for s in split_sentences(normalize_text(text)) if any(c.isalpha() for c in s)]

    @torch.inference_mode()
    def mel(self, sentence: str, rate: float = 1.0) -> torch.Tensor:
        """(n_mels, frames) for one normalised sentence; `rate` > 1 speaks faster."""
        if not rate > 0:
            raise ConfigError(f"rate must be > 0, got {rate}")
        phon = self.phonemizer.phonemes(sentence)
        seq = [i for s in phon for i in self.phonemizer.ids(s)]
        if not seq:
            raise TextError(f"nothing to speak in {sentence!r}")
        mel = self.acoustic.model.infer(seq, duration_scale=1.0 / rate)
        if mel.shape[-1] == 0:
            raise TextError(f"the model predicted no frames for {sentence!r}")
        return mel

    @torch.inference_mode()
    def __call__(self, text: str, rate: float = 1.0) -> np.ndarray:
        """Speech for `text` (any length) as float32 samples at `sample_rate`."""
        pieces: list[np.ndarray] = []
        pause = np.zeros(int(SENTENCE_PAUSE_S * self.sample_rate), dtype=np.float32)
        sentences = self.sentences(text)
        if not sentences:
            raise TextError(f"text has nothing to speak: {text!r}")
        for i, sentence in enumerate(sentences):
            audio = self.vocoder(self.mel(sentence, rate).unsqueeze(0))[0].cpu().numpy()
            pieces.extend([pause, audio] if i else [audio])
        return np.concatenate(pieces).astype(np.float32)
