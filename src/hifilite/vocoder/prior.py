"""Phase-reconstruction family: the magnitude from the mel, the phase from the magnitude.

    mel (B, n_mels, T) --pseudo-inverse--> prior log|X| (B, bins, T)
                       --ConvNeXt at the frame rate--> residual  (channels > 0)
    log|X| = prior + residual --> phase (RTPGHI or Griffin-Lim, `hifilite.runtime.pghi`) --> waveform

The prior is FreeV's: the mel filterbank's pseudo-inverse applied to the linear mel, clamped at a
floor, scaled from the front-end's Hann window to the Gaussian window the phase reconstruction uses.
It already holds the spectral envelope and, below about 1.5 kHz where mel bands are narrower than
the harmonic spacing, the harmonics; the network only restores what the pseudo-inverse blurs (the
harmonics above). Every learned layer runs once per mel frame, and no phase is learned: the phase of
a consistent magnitude follows from its log-magnitude derivatives, for any speaker's pitch.

`PriorGenerator` maps mel -> log-magnitude frames (B, bins, T) and is what trains and exports to
ONNX; the phase reconstruction is numpy (+ numba), outside the graph.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..config import PriorConfig
from .fourier import ConvNeXtBackbone
from ..runtime.stft import gaussian_window

LOG_FLOOR = math.log(1e-5)  # as the front-end's log clamp
MAX_LOG_MAGNITUDE = 8.0  # exp(8) ~ 3e3, an order above a full-scale sine's STFT peak


def pseudo_inverse(config: PriorConfig) -> torch.Tensor:
    """(bins, n_mels) pseudo-inverse of the slaney mel basis, scaled from the Hann window's gain to
    the Gaussian window's (both summed over the window)."""
    import librosa.filters

    basis = librosa.filters.mel(sr=config.sample_rate, n_fft=config.n_fft, n_mels=config.in_channels,
                                fmin=config.fmin, fmax=config.fmax)
    gain = gaussian_window(config.n_fft)[0].sum() / (config.n_fft / 2.0)  # periodic Hann sums to n_fft / 2
    return torch.from_numpy(np.linalg.pinv(basis.astype(np.float64)) * gain).float()


class PriorGenerator(nn.Module):
    """mel (B, n_mels, T) -> log-magnitude (B, n_fft // 2 + 1, T) of a Gaussian-window STFT whose
    frame t is centred where mel frame t was analysed. The residual head starts at zero, so an
    untrained network is exactly the pseudo-inverse floor."""

    def __init__(self, in_channels: int = 80, channels: int = 128, blocks: int = 6, mlp_ratio: float = 3.0,
                 kernel_size: int = 7, n_fft: int = 1024, hop_length: int = 256) -> None:
        super().__init__()
        self.bins = n_fft // 2 + 1
        self.in_channels, self.hop_length = in_channels, hop_length
        self.backbone = (ConvNeXtBackbone(in_channels, channels, blocks, mlp_ratio, kernel_size)
                         if channels > 0 else None)
        self.head = nn.Linear(channels, self.bins) if channels > 0 else None
        if self.head is not None:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        self.register_buffer("pinv", torch.zeros(self.bins, in_channels), persistent=False)
        self.config: PriorConfig | None = None

    @classmethod
    def from_config(cls, config: PriorConfig) -> "PriorGenerator":
        gen = cls(config.in_channels, config.channels, config.blocks, config.mlp_ratio, config.kernel_size,
                  config.n_fft, config.hop_length)
        gen.pinv.copy_(pseudo_inverse(config))
        gen.config = config
        return gen

    def prior(self, mel: torch.Tensor) -> torch.Tensor:
        """The floor: log of the clamped pseudo-inverse of the linear mel, (B, bins, T)."""
        return torch.log(torch.clamp(torch.matmul(self.pinv, torch.exp(mel)), min=math.exp(LOG_FLOOR)))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        out = self.prior(mel)
        if self.backbone is not None:
            h = self.backbone((mel + 5.0) / 5.0)  # (B, T, C); log-mels of speech lie around -11..2
            out = out + self.head(h).transpose(1, 2)
        return torch.clamp(out, max=MAX_LOG_MAGNITUDE)

    def receptive_field_frames(self) -> int:
        """One-sided context in mel frames: a magnitude frame depends on mel frames t +- this."""
        return 0 if self.backbone is None else self.backbone.context()

    def remove_weight_norm(self) -> None:
        """No weight norm in this family (the checkpoint loader calls this on every generator)."""


__all__ = ["PriorGenerator", "pseudo_inverse", "LOG_FLOOR"]
