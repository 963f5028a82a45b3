"""Text -> wav with PyTorch: text front-end, acoustic model, vocoder.

    tts = Synthesizer.load("runs/ls", vocoder="lj-v1")
    audio = tts("Dr. Smith paid $5 on May 3rd.", rate=1.1)   # float32 at tts.sample_rate

The sentence handling is `tts.speaker.SentenceSpeaker`'s, shared with the torch-free
`hifilite.runtime.OnnxTTS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from ..acoustic.checkpoint import LoadedAcoustic, load_acoustic
from .speaker import SENTENCE_PAUSE_S, SentenceSpeaker, check_pair, phonemizer_for
from ..text.phonemes import Phonemizer


@dataclass
class Synthesizer(SentenceSpeaker):
    acoustic: LoadedAcoustic
    vocoder: torch.nn.Module  # hifilite.vocoder.Vocoder
    phonemizer: Phonemizer

    @classmethod
    def load(cls, acoustic: str | os.PathLike, vocoder: str | os.PathLike = "lj-v1") -> "Synthesizer":
        from ..vocoder.api import load_vocoder

        loaded = load_acoustic(acoustic)
        phonemizer = phonemizer_for(loaded.symbols, str(acoustic))
        voc = load_vocoder(vocoder)
        check_pair(loaded.mel, voc.mel_config)
        return cls(loaded, voc, phonemizer)

    @property
    def sample_rate(self) -> int:
        return self.acoustic.mel.sample_rate

    @torch.inference_mode()
    def mel_from_ids(self, ids: list[int], rate: float) -> torch.Tensor:
        return self.acoustic.model.infer(ids, duration_scale=1.0 / rate)

    @torch.inference_mode()
    def vocode(self, mel: torch.Tensor) -> np.ndarray:
        return self.vocoder(mel.unsqueeze(0))[0].cpu().numpy()


__all__ = ["Synthesizer", "SENTENCE_PAUSE_S"]
