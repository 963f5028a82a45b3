"""Command-line interface. Thin: parses arguments, calls the library, prints results.

Every command module registers on the shared Typer app. Every failure ends in one line on stderr
and a non-zero exit: errors the user can act on (`HifiliteError`, an OS error such as a full disk)
exit with status 1, a command line that does not parse (an unknown option, a value out of range)
with status 2, anything unexpected with status 1 and a pointer to `--debug`, which (like
HIFILITE_DEBUG=1) prints the traceback as well.
"""

from __future__ import annotations

import sys
import traceback

from rich.text import Text

from ..console import console as err_console
from ..errors import HifiliteError
from ._app import _debug, app, corpus_app, debugging  # noqa: F401
from . import vocode, corpus, evaluate, bench, train, demo, compress, export, acoustic, tts, models  # noqa: F401,E402  (registration)
from . import serve  # noqa: F401,E402  (registration)


def _fail(message: str, status: int, exc: BaseException | None = None) -> None:
    if exc is not None and debugging():
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    line = " ".join(str(message).split())
    err_console.print(Text.assemble(("error:", "bold red"), " ", line), highlight=False, soft_wrap=True)
    sys.exit(status)


def _describe_os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _from_parser(exc: Exception) -> bool:
    """A click/typer exception: the command line did not parse, or help was asked for."""
    if type(exc).__module__.split(".")[0] not in ("click", "typer"):
        return False
    return type(exc).__name__ == "Abort" or (hasattr(exc, "format_message")
                                             and isinstance(getattr(exc, "exit_code", None), int))


def main(argv: list[str] | None = None) -> None:
    _debug["on"] = False
    try:
        status = app(args=argv, prog_name="hifilite", standalone_mode=False)
    except HifiliteError as exc:
        _fail(str(exc), 1, exc)
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        sys.exit(130)
    except OSError as exc:
        _fail(_describe_os_error(exc), 1, exc)
    except Exception as exc:
        if _from_parser(exc):
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help has been printed
                sys.exit(exc.exit_code)
            if type(exc).__name__ == "Abort":
                _fail("aborted", 1)
            _fail(exc.format_message(), exc.exit_code)  # the command line did not parse
        _fail(f"unexpected {type(exc).__name__}: {exc} (run with --debug or HIFILITE_DEBUG=1 for the traceback)",
              1, exc)
    sys.exit(status if isinstance(status, int) else 0)  # like click's standalone mode: always exits
