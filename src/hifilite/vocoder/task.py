"""Training a HiFi-GAN vocoder: the generator to start from (`make_generator`) and the run
(`train_gan`: splits, teacher and its cache, datasets, `fit`). The step itself, `GanVocoderTask`
with its loss terms, is in `hifilite.vocoder.gan_task`; its names are importable from here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..config import GeneratorConfig, MelConfig, TrainConfig, to_dict
from ..errors import ConfigError
from .gan_task import (  # noqa: F401  (importable from here too)
    ADV_TERMS,
    DISTIL_TERMS,
    EXPORT_NAME,
    PHASE_TERMS,
    RECORDING_PHASE_TERMS,
    TERMS,
    GanVocoderTask,
    _grad_norm,
    _stage_projections,
    frozen,
)
from .generator import Generator
from ..train.distributed import DistEnv
from ..train.loop import RESUMABLE_KEYS, FitResult, fit


def make_generator(
    *, gen_config: GeneratorConfig | None, init: str | None, seed: int
) -> tuple[Generator, GeneratorConfig, MelConfig]:
    """A generator to train: fresh from `gen_config`, or loaded from `init` (a bundled name such as
    `lj-v1`, a `.safetensors`, a run folder or a jik876 checkpoint) with weight norm kept.

    Seeds torch first, so a fresh run's initial weights depend only on `seed`. With `init`, the mel
    settings come from the checkpoint (a pretrained model only works with its own front-end).
    """
    torch.manual_seed(seed)
    if init:
        from .api import load_vocoder

        voc = load_vocoder(init, device="cpu", for_training=True)
        if gen_config is not None and gen_config != voc.gen_config:
            raise ConfigError(f"--init {init} is a different architecture than the requested generator")
        return voc.generator, voc.gen_config, voc.mel_config
    if gen_config is None:
        raise ConfigError("give a generator preset or config, or a checkpoint to initialise from")
    from .family import build_generator

    return build_generator(gen_config), gen_config, MelConfig()


def train_gan(
    *,
    data_root: str | Path | list[str | Path],
    run_dir: str | Path,
    gen_config: GeneratorConfig | None,
    train_config: TrainConfig,
    init: str | None = None,
    mel_source: str = "wav",
    env: DistEnv | None = None,
    resume: bool = False,
    console: Any = None,
    teacher: str | None = None,
    student: tuple[Generator, GeneratorConfig, MelConfig] | None = None,
    teacher_cache: str | Path | None = None,
    task_factory: Any = None,
    data_weights: list[float] | None = None,
) -> FitResult:
    """Train (or fine-tune, with `init`) a HiFi-GAN vocoder on the corpus at `data_root`.

    Distillation: `teacher` names a frozen teacher (`load_vocoder` name or path) and `student`
    may give the generator to train directly (e.g. a decomposed teacher), instead of
    `gen_config` / `init`. `teacher_cache` is a folder of cached teacher outputs
    (`hifilite.vocoder.teacher_cache`), built for the training split where missing, so the teacher is
    not run per step. `task_factory(**kwargs)` replaces `GanVocoderTask` (e.g. supernet training).
    `data_root` may list several corpora, mixed in the proportions `data_weights`
    (`hifilite.data.mixture`).

    Uses the corpus' deterministic train/val splits (`hifilite.data.load_split`); with
    `mel_source="npy"` the generator input is `wavs/<id>.npy` instead of the mel of the audio.
    Writes the run folder described in `hifilite.train.state`, plus `generator.safetensors`.
    """
    from ..data.dataset import VocoderDataset
    from ..data.mixture import as_roots, mixed_splits

    if student is not None:
        generator, gen_config, mel = student
    else:
        generator, gen_config, mel = make_generator(gen_config=gen_config, init=init, seed=train_config.seed)
    teacher_gen = None
    if teacher is not None:
        from .api import load_vocoder

        teacher_voc = load_vocoder(teacher)
        if teacher_voc.mel_config != mel:
            raise ConfigError(f"teacher {teacher} and student use different mel settings")
        teacher_gen = teacher_voc.generator
    train_utts, val_utts = mixed_splits(data_root, data_weights, seed=train_config.seed)
    roots = [str(p.resolve()) for p in as_roots(data_root)]
    if teacher_cache is not None:
        if teacher is None:
            raise ConfigError("a teacher cache needs the teacher it caches")
        from .teacher_cache import build_teacher_cache

        from ..train.distributed import barrier

        if env is None or env.is_main:
            build_teacher_cache(teacher, train_utts, teacher_cache)
        if env is not None:
            barrier(env)
    train_set = VocoderDataset(train_utts, mel=mel, segment_size=train_config.segment_size,
                               mel_source=mel_source, seed=train_config.seed, teacher_cache=teacher_cache)
    val_set = VocoderDataset(val_utts, mel=mel, segment_size=None, mel_source=mel_source) if val_utts else None
    task = (task_factory or GanVocoderTask)(generator=generator, gen_config=gen_config, mel_config=mel,
                                            train_config=train_config, teacher=teacher_gen)
    run_config = {
        "task": "distil" if teacher else "gan-vocoder",
        "teacher": teacher,
        "train": to_dict(train_config),
        "generator": to_dict(gen_config),
        "mel": to_dict(mel),
        "init": init,
        "data": {"root": roots[0] if len(roots) == 1 else roots, "mels": mel_source,
                 **({"weights": list(data_weights)} if data_weights else {})},
    }
    return fit(task, train_data=train_set, val_data=val_set, config=train_config, run_dir=run_dir,
               run_config=run_config, env=env, resume=resume, may_change=(*RESUMABLE_KEYS, "data.root"),
               console=console)
