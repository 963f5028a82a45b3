"""Typed configuration: dataclasses, presets, and YAML/JSON loading that rejects unknown keys.

Configs compose: a preset plus small overrides (`merge`). Every key is checked against the
dataclass fields, so a typo is an error rather than a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence, TypeVar

from .errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class MelConfig:
    """Mel front-end settings (official HiFi-GAN LJSpeech values by default)."""

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = 8000.0

    def loss_variant(self) -> "MelConfig":
        """The mel used inside the mel-L1 loss: identical but fmax = Nyquist."""
        return dataclasses.replace(self, fmax=None)


# What a mel's producer and its consumer must agree on (an acoustic model and a vocoder, a corpus and
# a generator); the rest of the front-end (fmin, fmax, window) shapes the values, not the layout.
MEL_PAIRING_KEYS = ("sample_rate", "hop_length", "n_mels")


def mel_config(value: "MelConfig | Mapping[str, Any]", where: str = "mel") -> "MelConfig":
    """A `MelConfig` from itself or from stored settings (checkpoint metadata, corpus statistics,
    ONNX sidecars), whose unknown keys are an error."""
    return value if isinstance(value, MelConfig) else from_dict(MelConfig, dict(value), where)


def check_mel_pair(produced: "MelConfig | Mapping[str, Any]", expected: "MelConfig | Mapping[str, Any]",
                   producer: str = "acoustic model", consumer: str = "vocoder") -> None:
    """The one compatibility check between a mel's producer and its consumer (ConfigError naming the
    first setting that differs). Mappings may carry only `MEL_PAIRING_KEYS` (an ONNX sidecar's top level)."""
    def get(m: Any, key: str) -> int:
        return int(getattr(m, key) if isinstance(m, MelConfig) else m[key])

    for key in MEL_PAIRING_KEYS:
        if get(produced, key) != get(expected, key):
            raise ConfigError(f"{producer} {key} {get(produced, key)} does not match the {consumer}'s "
                              f"{get(expected, key)}")


def check_generator_mel(gen: "AnyGeneratorConfig", mel: "MelConfig") -> None:
    """A generator must upsample by the mel hop and take the mel's channels."""
    if gen.hop_length != mel.hop_length:
        raise ConfigError(f"generator upsamples by {gen.hop_length} but the mel hop is {mel.hop_length}")
    if gen.in_channels != mel.n_mels:
        raise ConfigError(f"generator takes {gen.in_channels} mel channels, the mel has {mel.n_mels}")
    if isinstance(gen, PriorConfig):
        for key in ("sample_rate", "n_fft", "fmin", "fmax"):
            if getattr(gen, key) != getattr(mel, key):
                raise ConfigError(f"the pseudo-inverse assumes mel {key} {getattr(gen, key)}, the mel has "
                                  f"{getattr(mel, key)}")


@dataclass(frozen=True)
class GeneratorConfig:
    """Constructor arguments of `hifilite.vocoder.Generator` (jik876 naming where one exists)."""

    in_channels: int = 80
    upsample_initial_channel: int = 512
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    resblock: str = "1"
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    resblock_conv: str = "full"  # "full" | "lowrank" | "separable" (students)
    resblock_rank: int = 0  # lowrank: inner channels; separable: depth multiplier; 0 = exact
    stage_ranks: tuple[int, ...] = ()  # per upsampling stage, overrides resblock_rank (searched students)
    istft_n_fft: int = 0  # > 0: iSTFT output head (n_fft + 2 channels -> overlap-add) after the last stage
    istft_hop: int = 1  # the head's hop; hop_length = prod(upsample_rates) * istft_hop

    def __post_init__(self) -> None:
        if self.resblock_conv not in ("full", "lowrank", "separable"):
            raise ConfigError(f"resblock_conv must be full, lowrank or separable, got {self.resblock_conv!r}")
        if self.resblock_rank < 0 or any(r < 0 for r in self.stage_ranks):
            raise ConfigError("resblock_rank and stage_ranks must be >= 0")
        if self.stage_ranks and len(self.stage_ranks) != len(self.upsample_rates):
            raise ConfigError(f"stage_ranks needs one rank per upsampling stage ({len(self.upsample_rates)})")
        if self.resblock not in ("1", "2"):
            raise ConfigError(f"resblock must be '1' or '2', got {self.resblock!r}")
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise ConfigError("upsample_rates and upsample_kernel_sizes differ in length")
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            raise ConfigError("resblock_kernel_sizes and resblock_dilation_sizes differ in length")
        for u, k in zip(self.upsample_rates, self.upsample_kernel_sizes):
            if (k - u) % 2:
                raise ConfigError(f"upsample kernel {k} and rate {u} must differ by an even number")
        if self.istft_n_fft and (self.istft_n_fft % 2 or not 1 <= self.istft_hop <= self.istft_n_fft
                                 or (self.istft_n_fft - self.istft_hop) % 2):
            raise ConfigError(f"istft_n_fft {self.istft_n_fft} must be even, >= istft_hop {self.istft_hop}, "
                              "and differ from it by an even number")
        if not self.istft_n_fft and self.istft_hop != 1:
            raise ConfigError("istft_hop needs an iSTFT head (istft_n_fft > 0)")
        if self.upsample_initial_channel % (2 ** len(self.upsample_rates)):
            raise ConfigError("upsample_initial_channel must halve cleanly at every stage")

    @property
    def hop_length(self) -> int:
        out = self.istft_hop
        for u in self.upsample_rates:
            out *= u
        return out


@dataclass(frozen=True)
class FourierConfig:
    """Constructor arguments of `hifilite.vocoder.fourier.FourierGenerator` (the frame-rate family).

    A ConvNeXt backbone at the mel frame rate (`blocks` blocks of `channels`, pointwise MLP of
    `mlp_ratio * channels`, depthwise `kernel_size`) and a head predicting log-magnitude and phase of
    an `n_fft`-point STFT with hop `hop_length`, inverted by a fixed-basis iSTFT. `family` names the
    class in saved configs (checkpoint metadata, sidecars, run configs) and must stay "fourier".
    """

    family: str = "fourier"
    in_channels: int = 80
    channels: int = 128
    blocks: int = 6
    mlp_ratio: float = 3.0
    kernel_size: int = 7
    n_fft: int = 1024
    hop_length: int = 256

    def __post_init__(self) -> None:
        if self.family != "fourier":
            raise ConfigError(f"FourierConfig.family must be 'fourier', got {self.family!r}")
        if self.in_channels < 1 or self.channels < 1 or self.blocks < 0:
            raise ConfigError("in_channels and channels must be >= 1 and blocks >= 0")
        if not self.mlp_ratio > 0:
            raise ConfigError(f"mlp_ratio must be > 0, got {self.mlp_ratio}")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ConfigError(f"kernel_size must be odd, got {self.kernel_size}")
        if (self.n_fft % 2 or self.hop_length < 1 or self.n_fft % self.hop_length
                or (self.n_fft - self.hop_length) % 2):
            raise ConfigError(f"n_fft {self.n_fft} must be even, a multiple of hop_length {self.hop_length}, "
                              "and differ from it by an even number")


PHASE_METHODS = ("pghi", "griffin-lim")


@dataclass(frozen=True)
class PriorConfig:
    """Constructor arguments of `hifilite.vocoder.prior.PriorGenerator` (the phase-reconstruction family).

    The magnitude of an `n_fft`-point Gaussian-window STFT is the mel filterbank's pseudo-inverse
    (the prior) plus, when `channels` > 0, a log-magnitude residual from a ConvNeXt backbone at the
    mel frame rate (`blocks` blocks of `channels`, as `FourierConfig`); the phase comes from the
    magnitude by `phase` ("pghi": real-time phase gradient heap integration at hop `phase_hop`;
    "griffin-lim": `iterations` of fast Griffin-Lim, Hann window). `channels` = 0 is the
    zero-parameter floor. `family` must stay "prior".
    """

    family: str = "prior"
    in_channels: int = 80
    channels: int = 128
    blocks: int = 6
    mlp_ratio: float = 3.0
    kernel_size: int = 7
    n_fft: int = 1024
    hop_length: int = 256
    phase: str = "pghi"
    phase_hop: int = 256
    iterations: int = 32
    sample_rate: int = 22050  # the mel filterbank the pseudo-inverse undoes
    fmin: float = 0.0
    fmax: float | None = 8000.0

    def __post_init__(self) -> None:
        if self.family != "prior":
            raise ConfigError(f"PriorConfig.family must be 'prior', got {self.family!r}")
        if self.in_channels < 1 or self.channels < 0 or self.blocks < 0:
            raise ConfigError("in_channels must be >= 1, channels and blocks >= 0")
        if not self.mlp_ratio > 0 or self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ConfigError("mlp_ratio must be > 0 and kernel_size odd")
        if self.phase not in PHASE_METHODS:
            raise ConfigError(f"phase must be one of {', '.join(PHASE_METHODS)}, got {self.phase!r}")
        if self.n_fft % 2 or self.hop_length < 1 or self.n_fft < 2 * self.hop_length:
            raise ConfigError(f"n_fft {self.n_fft} must be even and at least twice hop_length {self.hop_length}")
        if self.phase_hop < 1 or self.hop_length % self.phase_hop:
            raise ConfigError(f"phase_hop {self.phase_hop} must divide hop_length {self.hop_length}")
        if self.iterations < 1:
            raise ConfigError(f"iterations must be >= 1, got {self.iterations}")


AnyGeneratorConfig = GeneratorConfig | FourierConfig | PriorConfig
GENERATOR_FAMILIES: dict[str, type] = {"hifigan": GeneratorConfig, "fourier": FourierConfig, "prior": PriorConfig}

GENERATOR_PRESETS: dict[str, AnyGeneratorConfig] = {
    "v1": GeneratorConfig(),
    "v2": GeneratorConfig(upsample_initial_channel=128),
    "v3": GeneratorConfig(
        upsample_initial_channel=256,
        upsample_rates=(8, 8, 4),
        upsample_kernel_sizes=(16, 16, 8),
        resblock="2",
        resblock_kernel_sizes=(3, 5, 7),
        resblock_dilation_sizes=((1, 2), (2, 6), (3, 12)),
    ),
    # Fast students: two upsampling stages at V2/V3 widths, then an iSTFT head (n_fft 16, hop 4)
    # instead of the last two stages. The resblocks are V3's (one conv per dilation).
    "lite": GeneratorConfig(
        upsample_initial_channel=128,
        upsample_rates=(8, 8),
        upsample_kernel_sizes=(16, 16),
        resblock="2",
        resblock_kernel_sizes=(3, 5, 7),
        resblock_dilation_sizes=((1, 2), (2, 6), (3, 12)),
        istft_n_fft=16,
        istft_hop=4,
    ),
    # Frame-rate student: ConvNeXt 128 x 6 at the mel frame rate + iSTFT head (n_fft 1024, hop 256),
    # 0.81 M parameters.
    "fourier": FourierConfig(),
    # Frame-rate magnitude network over the mel pseudo-inverse, phase by real-time PGHI (0.74 M).
    "prior": PriorConfig(),
}
# Zero-parameter vocoders: the mel pseudo-inverse, phase from the magnitude. Not random: usable as is.
SIGNAL_VOCODERS: dict[str, PriorConfig] = {
    "pghi": PriorConfig(channels=0, blocks=0),
    "griffin-lim": PriorConfig(channels=0, blocks=0, phase="griffin-lim"),
}


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
    """Constructor arguments of the HiFi-GAN discriminators (`hifilite.vocoder.discriminators`):
    the multi-period discriminator's periods and the multi-scale discriminator's number of scales."""

    periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    num_scales: int = 3

    def __post_init__(self) -> None:
        if not self.periods or any(p < 1 for p in self.periods):
            raise ConfigError(f"periods must be a non-empty list of integers >= 1, got {self.periods}")
        if self.num_scales < 1:
            raise ConfigError(f"num_scales must be >= 1, got {self.num_scales}")


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


def prior_train_config() -> "TrainConfig":
    """Training defaults of the prior family (a cheap regression, not a GAN): AdamW at 1e-3, 16 crops
    of 64 frames, data in the main process (features are in memory)."""
    return TrainConfig(batch_size=16, segment_size=64 * 256, learning_rate=1e-3, num_workers=0,
                       checkpoint_interval=2000, validation_interval=2000, validation_items=8,
                       loss_weights=dict(PRIOR_WEIGHTS))


def _coerce(tp: Any, value: Any, where: str) -> Any:
    """Convert a JSON/YAML value to the annotated field type, or raise ConfigError."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or str(origin) == "types.UnionType":
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(a, value, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
        return tuple(_coerce(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return {str(k): _coerce(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if tp is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)  # jik876 configs write resblock as "1" but YAML may give 1
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    return value


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config", base: T | None = None) -> T:
    """Build dataclass `cls` from `data`, starting from `base` (or defaults); unknown keys fail."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(names))}"
        )
    values = {k: _coerce(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    try:
        if base is not None:
            return dataclasses.replace(base, **values)
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def to_dict(obj: Any) -> dict[str, Any]:
    """JSON-friendly dict of a dataclass (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(obj)))


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


def load_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON mapping from disk."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    text = path.read_text()
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:
        raise ConfigError(f"{path}: cannot parse ({exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data


def generator_config(spec: str | dict[str, Any] | AnyGeneratorConfig, where: str = "generator") -> AnyGeneratorConfig:
    """A generator config from a preset name, a mapping (optionally with `preset:`), or a config.

    A mapping's `family` key picks the config class (`fourier`: `FourierConfig`; absent: the HiFi-GAN
    `GeneratorConfig`); with `preset:` the family is the preset's.
    """
    if isinstance(spec, (GeneratorConfig, FourierConfig, PriorConfig)):
        return spec
    if isinstance(spec, str):
        if spec in GENERATOR_PRESETS:
            return GENERATOR_PRESETS[spec]
        if Path(spec).suffix.lower() in (".yaml", ".yml", ".json"):
            return generator_config(load_file(spec))
        raise ConfigError(
            f"unknown generator preset {spec!r}; choose from {', '.join(GENERATOR_PRESETS)} "
            "or give a YAML/JSON file"
        )
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(spec).__name__}")
    data = dict(spec)
    preset = data.pop("preset", None)
    if preset and preset not in GENERATOR_PRESETS:
        raise ConfigError(f"unknown generator preset {preset!r}")
    base = GENERATOR_PRESETS[preset] if preset else None
    family = data.get("family", base.family if isinstance(base, (FourierConfig, PriorConfig)) else "hifigan")
    if family not in GENERATOR_FAMILIES:
        raise ConfigError(f"{where}: unknown generator family {family!r}; "
                          f"choose from {', '.join(GENERATOR_FAMILIES)}")
    cls = GENERATOR_FAMILIES[family]
    if base is not None and not isinstance(base, cls):
        raise ConfigError(f"{where}: preset {preset!r} is not of the {family!r} family")
    if cls is GeneratorConfig:
        data.pop("family", None)
    return from_dict(cls, data, where, base)
