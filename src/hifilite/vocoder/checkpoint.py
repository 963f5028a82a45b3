"""Generator checkpoints: our self-describing safetensors, and import of official jik876 checkpoints.

Our format is ONE `.safetensors` file written by `hifilite.checkpoint`: the generator weights, and in
its metadata the exact constructor arguments and mel settings as JSON, so a checkpoint reloads with
no training, supernet or search code. Foreign checkpoints are read with `torch.load(weights_only=True)`: a file that
needs arbitrary unpickling (and so could run code) is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import load_strict, meta_json, read_model, save_model
from ..config import AnyGeneratorConfig, GeneratorConfig, MelConfig, from_dict, generator_config, mel_config, to_dict
from ..errors import CheckpointError, ConfigError
from ..io import safe_torch_load
from ..registry import VOCODER_FORMAT
from .family import build_generator
from .generator import Generator
from .weight_norm import has_weight_norm

FORMAT = VOCODER_FORMAT

# Keys of an official HiFi-GAN config.json: ours map to GeneratorConfig / MelConfig, the rest are
# training settings that inference ignores. Anything else is an error (a typo or another format).
_JIK_GENERATOR_KEYS = {
    "resblock", "upsample_rates", "upsample_kernel_sizes", "upsample_initial_channel",
    "resblock_kernel_sizes", "resblock_dilation_sizes",
}
_JIK_MEL_KEYS = {
    "num_mels": "n_mels", "n_fft": "n_fft", "hop_size": "hop_length", "win_size": "win_length",
    "sampling_rate": "sample_rate", "fmin": "fmin", "fmax": "fmax",
}
_JIK_TRAINING_KEYS = {
    "num_gpus", "batch_size", "learning_rate", "adam_b1", "adam_b2", "lr_decay", "seed",
    "segment_size", "num_freq", "fmax_for_loss", "num_workers", "dist_config", "gen_istft_n_fft",
    "gen_istft_hop_size", "discriminator_periods",
}


def save_generator(
    path: str | os.PathLike,
    generator: torch.nn.Module,
    gen_config: AnyGeneratorConfig,
    mel: MelConfig,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `generator` as one self-describing safetensors file (atomically, `hifilite.checkpoint`).

    Weight-norm parametrisations are kept if present (so fine-tuning resumes exactly); the
    metadata records whether they are there.
    """
    return save_model(path, generator, FORMAT, {
        "class": type(generator).__name__,
        "generator": json.dumps(to_dict(gen_config)),
        "mel": json.dumps(to_dict(mel)),
        "weight_norm": json.dumps(has_weight_norm(generator)),
        "extra": json.dumps(extra or {}),
    })


def load_generator(
    path: str | os.PathLike, keep_weight_norm: bool = False
) -> tuple[torch.nn.Module, AnyGeneratorConfig, MelConfig, dict[str, Any]]:
    """Load our safetensors format. Returns (generator in eval mode, its config, mel config, extra).

    The config's `family` key (absent: HiFi-GAN) picks the generator class (`build_generator`)."""
    path = Path(path)
    state, meta = read_model(path, FORMAT, "generator checkpoint")
    try:
        gen_config = generator_config(meta_json(meta, "generator"), "generator")
        mel = mel_config(meta_json(meta, "mel"), "mel")
        stored_wn = meta_json(meta, "weight_norm", "false")
        extra = meta_json(meta, "extra", "{}")
    except (KeyError, json.JSONDecodeError, ConfigError) as exc:
        raise CheckpointError(f"{path}: bad metadata ({exc})") from None
    gen = build_generator(gen_config)
    if not stored_wn:
        gen.remove_weight_norm()
    load_strict(gen, state, path)
    if stored_wn and not keep_weight_norm:
        gen.remove_weight_norm()
    return gen.eval(), gen_config, mel, extra


def jik876_config(data: dict[str, Any], where: str = "config.json") -> tuple[GeneratorConfig, MelConfig]:
    """Split an official HiFi-GAN config.json into our generator and mel configs."""
    unknown = sorted(set(data) - _JIK_GENERATOR_KEYS - set(_JIK_MEL_KEYS) - _JIK_TRAINING_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) for a HiFi-GAN config: {', '.join(unknown)}")
    gen = {k: data[k] for k in _JIK_GENERATOR_KEYS if k in data}
    gen["in_channels"] = data.get("num_mels", 80)
    mel = {ours: data[theirs] for theirs, ours in _JIK_MEL_KEYS.items() if theirs in data}
    return from_dict(GeneratorConfig, gen, where), from_dict(MelConfig, mel, where)


def _jik_to_ours(key: str) -> str:
    if key.endswith(".weight_g"):
        return key[: -len("weight_g")] + "parametrizations.weight.original0"
    if key.endswith(".weight_v"):
        return key[: -len("weight_v")] + "parametrizations.weight.original1"
    return key


def load_jik876(
    ckpt_path: str | os.PathLike, config_path: str | os.PathLike | None = None, keep_weight_norm: bool = False
) -> tuple[Generator, GeneratorConfig, MelConfig]:
    """Import an official HiFi-GAN generator checkpoint (`{"generator": state_dict}`).

    `config_path` defaults to `config.json` beside the checkpoint. Keys are checked strictly.
    """
    ckpt_path = Path(ckpt_path)
    config_path = Path(config_path) if config_path else ckpt_path.parent / "config.json"
    if not config_path.is_file():
        raise CheckpointError(f"{ckpt_path}: no config.json beside it; pass the HiFi-GAN config explicitly")
    try:
        cfg_data = json.loads(config_path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{config_path}: invalid JSON ({exc})") from None
    gen_config, mel = jik876_config(cfg_data, str(config_path))
    ckpt = safe_torch_load(ckpt_path)
    if not isinstance(ckpt, dict) or "generator" not in ckpt:
        raise CheckpointError(f"{ckpt_path}: expected a dict with a 'generator' state dict (official format)")
    state = {_jik_to_ours(k): v for k, v in ckpt["generator"].items()}
    gen = Generator.from_config(gen_config)
    load_strict(gen, state, ckpt_path)
    if not keep_weight_norm:
        gen.remove_weight_norm()
    return gen.eval(), gen_config, mel
