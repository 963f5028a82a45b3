"""`hifilite evaluate`: copy-synthesis quality of one or more vocoders on a corpus split."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from ._app import app

console = Console()


@app.command()
def evaluate(
    model: List[str] = typer.Option(..., "--model", "-m", help="Model name or checkpoint path; repeat to compare."),
    data: Path = typer.Option(..., "--data", help="Corpus folder (LJSpeech, VCTK, or any folder of audio)."),
    split: str = typer.Option("test", help="train, val or test."),
    limit: Optional[int] = typer.Option(None, help="Evaluate only the first N utterances of the split."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for results.json, results.csv (and audio)."),
    save_audio: bool = typer.Option(False, "--save-audio", help="Also write every model's output to OUT/audio/."),
    metric: Optional[List[str]] = typer.Option(
        None, "--metric", help="Restrict to these metrics (pesq, stoi, mcd, logmel_l1, mrstft, dnsmos)."),
    device: str = typer.Option("cpu", help="cpu or cuda."),
    threads: Optional[int] = typer.Option(None, help="CPU threads for torch."),
) -> None:
    """Vocode every utterance of a split with each model and score it against the recording.

    Metrics: PESQ-wb, STOI, MCD, log-mel L1, MR-STFT distance and DNSMOS (of the recordings too).
    Means ignore NaNs and count them.
    """
    import torch

    from ..evaluate.runner import evaluate_models, summary_table

    if threads:
        torch.set_num_threads(threads)
    result = evaluate_models(
        model, data, split=split, limit=limit, out_dir=out, save_audio=save_audio,
        metrics=metric or None, device=device, console=Console(stderr=True),
    )
    n = result.info["data"]["utterances"]
    console.print(summary_table(result, title=f"{data} [{split}], {n} utterance(s)"))
    for kind, path in result.files.items():
        console.print(f"wrote {kind}: {path}", highlight=False)
