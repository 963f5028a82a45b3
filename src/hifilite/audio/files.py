"""Audio files: read any format libsndfile reads (wav, flac, ogg, ...) at any rate and channel
count as mono float32 at the rate asked for, whole or block by block; checks that name what is
wrong with a file (empty, truncated, corrupt, too short); atomic writes."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf

from ..errors import AudioError
from ..io import atomic_write

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".au")
BLOCK_FRAMES = 1 << 16  # file frames read at a time by `audio_blocks`
# Rates outside this range come from damaged headers (resampling 1 Hz to 22 kHz multiplies the
# length by 22 050); real recordings use 8-384 kHz.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 1_000_000


def resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling (soxr, very-high quality) of a 1-D float32 signal."""
    if orig_sr == target_sr:
        return wav
    import soxr

    return soxr.resample(wav, orig_sr, target_sr, quality="VHQ").astype(np.float32, copy=False)


def load_audio(path: str | os.PathLike, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32 in [-1, 1].

    Integer PCM is scaled by libsndfile; multi-channel audio is averaged to mono; if `sample_rate`
    is given and differs from the file's rate the signal is resampled to it.

    A WAV or AIFF file whose header declares more sample data than the file holds (a download or
    copy cut short) is refused rather than read as a shorter signal: libsndfile would silently
    return only the samples present.

    Returns:
        (wav, sr): wav has shape (T,), sr is the rate of the returned signal.

    Raises:
        AudioError: missing, unreadable/corrupt, truncated or empty file, or non-finite samples.
    """
    path = _check_file(path)
    try:
        with sf.SoundFile(str(path)) as f:
            _check_header(path, f)
            data = f.read(dtype="float32", always_2d=True)
            sr = f.samplerate
    except AudioError:
        raise
    except Exception as exc:  # libsndfile raises several types for corrupt data
        raise _decode_error(path, exc) from None
    if data.shape[0] == 0:
        raise AudioError(f"{path}: contains no samples")
    wav = _mono(data)
    if not np.isfinite(wav).all():
        raise AudioError(f"{path}: contains NaN or infinite samples")
    if sample_rate is not None and sr != sample_rate:
        wav = resample(wav, sr, sample_rate)
        if wav.size == 0:
            raise _too_short_to_resample(path, data.shape[0], sr, sample_rate)
        sr = sample_rate
    return np.ascontiguousarray(wav, dtype=np.float32), int(sr)


def audio_blocks(path: str | os.PathLike, sample_rate: int | None = None,
                 block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """`load_audio` read piece by piece: yields mono float32 blocks (T_i,) at `sample_rate`.

    At most `block_frames` frames of the file are in memory at a time; resampling is streamed
    (soxr keeps its filter state between blocks), so the blocks concatenate to exactly what
    `load_audio(path, sample_rate)` returns. Errors are those of `load_audio`: a missing,
    undecodable or truncated file is reported by this call, bad samples when their block is read.
    """
    if block_frames < 1:
        raise ValueError(f"block_frames must be >= 1, got {block_frames}")
    path = _check_file(path)
    try:
        f = sf.SoundFile(str(path))
    except Exception as exc:
        raise _decode_error(path, exc) from None
    try:
        _check_header(path, f)
    except BaseException:
        f.close()
        raise
    return _read_blocks(path, f, sample_rate, block_frames)


def _read_blocks(path: Path, f, sample_rate: int | None, block_frames: int) -> Iterator[np.ndarray]:
    with f:
        stream = None
        if sample_rate is not None and f.samplerate != sample_rate:
            import soxr

            stream = soxr.ResampleStream(f.samplerate, sample_rate, 1, dtype="float32", quality="VHQ")
        total = produced = 0
        while True:
            try:
                data = f.read(block_frames, dtype="float32", always_2d=True)
            except Exception as exc:
                raise _decode_error(path, exc) from None
            total += data.shape[0]
            last = data.shape[0] < block_frames
            wav = _mono(data)
            if not np.isfinite(wav).all():
                raise AudioError(f"{path}: contains NaN or infinite samples")
            if total == 0:
                raise AudioError(f"{path}: contains no samples")
            if stream is not None:
                wav = stream.resample_chunk(wav, last=last)
            if wav.size:
                produced += wav.size
                yield np.ascontiguousarray(wav, dtype=np.float32)
            if last:
                if not produced:
                    raise _too_short_to_resample(path, total, f.samplerate, sample_rate)
                return


def check_audio(path: str | os.PathLike) -> None:
    """AudioError if `path` would fail to load: missing, empty, undecodable header, unusable rate,
    no frames, or a WAV/AIFF header promising more data than the file holds. Reads the header
    only, so a whole corpus is checked in seconds before training starts."""
    path = _check_file(path)
    try:
        with sf.SoundFile(str(path)) as f:
            _check_header(path, f)
            frames = f.frames
    except AudioError:
        raise
    except Exception as exc:
        raise _decode_error(path, exc) from None
    if frames == 0:
        raise AudioError(f"{path}: contains no samples")


def _check_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty")
    return path


def _too_short_to_resample(path: Path, frames: int, sr: int, target: int | None) -> AudioError:
    return AudioError(f"{path}: too short: {frames} sample(s) at {sr} Hz leave none at {target} Hz")


def _decode_error(path: Path, exc: BaseException) -> AudioError:
    reason = " ".join(str(exc).split())
    return AudioError(f"{path}: cannot decode audio ({reason})")


def _mono(data: np.ndarray) -> np.ndarray:
    """(frames, channels) -> (frames,): the channel mean (the same arithmetic for a block or a file)."""
    return data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]


def _check_header(path: Path, f) -> None:
    """AudioError if the opened file's rate is unusable or its header promises more data than it holds."""
    if not MIN_SAMPLE_RATE <= f.samplerate <= MAX_SAMPLE_RATE:
        raise AudioError(f"{path}: sample rate {f.samplerate} Hz is outside what audio uses "
                         f"({MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz): a damaged header?")
    if f.channels < 1:
        raise AudioError(f"{path}: invalid channel count {f.channels}")
    sizes = declared_data_size(path)
    if sizes is not None and sizes[0] > sizes[1]:
        declared, present = sizes
        raise AudioError(f"{path}: truncated: its header declares {declared} bytes of audio data but the "
                         f"file holds {present} (was the download or copy cut short?)")


_DATA_CHUNKS = {b"WAVE": b"data", b"AIFF": b"SSND", b"AIFC": b"SSND"}
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # what streaming writers put in a header before the size is known


def declared_data_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """(declared, present) bytes of the sample-data chunk of a RIFF/RIFX WAV or AIFF file.

    `declared` is the chunk size the header gives, `present` the bytes after the chunk header up
    to the end of the file. None for other formats, for headers that cannot be walked, and for
    the open-ended sizes (0 or 0xFFFFFFFF) streaming writers use.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[8:12] not in _DATA_CHUNKS:
            return None
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            fmt = "<I"
        elif head[:4] == b"RIFX" and head[8:12] == b"WAVE" or head[:4] == b"FORM" and head[8:12] != b"WAVE":
            fmt = ">I"
        else:
            return None
        target, pos = _DATA_CHUNKS[head[8:12]], 12
        for _ in range(256):  # real files have a handful of chunks before the data
            fh.seek(pos)
            chunk = fh.read(8)
            if len(chunk) < 8:
                return None
            (length,) = struct.unpack(fmt, chunk[4:])
            if chunk[:4] == target:
                return None if length in _UNKNOWN_SIZES else (length, size - pos - 8)
            pos += 8 + length + (length & 1)
    return None


def save_audio(path: str | os.PathLike, wav, sample_rate: int) -> Path:
    """Write mono audio as 16-bit PCM wav, atomically (a crash never leaves a half-written file).

    `wav` may be a numpy array or a torch tensor of shape (T,) or (1, T); values are clipped to
    [-1, 1].
    """
    if hasattr(wav, "detach"):
        wav = wav.detach().cpu().numpy()
    wav = np.clip(np.asarray(wav, dtype=np.float32).reshape(-1), -1.0, 1.0)
    return atomic_write(path, lambda tmp: sf.write(tmp, wav, sample_rate, subtype="PCM_16", format="WAV"))


def is_audio_file(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS
