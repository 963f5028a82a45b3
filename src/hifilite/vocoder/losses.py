"""HiFi-GAN losses as modules with one call shape.

Weights live outside the modules, in one dict keyed by the logged metric name
(`{"mel/loss": 45, "adv/gen": 1, "adv/feat": 2}`), so adding a term is one new entry.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def discriminator_loss(real: Sequence[torch.Tensor], fake: Sequence[torch.Tensor]) -> torch.Tensor:
    """LSGAN discriminator loss: sum over sub-discriminators of E[(1 - D(y))^2] + E[D(G(s))^2]."""
    return sum(torch.mean((1 - r) ** 2) + torch.mean(g**2) for r, g in zip(real, fake))


def generator_adv_loss(fake: Sequence[torch.Tensor]) -> torch.Tensor:
    """LSGAN generator loss: sum over sub-discriminators of E[(1 - D(G(s)))^2]."""
    return sum(torch.mean((1 - g) ** 2) for g in fake)


def feature_matching_loss(fmap_r, fmap_g) -> torch.Tensor:
    """Mean L1 between real and generated discriminator feature maps, summed over all layers.

    The official implementation multiplies this sum by 2; here that factor is the `adv/feat`
    weight so that it shows in one place.
    """
    return sum(
        torch.mean(torch.abs(r.detach() - g)) for dr, dg in zip(fmap_r, fmap_g) for r, g in zip(dr, dg)
    )


class MelL1Loss(nn.Module):
    """L1 between log-mels of two waveforms (B, 1, T) or (B, T); official weight 45."""

    def __init__(self, mel: nn.Module):
        super().__init__()
        self.mel = mel

    def forward(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(self.mel(y_hat.squeeze(1)), self.mel(y.squeeze(1)))


class MultiResolutionSTFTLoss(nn.Module):
    """Spectral convergence + log-magnitude L1 averaged over several STFT resolutions.

    (Parallel WaveGAN's auxiliary loss.) Used by distillation and as an evaluation distance.
    """

    def __init__(
        self,
        resolutions: Sequence[tuple[int, int, int]] = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240)),
    ):
        super().__init__()
        self.resolutions = tuple(resolutions)
        for i, (_, _, win) in enumerate(self.resolutions):
            self.register_buffer(f"window{i}", torch.hann_window(win), persistent=False)

    def _mag(self, x: torch.Tensor, i: int) -> torch.Tensor:
        n_fft, hop, win = self.resolutions[i]
        spec = torch.stft(x, n_fft, hop, win, getattr(self, f"window{i}"), return_complex=True)
        return torch.sqrt(torch.clamp(spec.real**2 + spec.imag**2, min=1e-7))

    def forward(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y_hat, y = y_hat.reshape(-1, y_hat.shape[-1]), y.reshape(-1, y.shape[-1])
        total = y.new_zeros(())
        for i in range(len(self.resolutions)):
            m_hat, m = self._mag(y_hat, i), self._mag(y, i)
            sc = torch.linalg.norm(m - m_hat, dim=(-2, -1)) / torch.linalg.norm(m, dim=(-2, -1)).clamp(min=1e-7)
            mag = F.l1_loss(torch.log(m_hat), torch.log(m))
            total = total + sc.mean() + mag
        return total / len(self.resolutions)
