"""`hifilite compress ...`: teacher decomposition (distillation, supernet and search build on it)."""

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from ._app import app

compress_app = typer.Typer(help="Compress a HiFi-GAN teacher into a compact student.", no_args_is_help=True)
app.add_typer(compress_app, name="compress")
console = Console(stderr=True)


@compress_app.command()
def decompose(
    out: Path = typer.Option(..., "-o", "--out", help="Student checkpoint (.safetensors)."),
    teacher: str = typer.Option("lj-v1", help="Teacher model name or path."),
    form: str = typer.Option("lowrank", help="lowrank (channel SVD) or separable (depthwise + pointwise)."),
    rank: int = typer.Option(0, help="lowrank: inner channels; separable: depth multiplier; 0 = exact."),
) -> None:
    """Decompose the teacher's resblock convolutions into a student initialised from its weights."""
    from ..compress.decompose import decompose as run
    from ..vocoder.api import load_vocoder

    voc = load_vocoder(teacher)
    student, cfg = run(voc.generator, voc.gen_config, form, rank)
    from ..vocoder.checkpoint import save_generator

    save_generator(out, student, cfg, voc.mel_config, extra={"teacher": teacher, "form": form, "rank": rank})
    n_t = sum(p.numel() for p in voc.generator.parameters())
    n_s = sum(p.numel() for p in student.parameters())
    console.print(f"{out}: {form} rank {rank or 'full'}: {n_s / 1e6:.2f} M params (teacher {n_t / 1e6:.2f} M)")


DISTIL_WEIGHTS = {"distil/mel": 45.0, "distil/stft": 1.0, "distil/feat": 1.0, "mel/loss": 10.0,
                  "adv/gen": 0.0, "adv/feat": 0.0}


@compress_app.command()
def distil(
    data: Path = typer.Option(..., help="Corpus folder (LJSpeech layout, VCTK or audio folder)."),
    out: Path = typer.Option(..., "-o", "--out", help="Run folder (checkpoints, TensorBoard, generator.safetensors)."),
    teacher: str = typer.Option("lj-v1", help="Teacher model name or path."),
    student: Optional[Path] = typer.Option(None, help="Start from this student checkpoint instead of decomposing."),
    form: str = typer.Option("lowrank", help="Decomposition when no --student: lowrank or separable."),
    rank: int = typer.Option(64, help="Decomposition rank / depth multiplier (0 = exact)."),
    config: Optional[Path] = typer.Option(None, help="YAML/JSON with TrainConfig keys."),
    weight: List[str] = typer.Option([], help="Loss weight override NAME=VALUE (0 ablates a term); repeatable."),
    adversarial: bool = typer.Option(False, help="Add MPD + MSD terms (adv/gen 1, adv/feat 2)."),
    steps: Optional[int] = typer.Option(None, help="Stop after this many steps."),
    batch_size: Optional[int] = typer.Option(None),
    segment_size: Optional[int] = typer.Option(None),
    checkpoint_interval: Optional[int] = typer.Option(None),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    resume: bool = typer.Option(False, help="Continue the run in --out."),
) -> None:
    """Distil the teacher into a decomposed student on the shared training loop."""
    import dataclasses

    from ..compress.decompose import decompose as run_decompose
    from ..config import TrainConfig, from_dict, load_file
    from ..errors import ConfigError
    from ..train.distributed import init_distributed
    from ..train.gan import make_generator, train_gan
    from ..vocoder.api import load_vocoder

    weights = dict(DISTIL_WEIGHTS)
    if adversarial:
        weights.update({"adv/gen": 1.0, "adv/feat": 2.0})
    train = dataclasses.replace(TrainConfig(), loss_weights=weights, batch_size=8)
    if config:
        train = from_dict(TrainConfig, load_file(config), str(config), base=train)
    for item in weight:
        name, sep, value = item.partition("=")
        try:
            weights = {**train.loss_weights, name: float(value)}
        except ValueError:
            raise ConfigError(f"--weight expects NAME=VALUE, got {item!r}") from None
        if not sep:
            raise ConfigError(f"--weight expects NAME=VALUE, got {item!r}")
        train = dataclasses.replace(train, loss_weights=weights)
    flags = {"max_steps": steps, "batch_size": batch_size, "segment_size": segment_size,
             "checkpoint_interval": checkpoint_interval}
    train = dataclasses.replace(train, **{k: v for k, v in flags.items() if v is not None})
    if student is not None:
        made = make_generator(gen_config=None, init=str(student), seed=train.seed)
    else:
        voc = load_vocoder(teacher)
        gen, cfg = run_decompose(voc.generator, voc.gen_config, form, rank)
        made = (gen.train(), cfg, voc.mel_config)
    result = train_gan(data_root=data, run_dir=out, gen_config=None, train_config=train, env=init_distributed(device),
                       resume=resume, teacher=teacher, student=made, console=console)
    console.print(f"distilled to step {result.state.step}: {out / 'generator.safetensors'}")
