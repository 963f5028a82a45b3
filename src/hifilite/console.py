"""The one place that makes rich consoles and progress bars (torch-free: rich and the standard library).

    from hifilite.console import console, progress, status

    for utt in progress(todo, "caching outputs"):
        ...
    with status("loading the model"):
        ...
    console.print("done")

`console` writes to stderr, so progress, status lines and messages never mix with what a command
prints for a pipe; `stdout_console` is for that output (a table a user reads or redirects).
`quiet_console` prints nothing, for code that wants a console but whose caller logs on its own.
Rich decides per console whether it writes to a terminal: bars and spinners animate on one and
stay silent otherwise (a log file or a pipe gets no escape codes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.status import Status
from rich.text import Text

T = TypeVar("T")

console = Console(stderr=True)
stdout_console = Console()
wide_stdout_console = Console(width=160)  # listings whose rows must not wrap in a pipe or a log
quiet_console = Console(stderr=True, quiet=True)


class _RateColumn(ProgressColumn):
    """Items per second (or seconds per item when slower than one a second)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed:
            return Text("", style="progress.data.speed")
        rate = f"{speed:.1f}/s" if speed >= 1 else f"{1 / speed:.1f}s/it"
        return Text(rate, style="progress.data.speed")


def progress(iterable: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield the items of `iterable` under a progress bar on `console`: description, bar, count
    done / total, rate, elapsed and remaining time. The bar stays on screen when the loop ends.
    `total` defaults to `len(iterable)` where it has one (else the bar shows no total or ETA)."""
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    bar = Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with bar:
        yield from bar.track(iterable, total=total, description=description)


def status(message: str) -> Status:
    """A spinner with `message` on `console` while a `with` block runs."""
    return console.status(message)


__all__ = ["console", "stdout_console", "wide_stdout_console", "quiet_console", "progress", "status"]
