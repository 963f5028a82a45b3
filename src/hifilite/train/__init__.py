"""The ONE training loop (`fit`), generic: what it trains is a `Task`, defined beside its model
(`hifilite.vocoder.task.GanVocoderTask`, `hifilite.acoustic.task.AcousticTask`). This package
imports no model code. See `hifilite.train.loop` for how a task plugs in.
"""

from .distributed import DistEnv, init_distributed, shutdown, unwrap
from .loop import RESUMABLE_KEYS, FitResult, Task, TaskContext, Validation, fit, to_device
from .state import TrainState, latest_checkpoint, load_checkpoint

__all__ = [
    "DistEnv", "FitResult", "RESUMABLE_KEYS", "Task", "TaskContext", "TrainState",
    "Validation", "fit", "init_distributed", "latest_checkpoint", "load_checkpoint",
    "shutdown", "to_device", "unwrap",
]
