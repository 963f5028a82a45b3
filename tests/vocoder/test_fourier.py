"""The frame-rate Fourier-head family: shapes, training step, checkpoints, ONNX parity, streaming,
receptive field, MACs, phase-derivative losses, and its supernet/search (CPU, small models)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from hifilite.audio import MelSpectrogram
from hifilite.config import GENERATOR_PRESETS, FourierConfig, GeneratorConfig, MelConfig, generator_config, to_dict
from hifilite.deploy.export import export_onnx
from hifilite.runtime.sidecar import read_sidecar
from hifilite.runtime.streaming import split_frames
from hifilite.errors import ConfigError
from hifilite.evaluate.macs import count_macs, macs_per_second
from hifilite.runtime import OnnxVocoder
from hifilite.vocoder.api import load_vocoder
from hifilite.vocoder.checkpoint import save_generator
from hifilite.vocoder.family import build_generator
from hifilite.vocoder.fourier import FourierGenerator, InverseSTFT
from hifilite.vocoder.phase_losses import GroupDelayLoss, InstantaneousFrequencyLoss

from tests.helpers.corpora import speechy

SR = 22050
TINY = FourierConfig(channels=32, blocks=2, mlp_ratio=2.0)


def loud(gen: FourierGenerator) -> FourierGenerator:
    """Random weights with log-magnitudes around speech level, so outputs are far from zero and an
    absolute 1e-4 tolerance is meaningful."""
    with torch.no_grad():
        bins = gen.head.istft.bins
        gen.head.proj.bias[:bins] = torch.linspace(2.5, -3.0, bins)
        gen.head.proj.bias[bins:].uniform_(-math.pi, math.pi)
    return gen.eval()


@pytest.fixture(scope="module")
def preset_model(tmp_path_factory):
    torch.manual_seed(0)
    cfg = GENERATOR_PRESETS["fourier"]
    path = save_generator(tmp_path_factory.mktemp("fourier") / "f.safetensors", loud(build_generator(cfg)), cfg,
                          MelConfig())
    voc = load_vocoder(path)
    return path, voc, voc.mel(speechy(1.5))


def test_preset_size_and_config():
    cfg = GENERATOR_PRESETS["fourier"]
    gen = build_generator(cfg)
    assert isinstance(gen, FourierGenerator) and cfg.hop_length == gen.hop_length == 256
    n = sum(p.numel() for p in gen.parameters())
    assert 0.78e6 < n < 0.83e6  # 128 channels x 6 blocks, MLP ratio 3
    assert gen.receptive_field_frames() == 3 * 7 + 2  # (7 // 2) * (6 blocks + embedding) + iSTFT overlap
    assert generator_config({"preset": "fourier", "blocks": 3}) == dataclasses.replace(cfg, blocks=3)
    assert generator_config({"family": "fourier", "channels": 64}) == FourierConfig(channels=64)
    assert generator_config(to_dict(TINY)) == TINY and isinstance(generator_config({"resblock": "2"}), GeneratorConfig)
    for bad in ({"family": "fourier", "n_fft": 1000}, {"family": "fourier", "kernel_size": 4},
                {"family": "fourier", "mlp_ratio": 0}, {"family": "wavenet"}, {"family": "fourier", "resblock": "1"},
                {"preset": "lite", "family": "fourier"}):
        with pytest.raises(ConfigError):
            generator_config(bad)


@pytest.mark.parametrize("frames", [1, 2, 7, 37])
def test_forward_shape_for_any_frame_count(frames):
    torch.manual_seed(0)
    gen = build_generator(TINY).eval()
    with torch.no_grad():
        y, feats = gen(torch.randn(2, 80, frames) - 5, return_features=True)
    assert y.shape == (2, 1, frames * 256) and torch.isfinite(y).all()
    assert feats[0].shape == (2, 32, frames)


def test_istft_inverts_the_mel_framing():
    """The head's iSTFT turns the STFT taken with the mel front-end's framing (reflect pad
    (n_fft - hop) / 2, no centring, periodic Hann) back into the signal, sample for sample."""
    x = torch.from_numpy(speechy(0.5))[: 40 * 256].double()
    pad = (1024 - 256) // 2
    padded = torch.nn.functional.pad(x[None, None], (pad, pad), mode="reflect")[0]
    spec = torch.stft(padded, 1024, 256, 1024, torch.hann_window(1024, dtype=torch.float64), center=False,
                      return_complex=True)  # (1, 513, 40): frame t analysed around output frame t
    assert spec.shape[-1] == 40
    ist = InverseSTFT(1024, 256).double()
    log_mag = spec.abs().clamp(min=1e-12).log().transpose(1, 2)
    y = ist(log_mag, spec.angle().transpose(1, 2))
    assert y.shape == (1, 1, 40 * 256)
    assert (y[0, 0] - x).abs().max() < 1e-6
    with pytest.raises(ValueError):
        InverseSTFT(1000, 256)


def test_backward_and_one_optimiser_step():
    torch.manual_seed(0)
    gen = build_generator(TINY).train()
    target = torch.from_numpy(speechy(0.3))[: 20 * 256][None]
    mel = MelSpectrogram.from_config(MelConfig())(target)
    opt = torch.optim.AdamW(gen.parameters(), 1e-3)
    before = [p.detach().clone() for p in gen.parameters()]
    loss = (gen(mel).squeeze(1) - target).abs().mean() + GroupDelayLoss()(gen(mel), target)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in gen.parameters())
    assert any(p.grad.abs().sum() > 0 for p in gen.head.proj.parameters())
    opt.step()
    assert all(not torch.equal(a, p) for a, p in zip(before, gen.parameters()))


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(1)
    gen = loud(build_generator(TINY))
    path = save_generator(tmp_path / "tiny.safetensors", gen, TINY, MelConfig(), extra={"note": "x"})
    voc = load_vocoder(path)
    assert isinstance(voc.generator, FourierGenerator) and voc.gen_config == TINY
    mel = torch.randn(1, 80, 30) - 5
    with torch.no_grad():
        assert torch.equal(voc(mel), gen(mel).squeeze(1))
    fresh = load_vocoder("fourier")  # the preset with random weights
    assert fresh.gen_config == GENERATOR_PRESETS["fourier"] and fresh(mel).shape == (1, 30 * 256)


def test_macs_count_the_synthesis_basis():
    gen = build_generator(TINY)
    frames, c, h, k = 10, 32, 64, 7
    per_frame = 80 * c * k + TINY.blocks * (c * k + 2 * c * h) + c * 1026 + 2 * 513 * 513
    assert count_macs(gen, torch.zeros(1, 80, frames)) == frames * per_frame
    assert macs_per_second(gen, sample_rate=SR, hop_length=256) == round(
        math.ceil(SR / 256) * per_frame * SR / (math.ceil(SR / 256) * 256))


def test_receptive_field_is_exact():
    """A mel frame changes the output frames within the reported context of it, and no others."""
    torch.manual_seed(0)
    gen = loud(build_generator(TINY))
    ctx = gen.receptive_field_frames()
    assert ctx == 3 * 3 + 2
    mel = torch.randn(1, 80, 4 * ctx + 9) - 5
    k = 2 * ctx + 4
    mel2 = mel.clone()
    mel2[..., k] += 3.0
    with torch.no_grad():
        a, b = gen(mel).view(-1, 256), gen(mel2).view(-1, 256)
    changed = [t for t in range(a.shape[0]) if not torch.equal(a[t], b[t])]
    assert changed[0] == k - ctx and changed[-1] == k + ctx


def test_onnx_export_parity_and_sidecar(preset_model, tmp_path):
    path, voc, mel = preset_model
    onnx_path, side = export_onnx(path, tmp_path / "f.onnx")  # refuses an export above 1e-4
    meta = read_sidecar(side)
    assert meta["parity_max_abs_diff"] <= 1e-4 and meta["generator"]["family"] == "fourier"
    assert meta["receptive_field_frames"] == 23
    ort = OnnxVocoder(onnx_path, threads=1)
    for n in (1, 5, 60, mel.shape[-1]):
        ref = voc.infer(mel[..., :n]).numpy()
        got = ort.generate(mel[..., :n].numpy())
        assert got.shape == ref.shape == (1, n * 256)
        assert np.abs(got - ref).max() <= 1e-4
    assert ref.std() > 0.02  # a real signal, not a near-silent output that any tolerance passes
    chunks = [mel[0, :, a:b].numpy() for a, b in split_frames(mel.shape[-1], [3, 11, 1])]
    assert np.abs(np.concatenate(list(ort.stream(chunks)), -1) - voc.infer(mel).numpy()).max() <= 1e-4


@pytest.mark.parametrize("sizes", [[1], [3, 1, 17, 5, 2], [1000]], ids=["1", "irregular", "whole"])
def test_stream_equals_offline(preset_model, sizes):
    _, voc, mel = preset_model
    ref = voc.infer(mel)
    pieces = list(voc.stream([mel[..., a:b] for a, b in split_frames(mel.shape[-1], sizes)]))
    out = torch.cat(pieces, -1)
    assert out.shape == ref.shape and (out - ref).abs().max().item() <= 1e-4
    assert (voc.infer(mel, chunk_frames=16) - ref).abs().max().item() <= 1e-4  # chunked offline too


# ---------------------------------------------------------------------------- phase losses

def _voice(seconds: float, scale: float = 1.0) -> torch.Tensor:
    t = torch.arange(int(seconds * SR)) / SR
    phase = 2 * math.pi * torch.cumsum(140 + 30 * torch.sin(2 * math.pi * 2 * t), 0) / SR * scale
    x = sum(torch.sin(k * phase) / k for k in range(1, 20)) * (0.5 + 0.5 * torch.sin(2 * math.pi * 3 * t))
    return 0.3 * x[None]


@pytest.mark.parametrize("loss_cls", [InstantaneousFrequencyLoss, GroupDelayLoss])
def test_phase_losses_zero_for_equal_phase_derivatives(loss_cls):
    x, loss = _voice(0.5), loss_cls()
    assert loss(x, x).item() < 1e-6
    assert loss(-x, x).item() < 1e-6  # a constant phase offset leaves both derivatives unchanged
    assert loss(2 * x, x).item() < 1e-6  # gain does not change phase


def test_phase_losses_see_time_and_frequency_changes():
    x = _voice(0.7)
    li, lg = InstantaneousFrequencyLoss(), GroupDelayLoss()
    shifted = torch.roll(x, 37, -1)  # a sub-hop delay: the group delay moves by 37 samples
    detuned = _voice(0.7, scale=1.03)  # 3 % higher pitch: the instantaneous frequency moves
    assert lg(shifted, x) > 0.1 and lg(shifted, x) > 5 * lg(x + 1e-4 * torch.randn_like(x), x)
    assert li(detuned, x) > 0.3 and li(detuned, x) > 3 * li(shifted, x)
    noise = 0.1 * torch.randn_like(x)
    assert li(noise, x) > li(detuned, x) * 0.9 and lg(noise, x) > lg(shifted, x)


def test_phase_losses_gradients_flow_and_stay_finite():
    x = _voice(0.4)
    for start in (x + 0.05 * torch.randn_like(x), torch.zeros_like(x)):  # a silent student too
        y = start.clone().requires_grad_()
        (InstantaneousFrequencyLoss()(y, x) + GroupDelayLoss()(y, x)).backward()
        assert torch.isfinite(y.grad).all()
    assert y.grad.abs().sum() == 0  # silence has no phase to move
    y = (x + 0.05 * torch.randn_like(x)).requires_grad_()
    opt = torch.optim.SGD([y], lr=1e-3)
    first = GroupDelayLoss()(y, x)
    for _ in range(20):
        opt.zero_grad()
        loss = GroupDelayLoss()(y, x)
        loss.backward()
        opt.step()
    assert GroupDelayLoss()(y, x) < first


def test_distillation_logs_weighted_phase_terms():
    from hifilite.config import TrainConfig
    from hifilite.train.distributed import DistEnv
    from hifilite.vocoder.task import GanVocoderTask
    from hifilite.train.loop import TaskContext

    torch.manual_seed(0)
    teacher = loud(build_generator(TINY))
    student = build_generator(TINY)
    weights = {"mel/loss": 0.0, "adv/gen": 0.0, "adv/feat": 0.0, "distil/mel": 45.0, "distil/stft": 1.0,
               "distil/if": 1.0, "distil/gd": 2.0}
    task = GanVocoderTask(generator=student, gen_config=TINY, mel_config=MelConfig(), teacher=teacher,
                          train_config=TrainConfig(learning_rate=1e-3, loss_weights=weights))
    task.setup(TaskContext(DistEnv()))
    batch = {"audio": _voice(0.2)[:, : 16 * 256].repeat(2, 1)}
    out = task.train_step(batch, 0)
    assert float(out["distil/if"]) > 0 and float(out["distil/gd"]) > 0
    expected = sum(weights[k] * float(out[k]) for k in ("distil/mel", "distil/stft", "distil/if", "distil/gd"))
    assert float(out["gen/total"]) == pytest.approx(expected, rel=1e-5)
    weights.pop("distil/gd")
    task = GanVocoderTask(generator=student, gen_config=TINY, mel_config=MelConfig(), teacher=teacher,
                          train_config=TrainConfig(loss_weights=weights))
    task.setup(TaskContext(DistEnv()))
    assert "distil/gd" not in task.train_step(batch, 1)  # computed only when weighted



def test_recording_phase_terms_without_a_teacher():
    """`stft/if` / `stft/gd` compare the student's phase derivatives with the recording's: no teacher
    is needed, they enter the total with their weights, and are computed only when weighted."""
    from hifilite.config import TrainConfig
    from hifilite.train.distributed import DistEnv
    from hifilite.train.loop import TaskContext
    from hifilite.vocoder.phase_losses import GroupDelayLoss, InstantaneousFrequencyLoss
    from hifilite.vocoder.task import GanVocoderTask

    torch.manual_seed(0)
    student = build_generator(TINY)
    weights = {"mel/loss": 45.0, "stft/loss": 1.0, "adv/gen": 0.0, "adv/feat": 0.0, "distil/mel": 0.0,
               "distil/stft": 0.0, "distil/feat": 0.0, "stft/if": 0.5, "stft/gd": 2.0}
    task = GanVocoderTask(generator=student, gen_config=TINY, mel_config=MelConfig(),
                          train_config=TrainConfig(learning_rate=0.0, loss_weights=weights))
    task.setup(TaskContext(DistEnv()))
    audio = _voice(0.2)[:, : 16 * 256].repeat(2, 1)
    with torch.no_grad():
        y_hat = student(task.mel_input(audio))
    out = task.train_step({"audio": audio}, 0)
    y = audio.unsqueeze(1)
    assert float(out["stft/if"]) == pytest.approx(float(InstantaneousFrequencyLoss()(y_hat, y)), rel=1e-4)
    assert float(out["stft/gd"]) == pytest.approx(float(GroupDelayLoss()(y_hat, y)), rel=1e-4)
    expected = sum(weights[k] * float(out[k]) for k in ("mel/loss", "stft/loss", "stft/if", "stft/gd"))
    assert float(out["gen/total"]) == pytest.approx(expected, rel=1e-5)
    assert "distil/mel" not in out  # no teacher, no distillation terms
    weights["stft/gd"] = 0.0
    task = GanVocoderTask(generator=student, gen_config=TINY, mel_config=MelConfig(),
                          train_config=TrainConfig(loss_weights=weights))
    task.setup(TaskContext(DistEnv()))
    assert "stft/gd" not in task.train_step({"audio": audio}, 1)

# -------------------------------------------------------------------------- supernet / search

def test_supernet_paths_extract_exactly(tmp_path):
    from hifilite.compress.search import path_choices
    from hifilite.compress.supernet import extract, sample_ranks, set_active_ranks, stage_max_ranks

    torch.manual_seed(0)
    cfg = FourierConfig(channels=64, blocks=3)
    sn = loud(build_generator(cfg))
    assert stage_max_ranks(sn) == [64, 3]
    choices = path_choices(sn)
    assert choices == [[16, 24, 32, 40, 48, 56, 64], [1, 2, 3]]
    mel = torch.randn(1, 80, 20) - 5
    with torch.no_grad():
        full = sn(mel)
        for path in ((64, 3), (24, 2), (16, 1)):
            set_active_ranks(sn, path)
            y_path = sn(mel)
            ctx = sn.receptive_field_frames()
            set_active_ranks(sn, None)
            sub, sub_cfg = extract(sn, cfg, path)
            assert (sub_cfg.channels, sub_cfg.blocks) == path and ctx == sub.receptive_field_frames()
            assert (sub(mel) - y_path).abs().max() < 1e-5
            assert sum(p.numel() for p in sub.parameters()) <= sum(p.numel() for p in sn.parameters())
        assert torch.equal(sn(mel), full)  # the whole supernet again after set_active_ranks(None)
    saved = save_generator(tmp_path / "sub.safetensors", sub, sub_cfg, MelConfig())
    assert load_vocoder(saved).gen_config == sub_cfg
    assert sample_ranks(choices, "smallest", None) == (16, 1)
    with pytest.raises(ConfigError):
        set_active_ranks(sn, (65, 1))


def test_search_over_width_and_depth(tmp_path):
    from hifilite.compress.search import run_search

    torch.manual_seed(0)
    cfg = FourierConfig(channels=32, blocks=2)
    sn, teacher = build_generator(cfg).eval(), loud(build_generator(cfg))
    mels = [torch.randn(1, 80, 12, generator=torch.Generator().manual_seed(i)) - 5 for i in range(2)]
    study, front = run_search(supernet=sn, config=cfg, teacher=teacher, mels=mels, mel_config=MelConfig(),
                              out_dir=tmp_path, trials=3, progress=False)
    assert len(study.trials) == 3 and front
    for r in front:
        assert r["x_real_time"] > 0 and r["mel_l1"] >= 0 and len(r["ranks"]) == 2
        assert r["params"] == sum(p.numel() for p in build_generator(
            dataclasses.replace(cfg, channels=r["ranks"][0], blocks=r["ranks"][1])).parameters())


def test_compress_run_fourier_family(tmp_path):
    """`hifilite compress run --family fourier` end to end on tiny data (one step per stage)."""
    import json

    from typer.testing import CliRunner

    import hifilite
    from hifilite.cli import app
    from hifilite.vocoder.generator import Generator

    from tests.helpers.corpora import make_ljspeech

    torch.manual_seed(0)
    t_cfg = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                            resblock="2", resblock_kernel_sizes=(3, 5), resblock_dilation_sizes=((1, 2), (2, 6)))
    teacher = save_generator(tmp_path / "teacher.safetensors",
                             Generator.from_config(t_cfg).eval().remove_weight_norm(), t_cfg, MelConfig())
    corpus = make_ljspeech(tmp_path / "lj", seconds=0.3)
    (tmp_path / "train.yaml").write_text("batch_size: 2\nsegment_size: 2048\nnum_workers: 0\n"
                                         "validation_items: 1\ncheckpoint_interval: 1\n")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, [
        "compress", "run", "--data", str(corpus), "-o", str(out), "--teacher", str(teacher), "--family", "fourier",
        "--steps", "1", "--trials", "2", "--config", str(tmp_path / "train.yaml"), "--baselines", "",
        "--no-ablation", "--eval-utterances", "1", "--metrics", "logmel_l1", "--bench-seconds", "0.2"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    width, depth = summary["chosen"]["ranks"]
    searched = hifilite.load_vocoder(out / "models" / "searched.safetensors")
    assert isinstance(searched.generator, FourierGenerator)
    assert (searched.gen_config.channels, searched.gen_config.blocks) == (width, depth)
    assert searched(torch.zeros(1, 80, 4) - 5).shape == (1, 1024)
    run_cfg = json.loads((out / "student" / "config.json").read_text())
    assert run_cfg["train"]["loss_weights"]["distil/gd"] == 1.0  # fine-tuned with the phase terms


def test_export_cli_onnx_cache_and_bench(preset_model, tmp_path, monkeypatch):
    """The family goes through the same deployment paths as the others: `hifilite export`, the ONNX
    cache behind `--backend onnx`, and the bench (eager and ONNX Runtime rows, MACs)."""
    from typer.testing import CliRunner

    from hifilite.cli import app
    from hifilite.deploy.cache import vocoder_onnx
    from hifilite.evaluate.bench import bench_models

    path, voc, mel = preset_model
    res = CliRunner().invoke(app, ["export", str(path), "-o", str(tmp_path / "cli.onnx")])
    assert res.exit_code == 0, res.output
    assert read_sidecar(tmp_path / "cli.json")["generator"] == to_dict(GENERATOR_PRESETS["fourier"])
    monkeypatch.setenv("HIFILITE_CACHE", str(tmp_path / "cache"))
    cached = vocoder_onnx(path)
    assert cached.is_file() and vocoder_onnx(path) == cached  # exported once, then reused
    rows = bench_models([str(path)], seconds=0.5, repeats=1, isolate=False, backends=("torch", "onnx"))
    assert [r["backend"] for r in rows] == ["torch", "onnx"]
    assert all(r["params"] == 806_018 and r["x_real_time"] > 0 for r in rows)
    assert rows[0]["macs_per_second"] == macs_per_second(voc.generator, sample_rate=SR, hop_length=256)


def test_compress_distil_cli_trains_the_preset_with_phase_terms(tmp_path):
    """`hifilite compress distil --student fourier --weight distil/if=1 --weight distil/gd=1`: the
    preset starts from seeded random weights, the phase terms are logged, the result reloads."""
    import json

    from typer.testing import CliRunner

    from hifilite.cli import app
    from hifilite.vocoder.generator import Generator

    from tests.helpers.corpora import make_ljspeech

    torch.manual_seed(0)
    t_cfg = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                            resblock="2", resblock_kernel_sizes=(3, 5), resblock_dilation_sizes=((1, 2), (2, 6)))
    teacher = save_generator(tmp_path / "teacher.safetensors",
                             Generator.from_config(t_cfg).eval().remove_weight_norm(), t_cfg, MelConfig())
    corpus = make_ljspeech(tmp_path / "lj", seconds=0.3)
    run = tmp_path / "run"
    res = CliRunner().invoke(app, [
        "compress", "distil", "--data", str(corpus), "-o", str(run), "--teacher", str(teacher), "--student", "fourier",
        "--steps", "2", "--batch-size", "2", "--segment-size", "2048", "--checkpoint-interval", "2", "--device", "cpu",
        "--weight", "distil/feat=0", "--weight", "distil/if=1", "--weight", "distil/gd=1"])
    assert res.exit_code == 0, res.output
    voc = load_vocoder(run / "generator.safetensors")
    assert voc.gen_config == GENERATOR_PRESETS["fourier"]
    stored = json.loads((run / "config.json").read_text())["train"]["loss_weights"]
    assert stored["distil/if"] == stored["distil/gd"] == 1.0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "logs" / "train"))
    events.Reload()
    assert {"distil/if", "distil/gd"} <= set(events.Tags()["scalars"])


# ---------------------------------------------------------------------------- the shipped joe-fourier

def test_shipped_joe_fourier_is_the_tts_vocoder_exports_and_streams(tmp_path):
    """joe-fourier: the `hifilite tts` default, self-describing (trained on the acoustic model's
    mels), a trained vocoder (its output's mel is close to its input's), ONNX parity <= 1e-4 and
    streams equal to offline <= 1e-4 in PyTorch and ONNX Runtime."""
    from hifilite.registry import DEFAULT_VOCODER, model_files, shipped
    from hifilite.vocoder.checkpoint import load_generator

    assert DEFAULT_VOCODER == "joe-fourier"
    path = model_files(shipped("vocoder")["joe-fourier"])[0]
    extra = load_generator(path)[3]
    assert "vocoder-mels" in extra["command"] and "--mels mixed" in extra["command"] and extra["step"] > 0
    voc = load_vocoder("joe-fourier")
    assert voc.gen_config == GENERATOR_PRESETS["fourier"] and voc.num_parameters() < 1_000_000
    mel = voc.mel(speechy(1.5))
    ref = voc.infer(mel)
    torch.manual_seed(0)
    untrained = load_vocoder(save_generator(tmp_path / "r.safetensors", loud(build_generator(voc.gen_config)),
                                            voc.gen_config, MelConfig()))
    err = lambda v: float((v.mel(v.infer(mel)[0].numpy()) - mel).abs().mean())  # noqa: E731
    assert err(voc) < 0.7 * err(untrained)  # 0.97 vs 1.57 on this synthetic voice (0.32 on a joe recording)
    pieces = list(voc.stream([mel[..., a:b] for a, b in split_frames(mel.shape[-1], [3, 1, 17, 5])]))
    assert (torch.cat(pieces, -1) - ref).abs().max().item() <= 1e-4
    onnx_path, side = export_onnx(path, tmp_path / "joe-fourier.onnx")
    assert read_sidecar(side)["parity_max_abs_diff"] <= 1e-4
    ort = OnnxVocoder(onnx_path, threads=1)
    assert np.abs(ort.generate(mel.numpy()) - ref.numpy()).max() <= 1e-4
    chunks = [mel[0, :, a:b].numpy() for a, b in split_frames(mel.shape[-1], [3, 11, 1])]
    assert np.abs(np.concatenate(list(ort.stream(chunks)), -1) - ref.numpy()).max() <= 1e-4
