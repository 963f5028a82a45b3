"""HiFi-GAN generator with multi-receptive-field fusion (Kong et al., 2020).

Module and parameter names follow the official implementation (jik876/hifi-gan) so official
checkpoints map one-to-one: `conv_pre`, `ups.{i}`, `resblocks.{i * num_kernels + j}`, `conv_post`.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from ..config import GeneratorConfig, to_dict
from .weight_norm import fuse_weight_norm

LRELU_SLOPE = 0.1


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    """'Same' padding of a stride-1 dilated convolution."""
    return (kernel_size * dilation - dilation) // 2


def init_weights(m: nn.Module, mean: float = 0.0, std: float = 0.01) -> None:
    if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)):
        m.weight.data.normal_(mean, std)


class LowRankConv1d(nn.Module):
    """A C -> C conv factored through `rank` channels: k-tap conv C -> rank, then 1x1 rank -> C.

    Made from a full conv by channel SVD (Tucker-2 on the output/input-x-kernel unfolding); with
    components in singular-value order, so a prefix of the rank is itself the best smaller conv.
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int, rank: int):
        super().__init__()
        self.kernel_size, self.dilation = (kernel_size,), (dilation,)
        self.reduce = nn.Conv1d(channels, rank, kernel_size, 1, dilation=dilation,
                                padding=get_padding(kernel_size, dilation), bias=False)
        self.expand = nn.Conv1d(rank, channels, 1)
        self.active: int | None = None  # supernet: use only the first `active` components

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.active is None:
            return self.expand(self.reduce(x))
        r, red = self.active, self.reduce
        h = F.conv1d(x, red.weight[:r], None, 1, red.padding, red.dilation)
        return F.conv1d(h, self.expand.weight[:, :r], self.expand.bias)


class SeparableConv1d(nn.Module):
    """Depthwise k-tap conv with `multiplier` filters per channel, then a 1x1 pointwise conv.

    With multiplier = kernel size, any full conv is represented exactly (per-input-channel SVD).
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int, multiplier: int):
        super().__init__()
        self.kernel_size, self.dilation = (kernel_size,), (dilation,)
        self.depthwise = nn.Conv1d(channels, channels * multiplier, kernel_size, 1, dilation=dilation,
                                   padding=get_padding(kernel_size, dilation), groups=channels, bias=False)
        self.pointwise = nn.Conv1d(channels * multiplier, channels, 1)
        self.active: int | None = None  # supernet: use only the first `active` filters per channel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.active is None:
            return self.pointwise(self.depthwise(x))
        dw, pw, r = self.depthwise, self.pointwise, self.active
        c, k, m = dw.in_channels, dw.kernel_size[0], dw.out_channels // dw.in_channels
        w_dw = dw.weight.reshape(c, m, 1, k)[:, :r].reshape(c * r, 1, k)
        w_pw = pw.weight.reshape(pw.out_channels, c, m, 1)[:, :, :r].reshape(pw.out_channels, c * r, 1)
        h = F.conv1d(x, w_dw, None, 1, dw.padding, dw.dilation, groups=c)
        return F.conv1d(h, w_pw, pw.bias)


def make_conv(channels: int, kernel_size: int, dilation: int, conv: str = "full", rank: int = 0) -> nn.Module:
    """A stride-1 'same' C -> C resblock conv in one of the forms a student may use.

    conv: "full" (weight-normed, as in HiFi-GAN), "lowrank" (rank = inner channels, capped at C;
    0 = full rank C), "separable" (rank = depth multiplier, capped at the kernel size, which is
    exact; 0 = exact). A rank is one number for all stages; narrow late stages keep their exact rank.
    """
    if conv == "full":
        return weight_norm(nn.Conv1d(channels, channels, kernel_size, 1, dilation=dilation,
                                     padding=get_padding(kernel_size, dilation)))
    if conv == "lowrank":
        return LowRankConv1d(channels, kernel_size, dilation, min(rank or channels, channels))
    if conv == "separable":
        return SeparableConv1d(channels, kernel_size, dilation, min(rank or kernel_size, kernel_size, channels))
    raise ValueError(f"unknown resblock conv form {conv!r}")


class ResBlock1(nn.Module):
    """Three (dilated conv, conv) pairs with leaky-ReLU and residual connections."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: Sequence[int] = (1, 3, 5),
                 conv: str = "full", rank: int = 0):
        super().__init__()
        self.convs1 = nn.ModuleList(make_conv(channels, kernel_size, d, conv, rank) for d in dilation)
        self.convs2 = nn.ModuleList(make_conv(channels, kernel_size, 1, conv, rank) for _ in dilation)
        self.convs1.apply(init_weights)
        self.convs2.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
            x = xt + x
        return x

    def receptive_field(self) -> int:
        """One-sided context in samples at this block's rate."""
        return sum(c.dilation[0] * (c.kernel_size[0] - 1) // 2 for c in [*self.convs1, *self.convs2])


class ResBlock2(nn.Module):
    """One dilated conv per dilation, each with leaky-ReLU and a residual connection (V3)."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: Sequence[int] = (1, 3),
                 conv: str = "full", rank: int = 0):
        super().__init__()
        self.convs = nn.ModuleList(make_conv(channels, kernel_size, d, conv, rank) for d in dilation)
        self.convs.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c in self.convs:
            x = c(F.leaky_relu(x, LRELU_SLOPE)) + x
        return x

    def receptive_field(self) -> int:
        return sum(c.dilation[0] * (c.kernel_size[0] - 1) // 2 for c in self.convs)


def istft_basis(n_fft: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthesis kernels of an inverse real DFT with a periodic Hann window folded in.

    Returns (basis (2 * bins, 1, n_fft), window_sq (1, 1, n_fft)), float32: a transposed conv of
    [real; imag] (B, 2 * bins, T) with `basis` at stride hop is the windowed overlap-add, and the
    same conv of ones with `window_sq` is the envelope to divide by.
    """
    bins = n_fft // 2 + 1
    window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
    n = torch.arange(n_fft, dtype=torch.float64)
    k = torch.arange(bins, dtype=torch.float64)
    angle = 2 * torch.pi * k[:, None] * n[None] / n_fft
    scale = torch.full((bins, 1), 2.0 / n_fft, dtype=torch.float64)
    scale[0] = scale[-1] = 1.0 / n_fft  # DC and Nyquist appear once in the real spectrum
    basis = torch.cat([scale * torch.cos(angle), -scale * torch.sin(angle)]) * window
    return basis.unsqueeze(1).float(), (window**2).view(1, 1, n_fft).float()


class ISTFTHead(nn.Module):
    """Log-magnitude and phase channels (B, n_fft + 2, T) -> waveform (B, 1, T * hop) by inverse STFT.

    The iSTFT output head (iSTFTNet) replaces the last upsampling stages: the network stops at
    1/hop of the sample rate and predicts one short STFT frame per step. The inverse real DFT,
    Hann synthesis window and overlap-add are one fixed transposed convolution, divided by the
    window's squared overlap-add envelope, so the head exports to ONNX and chunks exactly like the
    rest of the generator. Phase is `pi * sin(x)`, so every angle is reachable and the map is smooth.
    """

    def __init__(self, n_fft: int, hop: int) -> None:
        super().__init__()
        if n_fft < 2 or n_fft % 2 or hop < 1 or hop > n_fft or (n_fft - hop) % 2:
            raise ValueError(f"iSTFT head needs an even n_fft >= hop with n_fft - hop even, got {n_fft}/{hop}")
        self.n_fft, self.hop, self.bins = n_fft, hop, n_fft // 2 + 1
        basis, window_sq = istft_basis(n_fft)
        self.register_buffer("basis", basis, persistent=False)  # (2 * bins, 1, n_fft)
        self.register_buffer("window_sq", window_sq, persistent=False)  # (1, 1, n_fft)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mag = torch.exp(x[:, : self.bins].clamp(max=8.0))
        phase = torch.pi * torch.sin(x[:, self.bins:])
        spec = torch.cat([mag * torch.cos(phase), mag * torch.sin(phase)], dim=1)
        y = F.conv_transpose1d(spec, self.basis, stride=self.hop)
        env = F.conv_transpose1d(torch.ones_like(x[:, :1]), self.window_sq, stride=self.hop)
        start, length = (self.n_fft - self.hop) // 2, x.shape[-1] * self.hop
        return y[..., start:start + length] / env[..., start:start + length].clamp(min=1e-8)

    def context(self) -> int:
        """One-sided context of an output sample, in input steps."""
        return -(-self.n_fft // self.hop)


class Generator(nn.Module):
    """Mel (B, in_channels, frames) -> waveform (B, 1, frames * prod(upsample_rates)) in [-1, 1].

    Presets: V1 (512 ch, 13.93 M params), V2 (128 ch, 0.93 M), V3 (256 ch, resblock 2, 1.46 M).
    Students use the same class with `resblock_conv` "lowrank" or "separable" (see `make_conv`).
    """

    def __init__(
        self,
        *,
        in_channels: int = 80,
        upsample_initial_channel: int = 512,
        upsample_rates: Sequence[int] = (8, 8, 2, 2),
        upsample_kernel_sizes: Sequence[int] = (16, 16, 4, 4),
        resblock: str = "1",
        resblock_kernel_sizes: Sequence[int] = (3, 7, 11),
        resblock_dilation_sizes: Sequence[Sequence[int]] = ((1, 3, 5), (1, 3, 5), (1, 3, 5)),
        resblock_conv: str = "full",
        resblock_rank: int = 0,
        stage_ranks: Sequence[int] = (),
        istft_n_fft: int = 0,
        istft_hop: int = 1,
    ) -> None:
        super().__init__()
        self.config = GeneratorConfig(
            in_channels=in_channels, upsample_initial_channel=upsample_initial_channel,
            upsample_rates=tuple(upsample_rates), upsample_kernel_sizes=tuple(upsample_kernel_sizes),
            resblock=str(resblock), resblock_kernel_sizes=tuple(resblock_kernel_sizes),
            resblock_dilation_sizes=tuple(tuple(d) for d in resblock_dilation_sizes), resblock_conv=resblock_conv,
            resblock_rank=resblock_rank, stage_ranks=tuple(stage_ranks), istft_n_fft=istft_n_fft, istft_hop=istft_hop)
        self.num_kernels = len(resblock_kernel_sizes)
        self.num_upsamples = len(upsample_rates)
        self.upsample_rates = tuple(upsample_rates)
        self.istft = ISTFTHead(istft_n_fft, istft_hop) if istft_n_fft else None
        self.conv_pre = weight_norm(nn.Conv1d(in_channels, upsample_initial_channel, 7, 1, padding=3))
        block = ResBlock1 if str(resblock) == "1" else ResBlock2

        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes)):
            self.ups.append(weight_norm(nn.ConvTranspose1d(
                upsample_initial_channel // (2**i), upsample_initial_channel // (2 ** (i + 1)),
                k, u, padding=(k - u) // 2)))
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for i in range(len(self.ups)):
            ch = upsample_initial_channel // (2 ** (i + 1))
            for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.resblocks.append(block(ch, k, d, resblock_conv, stage_ranks[i] if stage_ranks else resblock_rank))
        post_channels = istft_n_fft + 2 if istft_n_fft else 1
        self.conv_post = weight_norm(nn.Conv1d(ch, post_channels, 7, 1, padding=3))
        self.ups.apply(init_weights)
        self.conv_post.apply(init_weights)

    @classmethod
    def from_config(cls, config: GeneratorConfig) -> "Generator":
        """A freshly initialised generator (with weight norm) of `config`; `.config` is `config`."""
        return cls(**to_dict(config))

    @property
    def hop_length(self) -> int:
        out = self.istft.hop if self.istft is not None else 1
        for u in self.upsample_rates:
            out *= u
        return out

    def forward(self, mel: torch.Tensor, return_features: bool = False):
        """mel (B, C, frames) -> wav (B, 1, frames * hop).

        With `return_features=True` also returns the list of each upsampling stage's MRF output
        (B, C_i, T_i), the features that intermediate distillation matches.
        """
        x = self.conv_pre(mel)
        feats = []
        for i in range(self.num_upsamples):
            x = self.ups[i](F.leaky_relu(x, LRELU_SLOPE))
            xs = self.resblocks[i * self.num_kernels](x)
            for j in range(1, self.num_kernels):
                xs = xs + self.resblocks[i * self.num_kernels + j](x)
            x = xs / self.num_kernels
            if return_features:
                feats.append(x)
        # The official code uses the default slope (0.01) here, not LRELU_SLOPE.
        x = self.conv_post(F.leaky_relu(x))
        x = self.istft(x) if self.istft is not None else torch.tanh(x)
        return (x, feats) if return_features else x

    def remove_weight_norm(self) -> "Generator":
        """Fuse weight norm into plain weights for inference and export (in place)."""
        return fuse_weight_norm(self)

    def receptive_field_frames(self) -> int:
        """One-sided context, in mel frames, that an output sample depends on (upper bound).

        Used by chunked and streaming inference: with this many frames of overlap on each side a
        chunk's centre equals whole-input inference.
        """
        hop = 1
        ctx_samples = 3  # conv_pre at frame rate, measured in frames: converted below
        total = ctx_samples * self.hop_length  # conv_pre context in output samples
        for i in range(self.num_upsamples):
            hop *= self.upsample_rates[i]
            up = self.ups[i]
            k = up.kernel_size[0]
            # A transposed conv of kernel k and stride u reaches ceil(k / u) input steps.
            total += -(-k // up.stride[0]) * (self.hop_length // hop) * up.stride[0]
            rf = max(rb.receptive_field() for rb in
                     self.resblocks[i * self.num_kernels:(i + 1) * self.num_kernels])
            total += rf * (self.hop_length // hop)
        step = self.istft.hop if self.istft is not None else 1  # output samples per conv_post step
        total += 3 * step  # conv_post
        if self.istft is not None:
            total += self.istft.context() * step
        return -(-total // self.hop_length) + 1
