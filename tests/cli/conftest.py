"""Fixtures shared by the command-line tests."""

from __future__ import annotations

import pytest
import torch

from hifilite.config import GeneratorConfig, MelConfig
from hifilite.vocoder.checkpoint import save_generator
from hifilite.vocoder.generator import Generator

TINY = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                       resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 2),))


@pytest.fixture
def model(tmp_path):
    """Path of a tiny random-weight vocoder checkpoint (seeded), as a string for the command line."""
    torch.manual_seed(0)
    return str(save_generator(tmp_path / "tiny.safetensors", Generator.from_config(TINY), TINY, MelConfig()))
