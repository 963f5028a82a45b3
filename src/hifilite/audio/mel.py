"""The HiFi-GAN-compatible log-mel front-end: `MelSpectrogram` reproduces the official HiFi-GAN
`mel_spectrogram` exactly (a pretrained teacher only sounds right with it), cut into pieces of the
padded signal for long inputs (`ReflectFramer`, `stream_log_mel`), and the range check every
vocoder applies to its input. Importing this module does not import torch."""

from __future__ import annotations

import math
from typing import Callable, Iterable, Iterator

import numpy as np

from ..config import LOG_CLAMP_MIN, MAGNITUDE_EPS, MelConfig, to_dict
from ..errors import AudioError


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
        from ..errors import DataError

        worst = lo if LOG_MEL_RANGE[0] - lo > hi - LOG_MEL_RANGE[1] else hi
        raise DataError(f"{what} has values up to {worst:.3g}, outside the log-mel range [{LOG_MEL_RANGE[0]:g}, "
                        f"{LOG_MEL_RANGE[1]:g}]: vocoders take natural-log mel magnitudes (not linear, dB or "
                        "normalised values)")


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
