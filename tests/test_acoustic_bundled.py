"""Shipped acoustic models by name: tools/ship_acoustic.py writes one, load_acoustic finds it."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import torch

import hifilite.acoustic.bundled as bundled
from hifilite.acoustic.models import AcousticModel, load_acoustic, parse_arch, save_acoustic
from hifilite.errors import CheckpointError

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("ship_acoustic", ROOT / "tools" / "ship_acoustic.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ship_and_load_by_name(tmp_path, monkeypatch):
    assets = tmp_path / "assets"
    assets.mkdir()
    monkeypatch.setattr(bundled, "ASSETS", assets)
    shutil.copy(ROOT / "src" / "hifilite" / "assets" / "joe-lite.safetensors", assets)  # a vocoder: not listed
    (assets / "junk.safetensors").write_bytes(b"\xff" * 20)
    model = AcousticModel(**parse_arch("sep5/sep9;hidden=16;n_bins=8").to_dict())
    run = save_acoustic(tmp_path / "run" / "acoustic.safetensors", model, symbols={"kind": "espeak"}, stats={},
                        mel={"n_mels": 80}, extra={"step": 7})
    out = _tool().ship(run.parent, "tiny-ls", command="hifilite acoustic train --steps 7", data="joe-sub",
                       assets=assets)
    assert bundled.shipped_models() == {"tiny-ls": out}
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
