"""Training dataset: segment sampling, whole-utterance validation, .npy mels, the resumable sampler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from hifilite.config import MelConfig
from hifilite.data.dataset import SILENCE_LOG_MEL, EpochSampler, VocoderDataset
from hifilite.errors import ConfigError, DataError

SR, HOP = 22050, 256
MEL = MelConfig()


@dataclass(frozen=True)
class Utt:
    id: str
    wav_path: Path


def write_wav(path: Path, wav: np.ndarray) -> Utt:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wav.astype(np.float32), SR, subtype="PCM_16")
    return Utt(path.stem, path)


def ramp_utt(tmp_path: Path, name: str, frames: int, mel_frames: int | None = None) -> Utt:
    """Audio whose every sample encodes its frame index (t // hop / 4000), and a mel whose every
    value is a quarter of the frame index (a log-mel range): an aligned window has
    audio[0] * 4000 == mel[0, 0] * 4."""
    audio = (np.arange(frames * HOP) // HOP) / 4000.0
    utt = write_wav(tmp_path / "wavs" / f"{name}.wav", audio)
    n = frames if mel_frames is None else mel_frames
    np.save(utt.wav_path.with_suffix(".npy"), np.tile(np.arange(n, dtype=np.float32) / 4, (MEL.n_mels, 1)))
    return utt


@pytest.fixture()
def clips(tmp_path: Path) -> list[Utt]:
    rng = np.random.default_rng(0)
    return [write_wav(tmp_path / "wavs" / f"c{i}.wav", 0.2 * rng.standard_normal(n))
            for i, n in enumerate([9000, 1000, 20000])]


def test_training_items_are_fixed_size_segments_and_short_clips_are_zero_padded(clips):
    ds = VocoderDataset(clips, mel=MEL, segment_size=2048, seed=1)
    for i in range(len(ds)):
        assert ds[(i, 0)]["audio"].shape == (2048,)
    short = ds[(1, 0)]["audio"]
    assert torch.all(short[1000:] == 0) and short[:1000].abs().max() > 0
    assert "mel" not in ds[(0, 0)]
    # Peak-normalised to 0.95 (the official recipe for training on audio).
    assert short.abs().max() == pytest.approx(0.95, abs=1e-4)


def test_segment_offsets_depend_only_on_seed_epoch_and_index(clips):
    a = VocoderDataset(clips, mel=MEL, segment_size=2048, seed=1)
    b = VocoderDataset(clips, mel=MEL, segment_size=2048, seed=1)
    assert torch.equal(a[(2, 5)]["audio"], b[(2, 5)]["audio"])
    assert not torch.equal(a[(2, 5)]["audio"], a[(2, 6)]["audio"])


def test_validation_items_are_whole_utterances_cut_to_whole_hops(clips):
    ds = VocoderDataset(clips, mel=MEL, segment_size=None)
    assert ds[0]["audio"].shape == (9000 // HOP * HOP,)
    assert ds[2]["audio"].shape == (20000 // HOP * HOP,)


def test_segment_size_must_be_a_multiple_of_the_hop(clips):
    with pytest.raises(ConfigError, match="multiple of hop"):
        VocoderDataset(clips, mel=MEL, segment_size=2000)


def test_npy_mel_window_and_audio_window_are_aligned(tmp_path):
    utt = ramp_utt(tmp_path, "r", frames=40)
    ds = VocoderDataset([utt], mel=MEL, segment_size=8 * HOP, mel_source="npy", seed=3)
    for epoch in range(5):
        item = ds[(0, epoch)]
        mel, audio = item["mel"].numpy(), item["audio"].numpy()
        assert mel.shape == (MEL.n_mels, 8) and audio.shape == (8 * HOP,)
        frames_from_audio = np.round(audio[::HOP] * 4000)
        np.testing.assert_array_equal(frames_from_audio, mel[0] * 4)
    whole = VocoderDataset([utt], mel=MEL, segment_size=None, mel_source="npy")[0]
    assert whole["mel"].shape == (MEL.n_mels, 40) and whole["audio"].shape == (40 * HOP,)


def test_mixed_source_takes_the_npy_mel_or_the_windows_own_mel_by_a_coin(tmp_path):
    """`--mels mixed`: both inputs over epochs, each over the same aligned audio window; the audio
    mel is the front-end's of that window; validation (whole utterances) takes the .npy mel."""
    from hifilite.audio import MelSpectrogram

    utt = ramp_utt(tmp_path, "r", frames=40)
    ds = VocoderDataset([utt], mel=MEL, segment_size=8 * HOP, mel_source="mixed", seed=3)
    front = MelSpectrogram.from_config(MEL)
    kinds = []
    for epoch in range(12):
        item = ds[(0, epoch)]
        mel, audio = item["mel"].numpy(), item["audio"].numpy()
        assert mel.shape == (MEL.n_mels, 8) and audio.shape == (8 * HOP,)
        if np.array_equal(np.round(audio[::HOP] * 4000), mel[0] * 4):
            kinds.append("npy")
        else:
            np.testing.assert_allclose(mel, front(torch.from_numpy(audio)[None])[0].numpy(), atol=1e-6)
            kinds.append("audio")
        assert np.array_equal(ds[(0, epoch)]["mel"].numpy(), mel)  # a pure function of (index, epoch)
    assert set(kinds) == {"npy", "audio"}
    whole = VocoderDataset([utt], mel=MEL, segment_size=None, mel_source="mixed")[0]
    np.testing.assert_array_equal(whole["mel"].numpy()[0], np.arange(40) / 4)
    utt.wav_path.with_suffix(".npy").unlink()
    with pytest.raises(DataError, match="vocoder-mels"):
        VocoderDataset([utt], mel=MEL, segment_size=8 * HOP, mel_source="mixed")


def test_npy_mel_shorter_than_a_segment_is_padded_with_silence(tmp_path):
    utt = ramp_utt(tmp_path, "s", frames=5)
    item = VocoderDataset([utt], mel=MEL, segment_size=8 * HOP, mel_source="npy")[(0, 0)]
    assert item["mel"].shape == (MEL.n_mels, 8)
    assert torch.all(item["mel"][:, 5:] == SILENCE_LOG_MEL)
    assert torch.all(item["audio"][5 * HOP:] == 0)


def test_npy_with_nan_is_a_data_error_naming_the_file(tmp_path):
    utt = ramp_utt(tmp_path, "bad", frames=20)
    mel = np.load(utt.wav_path.with_suffix(".npy"))
    mel[3, 7] = np.nan
    np.save(utt.wav_path.with_suffix(".npy"), mel)
    ds = VocoderDataset([utt], mel=MEL, segment_size=8 * HOP, mel_source="npy")
    with pytest.raises(DataError, match=r"bad\.npy.*NaN"):
        ds[(0, 0)]


@pytest.mark.parametrize("problem", ["missing", "shape", "length"])
def test_unusable_npy_files_are_data_errors(tmp_path, problem):
    utt = ramp_utt(tmp_path, "u", frames=20, mel_frames=60 if problem == "length" else None)
    npy = utt.wav_path.with_suffix(".npy")
    if problem == "missing":
        npy.unlink()
    if problem == "shape":
        np.save(npy, np.zeros((40, 20), dtype=np.float32))
    with pytest.raises(DataError, match=r"u\.npy"):
        VocoderDataset([utt], mel=MEL, segment_size=8 * HOP, mel_source="npy")[(0, 0)]


def test_sampler_shards_ranks_disjointly_and_resumes_mid_epoch():
    full = [list(EpochSampler(10, batch_size=2, rank=r, world_size=2, seed=4)) for r in range(2)]
    assert all(len(f) == 4 for f in full)  # 10 items -> 2 global batches of 2 x 2
    assert not {i for i, _ in full[0]} & {i for i, _ in full[1]}
    s = EpochSampler(10, batch_size=2, rank=0, world_size=2, seed=4)
    s.set_epoch(0, start_batch=1)
    assert list(s) == full[0][2:] and len(s) == 2
    s.set_epoch(1)
    assert list(s) != full[0] and all(e == 1 for _, e in s)


def test_sampler_refuses_fewer_items_than_one_batch():
    with pytest.raises(DataError, match="fewer than batch_size"):
        EpochSampler(3, batch_size=2, world_size=2)
