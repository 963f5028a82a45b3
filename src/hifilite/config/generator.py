"""Generator configs of the three vocoder families (HiFi-GAN, fourier, prior), their presets, the
zero-parameter vocoders, and the check that a generator fits its mel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .base import from_dict, load_file
from .mel import MelConfig


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
class FrameRateBackbone:
    """The fields the two frame-rate families share: a ConvNeXt backbone at the mel frame rate
    (`blocks` blocks of `channels`, pointwise MLP of `mlp_ratio * channels`, depthwise `kernel_size`)
    and an `n_fft`-point STFT at hop `hop_length`. `family` names the class in saved configs."""

    family: str = ""
    in_channels: int = 80
    channels: int = 128
    blocks: int = 6
    mlp_ratio: float = 3.0
    kernel_size: int = 7
    n_fft: int = 1024
    hop_length: int = 256

    def check_family(self, family: str) -> None:
        if self.family != family:
            raise ConfigError(f"{type(self).__name__}.family must be {family!r}, got {self.family!r}")
        if self.in_channels < 1 or self.blocks < 0:
            raise ConfigError("in_channels must be >= 1 and blocks >= 0")
        if not self.mlp_ratio > 0 or self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ConfigError(f"mlp_ratio must be > 0 and kernel_size odd, got {self.mlp_ratio}, {self.kernel_size}")


@dataclass(frozen=True)
class FourierConfig(FrameRateBackbone):
    """Constructor arguments of `hifilite.vocoder.fourier.FourierGenerator` (the frame-rate family).

    A ConvNeXt backbone at the mel frame rate (`blocks` blocks of `channels`, pointwise MLP of
    `mlp_ratio * channels`, depthwise `kernel_size`) and a head predicting log-magnitude and phase of
    an `n_fft`-point STFT with hop `hop_length`, inverted by a fixed-basis iSTFT. `family` names the
    class in saved configs (checkpoint metadata, sidecars, run configs) and must stay "fourier".
    """

    family: str = "fourier"

    def __post_init__(self) -> None:
        self.check_family("fourier")
        if self.channels < 1:
            raise ConfigError(f"channels must be >= 1, got {self.channels}")
        if (self.n_fft % 2 or self.hop_length < 1 or self.n_fft % self.hop_length
                or (self.n_fft - self.hop_length) % 2):
            raise ConfigError(f"n_fft {self.n_fft} must be even, a multiple of hop_length {self.hop_length}, "
                              "and differ from it by an even number")


PHASE_METHODS = ("pghi", "griffin-lim")


@dataclass(frozen=True)
class PriorConfig(FrameRateBackbone):
    """Constructor arguments of `hifilite.vocoder.prior.PriorGenerator` (the phase-reconstruction family).

    The magnitude of an `n_fft`-point Gaussian-window STFT is the mel filterbank's pseudo-inverse
    (the prior) plus, when `channels` > 0, a log-magnitude residual from a ConvNeXt backbone at the
    mel frame rate (`blocks` blocks of `channels`, as `FourierConfig`); the phase comes from the
    magnitude by `phase` ("pghi": real-time phase gradient heap integration at hop `phase_hop`;
    "griffin-lim": `iterations` of fast Griffin-Lim, Hann window). `channels` = 0 is the
    zero-parameter floor. `family` must stay "prior".
    """

    family: str = "prior"
    phase: str = "pghi"
    phase_hop: int = 256
    iterations: int = 32
    sample_rate: int = 22050  # the mel filterbank the pseudo-inverse undoes
    fmin: float = 0.0
    fmax: float | None = 8000.0

    def __post_init__(self) -> None:
        self.check_family("prior")
        if self.channels < 0:
            raise ConfigError(f"channels must be >= 0 (0: the zero-parameter floor), got {self.channels}")
        if self.phase not in PHASE_METHODS:
            raise ConfigError(f"phase must be one of {', '.join(PHASE_METHODS)}, got {self.phase!r}")
        if self.n_fft % 2 or self.hop_length < 1 or self.n_fft < 2 * self.hop_length:
            raise ConfigError(f"n_fft {self.n_fft} must be even and at least twice hop_length {self.hop_length}")
        if self.phase_hop < 1 or self.hop_length % self.phase_hop:
            raise ConfigError(f"phase_hop {self.phase_hop} must divide hop_length {self.hop_length}")
        if self.iterations < 1:
            raise ConfigError(f"iterations must be >= 1, got {self.iterations}")

    def phase_settings(self) -> dict[str, Any]:
        """The phase reconstruction after the network, as ONNX sidecars store it and
        `hifilite.runtime.contract.VocoderBackend.phase_settings` reads it."""
        return {"method": self.phase, "n_fft": self.n_fft, "hop": self.phase_hop, "iterations": self.iterations}


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


__all__ = ["GeneratorConfig", "FourierConfig", "PriorConfig", "AnyGeneratorConfig", "PHASE_METHODS",
           "GENERATOR_FAMILIES", "GENERATOR_PRESETS", "SIGNAL_VOCODERS", "check_generator_mel", "generator_config"]
