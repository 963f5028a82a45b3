"""Distillation on augmented input: the step's targets are the augmented recording and the
teacher's output of the augmented recording's mel (not of the clean one); mixtures of corpora."""

from __future__ import annotations


import pytest
import torch

from hifilite.audio import MelSpectrogram
from hifilite.compress.augmented import AugmentedDistilTask
from hifilite.compress.decompose import decompose
from hifilite.config import GeneratorConfig, MelConfig, TrainConfig
from hifilite.data.augment import Augment, AugmentConfig
from hifilite.errors import ConfigError
from hifilite.train.distributed import DistEnv
from hifilite.train.loop import TaskContext
from hifilite.vocoder.generator import Generator

TEACHER = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                          resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 2),))
WEIGHTS = {"mel/loss": 1.0, "stft/loss": 1.0, "adv/gen": 0.0, "adv/feat": 0.0, "distil/mel": 45.0,
           "distil/stft": 1.0, "distil/feat": 0.0}
ALWAYS = AugmentConfig(speed_prob=0.0, pitch_prob=1.0, formant_prob=1.0, tilt_prob=1.0, gain_prob=1.0, noise_prob=0.0)


class Recorder(torch.nn.Module):
    """Wraps a loss module and records the (estimate, target) pairs it is called with."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner, self.calls = inner, []

    def forward(self, est, ref):
        self.calls.append((est.detach().clone(), ref.detach().clone()))
        return self.inner(est, ref)


def _batch() -> dict:
    g = torch.Generator().manual_seed(0)
    t = torch.arange(4096) / 22050
    audio = 0.3 * torch.sin(2 * torch.pi * 180 * t).repeat(2, 1) + 0.01 * torch.randn(2, 4096, generator=g)
    return {"id": ["a", "b"], "audio": audio}


def _task(seed: int = 5) -> tuple[AugmentedDistilTask, Generator]:
    torch.manual_seed(0)
    teacher = Generator.from_config(TEACHER).eval()
    student, cfg = decompose(teacher, TEACHER, "lowrank", 4)
    task = AugmentedDistilTask(generator=student, gen_config=cfg, mel_config=MelConfig(),
                               train_config=TrainConfig(loss_weights=WEIGHTS), teacher=teacher,
                               augment=ALWAYS, augment_seed=seed)
    task.setup(TaskContext(DistEnv()))
    return task, teacher


def test_step_targets_are_the_teacher_of_the_augmented_input() -> None:
    task, teacher = _task()
    task.mrstft = Recorder(task.mrstft)
    batch, step = _batch(), 7
    task.train_step(batch, step)
    (_, recording_target), (_, teacher_target) = task.mrstft.calls  # stft/loss, then distil/stft

    augmented = torch.from_numpy(Augment(ALWAYS, seed=5)(batch["audio"].numpy(), step))
    assert not torch.allclose(augmented, batch["audio"], atol=1e-3)
    torch.testing.assert_close(recording_target, augmented.unsqueeze(1))  # the recording's terms: augmented
    mel = MelSpectrogram.from_config(MelConfig())
    with torch.no_grad():
        expected = teacher(mel(augmented))
        clean = teacher(mel(batch["audio"]))
    torch.testing.assert_close(teacher_target, expected, rtol=1e-4, atol=1e-5)
    assert (teacher_target - clean).abs().max() > 10 * (teacher_target - expected).abs().max() + 1e-4


def test_augmentation_is_reproducible_per_step_and_checked_on_resume() -> None:
    task, _ = _task()
    a = task.augmented_batch(_batch(), 3)["audio"]
    torch.testing.assert_close(a, task.augmented_batch(_batch(), 3)["audio"], rtol=0, atol=0)
    assert not torch.allclose(a, task.augmented_batch(_batch(), 4)["audio"])
    state = task.state_dict()
    other, _ = _task(seed=6)
    with pytest.raises(ConfigError, match="augment"):
        other.load_state_dict(state)
    same, _ = _task()
    same.load_state_dict(state)
    with pytest.raises(ConfigError, match="teacher cache"):
        task.augmented_batch({**_batch(), "teacher": torch.zeros(2, 4096)}, 0)


def test_compress_distil_cli_with_augment_and_a_mixture(tmp_path) -> None:
    from tests.helpers.corpora import make_ljspeech
    from typer.testing import CliRunner

    import hifilite
    from hifilite.cli import app
    from hifilite.vocoder.checkpoint import save_generator

    torch.manual_seed(0)
    teacher = save_generator(tmp_path / "t.safetensors", Generator.from_config(TEACHER).eval().remove_weight_norm(),
                             TEACHER, MelConfig())
    a, b = make_ljspeech(tmp_path / "a" / "lj", seconds=0.3), make_ljspeech(tmp_path / "b" / "lj", seconds=0.3)
    config = tmp_path / "c.yaml"
    config.write_text("learning_rate: 0.001\naugment:\n  pitch_prob: 1.0\n  noise_snr_db: [30, 40]\n")
    run = tmp_path / "run"
    args = ["compress", "distil", "--data", str(a), "--data", str(b), "--data-weights", "3,1", "-o", str(run),
            "--teacher", str(teacher), "--form", "separable", "--rank", "1", "--steps", "2", "--batch-size", "2",
            "--segment-size", "2048", "--checkpoint-interval", "2", "--device", "cpu", "--weight", "distil/feat=0",
            "--config", str(config)]
    res = CliRunner().invoke(app, [*args, "--augment"])
    assert res.exit_code == 0, res.output
    meta = hifilite.io.read_safetensors_metadata(run / "generator.safetensors")
    import json

    extra = json.loads(meta["extra"])
    assert extra["task"] == "distil-augmented" and extra["augment"]["config"]["pitch_prob"] == 1.0
    assert extra["augment"]["config"]["noise_snr_db"] == [30.0, 40.0]
    no_flag = CliRunner().invoke(app, [*[x if x != str(run) else str(tmp_path / "r2") for x in args]])
    assert no_flag.exit_code != 0 and "--augment" in str(no_flag.exception)
    cached = CliRunner().invoke(app, [*args, "--augment", "--teacher-cache", str(tmp_path / "cache")])
    assert cached.exit_code != 0 and "teacher-cache" in str(cached.exception)


def test_mixed_splits_weights_and_prefixes(tmp_path) -> None:
    from tests.helpers.corpora import make_folder, make_ljspeech

    from hifilite.data.corpora import load_split
    from hifilite.data.mixture import mixed_splits

    a = make_ljspeech(tmp_path / "a", seconds=0.1)
    b = make_folder(tmp_path / "b")
    na, nb = len(load_split(a, "train")), len(load_split(b, "train"))
    train, val = mixed_splits([a, b])
    assert len(train) == na + nb and all(u.id.startswith(("a/", "b/")) for u in train + val)
    weighted, _ = mixed_splits([a, b], [3, 1])
    share = sum(u.id.startswith("b/") for u in weighted) / len(weighted)
    assert len(weighted) == na + nb and share == pytest.approx(0.25, abs=1 / len(weighted))
    assert mixed_splits([a, b], [3, 1])[0] == weighted  # deterministic
    single, _ = mixed_splits(a)
    assert [u.id for u in single] == [u.id for u in load_split(a, "train")]  # one corpus: ids unchanged
    with pytest.raises(ConfigError):
        mixed_splits([a, b], [1.0])
    with pytest.raises(ConfigError):
        mixed_splits([a, b], [0, 0])
