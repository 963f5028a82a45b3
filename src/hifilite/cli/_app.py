"""Typer application objects; command modules register themselves on these."""

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
