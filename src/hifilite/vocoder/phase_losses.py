"""Losses on phase derivatives: instantaneous frequency and group delay, magnitude-weighted.

Absolute STFT phase is not a smooth function of the mel (it depends on where the frames fall on
each period), so regressing it directly fails; its derivatives are what the mel determines: the
time derivative (instantaneous frequency, IF) of a harmonic is its frequency, and the frequency
derivative (group delay, GD) of a pulse is its time position. Both compare the wrapped phase
differences of the student's STFT with the target's:

    P[f, t]   = X[f, t + 1] * conj(X[f, t])         (IF: time axis;  GD: X[f + 1, t] * conj(X[f, t]))
    error     = |angle(P_hat * conj(P))|            (= |wrap(dphi_hat - dphi)|, in [0, pi]: no unwrapping)
    loss      = sum(w * error) / sum(w),  w = sqrt(|P|) of the target (the geometric mean of the two
                bins' magnitudes), so silent bins, whose phase is noise, do not count.

Both are zero for identical signals and for a constant phase offset (e.g. polarity), and grow with
time shifts (GD) and frequency changes (IF). Weights live outside, keyed by the logged names
`distil/if` and `distil/gd` (see `hifilite.vocoder.task`).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

AXES = {"time": -1, "freq": -2}


def wrapped_difference_error(p_hat: torch.Tensor, p: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """|angle(p_hat * conj(p))| elementwise, with zero gradient where either product vanishes."""
    q = p_hat * p.conj()
    real, imag = q.real, q.imag
    ok = real.square() + imag.square() > eps
    return torch.atan2(torch.where(ok, imag, 0.0), torch.where(ok, real, 1.0)).abs()


class PhaseDerivativeLoss(nn.Module):
    """Magnitude-weighted wrapped error of the phase derivative along `axis` ("time": instantaneous
    frequency, "freq": group delay), averaged over STFT `resolutions` (n_fft, hop, win).

    Call shape as the other losses: (y_hat, y) waveforms (B, 1, T) or (B, T) -> scalar, y the target.
    """

    def __init__(self, axis: str, resolutions: Sequence[tuple[int, int, int]] = ((1024, 256, 1024), (512, 128, 512))):
        super().__init__()
        if axis not in AXES:
            raise ValueError(f"axis must be one of {', '.join(AXES)}, got {axis!r}")
        self.dim, self.resolutions = AXES[axis], tuple(resolutions)
        for i, (_, _, win) in enumerate(self.resolutions):
            self.register_buffer(f"window{i}", torch.hann_window(win), persistent=False)

    def _derivative(self, spec: torch.Tensor) -> torch.Tensor:
        n = spec.shape[self.dim]
        return spec.narrow(self.dim, 1, n - 1) * spec.narrow(self.dim, 0, n - 1).conj()

    def forward(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y_hat, y = y_hat.reshape(-1, y_hat.shape[-1]), y.reshape(-1, y.shape[-1])
        total = y.new_zeros(())
        for i, (n_fft, hop, win) in enumerate(self.resolutions):
            window = getattr(self, f"window{i}")
            s_hat = torch.stft(y_hat, n_fft, hop, win, window, return_complex=True)
            s = torch.stft(y, n_fft, hop, win, window, return_complex=True)
            p_hat, p = self._derivative(s_hat), self._derivative(s)
            w = p.abs().detach().sqrt()
            total = total + (w * wrapped_difference_error(p_hat, p)).sum() / w.sum().clamp(min=1e-8)
        return total / len(self.resolutions)


class InstantaneousFrequencyLoss(PhaseDerivativeLoss):
    """Phase-derivative loss along time (logged as `distil/if` against the teacher)."""

    def __init__(self, resolutions: Sequence[tuple[int, int, int]] = ((1024, 256, 1024), (512, 128, 512))):
        super().__init__("time", resolutions)


class GroupDelayLoss(PhaseDerivativeLoss):
    """Phase-derivative loss along frequency (logged as `distil/gd` against the teacher)."""

    def __init__(self, resolutions: Sequence[tuple[int, int, int]] = ((1024, 256, 1024), (512, 128, 512))):
        super().__init__("freq", resolutions)
