"""Checkpoint import/export: official jik876 format, our safetensors format, unsafe files."""

import json

import pytest
import torch

from hifilite.config import GeneratorConfig, MelConfig, to_dict
from hifilite.errors import CheckpointError, ConfigError, ModelNotFoundError
from hifilite.registry import resolve
from hifilite.vocoder.api import load_vocoder
from hifilite.vocoder.checkpoint import load_generator, load_jik876, save_generator
from hifilite.vocoder.generator import Generator

TINY = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                       resblock="2", resblock_kernel_sizes=(3, 5), resblock_dilation_sizes=((1, 2), (2, 6)))


def _to_jik876(gen: Generator) -> dict:
    """The official key names: weight norm as `weight_g` / `weight_v`."""
    out = {}
    for k, v in gen.state_dict().items():
        k = k.replace("parametrizations.weight.original0", "weight_g").replace("parametrizations.weight.original1", "weight_v")
        out[k] = v
    return out


def _jik_config(cfg: GeneratorConfig) -> dict:
    d = to_dict(cfg)
    for ours_only in ("in_channels", "resblock_conv", "resblock_rank", "stage_ranks", "istft_n_fft", "istft_hop"):
        d.pop(ours_only)
    d.update({"num_mels": 80, "n_fft": 1024, "hop_size": 256, "win_size": 1024, "sampling_rate": 22050,
              "fmin": 0, "fmax": 8000, "batch_size": 16, "learning_rate": 0.0002, "num_gpus": 0,
              "dist_config": {"dist_backend": "nccl"}})
    return d


@pytest.fixture
def jik_checkpoint(tmp_path):
    torch.manual_seed(0)
    gen = Generator.from_config(TINY).eval()
    torch.save({"generator": _to_jik876(gen)}, tmp_path / "g_00001000")
    (tmp_path / "config.json").write_text(json.dumps(_jik_config(TINY)))
    return tmp_path / "g_00001000", gen


def test_import_jik876_reproduces_model(jik_checkpoint):
    path, ref = jik_checkpoint
    gen, cfg, mel = load_jik876(path)
    assert cfg == TINY and mel == MelConfig()
    mel_in = torch.randn(1, 80, 7)
    with torch.no_grad():
        assert torch.allclose(gen(mel_in), ref(mel_in), atol=1e-6)
    voc = load_vocoder(path)  # same file through the public API
    assert voc.sample_rate == 22050 and voc.hop_length == 256


def test_import_jik876_strict_keys(jik_checkpoint, tmp_path):
    path, ref = jik_checkpoint
    state = _to_jik876(ref)
    state.pop("conv_post.bias")
    state["extra.weight"] = torch.zeros(1)
    torch.save({"generator": state}, tmp_path / "broken")
    with pytest.raises(CheckpointError, match="missing 1 keys .*conv_post.bias.*unexpected 1 keys"):
        load_jik876(tmp_path / "broken", tmp_path / "config.json")


def test_import_jik876_shape_mismatch(jik_checkpoint, tmp_path):
    path, _ = jik_checkpoint
    cfg = _jik_config(TINY)
    cfg["upsample_initial_channel"] = 64
    (tmp_path / "other.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_jik876(path, tmp_path / "other.json")


def test_import_jik876_unknown_config_key(jik_checkpoint, tmp_path):
    path, _ = jik_checkpoint
    cfg = _jik_config(TINY)
    cfg["upsample_rate"] = [8, 8, 4]  # typo
    (tmp_path / "typo.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="upsample_rate"):
        load_jik876(path, tmp_path / "typo.json")


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_checkpoint_with_pickled_code_is_refused(tmp_path, capsys):
    (tmp_path / "config.json").write_text(json.dumps(_jik_config(TINY)))
    torch.save({"generator": {}, "evil": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="refused to load"):
        load_vocoder(tmp_path / "evil.pt")
    assert "must never run" not in capsys.readouterr().out


@pytest.mark.parametrize("keep_wn", [True, False])
def test_safetensors_roundtrip_is_self_describing(tmp_path, keep_wn):
    torch.manual_seed(1)
    gen = Generator.from_config(TINY).eval()
    if not keep_wn:
        gen.remove_weight_norm()
    mel_cfg = MelConfig(fmax=7600.0)
    path = save_generator(tmp_path / "m.safetensors", gen, TINY, mel_cfg, extra={"note": "x"})
    loaded, cfg, mel, extra = load_generator(path, keep_weight_norm=True)
    assert cfg == TINY and mel == mel_cfg and extra == {"note": "x"}
    x = torch.randn(1, 80, 6)
    with torch.no_grad():
        assert torch.allclose(loaded(x), gen(x), atol=1e-6)
    voc = load_vocoder(path)
    assert voc.mel_config.fmax == 7600.0
    assert not any("parametrizations" in k for k in voc.generator.state_dict())


def test_safetensors_rejects_foreign_and_corrupt(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "foreign.safetensors")
    with pytest.raises(CheckpointError, match="not a hifilite generator"):
        load_generator(tmp_path / "foreign.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(CheckpointError, match="not a readable"):
        load_vocoder(tmp_path / "bad.safetensors")


def test_unknown_model_name():
    with pytest.raises(ModelNotFoundError, match="lj-v1"):
        load_vocoder("no-such-model")


@pytest.mark.parametrize("name", ["lj-v1", "universal-v1"])
def test_bundled_teachers_load_and_run(name):
    voc = load_vocoder(name)
    assert sum(p.numel() for p in voc.generator.parameters()) == 13_926_017
    assert voc.sample_rate == 22050 and voc.mel_config.fmax == 8000
    wav = 0.3 * torch.sin(torch.arange(256 * 12) * 0.07)
    out = voc(voc.mel(wav))
    assert out.shape == (1, 256 * 12) and torch.isfinite(out).all()
    # a trained vocoder reproduces a tone: most output energy near the input frequency
    spec = torch.fft.rfft(out[0]).abs()
    peak_hz = spec.argmax().item() * 22050 / out.shape[-1]
    assert abs(peak_hz - 0.07 * 22050 / (2 * 3.14159265)) < 30


def test_the_registry_resolves_a_vocoder_without_loading_it(jik_checkpoint, tmp_path):
    ckpt, _ = jik_checkpoint
    src = resolve(ckpt, "vocoder")
    assert (src.source, src.files, src.stem) == ("jik876", [ckpt, ckpt.parent / "config.json"], ckpt.stem)
    assert resolve("joe-lite").source == "shipped" and resolve("joe-lite").files[0].is_file()
    assert resolve("v2").source == "preset" and resolve("v2").files == [] and resolve("v2").random
    assert resolve("prior").source == "preset" and not resolve("prior").random  # zero-init residual: the floor
    assert resolve("pghi").source == "signal" and not resolve("pghi").random
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(ModelNotFoundError, match="no generator.safetensors"):
        resolve(run)
    save_generator(run / "generator.safetensors", Generator.from_config(TINY), TINY, MelConfig())
    assert resolve(run).files == [run / "generator.safetensors"] and resolve(run).stem == "run"
    assert load_vocoder(run).name == "run"
    with pytest.raises(ModelNotFoundError, match="lj-v1"):
        resolve(tmp_path / "missing.safetensors")


def test_onnx_cache_refuses_presets(tmp_path, monkeypatch):
    from hifilite.deploy.cache import vocoder_onnx

    monkeypatch.setenv("HIFILITE_CACHE", str(tmp_path))
    with pytest.raises(ConfigError, match="preset with random weights"):
        vocoder_onnx("v3")
    assert not (tmp_path / "onnx").exists()
