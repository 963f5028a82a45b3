"""The acoustic model's building blocks: the search-space operations as modules, the residual
layer and stack, the variance predictor, the length regulator and the pitch/energy buckets (see
`hifilite.acoustic.models` for the architecture they make up).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .arch import AcousticConfig, check_op


def sequence_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """(B, max_len) bool, True at valid positions."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def sinusoid_encoding(length: int | torch.Tensor, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """(length, dim) Transformer position encoding, computed for any (traced) length."""
    pos = torch.arange(length, device=device).float().unsqueeze(1)
    i = torch.arange(0, dim, 2, device=device).float()
    angle = pos * torch.exp(-math.log(10000.0) * i / dim)
    pe = torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1).flatten(1)
    return pe[:, :dim]


class SepConv(nn.Module):
    """Depthwise-separable conv: depthwise (kernel k) then pointwise, on (B, C, T)."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv1d(channels_in, channels_in, kernel, padding=kernel // 2, groups=channels_in)
        self.pointwise = nn.Conv1d(channels_in, channels_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class SepConvOp(nn.Module):
    """The `sep{k}` operation: two separable convs with a ReLU between, on (B, T, C)."""

    def __init__(self, hidden: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = SepConv(hidden, hidden, kernel)
        self.conv2 = SepConv(hidden, hidden, kernel)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = self.conv1(x.transpose(1, 2))
        y = self.dropout(F.relu(y)) * mask.unsqueeze(1)
        return self.conv2(y).transpose(1, 2)


class FFNOp(nn.Module):
    """The `ffn` operation (FastSpeech 2's position-wise conv FFN), on (B, T, C)."""

    def __init__(self, hidden: int, filter_size: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(hidden, filter_size, kernel, padding=kernel // 2)
        self.conv2 = nn.Conv1d(filter_size, hidden, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = self.dropout(F.relu(self.conv1(x.transpose(1, 2))))
        return self.conv2(y).transpose(1, 2)


class SelfAttentionOp(nn.Module):
    """The `attn{h}` operation: multi-head scaled dot-product self-attention, on (B, T, C).

    Written with plain matmuls (not nn.MultiheadAttention) so it traces to ONNX identically in
    training and inference mode; padded keys are masked out."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(c // self.heads)  # (B, H, T, T)
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
        attn = self.dropout(torch.softmax(scores, dim=-1))
        return self.out((attn @ v).transpose(1, 2).reshape(b, t, c))


class Identity(nn.Module):
    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x


def make_op(op: str, cfg: AcousticConfig) -> nn.Module:
    check_op(op)
    if op.startswith("sep"):
        return SepConvOp(cfg.hidden, int(op[3:]), cfg.dropout)
    if op.startswith("attn"):
        return SelfAttentionOp(cfg.hidden, int(op[4:]), cfg.dropout)
    if op == "ffn":
        return FFNOp(cfg.hidden, cfg.ffn_filter, cfg.ffn_kernel, cfg.dropout)
    return Identity()


class Layer(nn.Module):
    """Pre-norm residual around one search-space operation; padding is zeroed after it."""

    def __init__(self, op: str, cfg: AcousticConfig) -> None:
        super().__init__()
        self.name = op
        self.op = make_op(op, cfg)
        self.norm = nn.LayerNorm(cfg.hidden) if op != "id" else nn.Identity()
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.name == "id":
            return x
        return (x + self.dropout(self.op(self.norm(x), mask))) * mask.unsqueeze(-1)


class Stack(nn.Module):
    """Encoder or decoder: position encoding, the layers, a final LayerNorm. (B, T, C) in and out."""

    def __init__(self, ops: tuple[str, ...], cfg: AcousticConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(Layer(op, cfg) for op in ops)
        self.norm = nn.LayerNorm(cfg.hidden)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = (x + sinusoid_encoding(x.shape[1], x.shape[2], x.device)) * mask.unsqueeze(-1)
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x) * mask.unsqueeze(-1)


class VariancePredictor(nn.Module):
    """Two convs (k=3; separable for LightSpeech) with ReLU, LayerNorm, dropout; then a linear.
    (B, N, C) -> (B, N), zero at padding."""

    def __init__(self, cfg: AcousticConfig) -> None:
        super().__init__()
        ch, k = cfg.predictor_channels, cfg.predictor_kernel

        def conv(cin: int) -> nn.Module:
            return SepConv(cin, ch, k) if cfg.predictor == "sep" else nn.Conv1d(cin, ch, k, padding=k // 2)

        self.convs = nn.ModuleList([conv(cfg.hidden), conv(ch)])
        self.norms = nn.ModuleList([nn.LayerNorm(ch), nn.LayerNorm(ch)])
        self.dropout = nn.Dropout(cfg.predictor_dropout)
        self.linear = nn.Linear(ch, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.convs, self.norms):
            x = conv(x.transpose(1, 2)).transpose(1, 2)
            x = self.dropout(norm(F.relu(x))) * mask.unsqueeze(-1)
        return self.linear(x).squeeze(-1) * mask


def length_regulate(x: torch.Tensor, durations: torch.Tensor, max_frames: int | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Repeat each phoneme's vector by its duration: (B, N, C), (B, N) int -> (B, T, C), (B,).

    Frame t of item b copies phoneme `#{j : cumsum(d_b)_j <= t}` (a searchsorted done as a
    comparison and a sum, which ONNX exports); frames past an item's total are zero. T is the
    largest total (at least 1), or `max_frames` if given (longer totals are cut).
    """
    durations = durations.clamp(min=0).long()
    ends = torch.cumsum(durations, dim=1)  # (B, N)
    totals = ends[:, -1]
    # arange of a 0-dim tensor keeps the length dynamic when traced for ONNX. At least one
    # (masked) frame: convolutions cannot run on an empty sequence, and an untrained duration
    # predictor may give every phoneme 0 frames (mel_lens is then 0).
    length = totals.max().clamp(min=1) if max_frames is None else max_frames
    frames = torch.arange(length, device=x.device)
    index = (ends.unsqueeze(1) <= frames[None, :, None]).sum(-1)  # (B, T)
    index = index.clamp(max=x.shape[1] - 1)
    out = torch.gather(x, 1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
    mask = frames[None, :] < totals[:, None]
    return out * mask.unsqueeze(-1), totals.clamp(max=frames.shape[0])


def bucket(values: torch.Tensor, boundaries: torch.Tensor) -> torch.Tensor:
    """`torch.bucketize(values, boundaries)` (index i with b[i-1] < v <= b[i]) as a count of
    boundaries below each value, which ONNX exports."""
    return (values.unsqueeze(-1) > boundaries).sum(-1)


def durations_from_log(log_durations: torch.Tensor, mask: torch.Tensor, scale: float | torch.Tensor = 1.0
                       ) -> torch.Tensor:
    """Predicted log(1 + frames) -> integer frames, times `scale` (1.25 = 25 % slower speech),
    rounded to the nearest integer (halves to even), never negative, zero at padding."""
    d = (torch.exp(log_durations) - 1.0) * scale
    return torch.round(d).clamp(min=0).long() * mask.long()
