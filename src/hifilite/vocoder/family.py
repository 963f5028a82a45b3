"""Generator families: which class a typed generator config builds.

    HiFi-GAN family  `GeneratorConfig` -> `Generator`          (teachers, v1-v3, lite students)
    Fourier family   `FourierConfig`   -> `FourierGenerator`   (frame-rate backbone + iSTFT head)
    Prior family     `PriorConfig`     -> `PriorGenerator`     (mel pseudo-inverse + residual; phase by PGHI)

Every place that makes a generator from a config (presets, checkpoints, training, compression) goes
through `build_generator`, so a new family is one entry here and one config class.
"""

from __future__ import annotations

from torch import nn

from ..config import AnyGeneratorConfig, FourierConfig, GeneratorConfig, PriorConfig
from ..errors import ConfigError


def build_generator(config: AnyGeneratorConfig) -> nn.Module:
    """A freshly initialised generator of the config's family (HiFi-GAN ones with weight norm)."""
    if isinstance(config, FourierConfig):
        from .fourier import FourierGenerator

        return FourierGenerator.from_config(config)
    if isinstance(config, PriorConfig):
        from .prior import PriorGenerator

        return PriorGenerator.from_config(config)
    if isinstance(config, GeneratorConfig):
        from .generator import Generator

        return Generator.from_config(config)
    raise ConfigError(f"not a generator config: {type(config).__name__}")


__all__ = ["build_generator"]
