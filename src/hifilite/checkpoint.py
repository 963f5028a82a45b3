"""Self-describing model files, one mechanism for every model the project saves.

A model file is ONE `.safetensors` file: the module's `state_dict` and, in its string metadata, a
`format` tag (`hifilite.registry.VOCODER_FORMAT`, `ACOUSTIC_FORMAT`), the exact constructor
arguments and whatever else is needed to use the weights alone (mel settings, symbol table, ...),
each a JSON string, plus the writing `hifilite_version`. safetensors holds tensors and strings only,
so reading a file never runs code from it. `hifilite.vocoder.checkpoint` and
`hifilite.acoustic.checkpoint` say what their kinds store; this module writes, reads and checks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import CheckpointError
from .io import atomic_write, read_safetensors
from .version import __version__


def invocation(argv: list[str] | None = None) -> str:
    """The command that produced an artefact, as a shell takes it back (`hifilite` + the arguments,
    quoted): the one way provenance is recorded in run configs and model metadata."""
    import shlex
    import sys

    return shlex.join(["hifilite", *(sys.argv[1:] if argv is None else argv)])


def save_model(path: str | os.PathLike, module: Any, fmt: str, meta: dict[str, str]) -> Path:
    """Write `module`'s weights with `meta` (strings; JSON for structured values) and the format tag,
    atomically (a reader never sees half a file)."""
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    full = {"format": fmt, **meta, "hifilite_version": __version__}
    return atomic_write(Path(path), lambda tmp: save_file(state, tmp, metadata=full))


def read_model(path: str | os.PathLike, fmt: str, what: str) -> tuple[dict, dict[str, str]]:
    """(tensors, metadata) of a model file of format `fmt`; CheckpointError naming `what` otherwise."""
    state, meta = read_safetensors(path)
    if meta.get("format") != fmt:
        raise CheckpointError(f"{path}: not a hifilite {what} (format {meta.get('format')!r})")
    return state, meta


def meta_json(meta: dict[str, str], key: str, default: str | None = None) -> Any:
    """One JSON field of the metadata (`default` is the JSON text used when the key is absent);
    KeyError or json.JSONDecodeError propagate so the caller reports its file's bad metadata."""
    text = meta[key] if default is None else meta.get(key, default)
    return json.loads(text)


def load_strict(module: Any, state: dict[str, Any], path: str | os.PathLike) -> None:
    """Load `state` into `module`, every key and shape matching; CheckpointError says what differs."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    bad_shape = [k for k in set(own) & set(state) if own[k].shape != state[k].shape]
    if missing or unexpected or bad_shape:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} keys (e.g. {unexpected[0]})")
        if bad_shape:
            k = sorted(bad_shape)[0]
            parts.append(f"shape mismatch at {k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}")
        raise CheckpointError(f"{path}: does not match the model: " + "; ".join(parts))
    module.load_state_dict(state, strict=True)


__all__ = ["save_model", "read_model", "meta_json", "load_strict"]
