"""Audio I/O and the HiFi-GAN-compatible mel front-end.

`load_audio` accepts any format libsndfile reads (wav, flac, ogg, ...), any sample rate and any
channel count, and returns mono float32 at the requested rate. `MelSpectrogram` reproduces the
official HiFi-GAN `mel_spectrogram` exactly; a pretrained teacher only sounds right with it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from .errors import AudioError
from .io import atomic_write

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".au")


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

    Returns:
        (wav, sr): wav has shape (T,), sr is the rate of the returned signal.

    Raises:
        AudioError: missing, unreadable/corrupt or empty file, or non-finite samples.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises several types for corrupt data
        reason = " ".join(str(exc).split())
        raise AudioError(f"{path}: cannot decode audio ({reason})") from None
    if data.shape[0] == 0:
        raise AudioError(f"{path}: contains no samples")
    wav = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not np.isfinite(wav).all():
        raise AudioError(f"{path}: contains NaN or infinite samples")
    if sample_rate is not None and sr != sample_rate:
        wav = resample(wav, sr, sample_rate)
        sr = sample_rate
    return np.ascontiguousarray(wav, dtype=np.float32), int(sr)


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
            clamp_min: float = 1e-5,
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

        def magnitude(self, wav: torch.Tensor) -> torch.Tensor:
            """Linear STFT magnitude (B, n_fft // 2 + 1, frames)."""
            if wav.dim() == 1:
                wav = wav.unsqueeze(0)
            pad = (self.n_fft - self.hop_length) // 2
            x = torch.nn.functional.pad(wav.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
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
            return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-9)

        def forward(self, wav: torch.Tensor) -> torch.Tensor:
            mag = self.magnitude(wav)
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
