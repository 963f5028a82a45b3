"""Text to speech: text front-end -> acoustic model -> vocoder, sentence by sentence.

`speaker.SentenceSpeaker` holds what does not depend on the engine (sentences, pauses, rate) and
imports no torch; `synthesis.Synthesizer` runs it with PyTorch models, `onnx.OnnxTTS` with ONNX
Runtime (torch-free). Importing this package imports neither engine until one is asked for.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "OnnxTTS":
        from .onnx import OnnxTTS

        return OnnxTTS
    if name == "Synthesizer":
        from .synthesis import Synthesizer

        return Synthesizer
    raise AttributeError(f"module 'hifilite.tts' has no attribute {name!r}")


__all__ = ["OnnxTTS", "Synthesizer"]
