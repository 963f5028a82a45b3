"""The phase-reconstruction family: RTPGHI against a reference PGHI and Griffin-Lim on fixtures, the
zero-parameter vocoders, the prior network (streaming, chunking, ONNX parity, checkpoint), its
regression training through the CLI, and the sidecar's phase entry."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hifilite.config import SIGNAL_VOCODERS, MelConfig, PriorConfig
from hifilite.deploy.export import export_onnx
from hifilite.errors import ConfigError, DataError
from hifilite.runtime import OnnxVocoder
from hifilite.runtime import pghi, stft
from hifilite.vocoder.api import load_vocoder
from hifilite.vocoder.checkpoint import save_generator
from hifilite.vocoder.prior import PriorGenerator
from hifilite.runtime.streaming import split_frames

from tests.helpers.corpora import make_ljspeech, speechy

SR = 22050
TINY = PriorConfig(channels=32, blocks=2, mlp_ratio=2.0)


def convergence(wav: np.ndarray, ref: np.ndarray, hop: int = 64) -> float:
    """Spectral convergence of `wav` against `ref` (Gaussian window, fine hop): 0 is perfect."""
    n = min(len(wav), len(ref))
    a, b = stft.stft_magnitude(wav[:n], hop=hop), stft.stft_magnitude(ref[:n], hop=hop)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def loud(gen: PriorGenerator) -> PriorGenerator:
    """A residual head with random weights, so the network's output differs from the floor."""
    torch.manual_seed(1)
    with torch.no_grad():
        gen.head.weight.normal_(0.0, 0.05)
        gen.head.bias.normal_(0.0, 0.3)
    return gen.eval()


@pytest.fixture(scope="module")
def prior_model(tmp_path_factory):
    gen = loud(PriorGenerator.from_config(TINY))
    path = save_generator(tmp_path_factory.mktemp("prior") / "p.safetensors", gen, TINY, MelConfig())
    voc = load_vocoder(path)
    return path, voc, voc.mel(speechy(1.2))


# ------------------------------------------------------------------------- phase reconstruction


def test_gaussian_window_and_its_gamma():
    win, gamma = stft.gaussian_window(1024)
    assert win.argmax() == 512 and win[0] == pytest.approx(0.01, rel=1e-6)
    l = np.arange(1024) - 512
    np.testing.assert_allclose(win, np.exp(-np.pi * l**2 / gamma), rtol=1e-12)


def zero_phase(mag: np.ndarray) -> np.ndarray:
    """The same framing and overlap-add with every phase 0: what integration has to beat."""
    win = stft.gaussian_window(1024)[0]
    segs = np.fft.irfft(mag.T, n=1024) * win
    n = mag.shape[1] * 256
    acc, den = np.zeros(n + 2048), np.zeros(n + 2048)
    for m, seg in enumerate(segs):
        s = 1024 + 128 + m * 256 - 512
        acc[s:s + 1024] += seg
        den[s:s + 1024] += win**2
    return (acc / np.maximum(den, 1e-8))[1024:1024 + n]


@pytest.mark.parametrize("hop", [256, 64])
def test_rtpghi_reconstructs_a_consistent_magnitude(hop):
    """From the true Gaussian-window magnitude, the rebuilt signal's spectrogram matches (spectral
    convergence 0.03-0.04 here), far closer than zero phase, and closer than 4 Griffin-Lim iterations."""
    y = speechy(1.0)
    mag = stft.stft_magnitude(y, hop=256)
    out = pghi.reconstruct(mag, hop=hop)
    assert out.shape == (mag.shape[1] * 256,) and out.dtype == np.float32
    sc = convergence(out, y)
    assert sc < 0.1, sc
    assert convergence(zero_phase(mag), y) > 5 * sc
    gl = stft.griffin_lim(stft.stft_magnitude(y, hop=256, window="hann"), iterations=4)
    assert convergence(gl, y) > sc


def test_griffin_lim_refines_a_given_phase_in_the_gaussian_framing():
    """Griffin-Lim started from a waveform takes that waveform's phase: from the signal itself (a
    consistent spectrogram) it returns the signal, and from PGHI's output it lowers the spectral
    convergence where a random start with the same iterations stays far worse."""
    y = speechy(1.0)
    mag = stft.stft_magnitude(y, hop=256)
    frames = mag.shape[1]
    same = stft.griffin_lim(mag, iterations=0, window="gaussian", init=y)
    assert np.allclose(same[1024:-1024], y[1024:frames * 256 - 1024], atol=1e-4)
    start = pghi.reconstruct(mag, hop=256)
    refined = stft.griffin_lim(mag, iterations=8, window="gaussian", init=start)
    random = stft.griffin_lim(mag, iterations=8, window="gaussian")
    assert convergence(refined, y) < convergence(start, y) < convergence(random, y)
    with pytest.raises(ValueError, match="window"):
        stft.griffin_lim(mag, iterations=1, window="gausian")
    with pytest.raises(ValueError, match="window"):
        stft.stft_magnitude(y, window="hamming")


def test_rtpghi_is_close_to_the_offline_reference():
    """pghipy (Průša's offline PGHI as published on PyPI) is the reference where it is installed."""
    ref = pytest.importorskip("pghipy")
    y = speechy(1.0)
    X = np.abs(ref.stft(y.astype(np.float64), win_length=1024, hop_length=256, window=ref.get_default_window(1024)[0]))
    win, gamma = ref.get_default_window(1024)
    ph = ref.pghi(X, win_length=1024, hop_length=256, gamma=gamma)
    theirs = ref.istft(X * np.exp(1j * ph), win_length=1024, hop_length=256, window=win,
                       synthesis_window=ref.calculate_synthesis_window(1024, 256, win), length=len(y))
    ours = pghi.reconstruct(stft.stft_magnitude(y, hop=256), hop=256)
    assert convergence(ours, y) < 1.15 * convergence(theirs, y)  # 0.049 vs 0.047 here: the causal version loses little


def test_stream_equals_offline_for_any_cut():
    y = speechy(0.8)
    mag = stft.stft_magnitude(y, hop=256)
    whole = pghi.reconstruct(mag, hop=128)
    for sizes in ([1], [2, 7], [5, 1, 13]):
        stream = pghi.PhaseStream(hop=128)
        parts = [stream.push(mag[:, a:b]) for a, b in split_frames(mag.shape[1], sizes)]
        parts.append(stream.finish())
        np.testing.assert_array_equal(np.concatenate(parts), whole)
    one = pghi.PhaseStream()
    first = one.push(mag[:, :3])
    assert first.size <= 3 * 256  # latency: a frame of look-ahead and half a window


def test_phase_stream_rejects_bad_input():
    with pytest.raises(DataError):
        pghi.PhaseStream(hop=100)
    stream = pghi.PhaseStream()
    with pytest.raises(DataError):
        stream.push(np.full((513, 2), np.nan))
    with pytest.raises(DataError):
        stream.push(np.ones((80, 2)))
    with pytest.raises(DataError):
        stream.finish()  # nothing pushed


# ------------------------------------------------------------------------ zero-parameter vocoders


@pytest.mark.parametrize("name", sorted(SIGNAL_VOCODERS))
def test_signal_vocoders_load_by_name_and_cover_the_whole_input(name):
    voc = load_vocoder(name)
    assert voc.phase_settings is not None and voc.num_parameters() == 0
    y = speechy(0.6)
    out = voc(voc.mel(y))
    assert out.shape == (1, (len(y) // 256) * 256)
    assert convergence(out[0].numpy(), y) < 0.5  # speech, not noise
    assert voc.infer(voc.mel(y), chunk_frames=8).shape == out.shape


def test_pghi_streams_and_griffin_lim_answers_at_the_end():
    voc = load_vocoder("pghi")
    mel = voc.mel(speechy(0.7))
    whole = voc(mel)
    parts = list(voc.stream([mel[..., a:b] for a, b in split_frames(mel.shape[-1], [3, 1])]))
    assert len(parts) > 3 and (torch.cat(parts, -1) - whole).abs().max() <= 1e-4
    gl = load_vocoder("griffin-lim")
    parts = [p for p in gl.stream([mel[..., a:b] for a, b in split_frames(mel.shape[-1], [5])]) if p.shape[-1]]
    assert len(parts) == 1 and (parts[0] - gl(mel)).abs().max() <= 1e-4


# ------------------------------------------------------------------------------ prior network


def test_untrained_network_is_the_floor_and_sizes():
    gen = PriorGenerator.from_config(PriorConfig())
    assert 0.7e6 < sum(p.numel() for p in gen.parameters()) < 1.0e6
    mel = load_vocoder("pghi").mel(speechy(0.4))
    torch.testing.assert_close(gen(mel), torch.clamp(gen.prior(mel), max=8.0))
    assert gen.receptive_field_frames() == 3 * 7


def test_prior_config_checks():
    with pytest.raises(ConfigError):
        PriorConfig(phase="vocos")
    with pytest.raises(ConfigError):
        PriorConfig(phase_hop=100)
    from hifilite.config import check_generator_mel

    with pytest.raises(ConfigError, match="fmax"):
        check_generator_mel(PriorConfig(), MelConfig(fmax=None))


def test_checkpoint_round_trip(prior_model):
    path, voc, mel = prior_model
    assert voc.phase_settings is not None and voc.gen_config == TINY
    again = PriorGenerator.from_config(TINY)
    again.load_state_dict(voc.generator.state_dict())
    torch.testing.assert_close(again.eval()(mel), voc.generator(mel))


@pytest.mark.parametrize("sizes", [[1], [4, 9], [30]])
def test_network_streams_equal_offline(prior_model, sizes):
    _, voc, mel = prior_model
    whole = voc(mel)
    parts = list(voc.stream([mel[..., a:b] for a, b in split_frames(mel.shape[-1], sizes)], max_frames=16))
    assert (torch.cat(parts, -1) - whole).abs().max() <= 1e-4
    assert (voc.infer(mel, chunk_frames=10) - whole).abs().max() <= 1e-4


def test_onnx_export_parity_and_runtime(prior_model, tmp_path):
    path, voc, mel = prior_model
    onnx, sidecar = export_onnx(path, tmp_path / "p.onnx")
    meta = json.loads(sidecar.read_text())
    assert meta["output"] == "logmag" and meta["phase"] == {"method": "pghi", "n_fft": 1024, "hop": 256,
                                                            "iterations": 32}
    assert meta["parity_max_abs_diff"] <= 1e-4
    rt = OnnxVocoder(onnx, threads=1)
    whole = voc(mel).numpy()
    assert np.abs(rt(mel.numpy()) - whole).max() <= 1e-4
    parts = list(rt.stream([mel.numpy()[..., a:b] for a, b in split_frames(mel.shape[-1], [2, 5])]))
    assert np.abs(np.concatenate(parts, -1) - whole).max() <= 1e-4


def test_sidecar_phase_is_checked(prior_model, tmp_path):
    from hifilite.runtime.sidecar import read_sidecar

    path, _, _ = prior_model
    _, sidecar = export_onnx(path, tmp_path / "p.onnx")
    meta = json.loads(sidecar.read_text())
    meta["phase"]["hop"] = 100
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match="phase hop"):
        read_sidecar(bad)


def test_cli_trains_the_prior_family_on_two_corpora(tmp_path):
    """`hifilite train --preset prior` on two tiny corpora: a regression step, a checkpoint, a
    loadable generator whose metadata names the task; the floor alone cannot be trained."""
    from typer.testing import CliRunner

    from hifilite.cli import app

    a = make_ljspeech(tmp_path / "a", seconds=0.4)
    b = make_ljspeech(tmp_path / "b", seconds=0.5)
    (tmp_path / "t.yaml").write_text("batch_size: 2\nvalidation_items: 1\ncheckpoint_interval: 2\n")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["train", "--preset", "prior", "--data", str(a), "--data", str(b), "--out", str(out),
                                   "--steps", "2", "--config", str(tmp_path / "t.yaml"), "--device", "cpu"])
    assert res.exit_code == 0, res.output
    voc = load_vocoder(out)
    assert voc.phase_settings is not None and voc.gen_config == PriorConfig()
    run = json.loads((out / "config.json").read_text())
    assert run["task"] == "prior" and run["train"]["loss_weights"] == {"mag/compressed": 1.0, "mag/log": 0.5}
    assert len(run["data"]["roots"]) == 2
    res = CliRunner().invoke(app, ["train", "--data", str(a), "--data", str(b), "--out", str(tmp_path / "gan")])
    assert res.exit_code != 0 and "prior family" in str(res.exception)


def test_prior_augmentation_is_configurable_and_kept_for_resume(tmp_path):
    """`--augment FILE` changes the augmented versions (not the recording's), gets its own feature
    cache entries, is stored in config.json, and a resumed run takes it from there; other families
    refuse it."""
    from typer.testing import CliRunner

    from hifilite.cli import app
    from hifilite.data.augment import AugmentConfig
    from hifilite.vocoder.prior_task import build_features

    corpus = make_ljspeech(tmp_path / "c", seconds=0.5)
    wavs = sorted((corpus / "wavs").glob("*.wav"))[:1]
    low = AugmentConfig(pitch_prob=1.0, pitch_semitones=(-12.0, -11.0), speed_prob=0.0, formant_prob=0.0)
    cache = tmp_path / "cache"
    cache.mkdir()
    default = build_features(wavs, PriorConfig(), 2, 0, cache)
    lowered = build_features(wavs, PriorConfig(), 2, 0, cache, augment_config=low)
    assert len(list(cache.glob("*.npz"))) == 2  # one entry per augmentation
    assert np.array_equal(default[0][0], lowered[0][0])  # version 0 is the recording either way
    assert not np.allclose(default[1][0], lowered[1][0])

    (tmp_path / "aug.yaml").write_text("pitch_prob: 1.0\npitch_semitones: [-12, -11]\n")
    (tmp_path / "t.yaml").write_text("batch_size: 2\nvalidation_items: 1\ncheckpoint_interval: 2\n")
    out = tmp_path / "run"
    args = ["train", "--preset", "prior", "--data", str(corpus), "--out", str(out), "--versions", "2",
            "--config", str(tmp_path / "t.yaml"), "--device", "cpu"]
    res = CliRunner().invoke(app, [*args, "--steps", "2", "--augment", str(tmp_path / "aug.yaml")])
    assert res.exit_code == 0, res.output
    run = json.loads((out / "config.json").read_text())
    assert run["data"]["augment"]["pitch_semitones"] == [-12.0, -11.0]
    res = CliRunner().invoke(app, ["train", "--data", str(corpus), "--out", str(out), "--versions", "2", "--resume",
                                   "--steps", "3", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "config.json").read_text())["data"]["augment"] == run["data"]["augment"]
    res = CliRunner().invoke(app, ["train", "--preset", "lite", "--data", str(corpus), "--out", str(tmp_path / "g"),
                                   "--augment", str(tmp_path / "aug.yaml")])
    assert res.exit_code != 0 and "--augment" in str(res.exception)
