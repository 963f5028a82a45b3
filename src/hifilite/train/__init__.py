"""The ONE training loop (`fit`) and what it trains (`Task`s such as `GanVocoderTask`).

See `hifilite.train.loop` for how a new task (distillation, supernet, acoustic model) plugs in.
"""

from .distributed import DistEnv, init_distributed, shutdown, unwrap
from .gan import GanVocoderTask, make_generator, train_gan
from .loop import RESUMABLE_KEYS, FitResult, Task, TaskContext, Validation, fit, to_device
from .state import TrainState, latest_checkpoint, load_checkpoint

__all__ = [
    "DistEnv", "FitResult", "GanVocoderTask", "RESUMABLE_KEYS", "Task", "TaskContext", "TrainState",
    "Validation", "fit", "init_distributed", "latest_checkpoint", "load_checkpoint", "make_generator",
    "shutdown", "to_device", "train_gan", "unwrap",
]
