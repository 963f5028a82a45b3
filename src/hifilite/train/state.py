"""Training state, checkpoints and the run folder.

A run folder holds:

    config.json                    resolved configuration (checked on --resume)
    checkpoints/step_00005000.pt   full training state, last `keep_checkpoints` kept
    logs/                          TensorBoard event files
    (task exports, e.g. generator.safetensors)

A checkpoint is a dict of tensors and plain Python values only, so it loads with
`torch.load(weights_only=True)`: no pickled classes, no code. RNG states are stored as tensors and
lists for the same reason. Files are written to a temporary name and renamed into place, so a
crash never leaves a truncated checkpoint that looks valid.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from ..errors import CheckpointError, ConfigError
from ..io import atomic_write

FORMAT = "hifilite.train/1"
CONFIG_NAME = "config.json"
_CKPT_RE = re.compile(r"^step_(\d+)\.pt$")


@dataclass
class TrainState:
    """Where the run is. `batch_in_epoch` is the sampler position, so a resume skips the batches
    of the current epoch that were already seen instead of restarting the epoch. `train_seconds`
    and `cpu_seconds` add up, across resumes, the wall-clock and process CPU time (all threads of
    the training process) spent in the training loop, so quality can be read against compute."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    train_seconds: float = 0.0
    cpu_seconds: float = 0.0

    def to_dict(self) -> dict[str, int | float]:
        return {"step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
                "train_seconds": self.train_seconds, "cpu_seconds": self.cpu_seconds}


# --------------------------------------------------------------------------------------------
# RNG states as tensors / plain lists (weights_only-loadable)


def capture_rng() -> dict[str, Any]:
    """Python, NumPy, torch CPU and (if present) CUDA generator states of this process."""
    version, internal, gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_cached = np.random.get_state()
    out: dict[str, Any] = {
        "python": {"version": version, "state": torch.tensor(internal, dtype=torch.int64), "gauss": gauss},
        "numpy": {
            "name": np_name,
            "keys": torch.from_numpy(np_keys.astype(np.int64)),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "cached": float(np_cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = list(torch.cuda.get_rng_state_all())
    return out


def restore_rng(state: dict[str, Any]) -> None:
    """Inverse of `capture_rng`."""
    py = state["python"]
    random.setstate((py["version"], tuple(int(x) for x in py["state"].tolist()), py["gauss"]))
    nps = state["numpy"]
    np.random.set_state(
        (nps["name"], nps["keys"].numpy().astype(np.uint32), nps["pos"], nps["has_gauss"], nps["cached"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = state["cuda"]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# --------------------------------------------------------------------------------------------
# Checkpoint files


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def list_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, path) of every complete checkpoint, oldest first."""
    folder = checkpoint_dir(run_dir)
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = _CKPT_RE.match(p.name)
        if m and p.is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> Path | None:
    ckpts = list_checkpoints(run_dir)
    return ckpts[-1][1] if ckpts else None


def save_checkpoint(
    run_dir: Path,
    *,
    state: TrainState,
    task_state: dict[str, Any],
    rng: list[dict[str, Any]],
    config: dict[str, Any],
    keep: int,
) -> Path:
    """Write `checkpoints/step_<step>.pt` atomically, then delete all but the newest `keep`."""
    payload = {
        "format": FORMAT,
        **state.to_dict(),
        "task": task_state,
        "rng": rng,
        "config": json.dumps(config, sort_keys=True),
    }
    path = checkpoint_dir(run_dir) / f"step_{state.step:08d}.pt"
    atomic_write(path, lambda tmp: torch.save(payload, tmp))
    for _, old in list_checkpoints(run_dir)[: -max(1, keep)]:
        old.unlink(missing_ok=True)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a training checkpoint with `weights_only=True`; CheckpointError if it is not one."""
    from ..io import safe_torch_load

    ckpt = safe_torch_load(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a hifilite training checkpoint")
    return ckpt


def state_from_checkpoint(ckpt: dict[str, Any]) -> TrainState:
    return TrainState(step=int(ckpt["step"]), epoch=int(ckpt["epoch"]), batch_in_epoch=int(ckpt["batch_in_epoch"]),
                      train_seconds=float(ckpt.get("train_seconds", 0.0)),  # absent before they were recorded
                      cpu_seconds=float(ckpt.get("cpu_seconds", 0.0)))


# --------------------------------------------------------------------------------------------
# The run folder's config.json


def read_run_config(run_dir: Path, like: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The run's stored configuration, training keys added since it was written at their defaults
    (with `like`, only those `like` has)."""
    path = Path(run_dir) / CONFIG_NAME
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON ({exc})") from None
    return _with_later_keys(stored, like)


def _with_later_keys(stored: Any, like: dict[str, Any] | None = None) -> Any:
    """A run written before a training key existed ran with that key's default: fill it in, so a
    later version resumes the run rather than call its configuration changed. With `like` (a
    configuration to compare with), only the training keys it has are filled."""
    from ..config import TrainConfig
    from ..config.base import to_dict

    train = stored.get("train") if isinstance(stored, dict) else None
    if not isinstance(train, dict):
        return stored
    wanted = like.get("train") if isinstance(like, dict) else None
    later = {k: v for k, v in to_dict(TrainConfig()).items()
             if k not in train and (wanted is None or (isinstance(wanted, dict) and k in wanted))}
    return {**stored, "train": {**train, **later}} if later else stored


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{dotted key: (old, new)} for every leaf that differs (missing leaves read as None)."""
    a, b = _flatten(old), _flatten(new)
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _describe(diffs: dict[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in list(diffs.items())[:6]) + (
        f" (and {len(diffs) - 6} more)" if len(diffs) > 6 else ""
    )


def check_run_dir(
    run_dir: Path, config: dict[str, Any], *, resume: bool, may_change: Iterable[str] = ()
) -> Path | None:
    """Decide what to do with `run_dir`; return the checkpoint to resume from (or None).

    Without `resume`, a folder that already holds checkpoints, or a config.json that differs from
    `config`, is an error (a run is never overwritten silently). With `resume`, only keys under
    `may_change` (dotted prefixes such as `train.max_steps`) may differ from the stored config.
    Read-only, so every rank can call it; the main rank then calls `write_run_config`.
    """
    run_dir = Path(run_dir)
    stored = read_run_config(run_dir, like=config)
    latest = latest_checkpoint(run_dir)
    diffs = config_differences(stored, config) if stored is not None else {}
    if not resume:
        if diffs:
            raise ConfigError(
                f"{run_dir} holds a run with a different configuration ({_describe(diffs)}); "
                "choose another --out, or pass --resume with the same settings"
            )
        if latest is not None:
            raise ConfigError(
                f"{run_dir} already holds a run (checkpoint {latest.name}); pass --resume to continue "
                "it, or choose another --out"
            )
        return None
    prefixes = tuple(may_change)
    fixed = {k: v for k, v in diffs.items() if not any(k == p or k.startswith(p + ".") for p in prefixes)}
    if fixed:
        allowed = ", ".join(prefixes) or "nothing"
        raise ConfigError(
            f"cannot resume {run_dir}: the configuration differs ({_describe(fixed)}); "
            f"only {allowed} may change when resuming"
        )
    return latest


def write_run_config(run_dir: Path, config: dict[str, Any]) -> Path:
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    return atomic_write(Path(run_dir) / CONFIG_NAME, lambda tmp: Path(tmp).write_text(text))
