"""Generator presets, discriminators and losses: sizes, shapes, gradients, weight-norm fusion."""

import pytest
import torch

from hifilite.config import GENERATOR_PRESETS, GeneratorConfig
from hifilite.vocoder.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifilite.vocoder.generator import Generator
from hifilite.vocoder.losses import (
    MelL1Loss,
    MultiResolutionSTFTLoss,
    discriminator_loss,
    feature_matching_loss,
    generator_adv_loss,
)

# Inference (weight norm fused) parameter counts: V1 13.93 M, V2 0.93 M, V3 1.46 M as published.
EXPECTED_PARAMS = {"v1": 13_926_017, "v2": 925_985, "v3": 1_462_273}
TINY = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                       resblock="2", resblock_kernel_sizes=(3, 5), resblock_dilation_sizes=((1, 2), (2, 6)))


@pytest.mark.parametrize("preset", ["v1", "v2", "v3"])
def test_preset_parameter_counts(preset):
    gen = Generator.from_config(GENERATOR_PRESETS[preset]).remove_weight_norm()
    n = sum(p.numel() for p in gen.parameters())
    assert n == EXPECTED_PARAMS[preset]
    assert f"{n / 1e6:.2f}" == {"v1": "13.93", "v2": "0.93", "v3": "1.46"}[preset]


@pytest.mark.parametrize("preset", ["v2", "v3"])
def test_forward_shape_and_range(preset):
    gen = Generator.from_config(GENERATOR_PRESETS[preset]).eval()
    with torch.no_grad():
        y = gen(torch.randn(2, 80, 12))
    assert y.shape == (2, 1, 12 * 256)
    assert y.abs().max() <= 1.0


def test_remove_weight_norm_preserves_output():
    gen = Generator.from_config(TINY).eval()
    mel = torch.randn(1, 80, 10)
    with torch.no_grad():
        before = gen(mel)
        gen.remove_weight_norm()
        after = gen(mel)
    assert not any("parametrizations" in k for k in gen.state_dict())
    assert torch.allclose(before, after, atol=1e-6)


def test_return_features_gives_each_stage():
    gen = Generator.from_config(TINY)
    y, feats = gen(torch.randn(1, 80, 5), return_features=True)
    assert [f.shape for f in feats] == [(1, 16, 40), (1, 8, 320), (1, 4, 1280)]
    assert y.shape == (1, 1, 1280)


@pytest.mark.parametrize("preset", ["v3", "lite"])
def test_receptive_field_is_an_upper_bound(preset):
    """Changing a mel frame further away than the reported context never changes the output."""
    gen = Generator.from_config(GENERATOR_PRESETS[preset]).eval().remove_weight_norm()
    ctx = gen.receptive_field_frames()
    mel = torch.randn(1, 80, 2 * ctx + 12)
    mel2 = mel.clone()
    mel2[..., -1] += 5.0  # perturb the last frame
    with torch.no_grad():
        a, b = gen(mel), gen(mel2)
    first_safe = (mel.shape[-1] - 1 - ctx) * gen.hop_length
    assert torch.equal(a[..., :first_safe], b[..., :first_safe])
    assert not torch.equal(a, b)


def test_discriminators_and_losses_backward():
    torch.manual_seed(0)
    gen = Generator.from_config(TINY)
    mpd, msd = MultiPeriodDiscriminator(), MultiScaleDiscriminator()
    assert len(mpd.discriminators) == 5 and len(msd.discriminators) == 3
    assert hasattr(msd.discriminators[0].convs[0], "weight_orig")  # spectral norm on the first scale
    y = torch.randn(2, 1, 2560) * 0.1
    y_hat = gen(torch.randn(2, 80, 10))
    r, g, fr, fg = mpd(y, y_hat.detach())
    assert len(r) == len(g) == 5 and len(fr[0]) == 6
    d_loss = discriminator_loss(r, g)
    d_loss.backward()
    assert all(p.grad is not None for p in mpd.parameters())
    r, g, fr, fg = msd(y, y_hat)
    g_loss = generator_adv_loss(g) + 2 * feature_matching_loss(fr, fg)
    g_loss.backward()
    assert gen.conv_pre.parametrizations.weight.original1.grad is not None


def test_lsgan_losses_values():
    ones, zeros = [torch.ones(3)], [torch.zeros(3)]
    assert discriminator_loss(ones, zeros).item() == 0.0
    assert discriminator_loss(zeros, ones).item() == 2.0
    assert generator_adv_loss(ones).item() == 0.0
    assert feature_matching_loss([[torch.ones(2)]], [[torch.zeros(2)]]).item() == 1.0


def test_spectral_losses_zero_on_identity_and_grow_with_noise():
    from hifilite.audio import MelSpectrogram

    torch.manual_seed(0)
    y = torch.sin(torch.linspace(0, 2000, 8192)).unsqueeze(0) * 0.5
    mel_l1, mr = MelL1Loss(MelSpectrogram(fmax=None)), MultiResolutionSTFTLoss()
    assert mel_l1(y, y).item() == 0.0 and mr(y, y).item() == pytest.approx(0.0, abs=1e-6)
    small, big = y + 0.01 * torch.randn_like(y), y + 0.1 * torch.randn_like(y)
    assert 0 < mel_l1(small, y) < mel_l1(big, y)
    assert 0 < mr(small, y) < mr(big, y)


def test_istft_head_is_the_inverse_stft():
    """The transposed-conv head equals torch.istft of the same magnitude/phase (centre convention,
    offset by the symmetric trim), away from the edges where the envelopes differ."""
    from hifilite.vocoder.generator import ISTFTHead

    torch.manual_seed(0)
    head = ISTFTHead(16, 4)
    x = torch.randn(2, 18, 40)
    y = head(x)
    assert y.shape == (2, 1, 160)
    spec = torch.polar(torch.exp(x[:, :9]), torch.pi * torch.sin(x[:, 9:]))
    ref = torch.istft(spec, 16, 4, 16, torch.hann_window(16), center=True)  # (T - 1) * hop samples
    offset = (16 // 2) - (16 - 4) // 2  # our output starts 2 samples before the centred one
    assert (y[:, 0, offset:offset + ref.shape[-1] - 8] - ref[:, :-8]).abs().max() < 1e-5


def test_lite_preset_shape_size_and_backward():
    cfg = GENERATOR_PRESETS["lite"]
    assert cfg.hop_length == 256
    gen = Generator.from_config(cfg)
    y, feats = gen(torch.randn(2, 80, 9), return_features=True)
    assert y.shape == (2, 1, 9 * 256) and len(feats) == 2
    y.square().mean().backward()
    assert all(p.grad is not None for p in gen.parameters())
    assert sum(p.numel() for p in gen.remove_weight_norm().parameters()) < 1_000_000


def test_istft_config_errors():
    from hifilite.errors import ConfigError

    with pytest.raises(ConfigError, match="istft_n_fft"):
        GeneratorConfig(upsample_rates=(8, 8), upsample_kernel_sizes=(16, 16), upsample_initial_channel=128,
                        istft_n_fft=15, istft_hop=4)
    with pytest.raises(ConfigError, match="iSTFT head"):
        GeneratorConfig(istft_hop=4)
