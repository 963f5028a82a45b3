"""Training hyper-parameters and the loss-weight defaults of every task."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError
from .base import from_dict, load_file


# Loss-weight defaults, one place for every task; keys are the logged metric names. A weight of 0
# switches a term off (the discriminators are not even built when both adversarial weights are 0).
GAN_WEIGHTS = {"mel/loss": 45.0, "adv/gen": 1.0, "adv/feat": 2.0}  # HiFi-GAN (Kong et al.)
# Distillation from a teacher generator without discriminators (`compress distil`, `compress run`).
DISTIL_WEIGHTS = {"distil/mel": 45.0, "distil/stft": 1.0, "distil/feat": 1.0, "mel/loss": 10.0,
                  "adv/gen": 0.0, "adv/feat": 0.0}
# Phase-derivative terms added for the Fourier family, whose phase is regressed rather than convolved.
PHASE_WEIGHTS = {"distil/if": 1.0, "distil/gd": 1.0}
# Students trained from scratch on the recordings (the `compress run` baselines).
SCRATCH_WEIGHTS = {"mel/loss": 45.0, "stft/loss": 0.0, "adv/gen": 0.0, "adv/feat": 0.0}
# Acoustic models (FastSpeech 2 / LightSpeech); `mel/distil` (teacher mels) defaults to 1 when present.
# Magnitude regression of the prior family against the recording's Gaussian-window STFT: L1 on the
# magnitude to the power 0.3 (compressed: loud and quiet bins both count) and on log(magnitude + 1e-3).
PRIOR_WEIGHTS = {"mag/compressed": 1.0, "mag/log": 0.5}
ACOUSTIC_WEIGHTS = {"mel/loss": 1.0, "duration/loss": 1.0, "pitch/loss": 1.0, "energy/loss": 1.0}


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Which discriminators a GAN run trains, and their constructor arguments
    (`hifilite.vocoder.discriminators`): `kinds` from mpd (multi-period), msd (multi-scale) and mrd
    (multi-resolution spectrogram); the MPD's periods, the MSD's number of scales, the MRD's
    (n_fft, hop_length) resolutions and channels. HiFi-GAN's pair by default; `kinds: [mrd]` is the
    cheap choice on a CPU (its cost is a few generator steps, not tens)."""

    kinds: tuple[str, ...] = ("mpd", "msd")
    periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    num_scales: int = 3
    resolutions: tuple[tuple[int, int], ...] = ((1024, 256), (2048, 512), (512, 128))
    mrd_channels: int = 32

    def __post_init__(self) -> None:
        known = ("mpd", "msd", "mrd")
        bad = [k for k in self.kinds if k not in known]
        if not self.kinds or bad or len(set(self.kinds)) != len(self.kinds):
            raise ConfigError(f"kinds must name each of {', '.join(known)} at most once, got {list(self.kinds)}")
        if not self.periods or any(p < 1 for p in self.periods):
            raise ConfigError(f"periods must be a non-empty list of integers >= 1, got {self.periods}")
        if self.num_scales < 1:
            raise ConfigError(f"num_scales must be >= 1, got {self.num_scales}")
        if not self.resolutions or any(h < 1 or n < 2 * h or n & (n - 1) for n, h in self.resolutions):
            raise ConfigError("resolutions must be [n_fft, hop_length] pairs with n_fft a power of two and "
                              f"at least twice the hop, got {[list(r) for r in self.resolutions]}")
        if self.mrd_channels < 1:
            raise ConfigError(f"mrd_channels must be >= 1, got {self.mrd_channels}")


@dataclass(frozen=True)
class TrainConfig:
    """GAN vocoder training hyper-parameters (official HiFi-GAN values by default)."""

    batch_size: int = 16
    segment_size: int = 8192
    learning_rate: float = 2e-4
    adam_b1: float = 0.8
    adam_b2: float = 0.99
    lr_decay: float = 0.999
    seed: int = 1234
    max_steps: int = 2_500_000
    checkpoint_interval: int = 5000
    summary_interval: int = 100
    validation_interval: int = 1000
    num_workers: int = 2
    keep_checkpoints: int = 3  # training checkpoints kept in run_dir/checkpoints (oldest deleted)
    validation_items: int = 16  # validation utterances per validation pass (0 = the whole split)
    loss_weights: dict[str, float] = field(default_factory=lambda: dict(GAN_WEIGHTS))
    discriminators: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)  # used when adv/* weigh

    def __post_init__(self) -> None:
        if isinstance(self.discriminators, dict):  # TrainConfig(**to_dict(config)) round trips
            object.__setattr__(self, "discriminators", from_dict(DiscriminatorConfig, self.discriminators,
                                                                 "discriminators"))


def prior_train_config() -> "TrainConfig":
    """Training defaults of the prior family (a cheap regression, not a GAN): AdamW at 1e-3, 16 crops
    of 64 frames, data in the main process (features are in memory)."""
    return TrainConfig(batch_size=16, segment_size=64 * 256, learning_rate=1e-3, num_workers=0,
                       checkpoint_interval=2000, validation_interval=2000, validation_items=8,
                       loss_weights=dict(PRIOR_WEIGHTS))


def train_config_with_file(base: "TrainConfig", path: str | Path | None) -> "TrainConfig":
    """`base` updated with the TrainConfig keys of a YAML/JSON file (`--config`); unknown keys fail."""
    return base if path is None else from_dict(TrainConfig, load_file(path), str(path), base=base)


def parse_weights(items: Sequence[str], weights: dict[str, float]) -> dict[str, float]:
    """`weights` updated with `--weight NAME=VALUE` items (0 switches a term off)."""
    out = dict(weights)
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise ConfigError(f"--weight expects NAME=VALUE, got {item!r}")
    return out


__all__ = ["GAN_WEIGHTS", "DISTIL_WEIGHTS", "PHASE_WEIGHTS", "SCRATCH_WEIGHTS", "PRIOR_WEIGHTS", "ACOUSTIC_WEIGHTS",
           "DiscriminatorConfig", "TrainConfig", "prior_train_config", "train_config_with_file", "parse_weights"]
