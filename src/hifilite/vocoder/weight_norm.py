"""Weight norm folded into plain weights: the one implementation, used by inference, export and benchmarks."""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize


def fuse_weight_norm(module: nn.Module) -> nn.Module:
    """Replace every weight-normed `weight` under `module` (a parametrization, or the legacy
    `weight_g`/`weight_v` hook) by its value, in place; same weights, same outputs. Returns `module`."""
    for m in module.modules():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
        elif hasattr(m, "weight_g") and hasattr(m, "weight_v"):
            nn.utils.remove_weight_norm(m)
    return module


def has_weight_norm(module: nn.Module) -> bool:
    """Whether any parametrization (weight norm) is left under `module`."""
    return any(parametrize.is_parametrized(m) for m in module.modules())


__all__ = ["fuse_weight_norm", "has_weight_norm"]
