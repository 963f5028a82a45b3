"""The registry of shipped models: tools/ship_acoustic.py writes one, load_acoustic and `hifilite models` find it."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import torch

import hifilite.registry as registry
from hifilite.acoustic.models import AcousticModel, parse_arch
from hifilite.acoustic.checkpoint import load_acoustic, save_acoustic
from hifilite.errors import CheckpointError

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("ship_acoustic", ROOT / "tools" / "ship_acoustic.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ship_and_load_by_name(tmp_path, monkeypatch):
    assets = tmp_path / "assets"
    assets.mkdir()
    monkeypatch.setattr(registry, "ASSETS", assets)
    shutil.copy(ROOT / "src" / "hifilite" / "assets" / "joe-lite.safetensors", assets)  # a vocoder: not listed
    (assets / "junk.safetensors").write_bytes(b"\xff" * 20)
    model = AcousticModel.from_config(parse_arch("sep5/sep9;hidden=16;n_bins=8"))
    run = save_acoustic(tmp_path / "run" / "acoustic.safetensors", model, symbols={"kind": "espeak"}, stats={},
                        mel={"n_mels": 80}, extra={"step": 7})
    out = _tool().ship(run.parent, "tiny-ls", command="hifilite acoustic train --steps 7", data="joe-sub",
                       assets=assets)
    shipped = registry.shipped("acoustic")
    assert list(shipped) == ["tiny-ls"] and registry.model_files(shipped["tiny-ls"])[0] == out
    assert "joe-lite" in registry.shipped("vocoder")  # copied above: listed as what it is
    loaded = load_acoustic("tiny-ls")
    assert loaded.extra["command"] == "hifilite acoustic train --steps 7" and loaded.extra["step"] == 7
    ids = torch.randint(3, 40, (1, 6))
    with torch.no_grad():
        assert torch.equal(model.eval()(ids)["mel"], loaded.model(ids)["mel"])
    with pytest.raises(CheckpointError, match="shipped acoustic models: tiny-ls"):
        load_acoustic("no-such-model")
    with pytest.raises(SystemExit, match="MB limit"):
        _tool().ship(run, "big", command="x", assets=assets, max_mb=0.001)
    assert not (assets / "big.safetensors").exists()
    with pytest.raises(SystemExit, match="name"):
        _tool().ship(run, "Bad Name", command="x", assets=assets)


def test_models_lists_every_shipped_model_once():
    from typer.testing import CliRunner

    from hifilite.cli import app

    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    for name in ("lj-v1", "universal-v1", "joe-lite", "joe-tiny", "universal-lite", "joe-lightspeech-3h",
                 "joe-lightspeech-3h-long", "joe-lightspeech-10h"):
        assert name in result.output
    kinds = registry.shipped()
    assert {m.kind for m in kinds.values()} == {"vocoder", "acoustic"}
    assert kinds["joe-lightspeech-3h"].kind == "acoustic" and kinds["joe-lite"].kind == "vocoder"
    only = CliRunner().invoke(app, ["models", "--kind", "acoustic"])
    assert "joe-lightspeech" in only.output and "joe-lite " not in only.output
    assert CliRunner().invoke(app, ["models", "--kind", "nope"]).exit_code != 0
