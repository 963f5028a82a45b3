"""What a run shows: TensorBoard scalars, audio and spectrogram images, and a live progress bar.

`RunLogger(enabled=False)` does nothing, which is how non-main ranks log: the loop decides once
which rank writes, and the rest of the code calls the logger unconditionally.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..console import console as stderr_console

Number = float | torch.Tensor


class MetricMeter:
    """Mean of each named metric over a logging window.

    Values may be floats or 0-dim tensors; tensors are summed where they live and only turned into
    Python floats when read, so logging does not force a GPU sync every step.
    """

    def __init__(self) -> None:
        self._sums: dict[str, Number] = {}
        self._counts: dict[str, int] = {}

    def add(self, metrics: Mapping[str, Number]) -> None:
        for k, v in metrics.items():
            v = v.detach() if torch.is_tensor(v) else float(v)
            self._sums[k] = self._sums[k] + v if k in self._sums else v
            self._counts[k] = self._counts.get(k, 0) + 1

    def means(self) -> dict[str, float]:
        return {k: float(v) / self._counts[k] for k, v in self._sums.items()}

    def pop(self) -> dict[str, float]:
        out = self.means()
        self._sums.clear()
        self._counts.clear()
        return out


def spectrogram_image(spec: np.ndarray, title: str = "") -> np.ndarray:
    """Render a (n_bins, frames) array as an (H, W, 3) uint8 image with a colour bar.

    Uses matplotlib's Agg canvas directly (no pyplot), so no global backend state is touched and
    it works on headless machines.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3), dpi=80)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    im = ax.imshow(np.asarray(spec, dtype=np.float32), aspect="auto", origin="lower", interpolation="none")
    fig.colorbar(im, ax=ax)
    if title:
        ax.set_title(title)
    ax.set_xlabel("frame")
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def format_metrics(metrics: Mapping[str, float], keys: tuple[str, ...] | None = None) -> str:
    """`name value` pairs for the progress bar, in the order of `keys` (default: all)."""
    return "  ".join(f"{k} {metrics[k]:.4g}" for k in (keys or tuple(metrics)) if k in metrics)


class RunLogger:
    """TensorBoard writer plus a rich progress bar; every method is a no-op when disabled."""

    def __init__(
        self,
        log_dir: Path,
        *,
        total_steps: int,
        start_step: int,
        enabled: bool = True,
        console: Console | None = None,
    ) -> None:
        self.enabled = enabled
        self.console = console or stderr_console
        self._log_dir = Path(log_dir)
        self._start_step = start_step
        self._writers: dict[str, object] = {}
        self._progress: Progress | None = None
        self._task_id = None
        self._last_line = 0.0
        if not enabled:
            return
        self._progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=self.console,
            transient=False,
            disable=not self.console.is_terminal,
        )
        self._task_id = self._progress.add_task("train", total=total_steps, completed=start_step, info="")
        self._progress.start()

    def _writer(self, split: str):
        """One event folder per split (`logs/train`, `logs/val`): the same metric name then
        shows as two overlaid curves in TensorBoard, and the name stays the loss-weight key."""
        if split not in self._writers:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops events a crashed run logged after the checkpoint it resumes from
            # (steps >= purge_step); what was logged at the checkpoint's own step stays.
            self._writers[split] = SummaryWriter(
                log_dir=str(self._log_dir / split), purge_step=self._start_step + 1 if self._start_step else None
            )
        return self._writers[split]

    def scalars(self, metrics: Mapping[str, float], step: int, split: str = "train") -> None:
        if not self.enabled:
            return
        writer = self._writer(split)
        for k, v in metrics.items():
            writer.add_scalar(k, v, step)

    def media(
        self,
        *,
        audio: Mapping[str, torch.Tensor],
        images: Mapping[str, np.ndarray],
        sample_rate: int,
        step: int,
    ) -> None:
        """audio: name -> (T,) waveform in [-1, 1]; images: name -> (n_bins, frames) array."""
        if not self.enabled:
            return
        writer = self._writer("val")
        for name, wav in audio.items():
            wav = wav.detach().float().cpu().reshape(1, -1).clamp(-1, 1)
            writer.add_audio(name, wav, step, sample_rate=sample_rate)
        for name, spec in images.items():
            writer.add_image(name, spectrogram_image(spec, name), step, dataformats="HWC")
        writer.flush()

    def progress(self, step: int, info: str) -> None:
        """Advance the bar to `step`; without a terminal, print a line at most every 30 s."""
        if not self.enabled or self._progress is None:
            return
        self._progress.update(self._task_id, completed=step, info=info)
        if not self.console.is_terminal and time.monotonic() - self._last_line > 30:
            self._last_line = time.monotonic()
            self.console.print(f"step {step}  {info}", highlight=False)

    def message(self, text: str) -> None:
        if self.enabled:
            self.console.print(text, highlight=False)

    def flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        for writer in self._writers.values():
            writer.flush()
            writer.close()
        self._writers.clear()


def read_scalars(run_dir: str | Path, tag: str, split: str = "val") -> list[tuple[int, float]]:
    """`(step, value)` of one scalar a run logged (`RUN/logs/SPLIT`), in step order.

    Reads every event file of the split, as TensorBoard does: after a resume, points logged past
    the checkpoint by the interrupted process are replaced by the resumed run's."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from ..errors import DataError

    folder = Path(run_dir) / "logs" / split
    if not folder.is_dir():
        raise DataError(f"{run_dir}: no TensorBoard logs for {split!r} (expected {folder})")
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    if tag not in acc.Tags()["scalars"]:
        raise DataError(f"{folder}: no scalar {tag!r}; it has {', '.join(sorted(acc.Tags()['scalars'])) or 'none'}")
    points = {e.step: e.value for e in acc.Scalars(tag)}
    return sorted(points.items())
