"""Audio I/O and the HiFi-GAN mel front-end against an independent numpy/librosa computation."""

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch

from hifilite.audio import MelSpectrogram, load_audio, save_audio
from hifilite.errors import AudioError


def reference_mel(wav, sr=22050, n_fft=1024, hop=256, win=1024, n_mels=80, fmin=0, fmax=8000):
    """Official HiFi-GAN mel written with numpy only (frames by slicing, rfft), librosa mel basis."""
    pad = (n_fft - hop) // 2
    x = np.pad(wav.astype(np.float64), (pad, pad), mode="reflect")
    window = np.zeros(n_fft)
    off = (n_fft - win) // 2
    window[off:off + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)  # periodic Hann
    n_frames = 1 + (len(x) - n_fft) // hop
    frames = np.stack([x[i * hop:i * hop + n_fft] * window for i in range(n_frames)], axis=1)
    spec = np.fft.rfft(frames, axis=0)
    mag = np.sqrt(spec.real**2 + spec.imag**2 + 1e-9)
    basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, norm="slaney", htk=False)
    return np.log(np.clip(basis @ mag, 1e-5, None))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"fmax": None},
        {"sample_rate": 16000, "n_fft": 512, "hop_length": 128, "win_length": 512, "n_mels": 64, "fmin": 50, "fmax": 7600},
        {"n_fft": 1024, "hop_length": 256, "win_length": 800},
    ],
)
def test_mel_matches_numpy_reference(kwargs):
    rng = np.random.default_rng(0)
    sr = kwargs.get("sample_rate", 22050)
    t = np.arange(sr) / sr
    wav = (0.4 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.standard_normal(sr)).astype(np.float32)
    mel_mod = MelSpectrogram(**kwargs)
    ours = mel_mod(torch.from_numpy(wav))[0].numpy()
    ref = reference_mel(
        wav, sr=sr, n_fft=mel_mod.n_fft, hop=mel_mod.hop_length, win=mel_mod.win_length,
        n_mels=mel_mod.n_mels, fmin=mel_mod.fmin, fmax=mel_mod.fmax,
    )
    assert ours.shape == ref.shape == (mel_mod.n_mels, len(wav) // mel_mod.hop_length)
    assert np.abs(ours - ref).max() <= 1e-4


def test_mel_buffers_move_with_module_and_batch():
    mel = MelSpectrogram()
    names = {n for n, _ in mel.named_buffers()}
    assert names == {"mel_basis", "window"}
    assert mel.state_dict() == {}  # non-persistent: never written into checkpoints
    x = torch.randn(3, 256 * 20) * 0.1
    out = mel(x)
    assert out.shape == (3, 80, 20)
    assert torch.allclose(out[1], mel(x[1])[0], atol=1e-5)


def test_load_audio_resamples_and_mixes_stereo(tmp_path):
    sr = 44100
    t = np.arange(sr) / sr
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    right = 0.1 * np.sin(2 * np.pi * 440 * t)
    sf.write(tmp_path / "s.flac", np.stack([left, right], 1), sr, subtype="PCM_24")
    wav, out_sr = load_audio(tmp_path / "s.flac", 22050)
    assert out_sr == 22050 and wav.dtype == np.float32 and wav.ndim == 1
    assert abs(len(wav) - 22050) <= 1
    # the mix is the mean of the channels: amplitude 0.3; the resampler keeps a 440 Hz tone intact
    assert 0.29 < np.abs(wav[2000:-2000]).max() < 0.31
    spectrum = np.abs(np.fft.rfft(wav))
    assert abs(np.argmax(spectrum) * 22050 / len(wav) - 440) < 2


def test_load_audio_int16_scaled(tmp_path):
    pcm = (np.ones(1000) * 16384).astype(np.int16)
    sf.write(tmp_path / "i.wav", pcm, 22050, subtype="PCM_16")
    wav, sr = load_audio(tmp_path / "i.wav")
    assert sr == 22050 and np.allclose(wav, 0.5)


@pytest.mark.parametrize("content", [b"", b"RIFF-not-really-a-wav" * 5])
def test_load_audio_rejects_empty_and_corrupt(tmp_path, content):
    p = tmp_path / "x.wav"
    p.write_bytes(content)
    with pytest.raises(AudioError, match="x.wav"):
        load_audio(p)


def test_load_audio_rejects_zero_length(tmp_path):
    sf.write(tmp_path / "z.wav", np.zeros(0, dtype=np.float32), 22050)
    with pytest.raises(AudioError, match="no samples"):
        load_audio(tmp_path / "z.wav")


def test_save_audio_is_atomic_and_clips(tmp_path):
    out = save_audio(tmp_path / "sub" / "a.wav", torch.tensor([[2.0, -2.0, 0.25]]), 22050)
    data, sr = sf.read(out, dtype="float32")
    assert sr == 22050 and data.shape == (3,)
    assert data[0] == pytest.approx(1.0, abs=1e-4) and data[1] == pytest.approx(-1.0, abs=1e-4)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["a.wav"]  # no temp files left
