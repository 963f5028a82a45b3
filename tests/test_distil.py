"""Knowledge distillation on the GAN task: teacher terms, ablation by weight, feature projections."""

import dataclasses

import pytest
import torch

from hifilite.compress.decompose import decompose
from hifilite.config import GeneratorConfig, MelConfig, TrainConfig, to_dict
from hifilite.errors import ConfigError
from hifilite.train.distributed import DistEnv
from hifilite.train.gan import GanVocoderTask
from hifilite.train.loop import TaskContext
from hifilite.vocoder.generator import Generator

TEACHER = GeneratorConfig(upsample_initial_channel=64, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                          resblock="2", resblock_kernel_sizes=(3, 5), resblock_dilation_sizes=((1, 2), (2, 6)))
PURE = {"mel/loss": 0.0, "adv/gen": 0.0, "adv/feat": 0.0, "distil/mel": 45.0, "distil/stft": 1.0, "distil/feat": 1.0}


def _task(student, cfg, teacher, weights):
    train = TrainConfig(learning_rate=1e-3, loss_weights=weights)
    task = GanVocoderTask(generator=student, gen_config=cfg, mel_config=MelConfig(), train_config=train, teacher=teacher)
    task.setup(TaskContext(DistEnv()))
    return task


def _batch():
    g = torch.Generator().manual_seed(0)
    t = torch.arange(2048) / 22050
    audio = 0.3 * torch.sin(2 * torch.pi * 220 * t).repeat(2, 1) + 0.01 * torch.randn(2, 2048, generator=g)
    return {"audio": audio}


def test_pure_distillation_learns_the_teacher_and_skips_discriminators():
    torch.manual_seed(0)
    teacher = Generator(**to_dict(TEACHER)).eval()
    student, cfg = decompose(teacher, TEACHER, "lowrank", 4)
    task = _task(student, cfg, teacher, PURE)
    batch = _batch()
    first = task.train_step(batch, 0)
    for step in range(1, 15):
        last = task.train_step(batch, step)
    assert set(PURE) - {"adv/gen", "adv/feat"} <= set(first)
    assert "adv/gen" not in first and "disc/total" not in first
    assert float(last["distil/mel"]) < float(first["distil/mel"])
    assert len(task.projections) == 0 or all(isinstance(p, torch.nn.Identity) for p in task.projections)


def test_feature_projections_when_widths_differ():
    torch.manual_seed(0)
    teacher = Generator(**to_dict(TEACHER)).eval()
    narrow = dataclasses.replace(TEACHER, upsample_initial_channel=32)
    task = _task(Generator(**to_dict(narrow)), narrow, teacher, PURE)
    assert [type(p).__name__ for p in task.projections] == ["Conv1d"] * 3
    out = task.train_step(_batch(), 0)
    assert float(out["distil/feat"]) > 0
    state = task.state_dict()
    assert any(k.endswith("weight") for k in state["projections"])


def test_distil_terms_need_a_teacher():
    with pytest.raises(ConfigError, match="teacher"):
        GanVocoderTask(generator=Generator(**to_dict(TEACHER)), gen_config=TEACHER, mel_config=MelConfig(),
                       train_config=TrainConfig(loss_weights=PURE))


def test_compress_distil_cli_end_to_end(tmp_path):
    """decompose -> distil for 2 steps on a tiny corpus -> the student vocodes via load_vocoder."""
    from typer.testing import CliRunner

    import hifilite
    from hifilite.cli import app
    from hifilite.vocoder.checkpoint import save_generator

    from fixtures_corpora import make_ljspeech

    torch.manual_seed(0)
    teacher_path = save_generator(tmp_path / "teacher.safetensors", Generator(**to_dict(TEACHER)).eval().remove_weight_norm(),
                                  TEACHER, MelConfig())
    corpus = make_ljspeech(tmp_path / "lj")
    run = tmp_path / "run"
    res = CliRunner().invoke(app, [
        "compress", "distil", "--data", str(corpus), "-o", str(run), "--teacher", str(teacher_path),
        "--form", "separable", "--rank", "1", "--steps", "2", "--batch-size", "2", "--segment-size", "2048",
        "--checkpoint-interval", "2", "--device", "cpu", "--weight", "distil/feat=0",
    ])
    assert res.exit_code == 0, res.output
    voc = hifilite.load_vocoder(run / "generator.safetensors")
    assert voc.gen_config.resblock_conv == "separable"
    assert voc(torch.randn(1, 80, 5)).shape == (1, 5 * 256)
    bad = CliRunner().invoke(app, ["compress", "distil", "--data", str(corpus), "-o", str(tmp_path / "r2"),
                                   "--teacher", str(teacher_path), "--weight", "distil/mel"])
    assert bad.exit_code != 0 and "NAME=VALUE" in str(bad.exception)
