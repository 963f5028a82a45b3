"""Command-line interface. Thin: parses arguments, calls the library, prints results.

Every command module registers on the shared Typer app; errors the user can act on
(`HifiliteError`) are printed as one line and exit with status 1.
"""

from __future__ import annotations

import sys

from rich.console import Console

from ..errors import HifiliteError
from ._app import app, corpus_app  # noqa: F401
from . import vocode, corpus, evaluate, bench, train, demo, compress, export, acoustic, tts  # noqa: F401,E402  (registration)

err_console = Console(stderr=True)


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="hifilite", standalone_mode=True)
    except HifiliteError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        sys.exit(130)
