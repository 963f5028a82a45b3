"""Sequence-level distillation: teacher mels written, checked, resumed, and trained on."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hifilite.data.features import AcousticDataset, collate, read_stats
from hifilite.acoustic.distil import write_teacher_mels
from hifilite.acoustic.models import AcousticModel, parse_arch
from hifilite.acoustic.checkpoint import load_acoustic, save_acoustic
from hifilite.acoustic.task import config_for_corpus, losses, model_stats
from hifilite.cli import main
from hifilite.errors import DataError

ARCH = "sep5,attn2/ffn,sep9;hidden=16;ffn_filter=32;n_bins=8"


def _teacher(corpus, path, stats=None):
    stats = stats or read_stats(corpus)
    torch.manual_seed(1)
    model = AcousticModel.from_config(config_for_corpus(parse_arch(ARCH), stats)).eval()
    save_acoustic(path, model, symbols=stats["symbols"], stats=model_stats(stats), mel=stats["mel"],
                  extra={"step": 7})
    return model


def test_teacher_mels_are_the_teacher_forced_output_and_resume(corpus, tmp_path):
    model = _teacher(corpus, tmp_path / "t.safetensors")
    out = tmp_path / "mels"
    info = write_teacher_mels(tmp_path / "t.safetensors", corpus, out, batch_size=2, progress=False)
    stats = read_stats(corpus)
    assert info["utterances"] == len(stats["splits"]["train"]) and info["step"] == 7
    ds = AcousticDataset(corpus, "train", stats)
    with torch.inference_mode():  # one utterance alone: padding in a batch must not change the result
        item = collate([ds[0]])
        ref = model(item["ids"], item["src_lens"], durations=item["durations"], pitch=item["pitch"],
                    energy=item["energy"])["mel"][0].numpy()
    mel = np.load(out / f"{ds.ids[0]}.npy")
    assert mel.shape == tuple(ds[0]["mel"].shape) == ref.shape
    np.testing.assert_allclose(mel, ref, atol=1e-5)
    # resume: a complete file is kept, a truncated one is rewritten
    first = out / f"{ds.ids[0]}.npy"
    np.save(out / f"{ds.ids[1]}.npy", mel[:3])
    stamp = first.stat().st_mtime_ns
    write_teacher_mels(tmp_path / "t.safetensors", corpus, out, progress=False)
    assert first.stat().st_mtime_ns == stamp
    assert np.load(out / f"{ds.ids[1]}.npy").shape == tuple(ds[1]["mel"].shape)
    assert json.loads((out / "teacher.json").read_text())["teacher"] == str((tmp_path / "t.safetensors").resolve())


def test_teacher_of_another_corpus_or_folder_is_refused(corpus, tmp_path):
    stats = read_stats(corpus)
    other = dict(stats, pitch=dict(stats["pitch"], mean=stats["pitch"]["mean"] + 1.0))
    _teacher(corpus, tmp_path / "other.safetensors", stats=other)
    with pytest.raises(DataError, match="pitch normalisation"):
        write_teacher_mels(tmp_path / "other.safetensors", corpus, tmp_path / "m", progress=False)
    _teacher(corpus, tmp_path / "a.safetensors")
    _teacher(corpus, tmp_path / "b.safetensors")
    write_teacher_mels(tmp_path / "a.safetensors", corpus, tmp_path / "m", progress=False)
    with pytest.raises(DataError, match="new folder"):
        write_teacher_mels(tmp_path / "b.safetensors", corpus, tmp_path / "m", progress=False)


def test_distil_term_and_missing_or_bad_teacher_mels(corpus, tmp_path):
    _teacher(corpus, tmp_path / "t.safetensors")
    out = tmp_path / "mels"
    write_teacher_mels(tmp_path / "t.safetensors", corpus, out, progress=False)
    ds = AcousticDataset(corpus, "train", teacher_mels=out)
    batch = collate([ds[0], ds[1]])
    assert batch["teacher_mel"].shape == batch["mel"].shape
    model = AcousticModel.from_config(config_for_corpus(parse_arch(ARCH), read_stats(corpus)))
    res = model(batch["ids"], batch["src_lens"], durations=batch["durations"], pitch=batch["pitch"],
                energy=batch["energy"])
    terms = losses(res, batch)
    assert float(terms["mel/distil"].detach()) > 0
    # predicting the teacher exactly zeroes the distillation term, not the ground-truth one
    perfect = dict(res, mel=batch["teacher_mel"][:, : res["mel"].shape[1]])
    assert float(losses(perfect, batch)["mel/distil"]) == 0.0 and float(losses(perfect, batch)["mel/loss"]) > 0
    np.save(out / f"{ds.ids[0]}.npy", np.full((2, 80), np.nan, np.float32))
    with pytest.raises(DataError, match="expected"):
        ds[0]
    (out / f"{ds.ids[0]}.npy").unlink()
    with pytest.raises(DataError, match="teacher-mels"):
        AcousticDataset(corpus, "train", teacher_mels=out)


def test_train_cli_with_teacher_mels_logs_and_remembers_them(corpus, tmp_path, capsys):
    _teacher(corpus, tmp_path / "t.safetensors")
    mels = tmp_path / "mels"
    with pytest.raises(SystemExit) as exc:
        main(["acoustic", "teacher-mels", "--teacher", str(tmp_path / "t.safetensors"), "--data", str(corpus),
              "-o", str(mels)])
    assert exc.value.code in (0, None) and "teacher mels" in capsys.readouterr().err
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["acoustic", "train", "--data", str(corpus), "-o", str(run), "--arch", ARCH, "--steps", "1",
              "--batch-size", "2", "--threads", "1", "--device", "cpu", "--teacher-mels", str(mels),
              "--summary-interval", "1"])
    assert exc.value.code in (0, None)
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["teacher_mels"] == str(mels.resolve())
    assert f"--teacher-mels {mels}" in load_acoustic(run).extra["command"]
    from hifilite.train.logging import read_scalars

    assert read_scalars(run, "mel/distil", "train")
    with pytest.raises(SystemExit) as exc:  # resumes with the teacher mels it was started with
        main(["acoustic", "train", "-o", str(run), "--steps", "2", "--resume", "--threads", "1", "--device", "cpu"])
    assert exc.value.code in (0, None)
    assert json.loads((run / "config.json").read_text())["data"]["teacher_mels"] == str(mels.resolve())


def test_fine_tune_from_a_model_keeps_its_weights_and_architecture(corpus, tmp_path, capsys):
    source = _teacher(corpus, tmp_path / "t.safetensors")
    run = tmp_path / "ft"
    with pytest.raises(SystemExit) as exc:  # learning rate 0: the exported model is the one it started from
        main(["acoustic", "train", "--data", str(corpus), "-o", str(run), "--init", str(tmp_path / "t.safetensors"),
              "--steps", "1", "--batch-size", "2", "--lr", "0", "--threads", "1", "--device", "cpu"])
    assert exc.value.code in (0, None)
    tuned = load_acoustic(run)
    assert tuned.model.config == source.config and tuned.extra["command"].count("--init") == 1
    for name, value in source.state_dict().items():
        assert torch.equal(tuned.model.state_dict()[name], value), name
    assert json.loads((run / "config.json").read_text())["init"] == str((tmp_path / "t.safetensors").resolve())
    with pytest.raises(SystemExit) as exc:  # resuming keeps the origin
        main(["acoustic", "train", "-o", str(run), "--steps", "2", "--resume", "--threads", "1", "--device", "cpu"])
    assert exc.value.code in (0, None) and load_acoustic(run).extra["step"] == 2
    with pytest.raises(SystemExit) as exc:
        main(["acoustic", "train", "--data", str(corpus), "-o", str(tmp_path / "x"), "--init",
              str(tmp_path / "t.safetensors"), "--arch", ARCH])
    assert exc.value.code == 1 and "--init" in capsys.readouterr().err
    stats = read_stats(corpus)
    other = dict(stats, symbols=dict(stats["symbols"], id_map={"a": [1]}))
    _teacher(corpus, tmp_path / "other.safetensors", stats=other)
    with pytest.raises(SystemExit) as exc:
        main(["acoustic", "train", "--data", str(corpus), "-o", str(tmp_path / "y"), "--init",
              str(tmp_path / "other.safetensors"), "--steps", "1", "--threads", "1", "--device", "cpu"])
    assert exc.value.code == 1 and "symbol table" in capsys.readouterr().err
    other = dict(stats, mel=dict(stats["mel"], fmax=11025.0))
    _teacher(corpus, tmp_path / "other-mel.safetensors", stats=other)
    with pytest.raises(SystemExit) as exc:
        main(["acoustic", "train", "--data", str(corpus), "-o", str(tmp_path / "z"), "--init",
              str(tmp_path / "other-mel.safetensors"), "--steps", "1", "--threads", "1", "--device", "cpu"])
    assert exc.value.code == 1 and "mel settings" in capsys.readouterr().err
