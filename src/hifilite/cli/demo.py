"""`hifilite demo`: the main job on an embedded default (see `hifilite.demo`)."""

from pathlib import Path

import typer

from ._app import app


@app.command()
def demo(
    out: Path = typer.Option(Path("demo_out"), "--out", "-o", help="Report folder."),
    sentences: int = typer.Option(48, help="Sentences to synthesise for the corpus."),
    test: int = typer.Option(8, help="Test-split size."),
    model: list[str] = typer.Option(["lj-v1", "lj-lite"], "--model", "-m", help="Vocoders to evaluate (repeat)."),
    threads: int = typer.Option(1, help="Threads for the speed bench."),
) -> None:
    """Synthesise a corpus, copy-synthesise its test split, evaluate, bench, write a report."""
    from ..demo import run_demo

    run_demo(out, sentences=sentences, test=test, models=tuple(model), threads=threads)
