"""Unseen-voice proxies: every test utterance shifted per speaker, readable as a corpus, pitch moved."""

import numpy as np

from hifilite.audio import load_audio
from hifilite.data.corpora import load_split
from hifilite.data.derive import shifted_voices

from tests.helpers.corpora import make_ljspeech


def _f0(wav, sr):
    import librosa

    f0 = librosa.yin(wav, fmin=60, fmax=600, sr=sr, frame_length=1024)
    return float(np.median(f0))


def test_shifted_voices(tmp_path):
    import soundfile as sf

    src = make_ljspeech(tmp_path / "lj", seconds=0.5)
    sr = 22050
    t = np.arange(int(0.6 * sr)) / sr
    sf.write(src / "wavs" / "LJ001-0001.wav", 0.3 * np.sin(2 * np.pi * 150 * t), sr)  # a clear pitch
    out = shifted_voices(src, tmp_path / "shift", (-4, 3), split="train")
    test = load_split(out, "test")
    n = len(load_split(src, "train"))
    speakers = {u.speaker for u in test}
    assert len(test) == 2 * n and len(speakers) == 2 and all(s.endswith(("-4st", "+3st")) for s in speakers)
    assert not load_split(out, "train")
    up = next(u for u in test if u.id.endswith("LJ001-0001") and "+3st" in u.id)
    wav, _ = load_audio(up.wav_path)
    assert abs(_f0(wav, sr) / 150 - 2 ** (3 / 12)) < 0.03
