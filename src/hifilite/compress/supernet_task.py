"""Supernet training: the distillation task with the sandwich rule and in-place distillation.

Each step trains three paths of the weight-sharing supernet on the same batch: the largest, the
smallest and a random one (per-stage ranks drawn from `choices`). Every path is distilled from the
teacher (`distil/mel`, `distil/stft`, plus `mel/loss` against the ground truth); the smaller paths
also match the largest path's output (`inplace/mel`, detached), which keeps the shared prefixes
consistent. Gradients of the three paths accumulate into one optimiser step. The path draw is a
pure function of (seed, step), so a resumed run draws the same paths.
"""

from __future__ import annotations

import random
from typing import Any, Sequence

import torch

from ..errors import ConfigError
from ..train.distributed import unwrap
from ..vocoder.task import GanVocoderTask, _grad_norm
from .supernet import sample_ranks, set_active_ranks, stage_max_ranks

SANDWICH = ("largest", "smallest", "random")


class SupernetDistilTask(GanVocoderTask):
    """`GanVocoderTask` arguments plus `choices` (allowed ranks per stage) and the in-place weight."""

    progress_keys = ("largest/distil/mel", "smallest/distil/mel")

    def __init__(self, *, choices: Sequence[Sequence[int]], inplace_weight: float = 45.0, seed: int = 0, **kwargs: Any):
        super().__init__(**kwargs)
        if self.teacher is None:
            raise ConfigError("supernet training distils from a teacher: give one")
        if self.adversarial:
            raise ConfigError("supernet training is distillation only: set adv/gen and adv/feat to 0")
        maxima = stage_max_ranks(self.generator)
        if len(choices) != len(maxima) or any(not c or max(c) > m or min(c) < 1 for c, m in zip(choices, maxima)):
            raise ConfigError(f"choices {choices} must give ranks in 1..{maxima} for each stage")
        self.choices = [sorted(set(int(r) for r in c)) for c in choices]
        self.inplace_weight, self.seed = float(inplace_weight), seed

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float | torch.Tensor]:
        y = batch["audio"].unsqueeze(1)
        mel = self._input_mel(batch)
        gen = unwrap(self.generator)
        rng = random.Random(self.seed * 1_000_003 + step)
        with torch.no_grad():
            t_hat = batch["teacher"].unsqueeze(1) if "teacher" in batch else self.teacher(mel)
        self.optim_g.zero_grad(set_to_none=True)
        out: dict[str, float | torch.Tensor] = {}
        largest = None
        try:
            for mode in SANDWICH:
                set_active_ranks(gen, sample_ranks(self.choices, mode, rng))
                y_hat = self.generator(mel)
                terms = {"distil/mel": self.mel_loss(y_hat, t_hat), "distil/stft": self.mrstft(y_hat, t_hat),
                         "mel/loss": self.mel_loss(y_hat, y)}
                loss = sum(self.weights[k] * v for k, v in terms.items())
                if largest is None:
                    largest = y_hat.detach()
                else:
                    terms["inplace/mel"] = self.mel_loss(y_hat, largest)
                    loss = loss + self.inplace_weight * terms["inplace/mel"]
                loss.backward()
                out.update({f"{mode}/{k}": v.detach() for k, v in terms.items()})
        finally:
            set_active_ranks(gen, None)
        out["grad/gen"] = _grad_norm(self.generator.parameters()).detach()
        self.optim_g.step()
        out["lr/gen"] = self.sched_g.get_last_lr()[0]
        return out
