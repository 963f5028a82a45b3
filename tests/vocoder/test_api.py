"""The inference API: mel shapes, chunked inference equals whole-input inference, input checks."""

import numpy as np
import pytest
import soundfile as sf
import torch

import hifilite
from hifilite.config import GeneratorConfig, MelConfig
from hifilite.errors import AudioError, DataError
from hifilite.vocoder.api import Vocoder
from hifilite.vocoder.generator import Generator


@pytest.fixture(scope="module")
def v3():
    torch.manual_seed(0)
    return hifilite.load_vocoder("v3")


def test_mel_from_path_resamples(tmp_path, v3):
    sr = 16000
    sf.write(tmp_path / "a.wav", 0.2 * np.sin(np.arange(sr) * 0.1), sr)
    mel = v3.mel(tmp_path / "a.wav")
    assert mel.shape == (1, 80, 22050 // 256)


@pytest.mark.parametrize("chunk", [7, 25, 64])
def test_chunked_equals_whole(v3, chunk):
    torch.manual_seed(1)
    mel = torch.randn(1, 80, 150) * 2 - 6  # log-mel-like range
    whole = v3.infer(mel, None)
    chunked = v3.infer(mel, chunk)
    assert chunked.shape == whole.shape == (1, 150 * 256)
    assert (chunked - whole).abs().max() <= 1e-4


@pytest.mark.parametrize("chunk", [5, 33])
def test_chunked_equals_whole_with_istft_head(chunk):
    torch.manual_seed(2)
    voc = hifilite.load_vocoder("lite")
    mel = torch.randn(1, 80, 90) * 2 - 6
    whole, chunked = voc.infer(mel, None), voc.infer(mel, chunk)
    assert chunked.shape == whole.shape == (1, 90 * 256)
    assert (chunked - whole).abs().max() <= 1e-4


def test_call_accepts_2d_and_numpy(v3):
    mel = np.random.default_rng(0).normal(-5, 2, (80, 9)).astype(np.float32)
    out = v3(mel)
    assert out.shape == (1, 9 * 256) and out.dtype == torch.float32


def test_bad_mels_and_audio_rejected(v3):
    bad = torch.zeros(1, 80, 5)
    bad[0, 3, 2] = float("nan")
    with pytest.raises(DataError, match="NaN"):
        v3(bad)
    with pytest.raises(DataError, match="shape"):
        v3(torch.zeros(1, 64, 5))
    with pytest.raises(DataError, match="zero frames"):
        v3(torch.zeros(1, 80, 0))
    with pytest.raises(AudioError, match="too short"):
        v3.mel(torch.zeros(10))


def test_vocoder_rejects_inconsistent_configs():
    gen_cfg = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                              resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 2),))
    with pytest.raises(hifilite.errors.ConfigError, match="hop"):
        Vocoder(Generator.from_config(gen_cfg), gen_cfg, MelConfig(hop_length=200, n_fft=1000, win_length=1000))


@pytest.mark.parametrize("name,made_by", [("joe-lite", "hifilite train"), ("joe-tiny", "hifilite compress distil")])
def test_shipped_students_are_self_describing(name, made_by):
    """The committed students load by name, are under 1 M parameters and record how they were made."""
    from hifilite.registry import model_files, shipped
    from hifilite.vocoder.checkpoint import load_generator

    voc = hifilite.load_vocoder(name)
    assert voc.num_parameters() < 1_000_000 and voc.hop_length == 256 and voc.sample_rate == 22050
    assert voc.gen_config.istft_n_fft > 0
    extra = load_generator(model_files(shipped("vocoder")[name])[0])[3]
    assert made_by in extra["command"] and extra["step"] > 0
    mel = voc.mel(np.sin(np.arange(22050) * 0.05).astype(np.float32) * 0.3)
    y = voc(mel)
    assert y.shape == (1, mel.shape[-1] * 256) and torch.isfinite(y).all()


def test_joe_tiny_is_joe_lite_with_low_rank_resblocks():
    lite, tiny = hifilite.load_vocoder("joe-lite"), hifilite.load_vocoder("joe-tiny")
    assert tiny.gen_config.resblock_conv == "lowrank" and tiny.gen_config.stage_ranks == (16, 8)
    assert tiny.num_parameters() < lite.num_parameters()
    # distilled from joe-lite: on speech-like input the two agree far better than an untrained student
    t = np.arange(22050) / 22050
    wav = (0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    mel = lite.mel(wav)
    with torch.no_grad():
        a, b = lite(mel), tiny(mel)
    assert float((lite.mel(b[0].numpy()) - lite.mel(a[0].numpy())).abs().mean()) < 1.0  # random weights: ~4.5


@pytest.mark.parametrize("old,new", [("lj-lite", "joe-lite"), ("lj-tiny", "joe-tiny")])
def test_renamed_students_name_their_new_name(old, new, tmp_path, capsys):
    import soundfile as sf

    from hifilite.cli import main

    with pytest.raises(hifilite.errors.ModelNotFoundError, match=f"renamed '{new}'.*use {new}$"):
        hifilite.load_vocoder(old)
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(2205, np.float32), 22050)
    with pytest.raises(SystemExit) as exit_:
        main(["vocode", str(wav), "-o", str(tmp_path / "out"), "-m", old])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 1 and err.startswith("error:") and err.endswith(f"use {new}") and "\n" not in err
