"""Acoustic data: duration rounding, TextGrid reading, phoneme averages, cached features."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hifilite.data.features import (
    AcousticDataset,
    collate,
    interpolate_log_f0,
    load_features,
    log_energy,
    phoneme_average,
    prepare_features,
    read_stats,
)
from hifilite.data.alignment import durations_from_boundaries, textgrid_alignment
from hifilite.errors import DataError

from tests.helpers.aligned_corpus import make_aligned_corpus


def test_duration_rounding_rule_is_exact():
    sr, hop = 22050, 256
    frame = hop / sr
    # boundaries at 1.4, 2.5 (half rounds up), 4.49 and 7.0 frames
    d = durations_from_boundaries([1.4 * frame, 2.5 * frame, 4.49 * frame, 7.0 * frame], sample_rate=sr, hop_length=hop)
    assert d.tolist() == [1, 2, 1, 3] and d.sum() == 7
    # no accumulated error: 100 intervals of 1.3 frames each end at round(130) frames
    ends = np.cumsum(np.full(100, 1.3 * frame))
    d = durations_from_boundaries(ends, sample_rate=sr, hop_length=hop)
    assert d.sum() == 130 and set(d.tolist()) <= {1, 2}
    assert np.all(np.abs(np.cumsum(d) - np.arange(1, 101) * 1.3) <= 0.5 + 1e-9)
    # the last boundary snaps to the audio's frame count within the tolerance
    d = durations_from_boundaries([2 * frame, 7.2 * frame], sample_rate=sr, hop_length=hop, num_frames=8)
    assert d.tolist() == [2, 6]
    with pytest.raises(DataError, match="audio has"):
        durations_from_boundaries([2 * frame, 7.2 * frame], sample_rate=sr, hop_length=hop, num_frames=20)
    with pytest.raises(DataError):
        durations_from_boundaries([0.5, 0.2], sample_rate=sr, hop_length=hop)


TEXTGRID = '''File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1.0
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 1.0
        intervals: size = 1
        intervals [1]:
            xmin = 0
            xmax = 1.0
            text = "hi"
    item [2]:
        class = "IntervalTier"
        name = "phones"
        xmin = 0
        xmax = 1.0
        intervals: size = 5
        intervals [1]:
            xmin = 0
            xmax = 0.1
            text = ""
        intervals [2]:
            xmin = 0.1
            xmax = 0.35
            text = "HH"
        intervals [3]:
            xmin = 0.35
            xmax = 0.7
            text = "AY1"
        intervals [4]:
            xmin = 0.7
            xmax = 0.8
            text = "sp"
        intervals [5]:
            xmin = 0.8
            xmax = 1.0
            text = "sil"
'''


def test_textgrid_alignment(tmp_path):
    pytest.importorskip("praatio")
    path = tmp_path / "LJ001-0001.TextGrid"
    path.write_text(TEXTGRID, encoding="utf-8")
    frames = 22050 // 256  # one second of audio
    align = textgrid_alignment(path, sample_rate=22050, hop_length=256, num_frames=frames)
    assert align.phones == ["sil", "HH", "AY1", "sil"]  # trailing sp + sil merged
    assert align.durations.sum() == frames
    # boundaries 0.1, 0.35, 0.7 s -> frames 9, 30, 60; the end is the audio's 86
    assert align.durations.tolist() == [9, 21, 30, 26]
    with pytest.raises(DataError, match="no tier"):
        textgrid_alignment(path, sample_rate=22050, hop_length=256, num_frames=frames, tier="syllables")
    (tmp_path / "bad.TextGrid").write_text("garbage", encoding="utf-8")
    with pytest.raises(DataError):
        textgrid_alignment(tmp_path / "bad.TextGrid", sample_rate=22050, hop_length=256, num_frames=frames)


def test_phoneme_average_and_f0_interpolation():
    v = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    assert phoneme_average(v, np.array([2, 0, 3])).tolist() == [2.0, 0.0, 7.0]
    with pytest.raises(DataError):
        phoneme_average(v, np.array([2, 2]))
    lf0 = interpolate_log_f0(np.array([0.0, 100.0, 0.0, 400.0, 0.0]))
    assert np.allclose(np.exp(lf0), [100, 100, 200, 400, 400])
    assert np.all(interpolate_log_f0(np.zeros(3)) == 0)


def test_prepare_caches_features_and_resumes(tmp_path):
    corpus = make_aligned_corpus(tmp_path / "c")
    out = prepare_features(corpus, progress=False)
    stats = read_stats(corpus)
    assert stats["symbols"]["kind"] == "espeak" and "^" in stats["symbols"]["id_map"]
    assert set(stats) >= {"pitch", "energy", "splits", "mel", "pitch_backend"}
    f = load_features(out / "features" / "HL-0001.npz")
    align = json.loads((corpus / "alignments" / "HL-0001.json").read_text())
    assert f.ids.tolist() == align["phoneme_ids"] and f.durations.tolist() == align["durations"]
    assert f.mel.shape == (80, sum(align["durations"]))
    # pitch of a long tone phoneme close to its frequency
    d = np.array(align["durations"])
    assert np.all(f.pitch[d == 0] == 0) and np.all(f.energy[d > 0] > 0)
    mtime = (out / "features" / "HL-0001.npz").stat().st_mtime_ns
    (out / "features" / "HL-0002.npz").write_bytes(b"truncated")
    prepare_features(corpus, progress=False)
    assert (out / "features" / "HL-0001.npz").stat().st_mtime_ns == mtime  # kept
    load_features(out / "features" / "HL-0002.npz")  # rebuilt
    ds = AcousticDataset(corpus, "train")
    batch = collate([ds[(0, 0)], ds[1]])
    assert batch["mel"].shape[0] == 2 and batch["mel"].shape[-1] == 80
    assert batch["mel_lens"].tolist() == [int(ds[0]["durations"].sum()), int(ds[1]["durations"].sum())]
    assert abs(float(np.concatenate([ds[i]["pitch"][ds[i]["durations"] > 0].numpy() for i in range(len(ds))]).mean())) < 1e-4
    # energy on the log scale: z-scores of log(energy + floor) with the train split's statistics
    log_ds = AcousticDataset(corpus, "train", energy="log")
    stats = read_stats(corpus)  # as rewritten by the resumed prepare
    for i in range(len(ds)):
        has = (f := load_features(out / "features" / f"{ds.ids[i]}.npz")).durations > 0
        es, ls = stats["energy"], stats["energy_log"]
        np.testing.assert_allclose(ds[i]["energy"].numpy()[has], (f.energy[has].astype(np.float64) - es["mean"]) / es["std"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(log_ds[i]["energy"].numpy()[has],
                                   (np.log(f.energy[has].astype(np.float64) + 1e-2) - ls["mean"]) / ls["std"], rtol=1e-5, atol=1e-6)
        assert np.all(log_ds[i]["energy"].numpy()[~has] == 0)
    train_log = np.concatenate([log_ds[i]["energy"][log_ds[i]["durations"] > 0].numpy() for i in range(len(ds))])
    assert abs(train_log.mean()) < 1e-4 and abs(train_log.std() - 1) < 1e-3
    assert ls["min"] == pytest.approx(float(np.concatenate([log_energy(load_features(
        out / "features" / f"{u}.npz").energy[load_features(out / "features" / f"{u}.npz").durations > 0])
        for u in stats["splits"]["train"]]).min()))
    # features prepared before log-energy statistics existed: a clear error naming the fix
    old = json.loads((out / "stats.json").read_text())
    del old["energy_log"]
    (out / "stats.json").write_text(json.dumps(old))
    AcousticDataset(corpus, "train")  # linear energy still works
    with pytest.raises(DataError, match="acoustic prepare"):
        AcousticDataset(corpus, "train", energy="log")
    prepare_features(corpus, progress=False)  # re-running prepare adds them
    assert read_stats(corpus)["energy_log"] == ls


def test_prepare_errors(tmp_path):
    corpus = make_aligned_corpus(tmp_path / "c", n=3)
    align = json.loads((corpus / "alignments" / "HL-0002.json").read_text())
    align["durations"][0] += 5
    (corpus / "alignments" / "HL-0002.json").write_text(json.dumps(align))
    with pytest.raises(DataError, match="durations sum"):
        prepare_features(corpus, progress=False)
    with pytest.raises(DataError, match="acoustic prepare"):
        read_stats(tmp_path / "elsewhere")
