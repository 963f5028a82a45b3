"""Writing streamed audio: a wav file piece by piece, or 16-bit PCM / open-ended wav to stdout."""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

import numpy as np

from ..io import atomic_write


def mel_chunks(mel: Any, chunk_frames: int) -> Iterator[Any]:
    """Slices (B, n_mels, f) of a mel (n_mels, frames) or (1, n_mels, frames), f = chunk_frames.

    Anything without `ndim` is taken as an iterable of mel chunks already (e.g. a vocoder's
    `mel_chunks(path)`, which reads the audio as it goes) and passed through unchanged."""
    if not hasattr(mel, "ndim"):
        yield from mel
        return
    if mel.ndim == 2:
        mel = mel[None]
    for s in range(0, mel.shape[-1], chunk_frames):
        yield mel[..., s:s + chunk_frames]


def pcm16(piece: Any) -> bytes:
    """Little-endian 16-bit PCM of a (1, samples) / (samples,) float piece, clipped to [-1, 1]."""
    if hasattr(piece, "detach"):
        piece = piece.detach().cpu().numpy()
    x = np.clip(np.asarray(piece, dtype=np.float32).reshape(-1), -1.0, 1.0)
    return (np.round(x * 32767.0)).astype("<i2").tobytes()


def _as_float(piece: Any) -> np.ndarray:
    if hasattr(piece, "detach"):
        piece = piece.detach().cpu().numpy()
    return np.clip(np.asarray(piece, dtype=np.float32).reshape(-1), -1.0, 1.0)


def stream_to_file(voc: Any, mel: Any, path: str | os.PathLike, chunk_frames: int,
                   max_frames: int | None = None) -> Path:
    """Vocode `mel` (a mel, or an iterable of mel chunks) through `voc.stream` and append each
    piece to a 16-bit wav as it is produced; `max_frames` bounds one generator call (default: the
    vocoder's `chunk_frames`). Memory does not grow with the input's length.

    The file is written beside its final name and renamed when the stream ends, so an error
    mid-stream leaves nothing that looks complete. Returns the path.
    """
    pieces = voc.stream(mel_chunks(mel, chunk_frames), max_frames=max_frames)
    return pieces_to_file(pieces, path, voc.sample_rate)[0]


def pieces_to_file(pieces: Iterable[Any], path: str | os.PathLike, sample_rate: int) -> tuple[Path, int]:
    """Append audio pieces (samples,) / (1, samples) to a 16-bit mono wav as they come, clipped to
    [-1, 1]; written beside `path` and renamed at the end (see `stream_to_file`). Returns the path
    and the number of samples written."""
    import soundfile as sf

    written = [0]

    def write(tmp: str) -> None:
        with sf.SoundFile(tmp, "w", samplerate=sample_rate, channels=1, subtype="PCM_16", format="WAV") as f:
            for piece in pieces:
                data = _as_float(piece)
                f.write(data)
                written[0] += data.size

    return atomic_write(path, write), written[0]


def wav_header_open_ended(sample_rate: int) -> bytes:
    """A 16-bit mono RIFF/WAVE header whose sizes say 'unknown' (0xFFFFFFFF), for pipes."""
    unknown = 0xFFFFFFFF
    return (b"RIFF" + struct.pack("<I", unknown) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
            + b"data" + struct.pack("<I", unknown))


def stream_to_stdout(voc: Any, mel: Any, chunk_frames: int, *, wav_header: bool = True,
                     stream: BinaryIO | None = None) -> int:
    """Vocode `mel` and write each piece to `stream` (default: stdout) as soon as it is final.

    Returns the number of samples written. `wav_header=False` writes bare s16le PCM. The header
    goes out with the first audio, so an input that fails before any audio writes nothing.
    """
    pieces = voc.stream(mel_chunks(mel, chunk_frames))
    return pieces_to_stream(pieces, voc.sample_rate, wav_header=wav_header, stream=stream)


def pieces_to_stream(pieces: Iterable[Any], sample_rate: int, *, wav_header: bool = True,
                     stream: BinaryIO | None = None) -> int:
    """Write audio pieces to `stream` (default: stdout) as 16-bit PCM as they come, after an
    open-ended wav header (`wav_header`) sent with the first piece. Returns the samples written."""
    out = stream if stream is not None else sys.stdout.buffer
    n, header = 0, wav_header
    for piece in pieces:
        if header:
            out.write(wav_header_open_ended(sample_rate))
            header = False
        data = pcm16(piece)
        out.write(data)
        out.flush()
        n += len(data) // 2
    return n
