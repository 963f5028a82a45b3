"""FastSpeech 2 / LightSpeech: every search-space op, the length regulator, presets, checkpoints."""

from __future__ import annotations

import pytest
import torch

from hifilite.acoustic.models import (
    OPS,
    PRESETS,
    AcousticConfig,
    AcousticModel,
    arch_string,
    durations_from_log,
    length_regulate,
    parse_arch,
)
from hifilite.acoustic.checkpoint import load_acoustic, save_acoustic
from hifilite.errors import CheckpointError, ConfigError, ModelNotFoundError

TINY = dict(num_symbols=40, n_mels=8, hidden=16, ffn_filter=32, predictor_channels=16, n_bins=8)


@pytest.mark.parametrize("op", OPS)
def test_every_op_forward_backward_and_masks_padding(op):
    torch.manual_seed(0)
    cfg = AcousticConfig(**TINY, encoder=(op,), decoder=(op, op), dropout=0.0, predictor_dropout=0.0)
    model = AcousticModel.from_config(cfg)
    ids = torch.randint(0, 40, (2, 7))
    src_lens = torch.tensor([7, 4])
    durations = torch.tensor([[1, 2, 0, 3, 1, 1, 2], [2, 2, 1, 1, 0, 0, 0]])
    out = model(ids, src_lens, durations=durations, pitch=torch.randn(2, 7), energy=torch.randn(2, 7))
    assert out["mel"].shape == (2, 10, 8)
    assert out["mel_lens"].tolist() == [10, 6]
    assert torch.all(out["mel"][1, 6:] == 0)
    loss = out["mel"].abs().mean() + out["log_duration"].pow(2).mean() + out["pitch"].pow(2).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads if g is not None)
    assert model.embed.weight.grad.abs().sum() > 0
    # the second item's padding (ids past its length, changed at will) does not change its output
    ids2 = ids.clone()
    ids2[1, 4:] = 3
    out2 = model(ids2, src_lens, durations=durations, pitch=torch.zeros(2, 7), energy=torch.zeros(2, 7))
    ref = model(ids, src_lens, durations=durations, pitch=torch.zeros(2, 7), energy=torch.zeros(2, 7))
    assert torch.allclose(out2["mel"][1], ref["mel"][1], atol=1e-5)


def test_length_regulator_is_exact():
    torch.manual_seed(1)
    x = torch.randn(3, 5, 4)
    d = torch.tensor([[0, 3, 1, 0, 2], [1, 1, 1, 1, 1], [4, 0, 0, 0, 0]])
    out, lens = length_regulate(x, d)
    assert lens.tolist() == [6, 5, 4] and out.shape == (3, 6, 4)
    for b in range(3):
        ref = torch.repeat_interleave(x[b], d[b], dim=0)
        assert torch.equal(out[b, : len(ref)], ref)
        assert torch.all(out[b, len(ref):] == 0)
    cut, cut_lens = length_regulate(x, d, max_frames=4)
    assert cut.shape == (3, 4, 4) and cut_lens.tolist() == [4, 4, 4]
    assert torch.equal(cut, out[:, :4])


def test_duration_scale_and_rounding():
    mask = torch.ones(1, 4, dtype=torch.bool)
    log_d = torch.log1p(torch.tensor([[0.0, 1.4, 2.6, 3.6]]))
    assert durations_from_log(log_d, mask).tolist() == [[0, 1, 3, 4]]
    assert durations_from_log(log_d, mask, 2.0).tolist() == [[0, 3, 5, 7]]
    assert durations_from_log(log_d, torch.tensor([[True, True, False, False]])).tolist() == [[0, 1, 0, 0]]
    model = AcousticModel.from_config(AcousticConfig(**TINY, encoder=("sep5",), decoder=("sep5",))).eval()
    ids = torch.randint(0, 40, (1, 12))
    with torch.no_grad():
        model.duration.linear.bias.fill_(2.0)  # about e^2 - 1 frames each, whatever the input
        slow, fast = model.infer(ids, 2.0), model.infer(ids, 0.5)
    assert slow.shape[0] == 8 and slow.shape[1] > 2 * fast.shape[1] - 12


def test_presets_sizes_and_arch_strings():
    fs2 = AcousticModel.from_config(PRESETS["fastspeech2"])
    ls = AcousticModel.from_config(PRESETS["lightspeech"])
    n_fs2, n_ls = fs2.num_parameters(), ls.num_parameters()
    assert 20e6 < n_fs2 < 30e6 and 1.5e6 < n_ls < 2.0e6 and n_fs2 / n_ls > 12
    assert not any("attn" in op or op == "ffn" for op in (*ls.config.encoder, *ls.config.decoder))
    cfg = parse_arch("sep5,attn4,ffn,id/sep25;hidden=32;predictor=sep", num_symbols=50)
    assert cfg.encoder == ("sep5", "attn4", "ffn", "id") and cfg.decoder == ("sep25",)
    assert (cfg.hidden, cfg.predictor_channels, cfg.ffn_filter, cfg.num_symbols) == (32, 32, 128, 50)
    assert parse_arch(arch_string(cfg)).encoder == cfg.encoder
    tuned = parse_arch("sep5/ffn;hidden=96;ffn_filter=256;dropout=0;predictor=sep;n_bins=16")
    assert arch_string(tuned) == "sep5/ffn;hidden=96;predictor=sep;dropout=0.0;ffn_filter=256;n_bins=16"
    assert parse_arch(arch_string(tuned)) == tuned and arch_string(PRESETS["fastspeech2"]).count(";") == 2
    assert parse_arch("lightspeech;hidden=64").hidden == 64
    log = parse_arch("sep5/ffn;hidden=96;predictor=sep;energy=log")
    assert log.energy == "log" and arch_string(log).endswith(";energy=log") and parse_arch(arch_string(log)) == log
    assert PRESETS["fastspeech2"].energy == "linear" and "energy" not in arch_string(PRESETS["fastspeech2"])
    for bad in ["nope", "sep3/sep5", "sep5/attn3", "sep5/sep5;hidden=x", "sep5/sep5;colour=red", "/sep5",
                "attn8/sep5;hidden=12", "sep5/sep5;energy=cubic"]:
        with pytest.raises(ConfigError):
            parse_arch(bad)


def test_checkpoint_round_trip_and_refusals(tmp_path):
    cfg = parse_arch("sep5,attn2/ffn", **TINY)
    model = AcousticModel.from_config(cfg).eval()
    path = save_acoustic(tmp_path / "m.safetensors", model, symbols={"kind": "espeak", "id_map": {"_": [0]}},
                         stats={"pitch": {"mean": 1.0}}, mel={"n_mels": 8}, extra={"command": "x"})
    loaded = load_acoustic(path)
    assert loaded.model.config == cfg and loaded.extra == {"command": "x"} and loaded.stats["pitch"]["mean"] == 1.0
    ids = torch.randint(0, 40, (1, 9))
    with torch.no_grad():
        assert torch.equal(model(ids)["mel"], loaded.model(ids)["mel"])
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_acoustic(tmp_path / "bad.safetensors")
    with pytest.raises(ModelNotFoundError):  # a name or path that is nothing: the registry's one error
        load_acoustic(tmp_path / "missing.safetensors")


def test_onnx_export_dynamic_lengths_parity(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    import numpy as np

    from hifilite.deploy.export import export_onnx
    from hifilite.runtime import OnnxAcoustic
    from hifilite.acoustic.checkpoint import LoadedAcoustic

    torch.manual_seed(0)
    model = AcousticModel.from_config(parse_arch("sep5,attn2,ffn,id/sep9,attn4", **TINY)).eval()
    with torch.no_grad():
        model.duration.linear.bias.fill_(1.0)
    path, side = export_onnx(LoadedAcoustic(model, {"kind": "espeak"}, {}, {"n_mels": 8}), tmp_path / "m.onnx")
    assert side == tmp_path / "m.json" and side.is_file()
    onnx = OnnxAcoustic(path)
    for n, scale in ((5, 1.0), (41, 0.6), (90, 1.7)):  # lengths other than the traced example's
        ids = torch.randint(0, 40, (n,)).tolist()
        ref = model.infer(ids, scale).numpy()
        got = onnx.generate(ids, scale)
        assert np.array_equal(onnx(ids, rate=1 / scale), got)  # the contract's call: rate = 1 / duration scale
        assert got.shape == ref.shape and np.abs(got - ref).max() < 1e-4


def test_onnx_export_is_refused_when_runtime_disagrees(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    import hifilite.deploy.export as export
    from hifilite.acoustic.checkpoint import LoadedAcoustic
    from hifilite.errors import HifiliteError

    model = AcousticModel.from_config(parse_arch("sep5/sep5", **TINY)).eval()
    loaded = LoadedAcoustic(model, {"kind": "espeak"}, {}, {"n_mels": 8})
    path, _ = export.export_onnx(loaded, tmp_path / "ok.onnx", check=False)
    assert export.parity(path, export.model_graph(loaded)) < 1e-4
    monkeypatch.setattr(export, "parity", lambda path, graph: 0.5)
    with pytest.raises(HifiliteError, match="export refused"):
        export.export_onnx(loaded, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "m.json").exists()


def test_zero_predicted_frames_give_an_empty_mel_not_a_crash():
    # an untrained duration predictor can give every phoneme 0 frames; kernels longer than the
    # (empty) sequence must not fail inside the convolutions
    model = AcousticModel.from_config(parse_arch("sep25/sep25,ffn;hidden=16;ffn_filter=32;n_bins=8")).eval()
    ids = torch.randint(3, 40, (1, 5))
    out = model(ids, durations=torch.zeros(1, 5, dtype=torch.long))
    assert int(out["mel_lens"][0]) == 0 and float(out["mel"].detach().abs().sum()) == 0.0
    assert model.infer([5, 6, 7]).shape[0] == 80
    x, _ = length_regulate(torch.ones(1, 3, 2), torch.zeros(1, 3, dtype=torch.long))
    assert x.shape == (1, 1, 2) and float(x.abs().sum()) == 0.0
