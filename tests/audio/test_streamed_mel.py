"""Streamed mel extraction equals whole-file extraction, and `vocode` stays bounded in memory."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from hifilite.audio import MelSpectrogram, ReflectFramer, audio_blocks, load_audio, stream_log_mel
from hifilite.config import GeneratorConfig, MelConfig
from hifilite.errors import AudioError
from hifilite.vocoder.api import Vocoder
from hifilite.vocoder.generator import Generator

TINY = GeneratorConfig(upsample_initial_channel=16, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                       resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 2),))


def write_signal(path, n, sr, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 0.7 * t) + 0.05 * rng.standard_normal(n)
    data = np.stack([x * (1 - 0.3 * c) for c in range(channels)], 1) if channels > 1 else x
    sf.write(path, data.astype(np.float32), sr, subtype="FLOAT")
    return path


# (samples, file rate, channels): odd lengths, the shortest signals the reflect padding allows,
# lengths just around a hop, and inputs that are resampled (up and down) and mixed to mono
CASES = [(385, 22050, 1), (511, 22050, 1), (513, 22050, 2), (22050 * 2 + 17, 22050, 1),
         (16000 * 2 + 3, 16000, 1), (44100 + 101, 44100, 2), (8000 + 1, 8000, 1)]


@pytest.mark.parametrize("n,sr,channels", CASES)
@pytest.mark.parametrize("block,chunk", [(1000, 7), (777, 1), (3, 2), (1 << 16, 1024)])
def test_streamed_mel_equals_whole_file_mel(tmp_path, n, sr, channels, block, chunk):
    path = write_signal(tmp_path / "x.wav", n, sr, channels)
    whole, _ = load_audio(path, 22050)
    blocks = list(audio_blocks(path, 22050, block))
    assert np.array_equal(np.concatenate(blocks), whole)  # streamed read + resampling is exact
    mel_fn = MelSpectrogram()
    ref = mel_fn(torch.from_numpy(whole)[None])
    pieces = list(stream_log_mel(blocks, 1024, 256, chunk, lambda s: mel_fn(torch.from_numpy(s)[None], padded=True)))
    assert all(p.shape[-1] <= chunk for p in pieces)
    got = torch.cat(pieces, -1)
    assert got.shape == ref.shape == (1, 80, len(whole) // 256)
    assert (got - ref).abs().max() <= 1e-5


def test_framer_reproduces_reflect_padding_for_any_split():
    """The segments' frames are exactly the frames of the reflect-padded whole signal."""
    rng = np.random.default_rng(3)
    for n_fft, hop in ((16, 4), (10, 4), (8, 8)):
        pad = (n_fft - hop) // 2
        for n in (pad + 1, hop, 3 * hop + 1, 57):
            if n <= pad or n < hop:
                continue
            x = rng.standard_normal(n).astype(np.float32)
            padded = np.pad(x, pad, mode="reflect")
            want = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][: n // hop]
            cuts = np.sort(rng.choice(np.arange(1, n), size=min(5, n - 1), replace=False))
            framer = ReflectFramer(n_fft, hop, max_frames=2)
            segs = [s for part in np.split(x, cuts) for s in framer.push(part)] + framer.finish()
            got = np.concatenate([np.lib.stride_tricks.sliding_window_view(s, n_fft)[::hop] for s in segs])
            assert np.array_equal(got, want), (n_fft, hop, n)


def test_framer_rejects_too_short_signals():
    framer = ReflectFramer(1024, 256, 8)
    assert framer.push(np.zeros(384, dtype=np.float32)) == []
    with pytest.raises(AudioError, match="too short"):
        framer.finish()


def test_vocoder_mel_chunks_match_and_vocoding_streams_the_same_audio(tmp_path):
    torch.manual_seed(0)
    voc = Vocoder(Generator.from_config(TINY), TINY, MelConfig()).eval()
    path = write_signal(tmp_path / "y.wav", 16000 * 3 + 5, 16000)
    whole, _ = load_audio(path, 22050)
    ref = voc.mel_fn(torch.from_numpy(whole)[None])
    assert (voc.mel(path) - ref).abs().max() <= 1e-5
    chunks = list(voc.mel_chunks(path, 50))
    assert max(c.shape[-1] for c in chunks) == 50
    audio = torch.cat(list(voc.stream(voc.mel_chunks(path, 50), max_frames=64)), -1)
    assert (audio - voc.infer(ref)).abs().max() <= 1e-4


def test_numpy_runtime_mel_chunks_match(tmp_path):
    pytest.importorskip("librosa")
    from hifilite.runtime import LogMel

    path = write_signal(tmp_path / "z.wav", 44100 + 333, 44100, channels=2)
    whole, _ = load_audio(path, 22050)
    fn = LogMel()
    got = np.concatenate(list(stream_log_mel(audio_blocks(path, 22050, 999), 1024, 256, 33,
                                             lambda s: fn(s, padded=True))), -1)
    assert np.abs(got - fn(whole)).max() <= 1e-6


def test_bad_samples_in_a_late_block_are_reported(tmp_path):
    x = np.zeros(5000, dtype=np.float32) + 0.1
    x[4000] = np.nan
    sf.write(tmp_path / "n.wav", x, 22050, subtype="FLOAT")
    blocks = audio_blocks(tmp_path / "n.wav", 22050, 1000)  # opening is fine: header and rate are valid
    with pytest.raises(AudioError, match="NaN"):
        list(blocks)
