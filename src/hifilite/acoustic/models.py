"""FastSpeech 2 and the LightSpeech search space: one model class, architectures as data.

The encoder and the mel decoder are stacks of layers, each ONE operation from the LightSpeech
search space (Luo et al., 2021):

    sep{k}    separable convolution block, k in 1, 5, 9, 13, 17, 21, 25
              (depthwise conv k -> pointwise -> ReLU -> depthwise conv k -> pointwise)
    attn{h}   multi-head self-attention with h in 2, 4, 8 heads
    ffn       position-wise feed-forward: conv(k=ffn_kernel, hidden -> ffn_filter) -> ReLU -> conv 1x1
    id        identity (the layer is skipped)

Every layer is a pre-norm residual `x + dropout(op(layer_norm(x)))` with padding zeroed after it,
and each stack ends with a LayerNorm. A FastSpeech 2 feed-forward Transformer block is an `attn2`
layer followed by an `ffn` layer, so the paper's FastSpeech 2 (4 + 4 FFT blocks, hidden 256, 2 heads,
filter 1024, kernels 9/1) is the preset `fastspeech2`, and the architecture LightSpeech found
(encoder sep5 sep25 sep13 sep9, decoder sep17 sep21 sep9 sep13, hidden 256, no attention, separable
variance predictors) is the preset `lightspeech`.

Variance adaptor (FastSpeech 2): duration, pitch and energy predictors (two convs k=3 with ReLU,
LayerNorm and dropout, then a linear), phoneme-level pitch and energy quantised into `n_bins`
buckets between the train statistics' extremes and embedded, and the length regulator. The
duration predictor outputs log(1 + frames). Energy is FastSpeech 2's (linear) by default; with
`energy=log` the predictor and the embedding work on its logarithm: with linear energy the squared
error hardly sees quiet phonemes, whose loudness the log-mel (and the listener) hears most.

The length regulator is written without Python loops: frame t belongs to the phoneme
`i = #{j : cumsum(d)_j <= t}`, found by comparing against the cumulative sum and gathering, so it
runs batched, exports to ONNX with dynamic lengths, and is exact (tested against repeat_interleave).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError

SEP_KERNELS = (1, 5, 9, 13, 17, 21, 25)
ATTN_HEADS = (2, 4, 8)
OPS: tuple[str, ...] = tuple(f"sep{k}" for k in SEP_KERNELS) + tuple(f"attn{h}" for h in ATTN_HEADS) + ("ffn", "id")


def check_op(op: str) -> str:
    if op not in OPS:
        raise ConfigError(f"unknown layer operation {op!r}; choose from {', '.join(OPS)}")
    return op


ENERGY_SCALES = ("linear", "log")


@dataclass(frozen=True)
class AcousticConfig:
    """Constructor arguments of `AcousticModel`. Pitch/energy ranges are in normalised units
    (z-scores of the train split) and set the bucket boundaries of their embeddings."""

    num_symbols: int = 256
    n_mels: int = 80
    hidden: int = 256
    encoder: tuple[str, ...] = ("attn2", "ffn") * 4
    decoder: tuple[str, ...] = ("attn2", "ffn") * 4
    ffn_filter: int = 1024
    ffn_kernel: int = 9
    dropout: float = 0.2
    predictor: str = "conv"  # "conv" (FastSpeech 2) or "sep" (LightSpeech: separable convs)
    predictor_channels: int = 256
    predictor_kernel: int = 3
    predictor_dropout: float = 0.5
    n_bins: int = 256
    pitch_range: tuple[float, float] = (-4.0, 4.0)
    energy_range: tuple[float, float] = (-2.0, 4.0)
    # "linear": phoneme energy as FastSpeech 2 defines it (mean frame L2 norm of the STFT magnitude);
    # "log": its logarithm, so the predictor's squared error weighs quiet phonemes as the log-mel does
    energy: str = "linear"

    def __post_init__(self) -> None:
        for op in (*self.encoder, *self.decoder):
            check_op(op)
        if not self.encoder or not self.decoder:
            raise ConfigError("encoder and decoder need at least one layer each")
        if self.predictor not in ("conv", "sep"):
            raise ConfigError(f"predictor must be conv or sep, not {self.predictor!r}")
        if self.energy not in ENERGY_SCALES:
            raise ConfigError(f"energy must be {' or '.join(ENERGY_SCALES)}, not {self.energy!r}")
        for op in (*self.encoder, *self.decoder):
            if op.startswith("attn") and self.hidden % int(op[4:]):
                raise ConfigError(f"hidden {self.hidden} is not divisible by the heads of {op}")
        if self.hidden < 1 or self.n_bins < 2 or self.num_symbols < 1:
            raise ConfigError("hidden, n_bins and num_symbols must be positive (n_bins >= 2)")
        for name in ("pitch_range", "energy_range"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ConfigError(f"{name} must be (low, high) with low < high")

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AcousticConfig":
        from ..config import from_dict

        return from_dict(cls, data, "acoustic config")


PRESETS: dict[str, AcousticConfig] = {
    "fastspeech2": AcousticConfig(),
    "lightspeech": AcousticConfig(
        encoder=("sep5", "sep25", "sep13", "sep9"),
        decoder=("sep17", "sep21", "sep9", "sep13"),
        predictor="sep",
    ),
}

_INT_KEYS = {"hidden", "ffn_filter", "ffn_kernel", "predictor_channels", "predictor_kernel", "n_bins"}
_FLOAT_KEYS = {"dropout", "predictor_dropout"}
_STR_KEYS = {"predictor", "energy"}


def parse_arch(spec: str, **overrides: Any) -> AcousticConfig:
    """A preset name (`fastspeech2`, `lightspeech`) or an architecture string

        "sep5,sep25,attn2,ffn/sep17,id,sep9;hidden=128;predictor=sep"

    encoder ops, "/", decoder ops, then optional `;key=value` settings (hidden, ffn_filter,
    ffn_kernel, dropout, predictor, predictor_channels, predictor_kernel, predictor_dropout,
    n_bins, energy: linear or log). A preset may take the settings too: "lightspeech;hidden=128". `overrides` are
    further constructor arguments (e.g. num_symbols, pitch_range).
    """
    spec = spec.strip()
    head, *settings = [s.strip() for s in spec.split(";")]
    if head in PRESETS:
        base = PRESETS[head]
    elif "/" in head:
        enc, _, dec = head.partition("/")
        base = AcousticConfig(encoder=tuple(o.strip() for o in enc.split(",") if o.strip()),
                              decoder=tuple(o.strip() for o in dec.split(",") if o.strip()))
    else:
        raise ConfigError(f"architecture {spec!r}: not a preset ({', '.join(PRESETS)}) nor 'ENC_OPS/DEC_OPS'")
    values: dict[str, Any] = {}
    for item in settings:
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(f"architecture setting {item!r}: expected key=value")
        try:
            if key in _INT_KEYS:
                values[key] = int(value)
            elif key in _FLOAT_KEYS:
                values[key] = float(value)
            elif key in _STR_KEYS:
                values[key] = value.strip()
            else:
                raise ConfigError(f"unknown architecture setting {key!r}; valid: "
                                  f"{', '.join(sorted(_INT_KEYS | _FLOAT_KEYS | _STR_KEYS))}")
        except ValueError:
            raise ConfigError(f"architecture setting {item!r}: bad number") from None
    values.update(overrides)
    if "predictor_channels" not in values and "hidden" in values:
        values["predictor_channels"] = values["hidden"]
    if "ffn_filter" not in values and "hidden" in values:
        values["ffn_filter"] = 4 * values["hidden"]
    try:
        return dataclasses.replace(base, **values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None


def arch_string(cfg: AcousticConfig) -> str:
    """The `parse_arch` string of `cfg`: layers, hidden, predictor, and every other architecture
    setting that differs from what the string would otherwise give (so it round-trips)."""
    text = f"{','.join(cfg.encoder)}/{','.join(cfg.decoder)};hidden={cfg.hidden};predictor={cfg.predictor}"
    implied = parse_arch(text)
    for key in sorted(_INT_KEYS | _FLOAT_KEYS | (_STR_KEYS - {"predictor"})):
        if getattr(cfg, key) != getattr(implied, key):
            text += f";{key}={getattr(cfg, key)}"
    return text


# ------------------------------------------------------------------------------------- layers


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


class AcousticModel(nn.Module):
    """Phoneme ids -> log-mel frames (FastSpeech 2 / LightSpeech; see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        cfg = AcousticConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})
        self.config = cfg
        self.embed = nn.Embedding(cfg.num_symbols, cfg.hidden)
        self.encoder = Stack(cfg.encoder, cfg)
        self.duration = VariancePredictor(cfg)
        self.pitch = VariancePredictor(cfg)
        self.energy = VariancePredictor(cfg)
        self.register_buffer("pitch_bins", torch.linspace(*cfg.pitch_range, cfg.n_bins - 1), persistent=False)
        self.register_buffer("energy_bins", torch.linspace(*cfg.energy_range, cfg.n_bins - 1), persistent=False)
        self.pitch_embed = nn.Embedding(cfg.n_bins, cfg.hidden)
        self.energy_embed = nn.Embedding(cfg.n_bins, cfg.hidden)
        self.decoder = Stack(cfg.decoder, cfg)
        self.mel = nn.Linear(cfg.hidden, cfg.n_mels)

    @classmethod
    def from_config(cls, config: AcousticConfig) -> "AcousticModel":
        """A freshly initialised model of `config`; `.config` is `config`."""
        return cls(**config.to_dict())

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        ids: torch.Tensor,
        src_lens: torch.Tensor | None = None,
        durations: torch.Tensor | None = None,
        pitch: torch.Tensor | None = None,
        energy: torch.Tensor | None = None,
        duration_scale: float | torch.Tensor = 1.0,
        max_frames: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """ids (B, N) -> dict with mel (B, T, n_mels), mel_lens (B,), durations (B, N) used,
        log_duration / pitch / energy predictions (B, N), src_mask (B, N), mel_mask (B, T).

        Given targets (training: teacher forcing), the targets are embedded and regulated;
        otherwise the predictions are, with durations scaled by `duration_scale`.
        """
        b, n = ids.shape
        if src_lens is None:
            src_mask = torch.ones_like(ids, dtype=torch.bool)
        else:

            src_mask = sequence_mask(src_lens, n)
        x = self.encoder(self.embed(ids), src_mask)
        log_d = self.duration(x, src_mask)
        p_hat = self.pitch(x, src_mask)
        e_hat = self.energy(x, src_mask)
        p = pitch if pitch is not None else p_hat
        e = energy if energy is not None else e_hat
        x = x + self.pitch_embed(bucket(p, self.pitch_bins)) + self.energy_embed(bucket(e, self.energy_bins))
        d = durations if durations is not None else durations_from_log(log_d, src_mask, duration_scale)
        frames, mel_lens = length_regulate(x * src_mask.unsqueeze(-1), d * src_mask.long(), max_frames)

        mel_mask = sequence_mask(mel_lens, frames.shape[1])
        y = self.decoder(frames, mel_mask)
        mel = self.mel(y) * mel_mask.unsqueeze(-1)
        return {"mel": mel, "mel_lens": mel_lens, "durations": d, "log_duration": log_d, "pitch": p_hat,
                "energy": e_hat, "src_mask": src_mask, "mel_mask": mel_mask}

    @torch.inference_mode()
    def infer(self, ids: list[int] | torch.Tensor, duration_scale: float = 1.0) -> torch.Tensor:
        """One id sequence -> log-mel (n_mels, T) for a vocoder."""
        ids = torch.as_tensor(ids, dtype=torch.long, device=self.embed.weight.device).reshape(1, -1)
        out = self.forward(ids, duration_scale=duration_scale)
        return out["mel"][0, : int(out["mel_lens"][0])].T
