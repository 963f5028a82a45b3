"""Text -> wav with ONNX Runtime only: an exported acoustic model and an exported vocoder.

    from hifilite.tts import OnnxTTS
    tts = OnnxTTS("acoustic.onnx", "joe-lite.onnx", threads=1)   # each with its sidecar .json
    audio = tts("Dr. Smith paid $5 on May 3rd.")   # float32 at tts.sample_rate

`pip install "hifilite[runtime]"` is enough (onnxruntime, librosa's mel basis, num2words, and the
espeak-ng phonemiser that piper-tts bundles): nothing on this path imports torch.
"""

from __future__ import annotations

import os

from ..runtime.onnx import OnnxAcoustic, OnnxVocoder
from .speaker import SentenceSpeaker, check_pair, phonemizer_for


class OnnxTTS(SentenceSpeaker):
    """`SentenceSpeaker` over `OnnxAcoustic` and `OnnxVocoder`, each on `threads` intra-op threads."""

    def __init__(self, acoustic: str | os.PathLike, vocoder: str | os.PathLike, threads: int | None = None) -> None:
        self.acoustic = OnnxAcoustic(acoustic, threads)
        self.vocoder = OnnxVocoder(vocoder, threads=threads)
        check_pair(self.acoustic.mel_config, self.vocoder.mel_config)
        self.phonemizer = phonemizer_for(self.acoustic.symbols, str(acoustic))


__all__ = ["OnnxTTS"]
