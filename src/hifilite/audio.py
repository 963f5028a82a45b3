"""Audio I/O and the HiFi-GAN-compatible mel front-end.

`load_audio` accepts any format libsndfile reads (wav, flac, ogg, ...), any sample rate and any
channel count, and returns mono float32 at the requested rate. `MelSpectrogram` reproduces the
official HiFi-GAN `mel_spectrogram` exactly; a pretrained teacher only sounds right with it.
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import soundfile as sf

from .config import LOG_CLAMP_MIN, MAGNITUDE_EPS, MelConfig, to_dict
from .errors import AudioError
from .io import atomic_write

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


# Log-mel values (natural log of mel magnitudes) the vocoders accept. The front-end's floor is
# log(1e-5) = -11.5 and speech peaks near +5; values far outside come from a linear, dB or
# otherwise rescaled spectrogram, which a vocoder turns into noise or clipping.
LOG_MEL_RANGE = (-30.0, 30.0)


def check_log_mel_range(mel, what: str = "mel") -> None:
    """DataError if a (finite) log-mel array or tensor has values outside `LOG_MEL_RANGE`."""
    if not int(np.prod(mel.shape)):
        return
    lo, hi = float(mel.min()), float(mel.max())
    if lo < LOG_MEL_RANGE[0] or hi > LOG_MEL_RANGE[1]:
        from .errors import DataError

        worst = lo if LOG_MEL_RANGE[0] - lo > hi - LOG_MEL_RANGE[1] else hi
        raise DataError(f"{what} has values up to {worst:.3g}, outside the log-mel range [{LOG_MEL_RANGE[0]:g}, "
                        f"{LOG_MEL_RANGE[1]:g}]: vocoders take natural-log mel magnitudes (not linear, dB or "
                        "normalised values)")


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


def _mel_module():
    """Build the torch MelSpectrogram class lazily so that `hifilite.audio` imports without torch."""
    import torch
    from torch import nn

    class MelSpectrogram(nn.Module):
        """Log-mel spectrogram identical to the official HiFi-GAN front-end.

        Steps: reflect-pad (n_fft - hop) / 2 on both sides, STFT with `center=False` and a periodic
        Hann window, magnitude `sqrt(re^2 + im^2 + 1e-9)`, librosa slaney mel basis, then
        `log(clamp(x, min=1e-5))`. Window and mel basis are buffers, so `.to(device)` moves them.

        Input (B, T) or (T,) float waveform; output (B, n_mels, frames) with
        frames = T // hop for T a multiple of hop.
        """

        def __init__(
            self,
            sample_rate: int = 22050,
            n_fft: int = 1024,
            hop_length: int = 256,
            win_length: int = 1024,
            n_mels: int = 80,
            fmin: float = 0.0,
            fmax: float | None = 8000.0,
            clamp_min: float = LOG_CLAMP_MIN,
        ) -> None:
            super().__init__()
            import librosa

            if win_length > n_fft:
                raise ValueError(f"win_length ({win_length}) must be <= n_fft ({n_fft})")
            if (n_fft - hop_length) % 2:
                raise ValueError("n_fft - hop_length must be even for symmetric padding")
            self.sample_rate = sample_rate
            self.n_fft = n_fft
            self.hop_length = hop_length
            self.win_length = win_length
            self.n_mels = n_mels
            self.fmin = fmin
            self.fmax = fmax
            self.clamp_min = clamp_min
            basis = librosa.filters.mel(
                sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax
            )
            self.register_buffer("mel_basis", torch.from_numpy(basis).float(), persistent=False)
            self.register_buffer("window", torch.hann_window(win_length), persistent=False)

        @classmethod
        def from_config(cls, config: MelConfig) -> "MelSpectrogram":
            """The front-end of `config` (`MelConfig.loss_variant()` for the loss mel)."""
            return cls(**to_dict(config))

        @property
        def config(self) -> MelConfig:
            return MelConfig(sample_rate=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length,
                             win_length=self.win_length, n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax)

        def magnitude(self, wav: torch.Tensor, padded: bool = False) -> torch.Tensor:
            """Linear STFT magnitude (B, n_fft // 2 + 1, frames). `padded=True`: `wav` is already a
            segment of the padded signal (see `hifilite.audio.ReflectFramer`), frame it as it is."""
            if wav.dim() == 1:
                wav = wav.unsqueeze(0)
            pad = (self.n_fft - self.hop_length) // 2
            x = wav if padded else torch.nn.functional.pad(wav.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
            spec = torch.stft(
                x,
                self.n_fft,
                hop_length=self.hop_length,
                win_length=self.win_length,
                window=self.window,
                center=False,
                normalized=False,
                onesided=True,
                return_complex=True,
            )
            return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + MAGNITUDE_EPS)

        def forward(self, wav: torch.Tensor, padded: bool = False) -> torch.Tensor:
            mag = self.magnitude(wav, padded)
            mel = torch.matmul(self.mel_basis, mag)
            return torch.log(torch.clamp(mel, min=self.clamp_min))

        def extra_repr(self) -> str:
            return (
                f"sample_rate={self.sample_rate}, n_fft={self.n_fft}, hop={self.hop_length}, "
                f"win={self.win_length}, n_mels={self.n_mels}, fmin={self.fmin}, fmax={self.fmax}"
            )

    return MelSpectrogram


def __getattr__(name):  # PEP 562: `from hifilite.audio import MelSpectrogram` builds it on demand
    if name == "MelSpectrogram":
        cls = _mel_module()
        globals()["MelSpectrogram"] = cls
        return cls
    raise AttributeError(name)


def num_frames(num_samples: int, hop_length: int) -> int:
    """Frames the HiFi-GAN front-end yields for `num_samples` (equal to T // hop)."""
    return max(0, math.floor(num_samples / hop_length))


class ReflectFramer:
    """Cuts a stream of samples into pieces of the HiFi-GAN front-end's padded signal.

    The front-end reflect-pads p = (n_fft - hop) / 2 samples on both sides and takes frames every
    `hop` samples without centring, so frame t reads padded samples [t * hop, t * hop + n_fft).
    `push(samples)` returns the segments of the padded signal that hold frames now complete, at
    most `max_frames` frames each (consecutive segments overlap by n_fft - hop samples); the
    front-end run on a segment *without* padding gives exactly those frames. The left reflection
    is built once p + 1 samples have arrived and the right one at `finish()` (the last p + 1
    samples are always still held), so the frames of all segments are those of the whole signal:
    T // hop of them for T samples. Memory is O(n_fft + max_frames * hop + the pushed block).
    """

    def __init__(self, n_fft: int, hop: int, max_frames: int) -> None:
        if hop < 1 or n_fft < hop or (n_fft - hop) % 2:
            raise ValueError(f"need n_fft >= hop >= 1 and n_fft - hop even, got n_fft={n_fft}, hop={hop}")
        if max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        self.n_fft, self.hop, self.max_frames = n_fft, hop, max_frames
        self.pad = (n_fft - hop) // 2
        self.received = 0  # samples pushed
        self.frames = 0  # frames returned
        self._buf = np.zeros(0, dtype=np.float32)  # padded samples from frame `frames` on
        self._started = False  # left reflection built
        self._finished = False

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        """Add samples (T_i,); return the padded segments (float32) whose frames are complete."""
        if self._finished:
            raise ValueError("framer already finished")
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.received += samples.size
        self._buf = np.concatenate([self._buf, samples])
        if not self._started:
            if self._buf.size <= self.pad:
                return []
            self._buf = np.concatenate([self._buf[self.pad:0:-1], self._buf])
            self._started = True
        return self._emit()

    def finish(self) -> list[np.ndarray]:
        """End of the signal: append the right reflection and return the remaining segments.

        Raises AudioError if the signal is too short for the reflect padding or for one frame."""
        if self._finished:
            return []
        self._finished = True
        if self.received <= self.pad or self.received < self.hop:
            raise AudioError(f"audio too short: {self.received} samples (the front-end needs more than "
                             f"{max(self.pad, self.hop - 1)})")
        if self.pad:
            self._buf = np.concatenate([self._buf, self._buf[-self.pad - 1:-1][::-1]])
        return self._emit()

    def _emit(self) -> list[np.ndarray]:
        out = []
        while self._buf.size >= self.n_fft:
            k = min(self.max_frames, 1 + (self._buf.size - self.n_fft) // self.hop)
            out.append(self._buf[:(k - 1) * self.hop + self.n_fft])
            self._buf = self._buf[k * self.hop:]
            self.frames += k
        if out:
            self._buf = self._buf.copy()  # do not keep the whole block alive through a view
        return out


def padded_segments(blocks: Iterable[np.ndarray], n_fft: int, hop: int, max_frames: int) -> Iterator[np.ndarray]:
    """Run `ReflectFramer` over an iterable of sample blocks (see there)."""
    framer = ReflectFramer(n_fft, hop, max_frames)
    for block in blocks:
        yield from framer.push(block)
    yield from framer.finish()


def stream_log_mel(blocks: Iterable[np.ndarray], n_fft: int, hop: int, max_frames: int,
                   log_mel_of_padded: Callable[[np.ndarray], object]) -> Iterator[object]:
    """Log-mel chunks of a signal given as sample blocks: `log_mel_of_padded(segment)` for every
    padded segment (see `ReflectFramer`); the chunks concatenate to the whole signal's log-mel."""
    for segment in padded_segments(blocks, n_fft, hop, max_frames):
        yield log_mel_of_padded(segment)
