"""Acoustic training on the shared loop: one iteration through the CLI, resume, losses, errors."""

from __future__ import annotations

import json

import pytest
import torch

from hifilite.data.features import AcousticDataset, collate, read_stats
from hifilite.acoustic.models import AcousticModel, parse_arch
from hifilite.acoustic.checkpoint import load_acoustic
from hifilite.acoustic.task import losses, masked_mean
from hifilite.cli import main

from tests.helpers.aligned_corpus import make_aligned_corpus

ARCH = "sep5,attn2/ffn,sep9;hidden=16;ffn_filter=32;n_bins=8"


def test_masked_losses_ignore_padding(corpus):
    ds = AcousticDataset(corpus, "train")
    batch = collate([ds[0], ds[1]])
    model = AcousticModel.from_config(parse_arch(ARCH, n_mels=80))
    out = model(batch["ids"], batch["src_lens"], durations=batch["durations"], pitch=batch["pitch"],
                energy=batch["energy"])
    terms = losses(out, batch)
    assert set(terms) == {"mel/loss", "duration/loss", "pitch/loss", "energy/loss"}
    # a perfect prediction gives zero mel loss even though padding differs
    perfect = dict(out, mel=batch["mel"][:, : out["mel"].shape[1]] + 0 * out["mel"])
    assert float(losses(perfect, batch)["mel/loss"].detach()) == 0.0
    x = torch.tensor([[1.0, 2.0, 100.0]])
    assert float(masked_mean(x, torch.tensor([[True, True, False]]))) == 1.5


def test_one_iteration_train_cli_and_resume(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["acoustic", "train", "--data", str(corpus), "-o", str(run), "--arch", ARCH, "--steps", "1",
            "--batch-size", "2", "--threads", "1", "--device", "cpu"]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code in (0, None)
    loaded = load_acoustic(run)
    assert loaded.model.config.encoder == ("sep5", "attn2") and loaded.extra["step"] == 1
    assert loaded.symbols["kind"] == "espeak" and loaded.stats["pitch"]["std"] > 0
    assert "acoustic train" in loaded.extra["command"] and "--arch 'sep5,attn2/" in loaded.extra["command"]
    assert json.loads((run / "config.json").read_text())["model"]["hidden"] == 16
    assert any((run / "logs").rglob("events.out.tfevents.*"))
    with pytest.raises(SystemExit) as exc:  # the run exists: a second start is refused
        main(args)
    assert exc.value.code == 1
    with pytest.raises(SystemExit) as exc:
        main(["acoustic", "train", "--data", str(corpus), "-o", str(run), "--steps", "2", "--resume",
              "--threads", "1", "--device", "cpu"])
    assert exc.value.code in (0, None)
    assert load_acoustic(run / "acoustic.safetensors").extra["step"] == 2
    with pytest.raises(SystemExit) as exc:  # a resumed run remembers its corpus
        main(["acoustic", "train", "-o", str(run), "--steps", "3", "--resume", "--threads", "1", "--device", "cpu"])
    assert exc.value.code in (0, None)
    resumed = load_acoustic(run / "acoustic.safetensors").extra
    assert resumed["step"] == 3 and resumed["command"].startswith(loaded.extra["command"] + " && ")
    assert resumed["command"].endswith(f"-o {run} --steps 3 --resume")
    with pytest.raises(SystemExit) as exc:  # a new run needs it
        main(["acoustic", "train", "-o", str(tmp_path / "r3"), "--arch", ARCH, "--steps", "1"])
    assert exc.value.code == 1 and "--data is required" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["acoustic", "train", "--data", str(corpus), "-o", str(tmp_path / "r2"), "--arch", "sep3/sep5"])
    assert exc.value.code == 1
    assert "sep3" in capsys.readouterr().err


def test_log_energy_model_trains_on_log_energy(corpus, tmp_path):
    run = tmp_path / "log"
    with pytest.raises(SystemExit) as exc:
        main(["acoustic", "train", "--data", str(corpus), "-o", str(run), "--arch", ARCH + ";energy=log",
              "--steps", "1", "--batch-size", "2", "--threads", "1", "--device", "cpu"])
    assert exc.value.code in (0, None)
    loaded = load_acoustic(run)
    stats = read_stats(corpus)
    ls = stats["energy_log"]
    assert loaded.model.config.energy == "log" and loaded.stats["energy_log"] == ls
    # the energy buckets span the log scale's train range, not the linear one's
    assert loaded.model.config.energy_range == pytest.approx(
        ((ls["min"] - ls["mean"]) / ls["std"], (ls["max"] - ls["mean"]) / ls["std"]))
    # its energy loss is against log-scale targets: recompute it for the trained weights
    model = loaded.model.eval()
    ds = AcousticDataset(corpus, "train", energy="log")
    batch = collate([ds[0], ds[1]])
    with torch.no_grad():
        out = model(batch["ids"], batch["src_lens"], durations=batch["durations"], pitch=batch["pitch"],
                    energy=batch["energy"])
    lin = collate([AcousticDataset(corpus, "train")[i] for i in (0, 1)])
    assert not torch.allclose(batch["energy"], lin["energy"])
    assert float(losses(out, batch)["energy/loss"]) != pytest.approx(float(losses(out, lin)["energy/loss"]))
    # validation logs the benchmark's mel L1 (reference durations, predicted pitch and energy) beside
    # the teacher-forced one
    from hifilite.train.logging import read_scalars

    forced, own = read_scalars(run, "mel/loss", "val"), read_scalars(run, "mel/predicted_variance", "val")
    assert [s for s, _ in own] == [s for s, _ in forced] and own and own[-1][1] > 0 and own[-1][1] != forced[-1][1]


def test_train_on_unprepared_corpus_is_a_clear_error(tmp_path, capsys):
    root = make_aligned_corpus(tmp_path / "raw", n=3)
    with pytest.raises(SystemExit) as exc:
        main(["acoustic", "train", "--data", str(root), "-o", str(tmp_path / "r"), "--steps", "1"])
    assert exc.value.code == 1
    assert "acoustic prepare" in capsys.readouterr().err
