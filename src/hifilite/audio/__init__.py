"""Audio I/O and the HiFi-GAN-compatible mel front-end.

- `files`: `load_audio` / `audio_blocks` accept any format libsndfile reads (wav, flac, ogg, ...),
  any sample rate and any channel count, and give mono float32 at the requested rate; `save_audio`;
- `mel`: `MelSpectrogram` reproduces the official HiFi-GAN `mel_spectrogram` exactly (a pretrained
  teacher only sounds right with it), `stream_log_mel` computes it block by block.

Importing this package does not import torch: `MelSpectrogram` is built on first use.
"""

from __future__ import annotations

from typing import Any

from .files import (AUDIO_EXTENSIONS, BLOCK_FRAMES, audio_blocks, check_audio, declared_data_size, is_audio_file,
                    load_audio, resample, save_audio)
from .mel import LOG_MEL_RANGE, ReflectFramer, check_log_mel_range, num_frames, padded_segments, stream_log_mel


def __getattr__(name: str) -> Any:  # PEP 562: `from hifilite.audio import MelSpectrogram` builds it on demand
    if name == "MelSpectrogram":
        from .mel import MelSpectrogram

        return MelSpectrogram
    raise AttributeError(f"module 'hifilite.audio' has no attribute {name!r}")


__all__ = ["AUDIO_EXTENSIONS", "BLOCK_FRAMES", "audio_blocks", "check_audio", "declared_data_size", "is_audio_file",
           "load_audio", "resample", "save_audio", "LOG_MEL_RANGE", "ReflectFramer", "check_log_mel_range",
           "num_frames", "padded_segments", "stream_log_mel", "MelSpectrogram"]
