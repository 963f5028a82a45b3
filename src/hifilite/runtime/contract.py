"""The one inference contract of every backend: PyTorch, ONNX Runtime and the zero-parameter
signal-processing vocoders implement `VocoderBackend`, acoustic models `AcousticBackend`.

A vocoder backend supplies four things: its mel settings (`mel_config`), its receptive field in
frames, one call of its network on a mel window (`generate`), and, for the prior family, the phase
reconstruction its output needs (`phase_settings`). Everything else is implemented here once:

- the log-mel front-end over files and arrays, block by block (`mel`, `mel_chunks`);
- the input checks (`check_wave`, `check_mel`: shape, NaN, the log-mel range);
- whole or chunked inference with receptive-field overlap (`infer`, `__call__`), and streaming that
  equals it (`stream`, through `hifilite.runtime.streaming.MelStreamer`);
- RTPGHI or Griffin-Lim after a network that gives log-magnitudes (`hifilite.runtime.pghi`).

Arrays stay in the backend's own type (torch tensors or numpy arrays): the backend names its
concatenation and conversions. Nothing here imports torch.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..audio import audio_blocks, check_log_mel_range, stream_log_mel
from ..config import MelConfig
from ..errors import AudioError, DataError
from .pghi import BatchPhase
from .streaming import MelStreamer

DEFAULT_CHUNK_FRAMES = 1024  # frames per network call on long inputs (~12 s at 22.05 kHz / hop 256)
Array = Any  # the backend's array type: torch.Tensor or numpy.ndarray


class VocoderBackend:
    """Mel -> audio, for any backend. Subclasses set `mel_config` and `name`, and implement
    `receptive_field_frames`, `generate`, `log_mel`, and the array helpers below."""

    mel_config: MelConfig
    name: str = ""
    chunk_frames: int = DEFAULT_CHUNK_FRAMES

    # ---- what a backend supplies
    @property
    def receptive_field_frames(self) -> int:
        """Mel frames of context on each side that one output frame depends on."""
        raise NotImplementedError

    @property
    def phase_settings(self) -> Mapping[str, Any] | None:
        """{"method", "n_fft", "hop", "iterations"} when `generate` gives log-magnitudes (B, bins, w)
        to be phased; None when it gives audio (B, w * hop)."""
        return None

    def generate(self, mel: Array) -> Array:
        """One network call on a checked mel window (B, n_mels, w): no checks, no chunking."""
        raise NotImplementedError

    def log_mel(self, segment: np.ndarray) -> Array:
        """The log-mel (1, n_mels, f) of one segment of the reflect-padded signal."""
        raise NotImplementedError

    def as_array(self, x: Any) -> Array:
        """`x` as the backend's float32 array."""
        raise NotImplementedError

    def all_finite(self, x: Array) -> bool:
        raise NotImplementedError

    def concat(self, pieces: Sequence[Array], axis: int) -> Array:
        raise NotImplementedError

    def to_numpy(self, x: Array) -> np.ndarray:
        raise NotImplementedError

    def from_numpy(self, x: np.ndarray) -> Array:
        raise NotImplementedError

    # ---- the same for every backend
    @property
    def sample_rate(self) -> int:
        return self.mel_config.sample_rate

    @property
    def hop_length(self) -> int:
        return self.mel_config.hop_length

    @property
    def n_mels(self) -> int:
        return self.mel_config.n_mels

    def mel(self, audio: str | os.PathLike | Any) -> Array:
        """Log-mel (1, n_mels, frames) of a file (any rate/channels: resampled, mixed to mono)
        or of a waveform (T,) / (1, T) already at `sample_rate`; computed chunk by chunk."""
        return self.concat(list(self.mel_chunks(audio)), -1)

    def mel_chunks(self, audio: str | os.PathLike | Any, chunk_frames: int | None = None) -> Iterator[Array]:
        """The log-mel as (1, n_mels, f) pieces of at most `chunk_frames` frames (default
        `self.chunk_frames`). A file is read, mixed and resampled block by block, so memory does
        not grow with its length; the pieces concatenate to the whole signal's log-mel. A file
        that cannot be opened is reported here, bad samples as their chunk is computed."""
        if isinstance(audio, (str, os.PathLike)):
            blocks: Iterable[np.ndarray] = audio_blocks(audio, self.sample_rate)
        else:
            blocks = [self.check_wave(audio)]
        n_fft = self.mel_config.n_fft
        return stream_log_mel(blocks, n_fft, self.hop_length, chunk_frames or self.chunk_frames, self.log_mel)

    def check_wave(self, audio: Any) -> np.ndarray:
        """Mono float32 samples (T,) from (T,) or (1, T); AudioError for anything else, for fewer
        samples than one hop and for NaN or infinite samples."""
        wav = np.asarray(self.to_numpy(audio), dtype=np.float32)
        if wav.ndim == 2 and wav.shape[0] == 1:
            wav = wav[0]
        if wav.ndim != 1:
            raise AudioError(f"expected mono audio of shape (T,) or (1, T), got {tuple(wav.shape)}")
        if wav.size < self.hop_length:
            raise AudioError(f"audio too short: {wav.size} samples (< one hop of {self.hop_length})")
        if not np.isfinite(wav).all():
            raise AudioError("audio contains NaN or infinite samples")
        return wav

    def check_mel(self, mel: Any, allow_empty: bool = False) -> Array:
        """A (B, n_mels, frames) float32 log-mel from (B, n_mels, frames) or (n_mels, frames);
        DataError for another shape, zero frames (unless `allow_empty`), NaN, or values outside
        the natural-log mel range."""
        mel = self.as_array(mel)
        if mel.ndim == 2:
            mel = mel[None]
        if mel.ndim != 3 or mel.shape[1] != self.n_mels:
            raise DataError(f"expected a mel of shape (1, {self.n_mels}, frames), got {tuple(mel.shape)}")
        if mel.shape[-1] == 0 and not allow_empty:
            raise DataError("mel has zero frames")
        if not self.all_finite(mel):
            raise DataError("mel contains NaN or infinite values")
        check_log_mel_range(mel)
        return mel

    def phase(self) -> BatchPhase | None:
        """A fresh phase reconstruction for one call or stream (None: `generate` gives audio)."""
        p = self.phase_settings
        return None if p is None else BatchPhase(p["n_fft"], self.hop_length, p["hop"], p["method"], p["iterations"])

    def __call__(self, mel: Any) -> Array:
        return self.infer(mel, self.chunk_frames)

    def infer(self, mel: Any, chunk_frames: int | None = None) -> Array:
        """(B, n_mels, frames) or (n_mels, frames) -> (B, frames * hop). With `chunk_frames`, a long
        input goes through `stream` with at most that many new frames per network call (bounded
        memory, the same audio up to float rounding)."""
        mel = self.check_mel(mel)
        if not chunk_frames or mel.shape[-1] <= chunk_frames + 2 * self.receptive_field_frames:
            out = self.generate(mel)
            phase = self.phase()
            return out if phase is None else self.from_numpy(phase(self.to_numpy(out)))
        return self.concat(list(self.stream([mel], max_frames=chunk_frames)), -1)

    def stream(self, mel_chunks: Iterable[Any], max_frames: int | None = None) -> Iterator[Array]:
        """Audio (B, samples) as soon as it is final; the pieces concatenate to `infer(whole mel)`
        for any chunk sizes, including 1 frame and empty chunks.

        `mel_chunks` is any iterable of (B, n_mels, f) or (n_mels, f) arrays. A frame's audio is
        produced once `receptive_field_frames` frames after it have arrived (a phased output needs
        one more frame, and the half window its overlap-add spans), or at the end of the stream;
        only that context is kept and recomputed. Griffin-Lim iterates over the whole signal: its
        stream holds every frame and gives all the audio at the end. `max_frames` (default
        `chunk_frames`) bounds one network call.
        """
        phase = self.phase()
        frames = MelStreamer(self.generate, self.receptive_field_frames, self.hop_length if phase is None else 1,
                             self.concat, max_frames=max_frames or self.chunk_frames)

        def network() -> Iterator[Array]:
            for chunk in mel_chunks:
                yield from frames.push(self.check_mel(chunk, allow_empty=True))
            yield from frames.finish()

        if phase is None:
            yield from network()
            return
        for logmag in network():
            out = phase.push(self.to_numpy(logmag))
            if out.shape[-1]:
                yield self.from_numpy(out)
        yield self.from_numpy(phase.finish())


class AcousticBackend:
    """Phoneme ids -> log-mel (n_mels, frames), for any backend. Subclasses set `mel_config` and
    `symbols` (the text front-end's table) and implement `generate`."""

    mel_config: MelConfig
    symbols: Mapping[str, Any]

    def generate(self, ids: list[int], duration_scale: float) -> Any:
        """One model call: ids -> (n_mels, frames); `duration_scale` > 1 speaks slower."""
        raise NotImplementedError

    def __call__(self, ids: Sequence[int], rate: float = 1.0) -> Any:
        """(n_mels, frames) for a sentence's phoneme ids; `rate` > 1 speaks faster."""
        if not len(ids):
            raise DataError("no phoneme ids")
        return self.generate(list(ids), 1.0 / rate)


__all__ = ["VocoderBackend", "AcousticBackend", "DEFAULT_CHUNK_FRAMES"]
