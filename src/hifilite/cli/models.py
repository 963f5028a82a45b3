"""`hifilite models`: the shipped models, vocoders and acoustic models, with what each one is."""

from __future__ import annotations

import typer
from rich.table import Table

from ..console import wide_stdout_console
from ._app import app
from ._options import ModelKind


@app.command("models")
def models(
    kind: ModelKind = typer.Option(ModelKind.all, "--kind", help="vocoder, acoustic or all."),
) -> None:
    """List the models that come with hifilite, by the names `vocode`, `tts` and `load_vocoder` take."""
    from ..registry import COPY_VOCODER, DEFAULT_ACOUSTIC, DEFAULT_VOCODER, shipped

    table = Table("name", "kind", "from", "what it is", box=None, pad_edge=False)
    for model in sorted(shipped(None if kind is ModelKind.all else kind.value).values(), key=lambda m: (m.kind, m.name)):
        default = (" (default for tts)" if model.name in (DEFAULT_ACOUSTIC, DEFAULT_VOCODER)
                   else " (default for vocode)" if model.name == COPY_VOCODER else "")
        table.add_row(model.name, model.kind, model.source, model.description + default)
    wide_stdout_console.print(table)
