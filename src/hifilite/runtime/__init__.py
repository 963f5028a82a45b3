"""The torch-free runtime: exported models on numpy + ONNX Runtime + soundfile + librosa's mel basis.

    from hifilite.runtime import OnnxVocoder
    voc = OnnxVocoder("lj-v1.onnx")          # reads lj-v1.json beside it (`hifilite export`)
    audio = voc(voc.mel("speech.wav"))       # (1, frames * hop) float32

Text to speech on the same runtime is `hifilite.tts.OnnxTTS` (exported acoustic model + vocoder).
`pip install "hifilite[runtime]"` is enough for both; nothing on this path imports torch.

- `contract`: the inference contract every backend implements (PyTorch, ONNX Runtime, signal
  processing): checks, chunking with receptive-field overlap, streaming, phase reconstruction;
- `onnx`: `OnnxVocoder`, `OnnxAcoustic`, `session`; `mel`: `LogMel` (the numpy front-end);
- `sidecar`: the JSON beside every export; `streaming`: `MelStreamer`;
- `pghi`, `stft`: phase from the magnitude (real-time PGHI, Griffin-Lim).

This package imports nothing above it (no model code, no export code).
"""

from .contract import DEFAULT_CHUNK_FRAMES, AcousticBackend, VocoderBackend
from .mel import LogMel
from .onnx import OnnxAcoustic, OnnxVocoder, session

__all__ = ["LogMel", "OnnxVocoder", "OnnxAcoustic", "session", "VocoderBackend", "AcousticBackend",
           "DEFAULT_CHUNK_FRAMES"]

