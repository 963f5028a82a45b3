"""Processes: the device, torchrun/DDP, and stopping every rank together on Ctrl-C / SIGTERM.

One process (plain `hifilite train`) and N processes (`torchrun --nproc_per_node N -m hifilite
train ...`, also multi-node) run the same code: `init_distributed` reads `WORLD_SIZE`, `RANK`,
`LOCAL_RANK` (set by torchrun), joins the process group (NCCL on CUDA, Gloo on CPU) and returns a
`DistEnv`. The helpers below are no-ops when `world_size == 1`, so callers never branch on it.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DistEnv:
    """Where this process runs and which rank it is (rank 0 writes logs and checkpoints)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(choice: str = "auto", local_rank: int = 0) -> torch.device:
    """`auto` = CUDA if available, else CPU. Under torchrun each process takes GPU `local_rank`."""
    if choice not in DEVICE_CHOICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)}, got {choice!r}")
    if choice == "cpu" or (choice == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for but torch sees no CUDA device")
    if local_rank >= torch.cuda.device_count():
        raise ConfigError(
            f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} CUDA device(s) visible"
        )
    return torch.device("cuda", local_rank)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"environment variable {name}={value!r} is not an integer") from None


def init_distributed(device: str = "auto") -> DistEnv:
    """Join the torchrun process group if `WORLD_SIZE` > 1; pick and configure the device.

    On CUDA this also sets the current device (so NCCL and `.cuda()` use the right GPU) and turns
    on cuDNN autotuning: training shapes are fixed (segment_size), so the search pays off.
    """
    world_size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    dev = resolve_device(device, local_rank)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
        torch.backends.cudnn.benchmark = True
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        kwargs: dict[str, Any] = {"device_id": dev} if dev.type == "cuda" else {}
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size, **kwargs)
    return DistEnv(rank=rank, local_rank=local_rank, world_size=world_size, device=dev)


def shutdown(env: DistEnv) -> None:
    """Leave the process group (a no-op for one process)."""
    if env.is_distributed and dist.is_initialized():
        dist.destroy_process_group()


def wrap_ddp(module: nn.Module, env: DistEnv) -> nn.Module:
    """DDP-wrap a module that is already on `env.device`; return it unchanged for one process.

    Only modules whose parameters are trained by an optimiser should be wrapped; frozen teachers
    and mel front-ends stay plain modules.
    """
    if not env.is_distributed:
        return module
    device_ids = [env.device.index] if env.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a DDP wrapper (for state dicts, export, rank-0 validation)."""
    return module.module if isinstance(module, DistributedDataParallel) else module


def any_rank(flag: bool, env: DistEnv) -> bool:
    """True on every rank if `flag` is true on any rank (used to stop all ranks together)."""
    if not env.is_distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=env.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def gather_to_main(obj: Any, env: DistEnv) -> list[Any] | None:
    """Every rank's `obj` as a list on rank 0 (None elsewhere); `[obj]` for one process."""
    if not env.is_distributed:
        return [obj]
    out: list[Any] | None = [None] * env.world_size if env.is_main else None
    dist.gather_object(obj, out, dst=0)
    return out


def barrier(env: DistEnv) -> None:
    if env.is_distributed:
        if env.device.type == "cuda":
            dist.barrier(device_ids=[env.device.index])
        else:
            dist.barrier()


class StopSignal:
    """Turn the first SIGINT/SIGTERM into a request to stop after the current step.

    The loop polls `requested` (agreed across ranks with `any_rank`), saves a checkpoint at a
    clean step boundary and returns; a second Ctrl-C raises KeyboardInterrupt at once. SIGTERM is
    what schedulers (SLURM, Kubernetes) send before killing a job, so it gets the same treatment.
    Handlers can only be installed from the main thread; elsewhere this does nothing.
    """

    def __init__(self, announce: Callable[[str], None] | None = None) -> None:
        self.requested = False
        self._announce = announce or (lambda msg: None)
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self._announce(f"{signal.Signals(signum).name}: stopping after this step (again to abort)")

    def __enter__(self) -> "StopSignal":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()


def ignore_interrupts(worker_id: int = 0) -> None:
    """DataLoader `worker_init_fn`: workers ignore Ctrl-C and SIGTERM so the main process can finish
    its step and checkpoint. Both reach the workers too when they go to the whole process group
    (Ctrl-C in a terminal, `pkill -f`, a job scheduler), and a worker killed by them would make the
    loader raise instead; the loader itself still stops its workers when the run ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


@atexit.register
def _kill_daemon_children() -> None:
    """At exit, multiprocessing terminates (SIGTERM) its daemonic children and then joins them. The
    loader workers above ignore SIGTERM, so one still alive then (a loader iterator kept alive by a
    traceback or a reference cycle) would keep the process from ever exiting. Registered after
    multiprocessing's own exit hook (torch imports it first), this runs before it and kills them."""
    workers = [child for child in multiprocessing.active_children() if child.daemon]
    if workers and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # torch's handler would report the kill as a failure
    for child in workers:
        child.kill()
        child.join(timeout=5)
