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
from hifilite.errors import ModelNotFoundError

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
    with pytest.raises(ModelNotFoundError, match="not one of tiny-ls"):
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
    for name in ("lj-v1", "universal-v1", "pghi", "griffin-lim", "joe-lite", "joe-fourier", "joe-tiny", "universal-lite",
                 "universal-pghi", "joe-lightspeech-10h"):
        assert sum(line.startswith(f"{name} ") for line in result.output.splitlines()) == 1, name
    kinds = registry.shipped()
    assert {m.kind for m in kinds.values()} == {"vocoder", "acoustic"}
    assert kinds["joe-lightspeech-10h"].kind == "acoustic" and kinds["joe-lite"].kind == "vocoder"
    assert all(m.description for m in kinds.values()), "every shipped model says what it is"
    only = CliRunner().invoke(app, ["models", "--kind", "acoustic"])
    assert "joe-lightspeech-10h" in only.output and "joe-lite " not in only.output
    bad = CliRunner().invoke(app, ["models", "--kind", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output  # refused when the command line is parsed


def test_one_resolver_for_acoustic_models_and_exports(tmp_path):
    from hifilite.errors import ModelNotFoundError

    shipped = registry.resolve("joe-lightspeech-10h", "acoustic")
    assert (shipped.source, shipped.stem) == ("shipped", "joe-lightspeech-10h") and shipped.checkpoint.is_file()
    run = tmp_path / "my-run"
    run.mkdir()
    with pytest.raises(ModelNotFoundError, match="no acoustic.safetensors"):
        registry.resolve(run, "acoustic")
    (run / "acoustic.safetensors").write_bytes(shipped.checkpoint.read_bytes())
    in_run = registry.resolve(run, "acoustic")
    assert (in_run.source, in_run.stem, in_run.checkpoint) == ("safetensors", "my-run", run / "acoustic.safetensors")
    export = tmp_path / "voice.onnx"
    export.write_bytes(b"")
    assert registry.resolve(export, "acoustic").source == "onnx" and registry.resolve(export).stem == "voice"
    # one error for a name that is nothing, listing what exists, for either kind
    with pytest.raises(ModelNotFoundError, match="joe-lightspeech-10h"):
        registry.resolve("joe-lightspeech-3h", "acoustic")  # a stage no longer shipped
    with pytest.raises(ModelNotFoundError, match="universal-pghi"):
        registry.resolve("no-such-vocoder")
    with pytest.raises(ModelNotFoundError, match="renamed 'joe-lite'"):
        registry.resolve("lj-lite")
    # an existing path wins over a shipped name
    shadow = tmp_path / "joe-lite"
    shadow.mkdir()
    with pytest.raises(ModelNotFoundError, match="no generator.safetensors"):
        registry.resolve(shadow)


def test_the_acoustic_loader_and_the_onnx_cache_use_the_resolver(tmp_path, monkeypatch):
    from hifilite.acoustic.checkpoint import acoustic_file
    from hifilite.errors import ModelNotFoundError

    assert acoustic_file("joe-lightspeech-10h") == registry.resolve("joe-lightspeech-10h", "acoustic").checkpoint
    with pytest.raises(ModelNotFoundError, match="joe-lightspeech-10h"):  # not a CheckpointError: same mistake
        acoustic_file(tmp_path / "missing.safetensors")
