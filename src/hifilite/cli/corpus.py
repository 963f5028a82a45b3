"""`hifilite corpus synth` and `hifilite corpus info` (registered on the shared app)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ._app import corpus_app

console = Console()


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@corpus_app.command("synth")
def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the corpus into."),
    sentences: Optional[int] = typer.Option(
        None, "--sentences", "-n", help="Use only the first N texts (default: all of them)."
    ),
    texts: Optional[Path] = typer.Option(
        None, "--texts", help="UTF-8 file, one text per line (default: the shipped sentences)."
    ),
    voice: Optional[Path] = typer.Option(
        None, "--voice", help="Piper .onnx voice (default: the bundled en_US joe voice)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the train/val/test split."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Synthesise an LJSpeech-layout corpus with phoneme alignments, offline, with Piper.

    Re-running resumes: finished utterances are kept.
    """
    from ..data import summarize_corpus, synthesize_corpus

    root = synthesize_corpus(
        out, sentences=sentences, texts_file=texts, voice=voice, seed=seed, progress=not quiet
    )
    summary = summarize_corpus(root)
    splits = ", ".join(f"{k} {v}" for k, v in summary.splits.items())
    console.print(
        f"wrote {summary.utterances} utterances ({_duration(summary.seconds)}) to {root} "
        f"[dim]({splits})[/]",
        highlight=False,
    )


@corpus_app.command("info")
def info(
    root: Path = typer.Argument(..., help="Corpus folder (LJSpeech, VCTK, or any audio folder)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the hash split (if no splits.json)."),
) -> None:
    """Show a corpus's layout, size, speakers and split sizes."""
    from ..data import summarize_corpus

    s = summarize_corpus(root, seed=seed)
    table = Table(title=str(root), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("layout", s.layout)
    table.add_row("utterances", str(s.utterances))
    names = list(s.speakers)
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    table.add_row("speakers", f"{len(names)} ({shown})")
    table.add_row("duration", _duration(s.seconds))
    if s.untranscribed:
        table.add_row("without text", str(s.untranscribed))
    if s.unreadable:
        table.add_row("unreadable", f"[red]{s.unreadable}[/]")
    table.add_row("splits", ", ".join(f"{k} {v}" for k, v in s.splits.items()))
    table.add_row("split source", s.split_source)
    console.print(table)


@corpus_app.command("shift")
def shift(
    src: Path = typer.Argument(..., help="Corpus to derive voices from."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder corpus to write (all in its test split)."),
    semitones: str = typer.Option("-4,3", help="Comma-separated pitch shifts; each becomes a speaker."),
    split: str = typer.Option("test", help="Split of SRC to shift."),
    limit: Optional[int] = typer.Option(None, help="Only the first N utterances of the split."),
) -> None:
    """Derive unseen-voice proxies by pitch and formant shifting (for evaluation only)."""
    from ..data.derive import shifted_voices
    from ..errors import ConfigError

    try:
        shifts = [float(s) for s in semitones.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--semitones expects numbers such as -4,3, got {semitones!r}") from None
    shifted_voices(src, out, shifts, split, limit)
    console.print(f"wrote {out}")
