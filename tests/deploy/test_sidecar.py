"""One export path: vocoders and acoustic models go through the same parity check and write the same
sidecar (`model.json`), checked by one reader; sidecars and cache entries of earlier releases are
still read or exported again."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import hifilite.deploy.export as export
from hifilite.acoustic.checkpoint import LoadedAcoustic, save_acoustic
from hifilite.acoustic.models import AcousticModel, parse_arch
from hifilite.config import GeneratorConfig, MelConfig
from hifilite.runtime.sidecar import REQUIRED, REQUIRED_BY_KIND, read_sidecar
from hifilite.errors import ConfigError, HifiliteError, ModelNotFoundError
from hifilite.vocoder.checkpoint import save_generator
from hifilite.vocoder.generator import Generator

pytest.importorskip("onnxruntime")
from hifilite.runtime import OnnxAcoustic, OnnxVocoder  # noqa: E402

ACOUSTIC = dict(num_symbols=40, n_mels=8, hidden=16, ffn_filter=32, predictor_channels=16, n_bins=8)
VOCODER = GeneratorConfig(upsample_initial_channel=16, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                          resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 2),))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A tiny vocoder checkpoint and a tiny loaded acoustic model (durations of a few frames per id)."""
    tmp = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    vocoder = str(save_generator(tmp / "v.safetensors", Generator.from_config(VOCODER), VOCODER, MelConfig()))
    model = AcousticModel.from_config(parse_arch("sep5/sep5", **ACOUSTIC)).eval()
    with torch.no_grad():
        model.duration.linear.bias.fill_(1.0)
    return {"vocoder": vocoder, "acoustic": LoadedAcoustic(model, {"kind": "espeak"}, {}, {"n_mels": 8})}


@pytest.fixture(scope="module")
def exported(models, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exported")
    return {kind: export.export_onnx(model, tmp / f"{kind}.onnx") for kind, model in models.items()}


def test_both_kinds_write_one_sidecar_format(exported):
    for kind, (onnx_path, side) in exported.items():
        assert side == onnx_path.with_suffix(".json")
        meta = read_sidecar(side, kind=kind)
        assert meta["kind"] == kind and meta["mel"]["n_mels"] == meta["n_mels"]
        assert meta["parity_max_abs_diff"] <= (1e-4 if kind == "vocoder" else 1e-3)
    assert read_sidecar(exported["vocoder"][1])["inputs"] == ["mel"]
    assert read_sidecar(exported["acoustic"][1])["inputs"] == ["ids", "duration_scale"]


def test_both_kinds_go_through_the_one_parity_check(models, tmp_path, monkeypatch):
    seen = []
    real = export.parity
    monkeypatch.setattr(export, "parity", lambda path, graph: seen.append(graph.kind) or real(path, graph))
    for kind, model in models.items():
        export.export_onnx(model, tmp_path / f"{kind}.onnx")
    assert seen == ["vocoder", "acoustic"]
    monkeypatch.setattr(export, "parity", lambda path, graph: 1.0)  # above both tolerances
    for kind, model in models.items():
        with pytest.raises(HifiliteError, match="export refused"):
            export.export_onnx(model, tmp_path / f"refused-{kind}.onnx")
        assert not (tmp_path / f"refused-{kind}.onnx").exists() and not (tmp_path / f"refused-{kind}.json").exists()


@pytest.mark.parametrize("kind", ["vocoder", "acoustic"])
def test_the_parity_check_sees_a_changed_model(models, exported, kind):
    from hifilite.deploy.parity import parity

    graph = export.model_graph(copy.deepcopy(models[kind]))
    assert parity(exported[kind][0], graph) <= graph.tolerance
    with torch.no_grad():
        for p in graph.module.parameters():
            p.add_(0.1)
    assert parity(exported[kind][0], graph) > graph.tolerance


@pytest.mark.parametrize("kind", ["vocoder", "acoustic"])
def test_the_reader_checks_every_required_key_of_each_kind(exported, kind, tmp_path):
    meta = json.loads(exported[kind][1].read_text(encoding="utf-8"))
    for key in [*REQUIRED, *REQUIRED_BY_KIND[kind]]:
        broken = tmp_path / f"no-{key}.json"
        broken.write_text(json.dumps({k: v for k, v in meta.items() if k != key}), encoding="utf-8")
        with pytest.raises(ConfigError, match=f"missing {key}") as exc:
            read_sidecar(broken)
        assert "\n" not in str(exc.value)
    wrong = tmp_path / "wrong.json"
    for key, value, message in (("n_mels", "80", "n_mels must be an integer"), ("inputs", "mel", "inputs must be"),
                                ("mel", {**meta["mel"], "fmin": None}, "mel fmin must be a number"),
                                ("kind", "other", "kind 'other'"), ("format", "hifilite.onnx/9", "is not 'hifilite.onnx/1'")):
        wrong.write_text(json.dumps({**meta, key: value}), encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            read_sidecar(wrong)
    other = "acoustic" if kind == "vocoder" else "vocoder"
    with pytest.raises(ConfigError, match=f"kind '{kind}', not '{other}'"):
        read_sidecar(exported[kind][1], kind=other)


def test_the_runtime_reads_both_kinds_through_the_reader(exported, tmp_path):
    (v_onnx, _), (a_onnx, a_side) = exported["vocoder"], exported["acoustic"]
    with pytest.raises(ConfigError, match="kind 'acoustic', not 'vocoder'"):
        OnnxVocoder(a_onnx)
    with pytest.raises(ConfigError, match="kind 'vocoder', not 'acoustic'"):
        OnnxAcoustic(v_onnx)
    lone = tmp_path / "lone.onnx"
    lone.write_bytes(a_onnx.read_bytes())
    with pytest.raises(ModelNotFoundError, match="lone.json"):
        OnnxAcoustic(lone)
    meta = json.loads(a_side.read_text(encoding="utf-8"))
    (tmp_path / "lone.json").write_text(json.dumps({k: v for k, v in meta.items() if k != "symbols"}))
    with pytest.raises(ConfigError, match="missing symbols"):
        OnnxAcoustic(lone)
    (tmp_path / "lone.json").write_text(json.dumps({**meta, "output": "audio"}))
    with pytest.raises(ConfigError, match="do not match the sidecar"):
        OnnxAcoustic(lone)


def test_sidecars_of_earlier_releases_are_still_read(exported, tmp_path):
    (v_onnx, v_side), (a_onnx, a_side) = exported["vocoder"], exported["acoustic"]
    ids = list(range(3, 20))
    want = OnnxAcoustic(a_onnx, threads=1)(ids)
    meta = json.loads(a_side.read_text(encoding="utf-8"))
    old = tmp_path / "old.onnx"
    old.write_bytes(a_onnx.read_bytes())
    Path(f"{old}.json").write_text(json.dumps({  # what `hifilite acoustic export` wrote before
        "format": "hifilite.acoustic.onnx/1", "hifilite_version": "0.1", "config": meta["config"],
        "symbols": meta["symbols"], "stats": meta["stats"], "mel": meta["mel"], "extra": meta["extra"]}))
    assert np.array_equal(OnnxAcoustic(old, threads=1)(ids), want)

    meta = json.loads(v_side.read_text(encoding="utf-8"))
    old = tmp_path / "oldv.onnx"
    old.write_bytes(v_onnx.read_bytes())
    old.with_suffix(".json").write_text(json.dumps({k: v for k, v in meta.items() if k not in ("kind", "inputs")}))
    mel = np.full((1, 80, 12), -4.0, dtype=np.float32)
    assert np.array_equal(OnnxVocoder(old, threads=1)(mel), OnnxVocoder(v_onnx, threads=1)(mel))


def test_a_cache_entry_of_an_earlier_release_is_exported_again(models, tmp_path, monkeypatch):
    from hifilite.deploy import cache

    loaded = models["acoustic"]
    source = save_acoustic(tmp_path / "a.safetensors", loaded.model, symbols=loaded.symbols, stats={},
                           mel=loaded.mel)
    monkeypatch.setenv("HIFILITE_CACHE", str(tmp_path / "cache"))
    target = cache.acoustic_onnx(source)
    side = target.with_suffix(".json")
    legacy = Path(f"{target}.json")
    side.rename(legacy)  # the layout of an earlier release: `<name>.onnx.json`, stamped as such
    cache._seal(target, [target, legacy])
    assert cache.acoustic_onnx(source) == target
    assert side.is_file() and not legacy.exists()
    assert cache.is_complete(target, [target, side])
    assert OnnxAcoustic(target, threads=1)([5, 6, 7]).shape[0] == 8


def test_acoustic_export_cli_uses_the_export_and_its_sidecar(models, tmp_path):
    from typer.testing import CliRunner

    from hifilite.cli import app

    loaded = models["acoustic"]
    source = save_acoustic(tmp_path / "a.safetensors", loaded.model, symbols=loaded.symbols, stats={},
                           mel=loaded.mel)
    out = tmp_path / "o" / "a.onnx"
    out.parent.mkdir()
    r = CliRunner().invoke(app, ["acoustic", "export", str(source), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert read_sidecar(out.with_suffix(".json"), kind="acoustic")["parity_max_abs_diff"] <= 1e-3
    assert not (tmp_path / "o" / "a.onnx.json").exists()
