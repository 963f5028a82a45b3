"""The ONE training loop. What is trained is a `Task`; everything around it lives here.

The loop owns: the device and DDP wrapping (through `TaskContext.wrap`), the data loader and its
resumable sampler, epochs, max steps, the progress bar, logging cadence, validation cadence,
checkpoints and `--resume`, and a graceful Ctrl-C (finish the step, checkpoint, exit). The task
owns its modules, optimisers, schedulers and losses. A new kind of training plugs in like this:

    class DistillTask(Task):
        progress_keys = ("distil/mel",)

        def setup(self, ctx):                       # called once, before any resume
            self.student = ctx.wrap(self.student.to(ctx.device))   # DDP when torchrun'd
            self.teacher = self.teacher.to(ctx.device).eval()       # frozen: not wrapped
            self.opt = torch.optim.AdamW(self.student.parameters(), lr=2e-4)

        def train_step(self, batch, step):          # batch is already on ctx.device
            loss = self.mel_loss(self.student(batch["mel"]), self.teacher(batch["mel"]))
            self.opt.zero_grad(set_to_none=True); loss.backward(); self.opt.step()
            return {"distil/mel": loss.detach()}    # floats or 0-dim tensors, by metric name

        def validate(self, batches):                # rank 0 only: use unwrap(self.student)
            return Validation(metrics={...}, audio={...}, images={...}, sample_rate=22050)

        def state_dict(self):                       # plain tensors/dicts: weights_only-loadable
            return {"student": unwrap(self.student).state_dict(), "opt": self.opt.state_dict()}

        def load_state_dict(self, state): ...

    fit(DistillTask(...), train_data=ds, val_data=val_ds, config=train_config,
        run_dir=out, run_config={"train": to_dict(train_config), ...}, env=init_distributed())

Training datasets receive `(index, epoch)` keys from `EpochSampler` (see `hifilite.data.dataset`),
so per-item randomness can be a pure function of the key and a resumed run is exact.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
from rich.console import Console
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from ..config import TrainConfig
from ..data.dataset import EpochSampler
from ..errors import HifiliteError
from .distributed import DistEnv, StopSignal, any_rank, gather_to_main, ignore_interrupts, wrap_ddp
from .logging import MetricMeter, RunLogger, format_metrics
from .state import (
    TrainState, capture_rng, check_run_dir, load_checkpoint, restore_rng, save_checkpoint,
    seed_everything, state_from_checkpoint, write_run_config,
)

# Settings that do not change the training trajectory, so they may differ on --resume.
RESUMABLE_KEYS = tuple(f"train.{k}" for k in (
    "max_steps", "checkpoint_interval", "summary_interval", "validation_interval", "num_workers",
    "keep_checkpoints", "validation_items",
))


@dataclass
class Validation:
    """What `Task.validate` returns: scalar metrics plus media for TensorBoard.

    audio: name -> (T,) waveform in [-1, 1]; images: name -> (n_bins, frames) array (rendered as
    a spectrogram picture).
    """

    metrics: dict[str, float]
    audio: dict[str, torch.Tensor] = field(default_factory=dict)
    images: dict[str, np.ndarray] = field(default_factory=dict)
    sample_rate: int = 22050


@dataclass(frozen=True)
class TaskContext:
    """Handed to `Task.setup`: the device, the rank, and the DDP-wrapping helper."""

    env: DistEnv

    @property
    def device(self) -> torch.device:
        return self.env.device

    def wrap(self, module: nn.Module) -> nn.Module:
        """DDP-wrap a trained module that is already on `device` (identity for one process)."""
        return wrap_ddp(module, self.env)


class Task(ABC):
    """What the loop trains. See the module docstring for a complete example."""

    #: metrics shown next to the progress bar
    progress_keys: tuple[str, ...] = ()
    #: DataLoader collate function (None: torch's default_collate)
    collate_fn: Callable[[list[Any]], Any] | None = None

    @abstractmethod
    def setup(self, ctx: TaskContext) -> None:
        """Move modules to `ctx.device`, wrap the trained ones with `ctx.wrap`, build optimisers."""

    @abstractmethod
    def train_step(self, batch: Any, step: int) -> dict[str, float | torch.Tensor]:
        """One optimisation step on a device batch; returns named metrics (losses, grad norms, lr)."""

    @abstractmethod
    def validate(self, batches: Iterable[Any]) -> Validation:
        """Evaluate on device batches (batch size 1, whole utterances). Runs on rank 0 only, so
        it must call unwrapped modules (a DDP forward on one rank would wait for the others)."""

    def on_epoch_end(self, epoch: int) -> None:
        """Per-epoch work such as learning-rate decay."""

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly: module, optimiser and scheduler states."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def export(self, run_dir: Path, step: int) -> None:
        """Write deployable artefacts (rank 0, at every checkpoint); default: nothing."""


@dataclass
class FitResult:
    state: TrainState
    interrupted: bool
    checkpoint: Path | None


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor in a (nested) batch to `device`; pinned host memory copies async."""
    if torch.is_tensor(batch):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def _batches(loader: DataLoader, device: torch.device) -> Iterator[Any]:
    """Device batches; an error raised in a worker is re-raised as its one-line message."""
    it = iter(loader)
    while True:
        try:
            batch = next(it)
        except StopIteration:
            return
        except HifiliteError as exc:
            lines = str(exc).strip().splitlines()
            if len(lines) > 1 and lines[0].startswith("Caught "):  # DataLoader's worker wrapper
                raise type(exc)(lines[-1].split(": ", 1)[-1]) from None
            raise
        yield to_device(batch, device)


class _RunOutputs:
    """Rank-0 work in ONE place: logging, validation, checkpoints and exports.

    Every rank calls these methods at the same steps; collective parts (gathering RNG states) run
    everywhere, file and TensorBoard output only on rank 0.
    """

    def __init__(self, *, task: Task, config: TrainConfig, run_dir: Path, run_config: dict[str, Any],
                 env: DistEnv, val_data: Dataset | None, state: TrainState, console: Console | None):
        self.task, self.config, self.env = task, config, env
        self.run_dir, self.run_config = run_dir, run_config
        self.logger = RunLogger(run_dir / "logs", total_steps=config.max_steps, start_step=state.step,
                                enabled=env.is_main, console=console)
        has_val = val_data is not None and env.is_main
        self.val_loader = _val_loader(val_data, task, config, env) if has_val else None
        self.saved_step = self.validated_step = state.step
        self.checkpoint: Path | None = None
        self.meter = MetricMeter()
        self._clock = (state.train_seconds, state.step)  # steps/s since the last summary
        self.skip_time()  # the totals count from here

    def account(self, state: TrainState) -> None:
        """Add the wall-clock and CPU time since the last call to the run's totals."""
        wall, cpu = time.monotonic(), time.process_time()
        state.train_seconds += wall - self._spent[0]
        state.cpu_seconds += cpu - self._spent[1]
        self._spent = (wall, cpu)

    def skip_time(self) -> None:
        """Leave the time since the last `account` out of the totals (validation, checkpoints)."""
        self._spent = (time.monotonic(), time.process_time())

    def after_step(self, state: TrainState, metrics: dict[str, Any]) -> None:
        self.meter.add(metrics)
        self.account(state)
        cfg, step = self.config, state.step
        if step % max(1, min(10, cfg.summary_interval)) == 0 or step == 1:
            self.logger.progress(step, format_metrics(self.meter.means(), self.task.progress_keys))
        if step % cfg.summary_interval == 0 or step == 1:
            t, s = self._clock
            self._clock = (state.train_seconds, step)
            rate = (step - s) / max(1e-9, state.train_seconds - t)
            self.logger.scalars({**self.meter.pop(), "perf/steps_per_sec": rate,
                                 "perf/cpu_hours": state.cpu_seconds / 3600}, step)
        if cfg.validation_interval > 0 and step % cfg.validation_interval == 0:
            self.validate(state)
            self.skip_time()  # steps/s and the compute totals measure training, not validation
        if cfg.checkpoint_interval > 0 and step % cfg.checkpoint_interval == 0:
            self.save(state)
            self.skip_time()

    def validate(self, state: TrainState) -> None:
        self.validated_step = state.step
        if self.val_loader is None:
            return
        # Whole utterances have a new length each: cuDNN autotuning would re-run for every one.
        benchmark, torch.backends.cudnn.benchmark = torch.backends.cudnn.benchmark, False
        try:
            result = self.task.validate(_batches(self.val_loader, self.env.device))
        finally:
            torch.backends.cudnn.benchmark = benchmark
        self.logger.scalars(result.metrics, state.step, split="val")
        self.logger.media(audio=result.audio, images=result.images, sample_rate=result.sample_rate,
                          step=state.step)
        self.logger.message(f"step {state.step} validation: {format_metrics(result.metrics)}")

    def save(self, state: TrainState) -> None:
        rng = gather_to_main(capture_rng(), self.env)  # collective: every rank takes part
        self.saved_step = state.step
        if not self.env.is_main:
            return
        self.checkpoint = save_checkpoint(self.run_dir, state=state, task_state=self.task.state_dict(),
                                          rng=rng, config=self.run_config, keep=self.config.keep_checkpoints)
        self.task.export(self.run_dir, state.step)
        self.logger.flush()

    def finish(self, state: TrainState, interrupted: bool) -> None:
        if not interrupted and self.validated_step != state.step:
            self.validate(state)
        if self.saved_step != state.step:
            self.save(state)
        if interrupted:
            self.logger.message(f"stopped at step {state.step}; checkpoint saved, continue with --resume")
        self.logger.close()


def _train_loader(data: Dataset, task: Task, config: TrainConfig, env: DistEnv) -> tuple[DataLoader, EpochSampler]:
    sampler = EpochSampler(len(data), batch_size=config.batch_size, rank=env.rank,
                           world_size=env.world_size, seed=config.seed)
    loader = DataLoader(data, batch_size=config.batch_size, sampler=sampler, drop_last=True,
                        num_workers=config.num_workers, collate_fn=task.collate_fn,
                        pin_memory=env.device.type == "cuda", worker_init_fn=ignore_interrupts)
    return loader, sampler


def _val_loader(data: Dataset, task: Task, config: TrainConfig, env: DistEnv) -> DataLoader:
    n = len(data) if config.validation_items <= 0 else min(len(data), config.validation_items)
    return DataLoader(Subset(data, range(n)), batch_size=1, shuffle=False, collate_fn=task.collate_fn,
                      num_workers=min(1, config.num_workers), worker_init_fn=ignore_interrupts,
                      pin_memory=env.device.type == "cuda")


def _restore(task: Task, checkpoint: Path | None, config: TrainConfig, env: DistEnv) -> TrainState:
    """Load the checkpoint into the task and this rank's RNGs, or seed a fresh run."""
    if checkpoint is None:
        seed_everything(config.seed + env.rank)
        return TrainState()
    ckpt = load_checkpoint(checkpoint)
    task.load_state_dict(ckpt["task"])
    state = state_from_checkpoint(ckpt)
    rngs = ckpt.get("rng") or []
    if len(rngs) == env.world_size:
        restore_rng(rngs[env.rank])
    else:  # resumed with another number of processes: reproducible, but not bit-identical
        seed_everything(config.seed + env.rank + state.step)
    return state


def fit(
    task: Task,
    *,
    train_data: Dataset,
    val_data: Dataset | None,
    config: TrainConfig,
    run_dir: str | Path,
    run_config: dict[str, Any],
    env: DistEnv | None = None,
    resume: bool = False,
    may_change: Iterable[str] = RESUMABLE_KEYS,
    console: Console | None = None,
) -> FitResult:
    """Train `task` until `config.max_steps` (or Ctrl-C / SIGTERM) and return where it stopped.

    `run_config` is the resolved configuration saved as `run_dir/config.json`; it must be plain
    JSON data and is compared on resume (only `may_change` keys may differ).
    """
    env = env or DistEnv()
    run_dir = Path(run_dir)
    checkpoint = check_run_dir(run_dir, run_config, resume=resume, may_change=may_change)
    if env.is_main:
        write_run_config(run_dir, run_config)
    task.setup(TaskContext(env))
    state = _restore(task, checkpoint, config, env)
    loader, sampler = _train_loader(train_data, task, config, env)
    out = _RunOutputs(task=task, config=config, run_dir=run_dir, run_config=run_config, env=env,
                      val_data=val_data, state=state, console=console)
    if checkpoint is not None:
        out.logger.message(f"resumed {run_dir} at step {state.step} (epoch {state.epoch})")
    elif resume:
        out.logger.message(f"{run_dir} holds no checkpoint yet: starting a new run")
    interrupted = False
    try:
        with StopSignal(announce=out.logger.message) as stop:
            while state.step < config.max_steps and not interrupted:
                if state.batch_in_epoch >= sampler.batches_per_epoch:  # resumed on a smaller corpus
                    state.epoch, state.batch_in_epoch = state.epoch + 1, 0
                sampler.set_epoch(state.epoch, start_batch=state.batch_in_epoch)
                for batch in _batches(loader, env.device):
                    metrics = task.train_step(batch, state.step)
                    state.step += 1
                    state.batch_in_epoch += 1
                    if state.batch_in_epoch >= sampler.batches_per_epoch:
                        task.on_epoch_end(state.epoch)
                        state.epoch, state.batch_in_epoch = state.epoch + 1, 0
                    out.after_step(state, metrics)
                    interrupted = any_rank(stop.requested, env)
                    if interrupted or state.step >= config.max_steps:
                        break
        out.finish(state, interrupted)
    finally:
        out.logger.close()
    return FitResult(state=state, interrupted=interrupted, checkpoint=out.checkpoint)
