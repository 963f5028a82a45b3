"""`hifilite demo`: the main job on an embedded default (see `hifilite.demo`)."""

from pathlib import Path

import typer

from ._app import app


@app.command()
def demo(
    out: Path = typer.Option(Path("demo_out"), "--out", "-o", help="Report folder."),
    sentences: int = typer.Option(48, min=1, help="Sentences to synthesise for the corpus."),
    test: int = typer.Option(8, min=1, help="Test-split size."),
    model: list[str] = typer.Option(["lj-v1", "joe-lite", "joe-tiny"], "--model", "-m", help="Vocoders to evaluate (repeat)."),
    threads: int = typer.Option(1, min=1, help="Threads for the speed bench and text to speech."),
    tts_model: str = typer.Option("auto", help="Acoustic model for the text-to-speech step (auto: the shipped "
                                  "one if present; none: skip the step)."),
) -> None:
    """Synthesise a corpus, copy-synthesise its test split, evaluate, bench, speak, write a report."""
    from ..demo import run_demo

    run_demo(out, sentences=sentences, test=test, models=tuple(model), threads=threads,
             tts_model=None if tts_model == "none" else tts_model)
