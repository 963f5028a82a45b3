"""Discriminators: HiFi-GAN's multi-period (MPD) and multi-scale (MSD), and a multi-resolution
spectrogram discriminator (MRD, as in UnivNet and Vocos) that is far cheaper on a CPU.

Each discriminator returns, per sub-discriminator, a score map and the list of its intermediate
feature maps (used by the feature-matching loss).
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm
from torch.nn.utils.parametrizations import weight_norm

from ..config import DiscriminatorConfig
from .generator import LRELU_SLOPE, get_padding

Scores = list[torch.Tensor]
Features = list[list[torch.Tensor]]


class DiscriminatorP(nn.Module):
    """Period discriminator: reshape (B, 1, T) to (B, 1, T/p, p) and apply 2-D convs over time."""

    def __init__(self, period: int, kernel_size: int = 5, stride: int = 3, use_spectral_norm: bool = False):
        super().__init__()
        self.period = period
        norm = spectral_norm if use_spectral_norm else weight_norm
        chans = [1, 32, 128, 512, 1024]
        self.convs = nn.ModuleList(
            norm(nn.Conv2d(cin, cout, (kernel_size, 1), (stride, 1), padding=(get_padding(kernel_size), 0)))
            for cin, cout in zip(chans[:-1], chans[1:])
        )
        self.convs.append(norm(nn.Conv2d(1024, 1024, (kernel_size, 1), 1, padding=(2, 0))))
        self.conv_post = norm(nn.Conv2d(1024, 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        b, c, t = x.shape
        if t % self.period:
            n_pad = self.period - (t % self.period)
            x = F.pad(x, (0, n_pad), "reflect")
            t = t + n_pad
        x = x.view(b, c, t // self.period, self.period)
        return _conv_stack(self.convs, self.conv_post, x)


class MultiPeriodDiscriminator(nn.Module):
    def __init__(self, periods: Sequence[int] = (2, 3, 5, 7, 11)):
        super().__init__()
        self.periods = tuple(periods)
        self.discriminators = nn.ModuleList(DiscriminatorP(p) for p in periods)

    @classmethod
    def from_config(cls, config: DiscriminatorConfig) -> "MultiPeriodDiscriminator":
        return cls(periods=config.periods)

    def forward(self, y: torch.Tensor, y_hat: torch.Tensor) -> tuple[Scores, Scores, Features, Features]:
        """y, y_hat (B, 1, T) -> (real scores, fake scores, real fmaps, fake fmaps)."""
        return _run(self.discriminators, y, y_hat)


class DiscriminatorS(nn.Module):
    """Scale discriminator: grouped strided 1-D convs over the raw (or average-pooled) waveform."""

    def __init__(self, use_spectral_norm: bool = False):
        super().__init__()
        norm = spectral_norm if use_spectral_norm else weight_norm
        self.convs = nn.ModuleList([
            norm(nn.Conv1d(1, 128, 15, 1, padding=7)),
            norm(nn.Conv1d(128, 128, 41, 2, groups=4, padding=20)),
            norm(nn.Conv1d(128, 256, 41, 2, groups=16, padding=20)),
            norm(nn.Conv1d(256, 512, 41, 4, groups=16, padding=20)),
            norm(nn.Conv1d(512, 1024, 41, 4, groups=16, padding=20)),
            norm(nn.Conv1d(1024, 1024, 41, 1, groups=16, padding=20)),
            norm(nn.Conv1d(1024, 1024, 5, 1, padding=2)),
        ])
        self.conv_post = norm(nn.Conv1d(1024, 1, 3, 1, padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return _conv_stack(self.convs, self.conv_post, x)


class MultiScaleDiscriminator(nn.Module):
    """Three scale discriminators on x1, x2 and x4 average-pooled audio; spectral norm on the first."""

    def __init__(self, num_scales: int = 3):
        super().__init__()
        self.discriminators = nn.ModuleList(
            DiscriminatorS(use_spectral_norm=(i == 0)) for i in range(num_scales)
        )
        self.meanpools = nn.ModuleList(nn.AvgPool1d(4, 2, padding=2) for _ in range(num_scales - 1))

    @classmethod
    def from_config(cls, config: DiscriminatorConfig) -> "MultiScaleDiscriminator":
        return cls(num_scales=config.num_scales)

    def forward(self, y: torch.Tensor, y_hat: torch.Tensor) -> tuple[Scores, Scores, Features, Features]:
        y_d_rs, y_d_gs, fmap_rs, fmap_gs = [], [], [], []
        for i, d in enumerate(self.discriminators):
            if i:
                y = self.meanpools[i - 1](y)
                y_hat = self.meanpools[i - 1](y_hat)
            r, fr = d(y)
            g, fg = d(y_hat)
            y_d_rs.append(r)
            fmap_rs.append(fr)
            y_d_gs.append(g)
            fmap_gs.append(fg)
        return y_d_rs, y_d_gs, fmap_rs, fmap_gs


class DiscriminatorR(nn.Module):
    """Spectrogram discriminator at one STFT resolution: 2-D convs over the (B, 1, frames, bins)
    magnitude, strided along frequency only, so every frame keeps its own score."""

    def __init__(self, n_fft: int, hop_length: int, channels: int = 32):
        super().__init__()
        self.n_fft, self.hop_length = n_fft, hop_length
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        c = channels
        self.convs = nn.ModuleList([
            weight_norm(nn.Conv2d(1, c, (3, 9), padding=(1, 4))),
            weight_norm(nn.Conv2d(c, c, (3, 9), stride=(1, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(c, c, (3, 9), stride=(1, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(c, c, (3, 9), stride=(1, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(c, c, (3, 3), padding=(1, 1))),
        ])
        self.conv_post = weight_norm(nn.Conv2d(c, 1, (3, 3), padding=(1, 1)))

    def spectrogram(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, T) -> (B, 1, frames, bins) magnitude."""
        spec = torch.stft(x.squeeze(1), self.n_fft, self.hop_length, window=self.window, center=True,
                          return_complex=True)
        return spec.abs().transpose(1, 2).unsqueeze(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return _conv_stack(self.convs, self.conv_post, self.spectrogram(x))


class MultiResolutionDiscriminator(nn.Module):
    """One `DiscriminatorR` per (n_fft, hop_length) resolution."""

    def __init__(self, resolutions: Sequence[tuple[int, int]] = ((1024, 256), (2048, 512), (512, 128)),
                 channels: int = 32):
        super().__init__()
        self.resolutions = tuple((int(n), int(h)) for n, h in resolutions)
        self.discriminators = nn.ModuleList(DiscriminatorR(n, h, channels) for n, h in self.resolutions)

    @classmethod
    def from_config(cls, config: DiscriminatorConfig) -> "MultiResolutionDiscriminator":
        return cls(resolutions=config.resolutions, channels=config.mrd_channels)

    def forward(self, y: torch.Tensor, y_hat: torch.Tensor) -> tuple[Scores, Scores, Features, Features]:
        return _run(self.discriminators, y, y_hat)


def _conv_stack(convs, conv_post, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A sub-discriminator's layers: each conv then leaky ReLU, the post conv; (flat scores, feature maps)."""
    fmap = []
    for conv in convs:
        x = F.leaky_relu(conv(x), LRELU_SLOPE)
        fmap.append(x)
    x = conv_post(x)
    fmap.append(x)
    return torch.flatten(x, 1, -1), fmap


def _run(discriminators, y, y_hat):
    y_d_rs, y_d_gs, fmap_rs, fmap_gs = [], [], [], []
    for d in discriminators:
        r, fr = d(y)
        g, fg = d(y_hat)
        y_d_rs.append(r)
        fmap_rs.append(fr)
        y_d_gs.append(g)
        fmap_gs.append(fg)
    return y_d_rs, y_d_gs, fmap_rs, fmap_gs
