"""`hifilite evaluate`: copy-synthesis quality of one or more vocoders on a corpus split."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..console import console, stdout_console
from ._app import app
from ._options import device as device_option
from ._options import output_folder, warn_if_random



@app.command()
def evaluate(
    model: Optional[List[str]] = typer.Option(
        None, "--model", "-m", help="Model name or checkpoint path; repeat to compare."),
    data: Optional[Path] = typer.Option(None, "--data", help="Corpus folder (LJSpeech, VCTK, or any folder of audio)."),
    split: str = typer.Option("test", help="train, val or test (with --asr also all)."),
    limit: Optional[int] = typer.Option(None, min=1, help="Evaluate only the first N utterances of the split."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for results.json, results.csv (and audio)."),
    save_audio: bool = typer.Option(False, "--save-audio", help="Also write every model's output to OUT/audio/."),
    metric: Optional[List[str]] = typer.Option(
        None, "--metric", help="Restrict to these metrics (pesq, stoi, mcd, logmel_l1, mrstft, dnsmos; pitch: F0 RMS cents, gross and fine pitch error, V/UV F1 (WORLD or pYIN); periodicity: torchcrepe periodicity RMSE, V/UV F1, median and RMS cents, gross pitch error; the last two only when named)."),
    device: str = typer.Option("cpu", callback=device_option(), help="cpu or cuda."),
    threads: Optional[int] = typer.Option(None, min=1, help="CPU threads for torch."),
    asr: bool = typer.Option(False, "--asr", help="Intelligibility instead: WER/CER of speech against its text "
                             "(pocketsphinx); with --texts and --audio, or with --data (the recordings)."),
    texts: Optional[Path] = typer.Option(None, "--texts", help="With --asr: UTF-8 file, one text per line."),
    audio: Optional[Path] = typer.Option(None, "--audio", help="With --asr: folder of audio files, the i-th file "
                                         "(natural name order) speaking the i-th text."),
) -> None:
    """Vocode every utterance of a split with each model and score it against the recording.

    Metrics: PESQ-wb, STOI, MCD, log-mel L1, MR-STFT distance and DNSMOS (of the recordings too).
    Means ignore NaNs and count them.

    With --asr: transcribe speech (text-to-speech output with --texts and --audio, or a corpus's
    recordings with --data) and report word and character error rates, overall and per sentence
    length, against the texts normalised the same way.
    """
    from ..errors import ConfigError

    if asr:
        if model:
            raise ConfigError("--asr scores speech against its texts and takes no --model")
        _evaluate_asr(texts, audio, data, split, limit, out)
        return
    if texts is not None or audio is not None:
        raise ConfigError("--texts and --audio go with --asr")
    if not model or data is None:
        raise ConfigError("give --model and --data (or --asr with --texts and --audio)")
    import torch

    from ..evaluate.runner import evaluate_models, summary_table

    if threads:
        torch.set_num_threads(threads)
    if out is not None:
        output_folder(out)
    for name in model:
        warn_if_random(name, console)
    result = evaluate_models(
        model, data, split=split, limit=limit, out_dir=out, save_audio=save_audio,
        metrics=metric or None, device=device, console=console,
    )
    n = result.info["data"]["utterances"]
    stdout_console.print(summary_table(result, title=f"{data} [{split}], {n} utterance(s)"))
    for kind, path in result.files.items():
        stdout_console.print(f"wrote {kind}: {path}", highlight=False)


def _evaluate_asr(texts: Optional[Path], audio: Optional[Path], data: Optional[Path], split: str,
                  limit: Optional[int], out: Optional[Path]) -> None:
    from rich.table import Table

    from ..data.synth import read_texts
    from ..errors import ConfigError
    from ..evaluate.intelligibility import (LENGTH_BUCKETS, Recognizer, audio_files, score_files, score_recordings,
                                            write_results)

    recognizer = Recognizer()
    if data is not None:
        if texts is not None or audio is not None:
            raise ConfigError("--asr takes either --data (the recordings) or --texts with --audio, not both")
        result, title = score_recordings(data, split, limit, recognizer=recognizer), f"{data} [{split}]"
    elif texts is not None and audio is not None:
        lines = read_texts(texts)
        result = score_files(lines[:limit] if limit else lines,
                             audio_files(audio)[:limit] if limit else audio_files(audio), recognizer=recognizer)
        title = f"{audio} against {texts}"
    else:
        raise ConfigError("--asr needs --texts and --audio, or --data")
    table = Table(title=f"{title}: {result['sentences']} sentence(s), {result['words']} words")
    for col in ["", "sentences", "words", "WER", "CER"]:
        table.add_column(col, justify="left" if not col else "right")
    for label, summary in [("all", result)] + [(f"{b} words", result["buckets"][b]) for b, _, _ in LENGTH_BUCKETS]:
        table.add_row(label, str(summary["sentences"]), str(summary["words"]),
                      *(f"{100 * summary[k]:.1f} %" if summary["sentences"] else "–" for k in ("wer", "cer")))
    stdout_console.print(table)
    stdout_console.print(f"recogniser: pocketsphinx, {recognizer.x_real_time:.1f}x real time", highlight=False)
    if out is not None:
        for kind, path in write_results(result, out).items():
            stdout_console.print(f"wrote {kind}: {path}", highlight=False)
