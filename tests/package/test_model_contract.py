"""One model contract: every model class is built from its typed config (`from_config`) and keeps it;
one compatibility check for mel settings; discriminators exist only when an adversarial weight does."""

import pytest
import torch

from hifilite.acoustic.checkpoint import load_acoustic, save_acoustic
from hifilite.acoustic.models import AcousticModel, parse_arch
from hifilite.audio import MelSpectrogram
from hifilite.config import (GENERATOR_PRESETS, DiscriminatorConfig, GeneratorConfig, MelConfig, TrainConfig,
                             check_generator_mel, check_mel_pair, mel_config)
from hifilite.errors import ConfigError
from hifilite.train.distributed import DistEnv
from hifilite.train.loop import TaskContext
from hifilite.vocoder.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifilite.vocoder.family import build_generator
from hifilite.vocoder.generator import Generator
from hifilite.vocoder.task import GanVocoderTask

TINY = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                       resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 2),))


@pytest.mark.parametrize("preset", sorted(GENERATOR_PRESETS))
def test_every_generator_family_keeps_the_config_it_was_built_from(preset):
    cfg = GENERATOR_PRESETS[preset]
    gen = build_generator(cfg)
    assert gen.config == cfg and type(gen).from_config(cfg).config == cfg


def test_keyword_construction_gives_the_same_typed_config():
    gen = Generator(upsample_initial_channel=32, upsample_rates=[8, 8, 4], upsample_kernel_sizes=[16, 16, 8],
                    resblock="2", resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 2]])
    assert gen.config == TINY  # lists from JSON become the config's tuples
    with pytest.raises(ConfigError, match="resblock_conv"):
        Generator(resblock_conv="bogus")  # the typed config validates the keyword arguments


def test_mel_front_end_and_discriminators_from_config():
    mel = MelConfig(sample_rate=16000, n_fft=800, hop_length=200, win_length=800, fmax=None)
    assert MelSpectrogram.from_config(mel).config == mel
    d = DiscriminatorConfig(periods=(2, 3), num_scales=2)
    assert MultiPeriodDiscriminator.from_config(d).periods == (2, 3)
    assert len(MultiScaleDiscriminator.from_config(d).discriminators) == 2
    with pytest.raises(ConfigError):
        DiscriminatorConfig(periods=())


def test_acoustic_model_and_its_file_carry_a_mel_config(tmp_path):
    cfg = parse_arch("sep5/sep5;hidden=16;n_bins=8")
    model = AcousticModel.from_config(cfg)
    assert model.config == cfg
    mel = MelConfig()
    path = save_acoustic(tmp_path / "a.safetensors", model, symbols={"kind": "espeak"}, stats={}, mel=mel)
    loaded = load_acoustic(path)
    assert loaded.mel == mel and isinstance(loaded.mel, MelConfig)
    assert torch.equal(loaded.model.embed.weight, model.embed.weight)


def test_one_mel_compatibility_check():
    check_mel_pair(MelConfig(), {"sample_rate": 22050, "hop_length": 256, "n_mels": 80})
    with pytest.raises(ConfigError, match="hop_length 200 does not match the vocoder's 256"):
        check_mel_pair(MelConfig(hop_length=200, n_fft=1000, win_length=1000), MelConfig())
    with pytest.raises(ConfigError, match="upsamples by 256 but the mel hop is 200"):
        check_generator_mel(TINY, MelConfig(hop_length=200, n_fft=1000, win_length=1000))
    with pytest.raises(ConfigError, match="unknown"):
        mel_config({"sample_rate": 22050, "hop": 256})


def _task(weights):
    train = TrainConfig(learning_rate=1e-3, loss_weights=weights)
    task = GanVocoderTask(generator=Generator.from_config(TINY), gen_config=TINY, mel_config=MelConfig(),
                          train_config=train)
    task.setup(TaskContext(DistEnv()))
    return task


def test_discriminators_exist_only_with_an_adversarial_weight():
    audio = {"audio": 0.1 * torch.randn(2, 2048, generator=torch.Generator().manual_seed(0))}
    plain = _task({"mel/loss": 45.0})
    assert plain.mpd is None and plain.msd is None and plain.optim_d is None
    out = plain.train_step(audio, 0)
    assert "disc/total" not in out
    state = plain.state_dict()
    assert not {"mpd", "msd", "optim_d", "sched_d"} & set(state)
    plain.load_state_dict(state)

    gan = _task({"mel/loss": 45.0, "adv/gen": 1.0, "adv/feat": 2.0})
    assert isinstance(gan.mpd, MultiPeriodDiscriminator) and isinstance(gan.msd, MultiScaleDiscriminator)
    assert "disc/total" in gan.train_step(audio, 0)
    assert {"mpd", "msd", "optim_d", "sched_d"} <= set(gan.state_dict())
    with pytest.raises(ConfigError, match="no discriminators"):
        gan.load_state_dict(state)  # a non-adversarial checkpoint cannot resume adversarial training
