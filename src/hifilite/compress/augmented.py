"""Distillation on augmented input: the student learns the teacher's output of voices the data
does not hold.

Each training batch's recordings are transformed by `hifilite.data.augment.Augment` (pitch and
formant shift, speed, spectral tilt, gain, noise; reproducible from (seed, step, item)); the
student's input mel is computed from the augmented audio, the distillation target is the frozen
teacher's output of that same mel, and the recording's terms (`mel/loss`, `stft/loss`, the
discriminators) use the augmented recording as their ground truth. Validation stays on the clean
recordings.

Why on the fly and not a teacher cache: a cache holds one teacher output per recording, while every
step draws new augmentations, so a cache could only hold a fixed set of pre-augmented copies (K
copies cost K times the cache's build time and disk, and the student would see K voices per
recording instead of a new one at every step). The price is the teacher's forward pass in every
step: `benchmarks`' numbers for it are in docs/compression.md ("Distillation on augmented input").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import to_dict
from ..data.augment import Augment, AugmentConfig
from ..errors import ConfigError
from ..vocoder.task import EXPORT_NAME, GanVocoderTask
from ..train.loop import TaskContext

AUGMENT_STATE = "augment"


class AugmentedDistilTask(GanVocoderTask):
    """`GanVocoderTask` whose training batches are augmented before the step (see module doc).

    Takes the `GanVocoderTask` arguments plus `augment` (an `AugmentConfig`) and `augment_seed`.
    Needs a teacher; a batch carrying cached teacher output or precomputed mels cannot be
    augmented and is refused.
    """

    def __init__(self, *, augment: AugmentConfig, augment_seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.teacher is None:
            raise ConfigError("augmented distillation needs a teacher")
        self.augment = Augment(augment, seed=augment_seed, sample_rate=self.mel_config.sample_rate)
        self.rank = 0

    def setup(self, ctx: TaskContext) -> None:
        super().setup(ctx)
        self.rank = ctx.env.rank

    def augmented_batch(self, batch: dict[str, Any], step: int) -> dict[str, Any]:
        """The batch with its audio augmented. Item i of rank r uses the generator of
        (seed, step, r * batch + i), so ranks never repeat each other's draws."""
        if "teacher" in batch or "mel" in batch:
            raise ConfigError("augmented distillation computes the teacher's output and the input mel from the "
                              "augmented audio: train without a teacher cache and with mels from wav")
        audio = batch["audio"]
        offset = self.rank * audio.shape[0]
        rows = [self.augment.item(row, step, offset + i)[0] for i, row in enumerate(audio.detach().cpu().numpy())]
        augmented = torch.from_numpy(np.stack(rows)).to(device=audio.device, dtype=audio.dtype)
        return {**batch, "audio": augmented}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, Any]:
        return super().train_step(self.augmented_batch(batch, step), step)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), AUGMENT_STATE: self._settings()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get(AUGMENT_STATE)
        if saved != self._settings():
            raise ConfigError(f"the checkpoint was trained with augmentation {saved}; resume with the same "
                              "augment settings and seed (or start a new run)")
        super().load_state_dict({k: v for k, v in state.items() if k != AUGMENT_STATE})

    def _settings(self) -> dict[str, Any]:
        return {"config": to_dict(self.augment.config), "seed": self.augment.seed}

    def export(self, run_dir: Path, step: int) -> None:
        from ..train.distributed import unwrap
        from ..vocoder.checkpoint import save_generator

        save_generator(Path(run_dir) / EXPORT_NAME, unwrap(self.generator), self.gen_config, self.mel_config,
                       extra={"step": step, "task": "distil-augmented", "augment": self._settings()})
