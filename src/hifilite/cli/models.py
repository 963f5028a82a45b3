"""`hifilite models`: the shipped models, vocoders and acoustic models, with what each one is."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from ._app import app


@app.command("models")
def models(
    kind: str = typer.Option("all", "--kind", help="vocoder, acoustic or all."),
) -> None:
    """List the models that come with hifilite, by the names `vocode`, `tts` and `load_vocoder` take."""
    from ..errors import ConfigError
    from ..registry import DEFAULT_ACOUSTIC, DEFAULT_VOCODER, shipped

    if kind not in ("vocoder", "acoustic", "all"):
        raise ConfigError(f"--kind must be vocoder, acoustic or all, got {kind!r}")
    table = Table("name", "kind", "from", "what it is", box=None, pad_edge=False)
    for model in sorted(shipped(None if kind == "all" else kind).values(), key=lambda m: (m.kind, m.name)):
        default = " (default for tts)" if model.name in (DEFAULT_ACOUSTIC, DEFAULT_VOCODER) else ""
        table.add_row(model.name, model.kind, model.source, model.description + default)
    Console(width=160).print(table)
