"""The LightSpeech search space and the tools that rank it (see `hifilite.acoustic.search`).

`SearchSpace` samples and encodes architectures (one operation per encoder and decoder layer, from
`models.OPS`); `fit_predictor` / `heldout_spearman` / `rank_candidates` are the boosted-tree loss
predictor and its out-of-fold rank accuracy; `measure_latency_ms` times one inference on one CPU
thread on fixed ids and durations (`latency_input`: ids (1, phonemes), durations (1, phonemes)), so
every model regulates to the same number of frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch

from ..errors import ConfigError
from ..measure import time_call
from .models import OPS, AcousticConfig, AcousticModel, check_op, parse_arch


class Arch(NamedTuple):
    encoder: tuple[str, ...]
    decoder: tuple[str, ...]


@dataclass(frozen=True)
class SearchSpace:
    """Per-layer operations of `encoder_layers` + `decoder_layers` layers, each from `ops`;
    `settings` are the `parse_arch` settings shared by every architecture (width, predictors)."""

    encoder_layers: int = 4
    decoder_layers: int = 4
    ops: tuple[str, ...] = OPS
    settings: str = "hidden=256;predictor=sep"

    def __post_init__(self) -> None:
        if self.encoder_layers < 1 or self.decoder_layers < 1:
            raise ConfigError("the search space needs at least one encoder and one decoder layer")
        if not self.ops:
            raise ConfigError("the search space needs at least one operation")
        for op in self.ops:
            check_op(op)
        if len(set(self.ops)) != len(self.ops):
            raise ConfigError(f"operations are listed twice: {', '.join(self.ops)}")
        # every operation must build at this width (attention heads must divide `hidden`)
        self.config(Arch(tuple(self.ops[:1]) * self.encoder_layers, tuple(self.ops)))

    @property
    def size(self) -> int:
        return len(self.ops) ** (self.encoder_layers + self.decoder_layers)

    def spec(self, arch: Arch) -> str:
        """Architecture string for `parse_arch` / `hifilite acoustic train --arch`."""
        head = f"{','.join(arch.encoder)}/{','.join(arch.decoder)}"
        return f"{head};{self.settings}" if self.settings else head

    def config(self, arch: Arch, **overrides: Any) -> AcousticConfig:
        return parse_arch(self.spec(arch), **overrides)

    def sample(self, rng: np.random.Generator) -> Arch:
        pick = rng.integers(0, len(self.ops), size=self.encoder_layers + self.decoder_layers)
        ops = [self.ops[i] for i in pick]
        return Arch(tuple(ops[: self.encoder_layers]), tuple(ops[self.encoder_layers:]))

    def sample_distinct(self, n: int, rng: np.random.Generator) -> list[Arch]:
        """`n` different architectures (all of them if the space is smaller), in sampling order."""
        n = min(n, self.size)
        seen: dict[Arch, None] = {}
        while len(seen) < n:
            seen.setdefault(self.sample(rng), None)
        return list(seen)

    def parse(self, spec: str) -> Arch:
        """Inverse of `spec` for architectures of this space."""
        head = spec.split(";", 1)[0]
        enc, _, dec = head.partition("/")
        arch = Arch(tuple(enc.split(",")), tuple(dec.split(",")))
        if (len(arch.encoder), len(arch.decoder)) != (self.encoder_layers, self.decoder_layers) or any(
                op not in self.ops for op in (*arch.encoder, *arch.decoder)):
            raise ConfigError(f"{spec!r} is not an architecture of this search space")
        return arch

    def layer_names(self) -> list[str]:
        return [f"enc{i}" for i in range(self.encoder_layers)] + [f"dec{i}" for i in range(self.decoder_layers)]

    def params(self, arch: Arch) -> dict[str, str]:
        """Optuna parameters of an architecture (one categorical per layer)."""
        return dict(zip(self.layer_names(), (*arch.encoder, *arch.decoder)))

    def distributions(self) -> dict[str, Any]:
        import optuna

        return {name: optuna.distributions.CategoricalDistribution(self.ops) for name in self.layer_names()}

    def feature_names(self) -> list[str]:
        return [f"{layer}:{f}" for layer in self.layer_names() for f in (*self.ops, "kernel", "heads")]

    def encode(self, archs: Sequence[Arch]) -> np.ndarray:
        """(n, layers * (len(ops) + 2)) float features: per layer a one-hot of the operation, then
        its kernel size (sep ops, else 0) and number of heads (attn ops, else 0) as ordinals."""
        width = len(self.ops) + 2
        out = np.zeros((len(archs), (self.encoder_layers + self.decoder_layers) * width))
        index = {op: i for i, op in enumerate(self.ops)}
        for row, arch in enumerate(archs):
            for layer, op in enumerate((*arch.encoder, *arch.decoder)):
                base = layer * width
                out[row, base + index[op]] = 1.0
                if op.startswith("sep"):
                    out[row, base + width - 2] = float(op[3:])
                elif op.startswith("attn"):
                    out[row, base + width - 1] = float(op[4:])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"encoder_layers": self.encoder_layers, "decoder_layers": self.decoder_layers, "ops": list(self.ops),
                "settings": self.settings}


# ---------------------------------------------------------------------------------- predictor


def fit_predictor(x: np.ndarray, y: np.ndarray, seed: int = 0):
    """Gradient-boosted trees (scikit-learn) from architecture encodings to validation loss."""
    from sklearn.ensemble import GradientBoostingRegressor

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) != len(y) or len(y) < 2:
        raise ConfigError(f"the predictor needs at least 2 measured architectures, got {len(y)}")
    if not np.isfinite(y).all():
        raise ConfigError("the measured losses contain NaN or infinite values")
    model = GradientBoostingRegressor(n_estimators=150, learning_rate=0.05, max_depth=3, min_samples_leaf=1,
                                      subsample=0.8 if len(y) >= 10 else 1.0, random_state=seed)
    return model.fit(x, y)


def heldout_spearman(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0
                     ) -> tuple[float | None, np.ndarray | None]:
    """Spearman correlation between `y` and out-of-fold predictions (k-fold cross-validation),
    and those predictions; (None, None) with fewer than 4 architectures or a constant prediction."""
    from scipy.stats import spearmanr
    from sklearn.model_selection import KFold

    y = np.asarray(y, dtype=np.float64)
    if len(y) < 4:
        return None, None
    pred = np.zeros_like(y)
    for train, test in KFold(n_splits=min(folds, len(y)), shuffle=True, random_state=seed).split(x):
        pred[test] = fit_predictor(x[train], y[train], seed).predict(x[test])
    if np.ptp(pred) == 0 or np.ptp(y) == 0:
        return None, pred
    rho = float(spearmanr(y, pred).statistic)
    return (rho if math.isfinite(rho) else None), pred


def rank_candidates(predictor, space: SearchSpace, n: int, seed: int = 0) -> list[tuple[Arch, float]]:
    """`n` distinct random architectures, best (lowest predicted loss) first."""
    archs = space.sample_distinct(n, np.random.default_rng(seed))
    pred = predictor.predict(space.encode(archs))
    order = np.argsort(pred, kind="stable")
    return [(archs[i], float(pred[i])) for i in order]


# ------------------------------------------------------------------------------------ latency


def latency_input(phonemes: int = 64, frames_per_phoneme: int = 5, num_symbols: int = 100, seed: int = 0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed (1, phonemes) ids and durations: every model is timed on the same frames."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, max(2, num_symbols), (1, phonemes), generator=g)
    return ids, torch.full((1, phonemes), frames_per_phoneme, dtype=torch.long)


def measure_latency_ms(model: AcousticModel, phonemes: int = 64, frames_per_phoneme: int = 5, repeats: int = 7
                       ) -> float:
    """Median wall time (ms) of one inference on one CPU thread: encoder, the three variance
    predictors, length regulation to `phonemes * frames_per_phoneme` frames, decoder."""
    if repeats < 1 or phonemes < 1 or frames_per_phoneme < 1:
        raise ConfigError("latency needs repeats, phonemes and frames per phoneme >= 1")
    ids, durations = latency_input(phonemes, frames_per_phoneme, model.config.num_symbols)
    threads = torch.get_num_threads()
    was_training = model.training
    model.eval()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            timing = time_call(lambda: model(ids, durations=durations), repeats=repeats, warmup=1)
    finally:
        torch.set_num_threads(threads)
        model.train(was_training)
    return 1000.0 * timing.median
