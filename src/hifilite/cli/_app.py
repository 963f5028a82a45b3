"""Typer application objects; command modules register themselves on these."""

import os

import typer

app = typer.Typer(
    name="hifilite",
    help="Fast, small speech synthesis: HiFi-GAN vocoders, compression, evaluation and deployment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
corpus_app = typer.Typer(help="Build and inspect speech corpora.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")

_debug = {"on": False}


@app.callback()
def _global_options(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error (also HIFILITE_DEBUG=1)."),
) -> None:
    _debug["on"] = debug


def debugging() -> bool:
    """Whether errors should show their traceback (`--debug` or HIFILITE_DEBUG=1)."""
    return _debug["on"] or os.environ.get("HIFILITE_DEBUG", "").lower() in ("1", "true", "yes", "on")
