"""A decomposed student used as a one-shot weight-sharing supernet over per-stage ranks.

Because decomposition stores components in singular-value order, the sub-network with rank r at a
stage is the prefix of the first r components of every conv in that stage's resblocks. The supernet
is the largest student; `set_active_ranks` selects a path in place (weights shared), `extract`
copies that path into a standalone `Generator` whose checkpoint needs no supernet code, and
`sample_ranks` draws paths for sandwich-rule training (largest, smallest, random).

The frame-rate family (`FourierGenerator`) is a supernet over (channels, blocks) instead: a path
runs the first `channels` channels of every layer (and the matching prefix of each block's MLP) and
the first `blocks` blocks, and `extract` copies those prefixes into a narrower, shallower
`FourierGenerator`. The same functions serve both, with a path in place of per-stage ranks.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Sequence

from torch import nn

from ..config import AnyGeneratorConfig, FourierConfig
from ..errors import ConfigError
from ..vocoder.family import build_generator
from ..vocoder.fourier import FourierGenerator
from ..vocoder.generator import Generator, LowRankConv1d, SeparableConv1d
from .decompose import truncate


def _elastic(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, (LowRankConv1d, SeparableConv1d))]


def stage_max_ranks(gen: Generator | FourierGenerator) -> list[int]:
    """The largest rank available at each upsampling stage ((channels, blocks) for the Fourier family)."""
    if isinstance(gen, FourierGenerator):
        return [gen.backbone.channels, len(gen.backbone.blocks)]
    out = []
    for i in range(gen.num_upsamples):
        convs = [c for rb in gen.resblocks[i * gen.num_kernels:(i + 1) * gen.num_kernels] for c in _elastic(rb)]
        if not convs:
            raise ConfigError("the supernet must be a decomposed student (lowrank or separable)")
        out.append(min(c.reduce.out_channels if isinstance(c, LowRankConv1d)
                       else c.depthwise.out_channels // c.depthwise.in_channels for c in convs))
    return out


def set_active_ranks(gen: Generator, ranks: Sequence[int] | None) -> None:
    """Select the sub-network with `ranks[i]` components at stage i (None: the whole supernet)."""
    maxima = stage_max_ranks(gen)
    if ranks is not None:
        if len(ranks) != len(maxima) or any(not 1 <= r <= m for r, m in zip(ranks, maxima)):
            raise ConfigError(f"ranks {tuple(ranks)} outside the supernet's 1..{tuple(maxima)} per stage")
    if isinstance(gen, FourierGenerator):
        gen.set_path(None if ranks is None else (int(ranks[0]), int(ranks[1])))
        return
    for i in range(gen.num_upsamples):
        for rb in gen.resblocks[i * gen.num_kernels:(i + 1) * gen.num_kernels]:
            for conv in _elastic(rb):
                conv.active = None if ranks is None else int(ranks[i])


def sample_ranks(choices: Sequence[Sequence[int]], mode: str, rng: random.Random) -> tuple[int, ...]:
    """A path for sandwich-rule training: 'largest', 'smallest' or 'random' choice per stage."""
    if mode == "largest":
        return tuple(max(c) for c in choices)
    if mode == "smallest":
        return tuple(min(c) for c in choices)
    if mode == "random":
        return tuple(rng.choice(list(c)) for c in choices)
    raise ConfigError(f"unknown sampling mode {mode!r}")


def extract(gen: Generator | FourierGenerator, config: AnyGeneratorConfig,
            ranks: Sequence[int]) -> tuple[nn.Module, AnyGeneratorConfig]:
    """A standalone sub-student equal to the supernet path `ranks`."""
    set_active_ranks(gen, None)
    if isinstance(gen, FourierGenerator):
        return _extract_fourier(gen, config, ranks)
    return truncate(gen, config, tuple(int(r) for r in ranks))


def fourier_choices(gen: FourierGenerator) -> list[list[int]]:
    """Search choices of the Fourier family: widths from a quarter to all of the channels in eighths
    (multiples of 8 where the width allows), and every depth from one block to all."""
    channels, blocks = stage_max_ranks(gen)
    widths = {max(1, channels * k // 8) for k in range(2, 9)}
    if channels >= 32:
        widths = {w - w % 8 for w in widths}
    return [sorted(widths | {channels}), list(range(1, blocks + 1))]


def _extract_fourier(gen: FourierGenerator, config: FourierConfig,
                     path: Sequence[int]) -> tuple[FourierGenerator, FourierConfig]:
    """The sub-network (channels, blocks) = `path`: every weight's leading slice, as `set_path` runs it."""
    if not isinstance(config, FourierConfig):
        raise ConfigError("a Fourier-family supernet needs its FourierConfig")
    channels, blocks = (int(p) for p in path)
    set_active_ranks(gen, (channels, blocks))  # validates the path
    set_active_ranks(gen, None)
    cfg = dataclasses.replace(config, channels=channels, blocks=blocks)
    sub = build_generator(cfg)
    full = gen.state_dict()
    sub.load_state_dict({k: full[k][tuple(slice(0, n) for n in v.shape)].clone()
                         for k, v in sub.state_dict().items()})
    return sub.eval(), cfg
