"""`hifilite corpus synth`, `info`, `shift` and `import` (registered on the shared app)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..console import stdout_console as console
from ._app import corpus_app
from ._options import TranscriptSource, number


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@corpus_app.command("synth")
def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the corpus into."),
    sentences: Optional[int] = typer.Option(
        None, "--sentences", "-n", min=1, help="Use only the first N texts (default: all of them)."
    ),
    texts: Optional[Path] = typer.Option(
        None, "--texts", help="UTF-8 file, one text per line (default: the shipped sentences)."
    ),
    voice: Optional[Path] = typer.Option(
        None, "--voice", help="Piper .onnx voice (default: the bundled en_US joe voice)."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the train/val/test split."),
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
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the hash split (if no splits.json)."),
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
    limit: Optional[int] = typer.Option(None, min=1, help="Only the first N utterances of the split."),
) -> None:
    """Derive unseen-voice proxies by pitch and formant shifting (for evaluation only)."""
    from ..data.derive import shifted_voices
    from ..errors import ConfigError

    try:
        shifts = [float(s) for s in semitones.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--semitones expects numbers such as -4,3, got {semitones!r}") from None
    if not all(-24 <= s <= 24 for s in shifts):  # NaN fails too
        raise ConfigError(f"--semitones must lie in [-24, 24] (two octaves), got {semitones!r}")
    shifted_voices(src, out, shifts, split, limit)
    console.print(f"wrote {out}")


@corpus_app.command("import")
def import_(
    sources: list[Path] = typer.Argument(..., help="Folders of audio files (any format libsndfile reads)."),
    out: Path = typer.Option(..., "-o", "--out", help="Corpus folder to write (re-running resumes)."),
    test_folders: list[str] = typer.Option([], "--test-folders", help="Glob of folders (relative to a source) "
                                           "whose clips are the test split, e.g. 'city'; repeatable."),
    val_folders: list[str] = typer.Option([], "--val-folders", help="Glob of folders for the val split; repeatable."),
    val: float = typer.Option(0.0, "--val", callback=number(0, 1, hi_open=True), help="Fraction of the other clips moved to val (by id hash)."),
    all_test: bool = typer.Option(False, "--all-test", help="Every clip in test (an evaluation-only corpus)."),
    exclude: list[str] = typer.Option([], "--exclude", help="Glob of files or folders to leave out; repeatable."),
    speaker_depth: Optional[int] = typer.Option(None, min=0, help="Folder levels below a source naming the speaker "
                                                "(default: the whole folder path, joined by '-')."),
    text: TranscriptSource = typer.Option(TranscriptSource.auto, help="Transcripts: auto (sound themes, then .txt/.lab beside the clip), "
                             "sidecar, soundtheme or none."),
    trim_db: float = typer.Option(40.0, callback=number(0), help="Trim leading/trailing audio this many dB below the peak (0: off)."),
    min_seconds: float = typer.Option(0.0, callback=number(0), help="Skip clips shorter than this after trimming."),
    max_seconds: Optional[float] = typer.Option(None, callback=number(0, lo_open=True), help="Cut longer clips at pauses into pieces of at most "
                                                "this length (default: keep whole)."),
    sample_rate: int = typer.Option(22050, min=1000, max=1_000_000, help="Output sample rate (the model's)."),
    dedupe: bool = typer.Option(True, help="Skip files whose bytes repeat an earlier file's."),
    licence: str = typer.Option("", help="Licence / origin note stored in manifest.json."),
    seed: int = typer.Option(0, min=0, help="Seed of the val hash."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Import folders of recordings into a corpus: mono, resampled (soxr), silence-trimmed, split by
    folder so that test voices are unseen, with manifest.csv/json.

    The speaker of a clip is its folder below the source; unreadable, empty and silent files are
    skipped with a warning (listed in manifest.json).
    """
    import warnings

    from ..data.importer import ImportSettings, import_audio

    settings = ImportSettings(sample_rate=sample_rate, trim_db=trim_db, min_seconds=min_seconds,
                              max_seconds=max_seconds, speaker_depth=speaker_depth,
                              test_folders=tuple(test_folders), val_folders=tuple(val_folders), val_fraction=val,
                              all_test=all_test, exclude=tuple(exclude), dedupe=dedupe, seed=seed, licence=licence)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = import_audio(sources, out, settings, text=text.value, progress=not quiet)
    for w in caught:
        console.print(f"[yellow]warning:[/] {w.message}", highlight=False)
    table = Table(title=f"{out}", title_justify="left")
    for col in ("split", "clips", "duration", "speakers"):
        table.add_column(col, justify="left" if col == "split" else "right")
    for name in ("train", "val", "test"):
        table.add_row(name, str(result.count(name)), _duration(result.seconds(name)), str(len(result.speakers(name))))
    console.print(table)
    if result.reused:
        console.print(f"[dim]{result.reused} unchanged source file(s) reused from the earlier import[/]")
