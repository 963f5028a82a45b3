"""`hifilite compress ...`: teacher decomposition (distillation, supernet and search build on it)."""

from pathlib import Path

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
