"""`hifilite tts`: text -> wav with an acoustic model and a vocoder.

    hifilite tts "Hello there, it is 5:30." -o hello.wav           # shipped joe-lightspeech-10h + joe-fourier
    hifilite tts "Hello there." -o hello.wav --model runs/ls --vocoder lj-v1
    hifilite tts --text-file chapter.txt -o chapter.wav --model acoustic.safetensors --vocoder lj-v1
    hifilite tts "Faster please." -o - --model runs/ls --rate 1.3 | aplay

By default (`--backend auto`) both models run on ONNX Runtime when it is installed: each is
exported once (parity-checked against PyTorch) into hifilite's cache folder and reused after
that (`hifilite.deploy.cache`). `--backend torch` runs them eagerly in PyTorch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..registry import DEFAULT_ACOUSTIC, DEFAULT_VOCODER
from ..tts.speaker import RATE_RANGE
from ..console import console
from ._app import app
from ._options import TtsBackend, number, output_file, warn_if_random, write_error



@app.command()
def tts(
    text: Optional[str] = typer.Argument(None, help="Text to speak (or use --text-file)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output .wav; '-' writes the wav to standard output. "
                             "Checked before synthesis: a folder, an unwritable place or the --text-file is refused."),
    model: Path = typer.Option(DEFAULT_ACOUSTIC, "--model", "-m",
                               help="Acoustic model: a shipped name, a .safetensors or a training run folder."),
    vocoder: str = typer.Option(DEFAULT_VOCODER, "--vocoder", help="Vocoder name or path (see `hifilite vocode`)."),
    text_file: Optional[Path] = typer.Option(None, "--text-file", help="UTF-8 text file to speak."),
    rate: float = typer.Option(1.0, "--rate", callback=number(*RATE_RANGE),
                               help=f"Speaking rate in [{RATE_RANGE[0]:g}, {RATE_RANGE[1]:g}]: 1.2 is 20 % faster, "
                               "0.8 slower."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads (torch or ONNX Runtime)."),
    backend: TtsBackend = typer.Option(TtsBackend.auto, "--backend",
                                       help="auto (ONNX Runtime when installed), onnx or torch."),
) -> None:
    """Speak text: normalise, phonemise, predict mels, vocode; long text sentence by sentence."""
    import torch

    from ..measure import Stopwatch

    from ..tts.synthesis import Synthesizer
    from ..text.sentences import refuse_control_characters
    from ..deploy.stream_io import pieces_to_file, pieces_to_stream
    from ..errors import ConfigError, DataError

    if (text is None) == (text_file is None):
        raise ConfigError("give the text as an argument or with --text-file (one of them)")
    if text_file is not None:
        try:
            text = text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{text_file}: cannot read text ({exc})") from None
    refuse_control_characters(text)
    if str(out) != "-":
        output_file(out, inputs=[text_file] if text_file is not None else [])
    warn_if_random(vocoder, console)
    if threads:
        torch.set_num_threads(threads)
    synth = None
    if backend is not TtsBackend.torch:
        synth = _onnx_synth(model, vocoder, threads, required=backend is TtsBackend.onnx)
    if synth is None:
        synth = Synthesizer.load(model, vocoder)
    with Stopwatch() as clock:
        # sentence by sentence, each written as soon as it is spoken: memory does not grow with the text
        pieces = synth.speak(text, rate=rate)
        if str(out) == "-":
            samples = pieces_to_stream(pieces, synth.sample_rate)  # open-ended wav header, as vocode -o -
        else:
            try:
                _, samples = pieces_to_file(pieces, out, synth.sample_rate)
            except OSError as exc:
                raise write_error(out, exc) from None
    elapsed = clock.seconds
    seconds = samples / synth.sample_rate
    console.print(f"{out}: {seconds:.2f} s of speech in {elapsed:.2f} s ({seconds / max(elapsed, 1e-9):.1f}x real-time)",
                  highlight=False)


def _onnx_synth(model: Path, vocoder: str, threads: Optional[int], required: bool):
    """OnnxTTS over cached exports of both models; None (auto) when ONNX Runtime is missing or a
    model has no file to export from (a preset with random weights)."""
    import importlib.util

    from ..errors import ConfigError

    if importlib.util.find_spec("onnxruntime") is None:
        if required:
            raise ConfigError("--backend onnx needs onnxruntime: pip install 'hifilite[runtime]'")
        return None
    from ..deploy.cache import acoustic_onnx, vocoder_onnx
    from ..registry import resolve
    from ..tts.onnx import OnnxTTS

    if resolve(vocoder, "vocoder").source == "preset" and not required:
        return None
    try:
        with console.status("exporting to ONNX (once per model, then cached)"):
            acoustic_path, vocoder_path = acoustic_onnx(model), vocoder_onnx(vocoder)
    except OSError as exc:  # e.g. a read-only cache folder: auto falls back to PyTorch
        if required:
            raise ConfigError(f"cannot write the ONNX cache ({exc}); set HIFILITE_CACHE to a writable folder") from None
        console.print(f"ONNX cache not writable ({exc.strerror}); running in PyTorch", highlight=False)
        return None
    return OnnxTTS(acoustic_path, vocoder_path, threads=threads)
