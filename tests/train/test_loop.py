"""The training loop and the GAN vocoder task: one CLI iteration, a step, exact resume, Ctrl-C, errors.

Discriminators dominate the cost of a step on CPU (~2-5 s with the real ones), so only the CLI
test and the single-step test use them; loop-behaviour tests use a tiny stand-in with the same
call shape.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm
from typer.testing import CliRunner

from hifilite.cli import app
from hifilite.config import GeneratorConfig, TrainConfig, to_dict
from hifilite.data.corpora import load_split
from hifilite.data.dataset import VocoderDataset
from hifilite.errors import ConfigError, DataError
from hifilite.train import TaskContext, fit, latest_checkpoint, load_checkpoint
from hifilite.train.distributed import DistEnv
from hifilite.train.state import check_run_dir, list_checkpoints, read_run_config
from hifilite.vocoder.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifilite.vocoder.task import GanVocoderTask, make_generator

TINY = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                       resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 2),))
TINY_YAML = """upsample_initial_channel: 32
upsample_rates: [8, 8, 4]
upsample_kernel_sizes: [16, 16, 8]
resblock: "2"
resblock_kernel_sizes: [3]
resblock_dilation_sizes: [[1, 2]]
"""


def make_corpus(root: Path, n: int = 6, seed: int = 0) -> Path:
    """LJSpeech layout: metadata.csv + wavs/<id>.wav, 22.05 kHz sines plus noise, one short clip."""
    rng = np.random.default_rng(seed)
    (root / "wavs").mkdir(parents=True)
    rows = []
    for i in range(n):
        length = 1500 if i == 0 else int(rng.integers(5000, 12000))
        t = np.arange(length) / 22050
        wav = 0.3 * np.sin(2 * np.pi * (150 + 40 * i) * t) + 0.03 * rng.standard_normal(length)
        sf.write(root / "wavs" / f"LJ{i:03d}.wav", wav.astype(np.float32), 22050, subtype="PCM_16")
        rows.append(f"LJ{i:03d}|text {i}|text {i}")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    return root


class TinyD(nn.Module):
    """Two strided weight-normed convs; the MPD/MSD call shape (real, fake, real fmaps, fake fmaps)."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList([weight_norm(nn.Conv1d(1, 8, 15, 4, padding=7)),
                                    weight_norm(nn.Conv1d(8, 16, 15, 4, padding=7))])
        self.post = nn.Conv1d(16, 1, 3, padding=1)

    def _score(self, x):
        fmap = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.1)
            fmap.append(x)
        x = self.post(x)
        return x.flatten(1), [*fmap, x]

    def forward(self, y, y_hat):
        r, fr = self._score(y)
        g, fg = self._score(y_hat)
        return [r], [g], [fr], [fg]


class RecordingTask(GanVocoderTask):
    """Keeps every step's metrics as floats; optionally sends itself SIGINT at a given step."""

    def __init__(self, *, interrupt_at: int | None = None, signum: int = signal.SIGINT, **kw):
        super().__init__(**kw)
        self.history: dict[int, dict[str, float]] = {}
        self.interrupt_at, self.signum = interrupt_at, signum

    def train_step(self, batch, step):
        metrics = super().train_step(batch, step)
        self.history[step] = {k: float(v) for k, v in metrics.items()}
        if step == self.interrupt_at:
            os.kill(os.getpid(), self.signum)
        return metrics


class GroupSignalTask(RecordingTask):
    """Sends the stop signal to the DataLoader workers at `interrupt_at` (as a terminal's Ctrl-C or
    `pkill -f` does: the whole group gets it) and to itself one step later, after a batch was fetched."""

    def train_step(self, batch, step):
        metrics = GanVocoderTask.train_step(self, batch, step)
        self.history[step] = {k: float(v) for k, v in metrics.items()}
        if step == self.interrupt_at:
            for child in multiprocessing.active_children():
                os.kill(child.pid, self.signum)
            time.sleep(0.5)
        elif step == self.interrupt_at + 1:
            os.kill(os.getpid(), self.signum)
        return metrics


def tiny_task(config: TrainConfig, init_seed: int = 0, **kw) -> RecordingTask:
    gen, gen_cfg, mel = make_generator(gen_config=TINY, init=None, seed=init_seed)
    return RecordingTask(generator=gen, gen_config=gen_cfg, mel_config=mel, train_config=config,
                         mpd=TinyD(), msd=TinyD(), **kw)


def tiny_fit(task, corpus: Path, run_dir: Path, config: TrainConfig, resume=False, mel_source="wav"):
    train = VocoderDataset(load_split(corpus, "train"), mel=task.mel_config, segment_size=config.segment_size,
                           mel_source=mel_source, seed=config.seed)
    run_config = {"train": to_dict(config), "generator": to_dict(TINY)}
    return fit(task, train_data=train, val_data=None, config=config, run_dir=run_dir,
               run_config=run_config, resume=resume)


FAST = TrainConfig(batch_size=2, segment_size=2048, num_workers=0, max_steps=3, checkpoint_interval=100,
                   summary_interval=1, validation_interval=0)


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "corpus")


def test_one_iteration_cli_run_writes_checkpoint_events_and_generator(tmp_path, corpus):
    from hifilite.vocoder.api import load_vocoder

    (tmp_path / "tiny.yaml").write_text(TINY_YAML)
    run = tmp_path / "run"
    args = ["train", "--data", str(corpus), "--out", str(run), "--generator", str(tmp_path / "tiny.yaml"),
            "--steps", "1", "--batch-size", "2", "--segment-size", "2048", "--num-workers", "1",
            "--device", "cpu"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    assert (run / "config.json").is_file()
    assert [s for s, _ in list_checkpoints(run)] == [1]
    assert list((run / "logs" / "train").glob("events.out.tfevents.*"))
    assert list((run / "logs" / "val").glob("events.out.tfevents.*"))
    ckpt = load_checkpoint(latest_checkpoint(run))  # weights_only=True inside
    assert ckpt["step"] == 1 and set(ckpt["task"]) >= {"generator", "mpd", "msd", "optim_g", "sched_d"}

    voc = load_vocoder(run / "generator.safetensors")
    assert voc.gen_config == TINY
    assert voc(torch.zeros(1, 80, 10)).shape == (1, 10 * 256)
    # The export also seeds fine-tuning, weights (and weight norm) intact.
    gen, cfg, _ = make_generator(gen_config=None, init=str(run / "generator.safetensors"), seed=0)
    assert cfg == TINY
    for k, v in gen.state_dict().items():
        assert torch.equal(v, ckpt["task"]["generator"][k]), k

    again = CliRunner().invoke(app, args)  # same run folder, no --resume
    assert isinstance(again.exception, ConfigError) and "--resume" in str(again.exception)
    changed = CliRunner().invoke(app, [*args, "--resume", "--batch-size", "3"])
    assert isinstance(changed.exception, ConfigError) and "batch_size" in str(changed.exception)


def test_cli_rejects_unknown_config_keys(tmp_path, corpus):
    (tmp_path / "train.yaml").write_text("batch_size: 4\nlearning_rat: 0.1\n")
    result = CliRunner().invoke(app, ["train", "--data", str(corpus), "--out", str(tmp_path / "r"),
                                      "--config", str(tmp_path / "train.yaml")])
    assert isinstance(result.exception, ConfigError) and "learning_rat" in str(result.exception)


def test_train_step_updates_generator_and_discriminators():
    config = TrainConfig(batch_size=2, segment_size=2048)
    gen, gen_cfg, mel = make_generator(gen_config=TINY, init=None, seed=0)
    task = GanVocoderTask(generator=gen, gen_config=gen_cfg, mel_config=mel, train_config=config,
                          mpd=MultiPeriodDiscriminator(periods=(2,)), msd=MultiScaleDiscriminator(num_scales=1))
    task.setup(TaskContext(DistEnv()))
    before = {name: [p.detach().clone() for p in m.parameters()]
              for name, m in (("gen", task.generator), ("mpd", task.mpd), ("msd", task.msd))}
    metrics = task.train_step({"audio": 0.1 * torch.randn(2, 2048)}, 0)
    for name, m in (("gen", task.generator), ("mpd", task.mpd), ("msd", task.msd)):
        assert any(not torch.equal(a, b) for a, b in zip(before[name], m.parameters())), name
        assert all(p.requires_grad for p in m.parameters())  # unfrozen after the generator step
    for key in ("mel/loss", "adv/gen", "adv/feat", "gen/total", "disc/total", "grad/gen", "grad/disc"):
        assert np.isfinite(float(metrics[key])), key
    total = 45 * metrics["mel/loss"] + metrics["adv/gen"] + 2 * metrics["adv/feat"]
    assert float(metrics["gen/total"]) == pytest.approx(float(total), rel=1e-5)


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path, corpus):
    config = TrainConfig(**{**to_dict(FAST), "checkpoint_interval": 1, "keep_checkpoints": 2})
    full = tiny_task(config)
    tiny_fit(full, corpus, tmp_path / "full", config)

    first = tiny_task(config)
    short = TrainConfig(**{**to_dict(config), "max_steps": 1})
    tiny_fit(first, corpus, tmp_path / "split", short)  # stops mid-epoch (2 batches per epoch)
    stored = json.loads((tmp_path / "split" / "config.json").read_text())
    del stored["train"]["discriminators"]  # as a version before that key wrote it: its default is filled in
    (tmp_path / "split" / "config.json").write_text(json.dumps(stored))
    second = tiny_task(config, init_seed=99)  # other initial weights: the checkpoint must win
    result = tiny_fit(second, corpus, tmp_path / "split", config, resume=True)

    assert result.state.step == 3 and result.state.epoch == 1 and sorted(second.history) == [1, 2]
    for step in (1, 2):
        assert second.history[step] == full.history[step], step
    assert full.history[2]["lr/gen"] == pytest.approx(config.learning_rate * config.lr_decay)  # epoch decay
    assert [s for s, _ in list_checkpoints(tmp_path / "split")] == [2, 3]  # keep_checkpoints=2
    # compute spent is recorded in every checkpoint and keeps adding up across the resume
    (_, at2), (_, at3) = list_checkpoints(tmp_path / "split")
    spent = [load_checkpoint(p) for p in (at2, at3)]
    assert 0 < spent[0]["cpu_seconds"] < spent[1]["cpu_seconds"] == pytest.approx(result.state.cpu_seconds)
    assert 0 < spent[0]["train_seconds"] < spent[1]["train_seconds"]


def test_a_key_newer_than_the_run_resumes_only_at_its_default(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    old = {k: v for k, v in to_dict(FAST).items() if k != "discriminators"}
    (run / "config.json").write_text(json.dumps({"train": old}))
    assert check_run_dir(run, {"train": to_dict(FAST)}, resume=True) is None
    assert read_run_config(run)["train"] == to_dict(FAST)  # what --resume rebuilds the run from
    mrd = TrainConfig(**{**to_dict(FAST), "discriminators": {"kinds": ["mrd"]}})
    with pytest.raises(ConfigError, match="discriminators.kinds"):
        check_run_dir(run, {"train": to_dict(mrd)}, resume=True)


def test_ctrl_c_finishes_the_step_checkpoints_and_stops(tmp_path, corpus):
    before = signal.getsignal(signal.SIGINT)  # default_int_handler, or SIG_IGN in a backgrounded job
    task = tiny_task(FAST, interrupt_at=0)
    result = tiny_fit(task, corpus, tmp_path / "run", TrainConfig(**{**to_dict(FAST), "max_steps": 50}))
    assert result.interrupted and result.state.step == 1
    assert [s for s, _ in list_checkpoints(tmp_path / "run")] == [1]
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_to_the_workers_as_well_still_checkpoints(tmp_path, corpus, signum):
    config = TrainConfig(**{**to_dict(FAST), "max_steps": 50, "num_workers": 1})
    gen, gen_cfg, mel = make_generator(gen_config=TINY, init=None, seed=0)
    task = GroupSignalTask(generator=gen, gen_config=gen_cfg, mel_config=mel, train_config=config,
                           mpd=TinyD(), msd=TinyD(), interrupt_at=0, signum=signum)
    result = tiny_fit(task, corpus, tmp_path / "run", config)
    assert result.interrupted and result.state.step == 2
    assert [s for s, _ in list_checkpoints(tmp_path / "run")] == [2]


def test_training_on_npy_mels(tmp_path, corpus):
    from hifilite.audio import MelSpectrogram

    mel_fn = MelSpectrogram()
    for wav in (corpus / "wavs").glob("*.wav"):
        audio, _ = sf.read(wav, dtype="float32")
        np.save(wav.with_suffix(".npy"), mel_fn(torch.from_numpy(audio))[0].numpy())
    task = tiny_task(FAST)
    result = tiny_fit(task, corpus, tmp_path / "run", TrainConfig(**{**to_dict(FAST), "max_steps": 1}),
                      mel_source="npy")
    assert result.state.step == 1 and np.isfinite(task.history[0]["mel/loss"])

    for npy in (corpus / "wavs").glob("*.npy"):
        np.save(npy, np.full((80, 30), np.nan, dtype=np.float32))
    result = CliRunner().invoke(app, ["train", "--data", str(corpus), "--out", str(tmp_path / "nan"),
                                      "--mels", "npy", "--preset", "v3", "--num-workers", "1",
                                      "--batch-size", "2", "--segment-size", "2048", "--steps", "1"])
    assert isinstance(result.exception, DataError)
    message = str(result.exception)
    assert ".npy" in message and "NaN" in message and "Traceback" not in message


def test_a_process_with_live_loader_workers_still_exits():
    """Loader workers ignore SIGTERM, and multiprocessing's exit hook terminates then joins them:
    a worker alive at exit (an iterator kept by a reference cycle) must not hang the interpreter."""
    code = ("from torch.utils.data import DataLoader\n"
            "from hifilite.train.distributed import ignore_interrupts\n"
            "loader = DataLoader(list(range(8)), batch_size=2, num_workers=1, worker_init_fn=ignore_interrupts)\n"
            "kept = [iter(loader)]\nkept.append(kept)\nprint(next(kept[0]).tolist())\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "[0, 1]", proc.stderr
    assert "Exception" not in proc.stderr and "Error" not in proc.stderr, proc.stderr


def test_unknown_loss_weight_is_a_config_error():
    config = TrainConfig(loss_weights={"mel/loss": 45.0, "adv/gan": 1.0})
    gen, gen_cfg, mel = make_generator(gen_config=TINY, init=None, seed=0)
    with pytest.raises(ConfigError, match="adv/gan"):
        GanVocoderTask(generator=gen, gen_config=gen_cfg, mel_config=mel, train_config=config, mpd=TinyD(), msd=TinyD())


def test_run_folder_guard(tmp_path):
    cfg = {"train": {"batch_size": 2, "max_steps": 10}}
    assert check_run_dir(tmp_path, cfg, resume=False) is None
    (tmp_path / "config.json").write_text('{"train": {"batch_size": 2, "max_steps": 10}}')
    with pytest.raises(ConfigError, match="different configuration"):
        check_run_dir(tmp_path, {"train": {"batch_size": 4, "max_steps": 10}}, resume=False)
    assert check_run_dir(tmp_path, {"train": {"batch_size": 2, "max_steps": 99}}, resume=True,
                         may_change=("train.max_steps",)) is None
    with pytest.raises(ConfigError, match="cannot resume"):
        check_run_dir(tmp_path, {"train": {"batch_size": 4, "max_steps": 10}}, resume=True,
                      may_change=("train.max_steps",))


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "configs").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_training_configs_load(path):
    from hifilite.config import train_config_with_file

    config = train_config_with_file(TrainConfig(), path)
    assert config.segment_size % 256 == 0


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "configs" / "augment").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_augment_configs_load(path):
    from hifilite.config import from_dict, load_file
    from hifilite.data.augment import AugmentConfig

    config = from_dict(AugmentConfig, load_file(path), str(path)).check()
    assert config != AugmentConfig()


def test_weights_and_config_files(tmp_path):
    from hifilite.config import parse_weights, train_config_with_file

    base = TrainConfig(batch_size=3)
    assert train_config_with_file(base, None) is base
    (tmp_path / "c.yaml").write_text("learning_rate: 0.001\nloss_weights: {mel/loss: 10.0}\n")
    cfg = train_config_with_file(base, tmp_path / "c.yaml")
    assert (cfg.batch_size, cfg.learning_rate, dict(cfg.loss_weights)) == (3, 0.001, {"mel/loss": 10.0})
    (tmp_path / "bad.yaml").write_text("learning_rte: 0.001\n")
    with pytest.raises(ConfigError, match="learning_rte"):
        train_config_with_file(base, tmp_path / "bad.yaml")
    assert parse_weights(["distil/feat=0", "mel/loss=2.5"], {"mel/loss": 45.0}) == {"mel/loss": 2.5, "distil/feat": 0.0}
    for bad in ("mel/loss", "mel/loss=x", "=1"):
        with pytest.raises(ConfigError, match="NAME=VALUE"):
            parse_weights([bad], {})
