"""`hifilite vocode`: copy-synthesis of audio files (or vocoding of .npy mels) with a named model."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.text import Text

from ..errors import HifiliteError
from ..console import console
from ._app import app
from ._options import device as device_option
from ._options import Backend, StdoutFormat, output_folder, refuse_overwriting, warn_if_random, write_error
from ..registry import COPY_VOCODER



def collect_inputs(inputs: list[Path]) -> list[Path]:
    """Expand folders to the audio (and .npy mel) files inside them, sorted; keep files as given."""
    from ..audio import is_audio_file

    files: list[Path] = []
    for p in inputs:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and (is_audio_file(f) or f.suffix == ".npy"))
            if not found:
                raise HifiliteError(f"{p}: folder holds no audio or .npy files")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise HifiliteError(f"{p}: no such file or folder")
    stems: dict[str, Path] = {}
    for f in files:
        if f.stem in stems and stems[f.stem] != f:
            raise HifiliteError(f"two inputs would both write {f.stem}.wav: {stems[f.stem]} and {f}")
        stems[f.stem] = f
    return files


@app.command()
def vocode(
    inputs: List[Path] = typer.Argument(..., help="Audio files, .npy mels, or folders of them."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder: one <stem>.wav per input; '-' streams one input "
                             "to stdout. A folder where an output would replace an input is refused (nothing is "
                             "written): inputs are never overwritten."),
    model: str = typer.Option(COPY_VOCODER, "--model", "-m", help="Model name or checkpoint path."),
    chunk_frames: int = typer.Option(1024, min=1, help="Generate in chunks of this many mel frames (bounded memory)."),
    device: str = typer.Option("cpu", callback=device_option(), help="cpu or cuda."),
    threads: Optional[int] = typer.Option(None, min=1, help="CPU threads for torch (or ONNX Runtime)."),
    stream: bool = typer.Option(False, "--stream", help="Vocode chunk by chunk and write the wav as pieces become final (same audio)."),
    stream_frames: int = typer.Option(32, min=1, help="Mel frames per streamed chunk."),
    stdout_format: StdoutFormat = typer.Option(StdoutFormat.wav, help="With -o -: 'wav' (16-bit, open-ended header) "
                                               "or 'raw' (s16le)."),
    backend: Backend = typer.Option(Backend.torch, help="torch, or onnx: ONNX Runtime on an export made once and cached."),
) -> None:
    """Resynthesise audio through a vocoder (copy-synthesis), or vocode acoustic-model mels.

    A `.onnx` model (from `hifilite export`) runs on ONNX Runtime without torch; `--backend onnx`
    exports any other model once into hifilite's cache folder and runs that (about twice as fast
    on a CPU thread). `-o -` streams one input's audio to standard output.

    Outputs never overwrite inputs: `-o` naming the inputs' own folder is refused when an output
    would replace an input (a `.npy` mel's `<stem>.wav` beside it is fine). In a batch, an input
    that cannot be read or an output that cannot be written is reported and counted, the other
    files are still written, and the exit status is 1."""
    from rich.progress import Progress

    from ..data.dataset import load_mel

    files = collect_inputs(inputs)
    to_stdout = str(out) == "-"
    if to_stdout and len(files) != 1:
        raise HifiliteError(f"-o - writes one stream: give one input, not {len(files)}")
    if not to_stdout:
        output_folder(out)
        refuse_overwriting([out / f"{f.stem}.wav" for f in files], files,
                           "write to another folder with -o")
    warn_if_random(model, console)
    if model.endswith(".onnx") or backend is Backend.onnx:
        from ..runtime import OnnxVocoder

        if not model.endswith(".onnx"):
            from ..deploy.cache import cache_dir, vocoder_onnx
            from ..errors import OutputError

            try:
                with console.status("exporting to ONNX (once per model, then cached)"):
                    model = str(vocoder_onnx(model))
            except OSError as exc:
                raise OutputError(f"cannot write the ONNX cache in {cache_dir()} ({exc.strerror or exc}); set "
                                  "HIFILITE_CACHE to a writable folder or use --backend torch") from None
        voc = OnnxVocoder(model, threads=threads)
    else:
        import torch

        from ..vocoder.api import load_vocoder

        if threads:
            torch.set_num_threads(threads)
        voc = load_vocoder(model, device=device)
    from ..deploy.stream_io import stream_to_file, stream_to_stdout

    if to_stdout:
        mel = load_mel(files[0], voc.n_mels) if files[0].suffix == ".npy" else voc.mel_chunks(files[0], stream_frames)
        stream_to_stdout(voc, mel, stream_frames, wav_header=stdout_format is StdoutFormat.wav)
        return
    failures: list[str] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"vocoding with {voc.name}", total=len(files))
        for f in files:
            target = out / f"{f.stem}.wav"
            try:
                # audio is read, analysed, vocoded and written piece by piece: memory is bounded
                # by the chunk size, not by the input's length
                frames = stream_frames if stream else chunk_frames
                mel = load_mel(f, voc.n_mels) if f.suffix == ".npy" else voc.mel_chunks(f, frames)
                try:
                    stream_to_file(voc, mel, target, frames, max_frames=None if stream else chunk_frames)
                except OSError as exc:
                    raise write_error(target, exc) from None
            except HifiliteError as exc:
                if len(files) == 1:
                    raise
                failures.append(str(exc))
                console.print(Text.assemble(("failed:", "red"), f" {exc}"), highlight=False, soft_wrap=True)
            progress.advance(task)
    console.print(f"wrote {len(files) - len(failures)} file(s) to {out}")
    if failures:
        raise HifiliteError(f"{len(failures)} of {len(files)} input(s) failed; first: {failures[0]}")
