"""A decomposed student used as a one-shot weight-sharing supernet over per-stage ranks.

Because decomposition stores components in singular-value order, the sub-network with rank r at a
stage is the prefix of the first r components of every conv in that stage's resblocks. The supernet
is the largest student; `set_active_ranks` selects a path in place (weights shared), `extract`
copies that path into a standalone `Generator` whose checkpoint needs no supernet code, and
`sample_ranks` draws paths for sandwich-rule training (largest, smallest, random).
"""

from __future__ import annotations

import random
from typing import Sequence

from torch import nn

from ..config import GeneratorConfig
from ..errors import ConfigError
from ..vocoder.generator import Generator, LowRankConv1d, SeparableConv1d
from .decompose import truncate


def _elastic(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, (LowRankConv1d, SeparableConv1d))]


def stage_max_ranks(gen: Generator) -> list[int]:
    """The largest rank available at each upsampling stage."""
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


def extract(gen: Generator, config: GeneratorConfig, ranks: Sequence[int]) -> tuple[Generator, GeneratorConfig]:
    """A standalone sub-student equal to the supernet path `ranks`."""
    set_active_ranks(gen, None)
    return truncate(gen, config, tuple(int(r) for r in ranks))
