"""Typed configuration: dataclasses, presets, and YAML/JSON loading that rejects unknown keys.

Configs compose: a preset plus small overrides. Every key is checked against the dataclass fields,
so a typo is an error rather than a silently ignored setting.

- `base`: `from_dict`, `to_dict`, `load_file` (the machinery);
- `mel`: `MelConfig`, the producer/consumer pairing check, the front-end's constants;
- `generator`: the vocoder families' configs, presets and zero-parameter vocoders;
- `acoustic`: the acoustic model's architecture (`AcousticConfig`) and its search space's names;
- `train`: training hyper-parameters and loss-weight defaults.
"""

from .acoustic import AcousticConfig
from .base import from_dict, load_file, to_dict
from .generator import (GENERATOR_FAMILIES, GENERATOR_PRESETS, PHASE_METHODS, SIGNAL_VOCODERS, AnyGeneratorConfig,
                        FourierConfig, GeneratorConfig, PriorConfig, check_generator_mel, generator_config)
from .mel import LOG_CLAMP_MIN, MAGNITUDE_EPS, MEL_PAIRING_KEYS, MelConfig, check_mel_pair, mel_config
from .train import (ACOUSTIC_WEIGHTS, DISTIL_WEIGHTS, GAN_WEIGHTS, PHASE_WEIGHTS, PRIOR_WEIGHTS, SCRATCH_WEIGHTS,
                    DiscriminatorConfig, TrainConfig, parse_weights, prior_train_config, train_config_with_file)

__all__ = ["from_dict", "load_file", "to_dict", "GENERATOR_FAMILIES", "GENERATOR_PRESETS", "PHASE_METHODS",
           "SIGNAL_VOCODERS", "AnyGeneratorConfig", "FourierConfig", "GeneratorConfig", "PriorConfig",
           "check_generator_mel", "generator_config", "LOG_CLAMP_MIN", "MAGNITUDE_EPS", "MEL_PAIRING_KEYS",
           "MelConfig", "check_mel_pair", "mel_config", "ACOUSTIC_WEIGHTS", "DISTIL_WEIGHTS", "GAN_WEIGHTS",
           "PHASE_WEIGHTS", "PRIOR_WEIGHTS", "SCRATCH_WEIGHTS", "DiscriminatorConfig", "TrainConfig",
           "parse_weights", "prior_train_config", "train_config_with_file", "AcousticConfig"]
