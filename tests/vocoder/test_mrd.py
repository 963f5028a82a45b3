"""The multi-resolution spectrogram discriminator (MRD) and the configurable discriminator set of GAN
training: shapes, config checks, a GAN step with the MRD alone, its checkpoint, and that it learns to
tell harmonic speech from noise with the same spectral envelope."""

import numpy as np
import pytest
import torch

from hifilite.config import DiscriminatorConfig, MelConfig, TrainConfig, train_config_with_file
from hifilite.config.base import to_dict
from hifilite.errors import ConfigError
from hifilite.train.distributed import DistEnv
from hifilite.train.loop import TaskContext
from hifilite.vocoder.discriminators import MultiResolutionDiscriminator
from hifilite.vocoder.fourier import FourierGenerator
from hifilite.vocoder.losses import discriminator_loss
from hifilite.vocoder.task import GanVocoderTask
from tests.helpers.corpora import speech_like


def test_scores_per_frame_and_features_per_layer():
    d = MultiResolutionDiscriminator(((1024, 256), (512, 128)), channels=4)
    y = torch.randn(2, 1, 4096)
    real, fake, f_real, f_fake = d(y, 0.5 * y)
    assert len(real) == len(fake) == len(f_real) == 2
    # (1024, 256): 17 frames x 513 bins, frequency strided by 8 -> 17 x 65 scores per item
    assert real[0].shape == (2, 17 * 65) and real[1].shape == (2, 33 * 33)
    assert len(f_real[0]) == 6 and f_real[0][0].shape == (2, 4, 17, 513)


def test_config_checks_and_file_keys(tmp_path):
    with pytest.raises(ConfigError, match="kinds"):
        DiscriminatorConfig(kinds=("mrd", "bogus"))
    with pytest.raises(ConfigError, match="kinds"):
        DiscriminatorConfig(kinds=())
    with pytest.raises(ConfigError, match="power of two"):
        DiscriminatorConfig(resolutions=((1000, 256),))
    path = tmp_path / "gan.yaml"
    path.write_text("discriminators:\n  kinds: [mrd]\n  resolutions: [[512, 128]]\n  mrd_channels: 8\n")
    config = train_config_with_file(TrainConfig(), path)
    assert config.discriminators == DiscriminatorConfig(kinds=("mrd",), resolutions=((512, 128),), mrd_channels=8)
    assert TrainConfig(**to_dict(config)) == config  # config.json round trip
    path.write_text("discriminators:\n  kind: [mrd]\n")
    with pytest.raises(ConfigError, match="unknown key"):
        train_config_with_file(TrainConfig(), path)


def _fourier_task(kinds, **kw):
    gen = FourierGenerator(channels=16, blocks=1)
    train = TrainConfig(learning_rate=1e-3, loss_weights={"mel/loss": 45.0, "adv/gen": 1.0, "adv/feat": 2.0},
                        discriminators=DiscriminatorConfig(kinds=kinds, resolutions=((512, 128),), mrd_channels=4))
    task = GanVocoderTask(generator=gen, gen_config=gen.config, mel_config=MelConfig(), train_config=train, **kw)
    task.setup(TaskContext(DistEnv()))
    return task


def test_gan_step_with_the_mrd_alone_and_its_checkpoint():
    batch = {"audio": torch.from_numpy(np.stack([speech_like(0.2, seed=s)[:4096] for s in (0, 1)]))}
    task = _fourier_task(("mrd",))
    assert task.mpd is None and task.msd is None and isinstance(task.mrd, MultiResolutionDiscriminator)
    before = {k: v.clone() for k, v in task.mrd.state_dict().items()}
    out = task.train_step(batch, 0)
    assert {"disc/mrd", "disc/total", "adv/gen", "adv/feat"} <= set(out) and "disc/mpd" not in out
    assert any(not torch.equal(before[k], v) for k, v in task.mrd.state_dict().items())
    state = task.state_dict()
    assert "mrd" in state and not {"mpd", "msd"} & set(state)
    again = _fourier_task(("mrd",))
    again.load_state_dict(state)
    assert all(torch.equal(v, again.mrd.state_dict()[k]) for k, v in task.mrd.state_dict().items())
    with pytest.raises(ConfigError, match="no mpd discriminator"):
        _fourier_task(("mpd", "mrd")).load_state_dict(state)  # resuming with another set is refused
    with pytest.raises(ConfigError, match="not in discriminators.kinds"):
        _fourier_task(("mrd",), mpd=torch.nn.Identity())


def _noise_like(x: np.ndarray, seed: int) -> np.ndarray:
    """x's short-time magnitude with random phase: the same envelope, no harmonic structure."""
    import librosa

    spec = librosa.stft(x, n_fft=512, hop_length=128)
    rng = np.random.default_rng(seed)
    noisy = np.abs(spec) * np.exp(2j * np.pi * rng.random(spec.shape))
    return librosa.istft(noisy, hop_length=128, length=x.size).astype(np.float32)


def test_the_mrd_learns_harmonics_from_noise_with_the_same_envelope():
    torch.manual_seed(0)
    real = np.stack([speech_like(0.5, seed=s)[:8192] for s in range(4)])
    fake = np.stack([_noise_like(x, s) for s, x in enumerate(real)])
    y, y_hat = torch.from_numpy(real).unsqueeze(1), torch.from_numpy(fake).unsqueeze(1)
    d = MultiResolutionDiscriminator(((1024, 256),), channels=8)
    optim = torch.optim.AdamW(d.parameters(), 2e-3, betas=(0.8, 0.99))
    losses = []
    for _ in range(60):
        optim.zero_grad()
        r, f, _, _ = d(y, y_hat)
        loss = discriminator_loss(r, f)
        loss.backward()
        optim.step()
        losses.append(float(loss.detach()))
    r, f, _, _ = d(torch.from_numpy(np.stack([speech_like(0.5, seed=9)[:8192]])).unsqueeze(1),
                   torch.from_numpy(np.stack([_noise_like(speech_like(0.5, seed=9)[:8192], 9)])).unsqueeze(1))
    assert losses[-1] < 0.4 * losses[0]
    assert float(r[0].mean()) > float(f[0].mean()) + 0.3  # an unseen clip: real scores above fake
