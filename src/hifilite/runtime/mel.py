"""The log-mel front-end in numpy: the torch-free twin of `hifilite.audio.MelSpectrogram`."""

from __future__ import annotations

import numpy as np

from ..config import LOG_CLAMP_MIN, MAGNITUDE_EPS
from ..errors import AudioError, ConfigError

_BLOCK_FRAMES = 2048  # STFT frames per block, so a long file never holds all frames at once


class LogMel:
    """numpy port of `hifilite.audio.MelSpectrogram` (the official HiFi-GAN front-end).

    Reflect-pad (n_fft - hop) / 2 on both sides, frames every `hop` samples without centring,
    periodic Hann window of `win_length` centred in `n_fft`, magnitude sqrt(re^2 + im^2 + 1e-9),
    librosa slaney mel basis, log(max(x, 1e-5)). Input (T,) or (B, T); output (B, n_mels, T // hop).
    """

    def __init__(self, sample_rate: int = 22050, n_fft: int = 1024, hop_length: int = 256,
                 win_length: int = 1024, n_mels: int = 80, fmin: float = 0.0,
                 fmax: float | None = 8000.0, clamp_min: float = LOG_CLAMP_MIN) -> None:
        import librosa.filters

        if win_length > n_fft:
            raise ConfigError(f"win_length ({win_length}) must be <= n_fft ({n_fft})")
        if (n_fft - hop_length) % 2:
            raise ConfigError("n_fft - hop_length must be even for symmetric padding")
        self.sample_rate, self.n_fft, self.hop_length = sample_rate, n_fft, hop_length
        self.win_length, self.n_mels, self.clamp_min = win_length, n_mels, clamp_min
        self.mel_basis = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                                             fmax=fmax).astype(np.float64)
        n = np.arange(win_length)
        hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / win_length)  # periodic, as torch.hann_window
        left = (n_fft - win_length) // 2
        self.window = np.zeros(n_fft, dtype=np.float64)
        self.window[left:left + win_length] = hann

    @property
    def pad(self) -> int:
        return (self.n_fft - self.hop_length) // 2

    def _frames(self, wav: np.ndarray, padded: bool = False) -> tuple[np.ndarray, int]:
        wav = np.asarray(wav, dtype=np.float32)  # the torch path sees float32 samples too
        if wav.ndim == 1:
            wav = wav[None]
        if wav.ndim != 2:
            raise AudioError(f"expected audio of shape (T,) or (B, T), got {wav.shape}")
        if padded:
            if wav.shape[-1] < self.n_fft:
                raise AudioError(f"padded segment too short: {wav.shape[-1]} samples (< n_fft {self.n_fft})")
            x = wav
        else:
            if wav.shape[-1] <= self.pad:
                raise AudioError(f"audio too short: {wav.shape[-1]} samples (the front-end needs > {self.pad})")
            x = np.pad(wav, ((0, 0), (self.pad, self.pad)), mode="reflect")
        frames = 1 + (x.shape[-1] - self.n_fft) // self.hop_length
        view = np.lib.stride_tricks.sliding_window_view(x, self.n_fft, axis=-1)[:, ::self.hop_length]
        return view[:, :frames], frames

    def _magnitude_blocks(self, view: np.ndarray, frames: int):
        """(start, |STFT| (B, n_fft // 2 + 1, block) float64) over blocks of frames.

        float64: the log amplifies the relative rounding error of near-silent bins, and two float32
        implementations (this and torch's) would each be ~1e-4 off there.
        """
        for s in range(0, frames, _BLOCK_FRAMES):
            spec = np.fft.rfft(view[:, s:s + _BLOCK_FRAMES] * self.window, axis=-1)
            yield s, np.sqrt(spec.real**2 + spec.imag**2 + MAGNITUDE_EPS).transpose(0, 2, 1)

    def magnitude(self, wav: np.ndarray, padded: bool = False) -> np.ndarray:
        """Linear STFT magnitude (B, n_fft // 2 + 1, frames), float64."""
        view, frames = self._frames(wav, padded)
        out = np.empty((view.shape[0], self.n_fft // 2 + 1, frames), dtype=np.float64)
        for s, mag in self._magnitude_blocks(view, frames):
            out[:, :, s:s + mag.shape[-1]] = mag
        return out

    def __call__(self, wav: np.ndarray, padded: bool = False) -> np.ndarray:
        """(T,) or (B, T) float waveform -> (B, n_mels, frames) float32 log-mel. `padded=True`: the
        input is a segment of the padded signal (`hifilite.audio.ReflectFramer`), framed as it is."""
        view, frames = self._frames(wav, padded)
        out = np.empty((view.shape[0], self.n_mels, frames), dtype=np.float32)
        for s, mag in self._magnitude_blocks(view, frames):
            mel = np.matmul(self.mel_basis, mag)
            out[:, :, s:s + mag.shape[-1]] = np.log(np.maximum(mel, self.clamp_min))
        return out


__all__ = ["LogMel"]
