"""Knowledge distillation on the GAN task: teacher terms, ablation by weight, feature projections."""

import dataclasses

import pytest
import torch

from hifilite.compress.decompose import decompose
from hifilite.config import GeneratorConfig, MelConfig, TrainConfig
from hifilite.errors import ConfigError
from hifilite.train.distributed import DistEnv
from hifilite.vocoder.task import GanVocoderTask
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
    teacher = Generator.from_config(TEACHER).eval()
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
    teacher = Generator.from_config(TEACHER).eval()
    narrow = dataclasses.replace(TEACHER, upsample_initial_channel=32)
    task = _task(Generator.from_config(narrow), narrow, teacher, PURE)
    assert [type(p).__name__ for p in task.projections] == ["Conv1d"] * 3
    out = task.train_step(_batch(), 0)
    assert float(out["distil/feat"]) > 0
    state = task.state_dict()
    assert any(k.endswith("weight") for k in state["projections"])


def test_teacher_stays_idle_when_no_distillation_term_is_weighted():
    torch.manual_seed(0)
    teacher = Generator.from_config(TEACHER).eval()
    calls = []
    teacher.register_forward_hook(lambda *_: calls.append(1))
    student, cfg = decompose(teacher, TEACHER, "lowrank", 4)
    recordings_only = {**{k: 0.0 for k in PURE}, "mel/loss": 45.0, "stft/loss": 1.0}
    out = _task(student, cfg, teacher, recordings_only).train_step(_batch(), 0)
    assert not calls and not any(k.startswith("distil/") for k in out) and float(out["stft/loss"]) > 0
    _task(student, cfg, teacher, PURE).train_step(_batch(), 0)
    assert calls


def test_distil_terms_need_a_teacher():
    with pytest.raises(ConfigError, match="teacher"):
        GanVocoderTask(generator=Generator.from_config(TEACHER), gen_config=TEACHER, mel_config=MelConfig(),
                       train_config=TrainConfig(loss_weights=PURE))


def test_compress_distil_cli_end_to_end(tmp_path):
    """decompose -> distil for 2 steps on a tiny corpus -> the student vocodes via load_vocoder."""
    from typer.testing import CliRunner

    import hifilite
    from hifilite.cli import app
    from hifilite.vocoder.checkpoint import save_generator

    from tests.helpers.corpora import make_ljspeech

    torch.manual_seed(0)
    teacher_path = save_generator(tmp_path / "teacher.safetensors", Generator.from_config(TEACHER).eval().remove_weight_norm(),
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


def test_teacher_cache_aligns_with_the_recording_and_feeds_distillation(tmp_path):
    """The cache holds the teacher's output for the mel the student sees; windows of mel, recording
    and teacher output are cut at the same frame; distillation reads it instead of the teacher."""
    import numpy as np

    from hifilite.vocoder.teacher_cache import build_teacher_cache, peak_normalise
    from hifilite.data.corpora import load_split
    from hifilite.data.dataset import VocoderDataset
    from hifilite.vocoder.api import load_vocoder
    from hifilite.vocoder.checkpoint import save_generator

    from tests.helpers.corpora import make_ljspeech

    torch.manual_seed(0)
    teacher_path = save_generator(tmp_path / "t.safetensors", Generator.from_config(TEACHER).eval().remove_weight_norm(),
                                  TEACHER, MelConfig())
    corpus = make_ljspeech(tmp_path / "lj", seconds=0.5)
    utts = load_split(corpus, "train")
    cache = build_teacher_cache(str(teacher_path), utts, tmp_path / "cache", progress=False)
    stamp = {p: p.stat().st_mtime_ns for p in cache.glob("*.npy")}
    build_teacher_cache(str(teacher_path), utts, cache, progress=False)  # resumes: nothing redone
    assert {p: p.stat().st_mtime_ns for p in cache.glob("*.npy")} == stamp and len(stamp) == 2 * len(utts)

    voc = load_vocoder(teacher_path)
    ds = VocoderDataset(utts, mel=MelConfig(), segment_size=6144, teacher_cache=cache, seed=3)
    item = ds[(0, 0)]
    assert item["mel"].shape == (80, 24) and item["audio"].shape == item["teacher"].shape == (6144,)
    # the teacher window is the teacher's output for that mel window (inside its receptive field)
    with torch.no_grad():
        direct = voc.generator(item["mel"][None])[0, 0]
    ctx = voc.generator.receptive_field_frames() * 256
    assert 6144 > 2 * ctx
    assert (direct[ctx:-ctx] - item["teacher"][ctx:-ctx]).abs().max() < 1e-4
    # ... and the recording window is the normalised recording at the same place
    from hifilite.audio import load_audio

    rec = peak_normalise(load_audio(utts[0].wav_path, 22050)[0])
    assert len(rec) > 6144
    start = int(np.argmin([np.abs(rec[s:s + 6144] - item["audio"].numpy()).sum() for s in range(0, len(rec) - 6144, 256)]))
    assert np.abs(rec[start * 256:start * 256 + 6144] - item["audio"].numpy()).max() < 1e-6

    task = _task(Generator.from_config(TEACHER), TEACHER, voc.generator, {**PURE, "distil/feat": 0.0})
    ds.segment_size = 2048
    batch = {k: torch.stack([ds[(i, 0)][k] for i in range(2)]) for k in ("audio", "mel", "teacher")}
    calls = []
    task.teacher.register_forward_hook(lambda *a: calls.append(1))
    out = task.train_step(batch, 0)
    assert not calls and torch.isfinite(out["distil/mel"])


def test_distillation_with_discriminators_trains_both():
    """Fine-tuning by distillation + GAN (`--adversarial`): teacher terms, LSGAN and feature matching
    in one objective, and the discriminators take their own step."""
    torch.manual_seed(0)
    teacher = Generator.from_config(TEACHER).eval()
    student, cfg = decompose(teacher, TEACHER, "lowrank", 4)
    weights = {**PURE, "mel/loss": 10.0, "adv/gen": 1.0, "adv/feat": 2.0}
    task = _task(student, cfg, teacher, weights)
    disc = {k: v.detach().clone() for k, v in task.mpd.state_dict().items()}
    gen = {k: v.detach().clone() for k, v in student.state_dict().items()}
    out = task.train_step(_batch(), 0)
    assert {"distil/mel", "distil/stft", "distil/feat", "mel/loss", "adv/gen", "adv/feat", "disc/total"} <= set(out)
    total = sum(w * float(out[k]) for k, w in weights.items())
    assert float(out["gen/total"]) == pytest.approx(total, rel=1e-4)
    assert any(not torch.equal(disc[k], v) for k, v in task.mpd.state_dict().items())
    assert any(not torch.equal(gen[k], v) for k, v in student.state_dict().items())
