"""`hifilite train`: HiFi-GAN training from scratch or fine-tuning, on one process or under torchrun.

    hifilite train --data LJSpeech-1.1 --out runs/v2 --preset v2
    hifilite train --data corpus --out runs/ft --init lj-v1 --mels npy --steps 2000
    hifilite train --data LJSpeech-1.1 --out runs/v2 --resume            # continue where it stopped
    torchrun --standalone --nproc_per_node 4 -m hifilite train --data ... --out ...   # 4 GPUs

Settings resolve in this order: defaults (official HiFi-GAN), the stored `config.json` (with
--resume), `--config FILE` (TrainConfig keys), then the flags given explicitly.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

import typer

from ..console import console
from ._app import app
from ._options import device as device_option


def _resolve(
    *,
    stored: dict[str, Any] | None,
    config: Path | None,
    overrides: dict[str, Any],
    preset: str | None,
    generator: Path | None,
    init: str | None,
    mels: str | None,
):
    """(TrainConfig, GeneratorConfig | None, init, mel source) from stored config, file and flags."""
    from ..config import (PriorConfig, TrainConfig, from_dict, generator_config, prior_train_config,
                          train_config_with_file)
    from ..errors import ConfigError

    if preset and generator:
        raise ConfigError("give either --preset or --generator, not both")
    if preset or generator:
        gen = generator_config(preset or str(generator))
    elif stored:
        gen = generator_config(stored["generator"], "config.json: generator")
    else:
        gen = None if init else generator_config("v1")
    family_default = prior_train_config() if isinstance(gen, PriorConfig) else TrainConfig()
    train = from_dict(TrainConfig, stored["train"], "config.json: train") if stored else family_default
    train = train_config_with_file(train, config)
    train = dataclasses.replace(train, **{k: v for k, v in overrides.items() if v is not None})
    if stored:
        init = init or stored.get("init")
        mels = mels or stored.get("data", {}).get("mels")
    return train, gen, init, mels or "wav"


def _augment_config(path: Path | None, stored: dict[str, Any] | None):
    """The prior family's AugmentConfig: from --augment, else the resumed run's, else None (defaults)."""
    from ..config import from_dict, load_file
    from ..data.augment import AugmentConfig

    if path is not None:
        return from_dict(AugmentConfig, load_file(path), str(path)).check()
    kept = (stored or {}).get("data", {}).get("augment")
    return from_dict(AugmentConfig, kept, "config.json: data.augment").check() if kept else None


@app.command()
def train(
    data: list[Path] = typer.Option(
        ..., "--data", help="Corpus folder (LJSpeech layout, VCTK, or a folder of audio). Every audio file's "
        "header is checked before the first step: unreadable files stop the run, counted and named. "
        "The prior family (--preset prior) takes several, trained on their train splits together."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Run folder: checkpoints, logs, config.json, generator.safetensors."
    ),
    preset: Optional[str] = typer.Option(
        None, "--preset", help="Generator preset: v1, v2, v3, lite, fourier, or prior (a magnitude network over "
        "the mel pseudo-inverse, phase by PGHI; trained by regression on recordings) (default v1)."
    ),
    generator: Optional[Path] = typer.Option(
        None, "--generator", help="YAML/JSON of generator arguments."
    ),
    init: Optional[str] = typer.Option(
        None, "--init", help="Fine-tune from a model: lj-v1, universal-v1 or a path."
    ),
    config: Optional[Path] = typer.Option(
        None, "--config", help="YAML/JSON of training settings (TrainConfig keys)."
    ),
    steps: Optional[int] = typer.Option(
        None, "--steps", min=1, help="Train until this many steps in total."
    ),
    batch_size: Optional[int] = typer.Option(
        None, "--batch-size", min=1, help="Clips per step and process."
    ),
    segment_size: Optional[int] = typer.Option(
        None, "--segment-size", min=1, help="Samples per training clip."
    ),
    checkpoint_interval: Optional[int] = typer.Option(
        None, "--checkpoint-interval", min=1, help="Steps between checkpoints."
    ),
    validation_interval: Optional[int] = typer.Option(
        None, "--validation-interval", min=1, help="Steps between validations."
    ),
    summary_interval: Optional[int] = typer.Option(
        None, "--summary-interval", min=1, help="Steps between TensorBoard scalars."
    ),
    num_workers: Optional[int] = typer.Option(
        None, "--num-workers", min=0, help="Data-loading worker processes."
    ),
    mels: Optional[str] = typer.Option(
        None, "--mels", help="wav: mels from the audio; npy: acoustic-model mels at wavs/<id>.npy "
        "(`hifilite acoustic vocoder-mels`); mixed: either, by a coin per training item (validation: npy)."
    ),
    device: str = typer.Option("auto", "--device", callback=device_option(auto=True), help="auto (CUDA if available), cpu or cuda."),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the run in --out from its last checkpoint."
    ),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads for torch."),
    versions: int = typer.Option(3, "--versions", min=1, help="Prior family: versions of every clip in the "
                                 "feature bank, the recording and versions - 1 augmented ones (pitch, formant, "
                                 "speed, tilt, gain, noise)."),
    augment: Optional[Path] = typer.Option(
        None, "--augment", help="Prior family: YAML/JSON of the augmented versions' transforms (AugmentConfig "
        "keys, e.g. pitch_semitones: [-12, 5]); kept in the run's config.json for --resume."),
) -> None:
    """Train a HiFi-GAN vocoder (from scratch, or fine-tune with --init)."""
    import torch

    from ..train.distributed import init_distributed, shutdown
    from ..vocoder.task import train_gan
    from ..train.state import read_run_config

    if threads:
        torch.set_num_threads(threads)
    stored = read_run_config(out) if resume else None
    overrides = {
        "max_steps": steps, "batch_size": batch_size, "segment_size": segment_size,
        "checkpoint_interval": checkpoint_interval, "validation_interval": validation_interval,
        "summary_interval": summary_interval, "num_workers": num_workers,
    }
    train_config, gen_config, init, mel_source = _resolve(
        stored=stored, config=config, overrides=overrides, preset=preset, generator=generator, init=init, mels=mels
    )
    from ..config import PriorConfig
    from ..errors import ConfigError

    prior = isinstance(gen_config, PriorConfig)
    if len(data) > 1 and not prior:
        raise ConfigError("several --data folders are for the prior family (--preset prior); "
                          "for a GAN vocoder give one corpus")
    if augment is not None and not prior:
        raise ConfigError("--augment sets the prior family's augmented versions (--preset prior); "
                          "augmented distillation is `hifilite compress distil --augment`")
    augment_config = _augment_config(augment, stored) if prior else None
    env = init_distributed(device)
    try:
        if prior:
            from ..checkpoint import invocation
            from ..vocoder.prior_task import train_prior

            command = invocation()
            result = train_prior(data_roots=data, run_dir=out, gen_config=gen_config, train_config=train_config,
                                 init=init, versions=versions, env=env, resume=resume, console=console,
                                 command=command, mel_source=mel_source, augment=augment_config)
        else:
            result = train_gan(data_root=data[0], run_dir=out, gen_config=gen_config, train_config=train_config,
                               init=init, mel_source=mel_source, env=env, resume=resume, console=console)
    finally:
        shutdown(env)
    if env.is_main:
        console.print(f"step {result.state.step}: generator at {out / 'generator.safetensors'}", highlight=False)
    if result.interrupted:
        raise typer.Exit(130)
