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

`AcousticModel` is here; the configuration, presets and architecture strings are in
`hifilite.acoustic.arch` and the layers in `hifilite.acoustic.layers`, all importable from here too.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

# the architecture vocabulary and the building blocks, importable from here as before
from .arch import (  # noqa: F401
    ATTN_HEADS,
    ENERGY_SCALES,
    OPS,
    PRESETS,
    SEP_KERNELS,
    AcousticConfig,
    arch_string,
    check_op,
    parse_arch,
)
from .layers import (  # noqa: F401
    FFNOp,
    Identity,
    Layer,
    SelfAttentionOp,
    SepConv,
    SepConvOp,
    Stack,
    VariancePredictor,
    bucket,
    durations_from_log,
    length_regulate,
    make_op,
    sequence_mask,
    sinusoid_encoding,
)


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
