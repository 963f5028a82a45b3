"""Frame-rate Fourier-head generator: a ConvNeXt backbone at the mel frame rate and an iSTFT head.

    mel (B, n_mels, T) --backbone--> (B, T, C) --head--> log|X|, angle (B, bins, T) --iSTFT--> (B, 1, T * hop)

Every learned layer runs once per mel frame (86 per second at 22.05 kHz / hop 256), so the cost of a
second of audio is that of 86 short vectors; the samples come from one inverse STFT with the mel's
own framing (n_fft 1024, hop 256, Hann), so output frame t is centred where mel frame t was analysed.

Phase parameterisation: the head predicts the angle directly and uses (cos, sin) of it. The map is
periodic, so every angle is reachable with no boundary or normalisation singularity (unlike a
squashed `pi * sin(x)` angle, whose gradient vanishes at +-pi, or a normalised (re, im) pair, which
is undefined at zero). Absolute phase is not a smooth function of the mel; train it through losses
on its derivatives (`hifilite.vocoder.phase_losses`), not by regressing it.

The inverse STFT is computed two ways with the same result: in eager PyTorch by `irfft` (fast), and
while exporting to ONNX (opset 17 has no inverse real DFT, and ONNX Runtime's DFT is slower than a
matrix product here) as products with the windowed inverse-DFT basis (`istft_basis`). Both then
overlap-add and divide by the window's squared overlap-add envelope, so an output sample depends on
a bounded window of frames and chunked or streaming inference equals whole-input inference
(`receptive_field_frames`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import FourierConfig, to_dict
from .generator import istft_basis

MAX_LOG_MAGNITUDE = 8.0  # exp(8) ~ 3e3, an order above a full-scale sine's STFT peak (n_fft / 4)


def hidden_channels(channels: int, mlp_ratio: float) -> int:
    """Width of a block's pointwise MLP for a backbone of `channels`."""
    return max(1, int(round(channels * mlp_ratio)))


class ConvNeXtBlock(nn.Module):
    """Depthwise conv (k taps), LayerNorm, pointwise MLP (Linear, GELU, Linear), layer scale, residual.

    (B, T, C) -> (B, T, C): the residual stream is channel-last, so only the depthwise conv sees a
    transposed view. `width` (supernet) runs only the first `width` channels, with the first
    `hidden_channels(width, ratio)` MLP units: the path a narrower block extracted from it computes.
    """

    def __init__(self, channels: int, hidden: int, kernel_size: int = 7, layer_scale: float = 1.0) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.pwconv1 = nn.Linear(channels, hidden)
        self.pwconv2 = nn.Linear(hidden, channels)
        self.gamma = nn.Parameter(torch.full((channels,), float(layer_scale)))
        self.width: tuple[int, int] | None = None  # (channels, hidden) of the active path, or None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.width is None:
            h = self.norm(self.dwconv(x.transpose(1, 2)).transpose(1, 2))
            return x + self.gamma * self.pwconv2(F.gelu(self.pwconv1(h)))
        c, hd = self.width
        dw = self.dwconv
        h = F.conv1d(x.transpose(1, 2), dw.weight[:c], dw.bias[:c], padding=dw.padding, groups=c).transpose(1, 2)
        h = F.layer_norm(h, (c,), self.norm.weight[:c], self.norm.bias[:c], self.norm.eps)
        h = F.gelu(F.linear(h, self.pwconv1.weight[:hd, :c], self.pwconv1.bias[:hd]))
        return x + self.gamma[:c] * F.linear(h, self.pwconv2.weight[:c, :hd], self.pwconv2.bias[:c])


class ConvNeXtBackbone(nn.Module):
    """mel (B, n_mels, T) -> features (B, T, C): embedding conv, LayerNorm, `blocks` ConvNeXt blocks,
    LayerNorm. All at the frame rate; one-sided context (kernel_size // 2) * (blocks + 1) frames."""

    def __init__(self, in_channels: int, channels: int, blocks: int, mlp_ratio: float, kernel_size: int) -> None:
        super().__init__()
        self.channels, self.mlp_ratio, self.kernel_size = channels, mlp_ratio, kernel_size
        self.embed = nn.Conv1d(in_channels, channels, kernel_size, padding=kernel_size // 2)
        self.norm_in = nn.LayerNorm(channels, eps=1e-6)
        hidden = hidden_channels(channels, mlp_ratio)
        self.blocks = nn.ModuleList(ConvNeXtBlock(channels, hidden, kernel_size, 1.0 / max(1, blocks))
                                    for _ in range(blocks))
        self.norm_out = nn.LayerNorm(channels, eps=1e-6)
        self.apply(self._init)
        self.path: tuple[int, int] | None = None  # supernet: (channels, blocks) in use

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Conv1d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)

    def set_path(self, path: tuple[int, int] | None) -> None:
        """Run only the first `path[0]` channels and `path[1]` blocks (None: everything)."""
        self.path = None if path is None else (int(path[0]), int(path[1]))
        width = None if path is None else (self.path[0], hidden_channels(self.path[0], self.mlp_ratio))
        for block in self.blocks:
            block.width = width

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        if self.path is None:
            x = self.norm_in(self.embed(mel).transpose(1, 2))
            for block in self.blocks:
                x = block(x)
            return self.norm_out(x)
        c, depth = self.path
        e, n_in, n_out = self.embed, self.norm_in, self.norm_out
        x = F.conv1d(mel, e.weight[:c], e.bias[:c], padding=e.padding).transpose(1, 2)
        x = F.layer_norm(x, (c,), n_in.weight[:c], n_in.bias[:c], n_in.eps)
        for block in self.blocks[:depth]:
            x = block(x)
        return F.layer_norm(x, (c,), n_out.weight[:c], n_out.bias[:c], n_out.eps)

    def context(self) -> int:
        """One-sided context in frames: each k-tap conv reaches k // 2 frames further."""
        depth = len(self.blocks) if self.path is None else self.path[1]
        return (self.kernel_size // 2) * (depth + 1)


class InverseSTFT(nn.Module):
    """Log-magnitude and angle (B, T, n_fft // 2 + 1) each -> waveform (B, 1, T * hop): Hann-windowed
    overlap-add divided by the squared-window envelope, trimmed by (n_fft - hop) / 2 at the start so
    that frame t is centred on output samples [t * hop, (t + 1) * hop), as the mel front-end frames
    its input.

    Export form: the windowed inverse real DFT of a frame is x[n] = P[n] + Q[n] and
    x[N - n] = P[n] - Q[n] for n <= N / 2, with P = real @ C and Q = imag @ S over the first half of
    the (symmetric, periodic Hann) window, so two (bins x N/2+1) matrix products give the frame: half
    the multiplies of the full (2 bins x N) basis.
    """

    def __init__(self, n_fft: int, hop: int) -> None:
        super().__init__()
        if n_fft < 2 or n_fft % 2 or hop < 1 or n_fft % hop or (n_fft - hop) % 2:
            raise ValueError(f"iSTFT needs an even n_fft, a multiple of hop, with n_fft - hop even; "
                             f"got {n_fft}/{hop}")
        self.n_fft, self.hop, self.bins = n_fft, hop, n_fft // 2 + 1
        basis, window_sq = istft_basis(n_fft)  # (2 * bins, 1, n_fft): [cos; -sin] rows, window folded in
        half = basis[:, 0, : self.bins]
        self.register_buffer("cos_basis", half[: self.bins].contiguous(), persistent=False)  # (bins, N/2 + 1)
        self.register_buffer("sin_basis", half[self.bins:].contiguous(), persistent=False)
        self.register_buffer("window_sq", window_sq.view(1, 1, -1, hop), persistent=False)  # (1, 1, N / hop, hop)
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True), persistent=False)

    def forward(self, log_mag: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
        frames = log_mag.shape[1]
        mag = torch.exp(log_mag.clamp(max=MAX_LOG_MAGNITUDE))
        real, imag = mag * torch.cos(angle), mag * torch.sin(angle)
        if torch.onnx.is_in_onnx_export():  # opset 17 has no fast inverse DFT: two half-basis products
            p, q = real @ self.cos_basis, imag @ self.sin_basis  # (B, T, N/2 + 1)
            seg = torch.cat([p + q, (p - q)[..., 1:-1].flip(-1)], dim=-1)
        else:
            seg = torch.fft.irfft(torch.complex(real, imag), n=self.n_fft, dim=-1) * self.window
        y = self._overlap_add(seg.unflatten(-1, (-1, self.hop)), frames)
        env = self._overlap_add(self.window_sq.expand(1, frames, -1, -1), frames)
        start, length = (self.n_fft - self.hop) // 2, frames * self.hop
        return y[..., start:start + length] / env[..., start:start + length].clamp(min=1e-8)

    def _overlap_add(self, seg: torch.Tensor, frames: int) -> torch.Tensor:
        """(B, T, n_fft // hop, hop) -> (B, 1, (T - 1) * hop + n_fft): frame t added from sample
        t * hop, as a sum of the frames' hop-long pieces shifted by whole frames."""
        r = self.n_fft // self.hop
        out = sum(F.pad(seg[:, :, j], (0, 0, j, r - 1 - j)) for j in range(r))  # (B, T + r - 1, hop)
        return out.flatten(1).unsqueeze(1)

    def macs(self, inp: torch.Tensor, out: torch.Tensor) -> int:
        """MACs of the exported form (two half-basis products), for `hifilite.evaluate.macs`; eager
        PyTorch uses an FFT instead."""
        return inp.shape[0] * inp.shape[1] * 2 * self.bins * self.bins

    def context(self) -> int:
        """Frames on each side whose window reaches an output frame: frame j covers output samples
        [j * hop - s, j * hop - s + n_fft) with s = (n_fft - hop) / 2."""
        return -(-(self.n_fft + self.hop) // (2 * self.hop)) - 1


class FourierHead(nn.Module):
    """Features (B, T, C) -> waveform (B, 1, T * hop): a Linear layer to log-magnitude and angle of
    each STFT bin, then the inverse STFT."""

    def __init__(self, channels: int, n_fft: int, hop: int) -> None:
        super().__init__()
        self.istft = InverseSTFT(n_fft, hop)
        self.proj = nn.Linear(channels, 2 * self.istft.bins)
        self.width: int | None = None  # supernet: input channels in use

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.proj(x) if self.width is None else F.linear(x, self.proj.weight[:, :self.width], self.proj.bias)
        log_mag, angle = h.split(self.istft.bins, dim=-1)  # (B, T, bins) each
        return self.istft(log_mag, angle)


class FourierGenerator(nn.Module):
    """Mel (B, in_channels, frames) -> waveform (B, 1, frames * hop_length). Not clamped to [-1, 1].

    Preset `fourier`: 128 channels x 6 blocks, MLP ratio 3, n_fft 1024, hop 256 (0.81 M params).
    Same inference interface as the HiFi-GAN `Generator` (`hop_length`, `receptive_field_frames`,
    `remove_weight_norm`), so loading, chunking, streaming, export and benchmarks treat both alike.
    """

    def __init__(self, *, in_channels: int = 80, channels: int = 128, blocks: int = 6, mlp_ratio: float = 3.0,
                 kernel_size: int = 7, n_fft: int = 1024, hop_length: int = 256) -> None:
        super().__init__()
        self.config = FourierConfig(in_channels=in_channels, channels=channels, blocks=blocks, mlp_ratio=mlp_ratio,
                                    kernel_size=kernel_size, n_fft=n_fft, hop_length=hop_length)
        self.in_channels = in_channels
        self.backbone = ConvNeXtBackbone(in_channels, channels, blocks, mlp_ratio, kernel_size)
        self.head = FourierHead(channels, n_fft, hop_length)

    @classmethod
    def from_config(cls, config: FourierConfig) -> "FourierGenerator":
        """A freshly initialised generator of `config`; `.config` is `config`."""
        kwargs = to_dict(config)
        kwargs.pop("family")
        return cls(**kwargs)

    @property
    def hop_length(self) -> int:
        return self.head.istft.hop

    def forward(self, mel: torch.Tensor, return_features: bool = False):
        """mel (B, n_mels, frames) -> wav (B, 1, frames * hop); with `return_features`, also the
        backbone output (B, C, frames) as the one stage feature."""
        x = self.backbone(mel)
        y = self.head(x)
        return (y, [x.transpose(1, 2)]) if return_features else y

    def remove_weight_norm(self) -> "FourierGenerator":
        """No weight norm in this family: nothing to fuse (kept for the common interface)."""
        return self

    def set_path(self, path: tuple[int, int] | None) -> None:
        """Supernet: use the first `path = (channels, blocks)` (None: the whole model)."""
        self.backbone.set_path(path)
        self.head.width = None if path is None else int(path[0])

    def receptive_field_frames(self) -> int:
        """One-sided context in mel frames of an output frame (exact for the active path): with this
        many frames on each side a chunk's centre equals whole-input inference."""
        return self.backbone.context() + self.head.istft.context()
