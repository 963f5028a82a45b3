"""`hifilite corpus import` / `hifilite.data.importer` on fixture folders laid out like the real
sources (a game's `sound/<level>/<language>/*.ogg`, KDE sound themes): odd rates, stereo, corrupt,
empty and silent files, folder splits, sound-theme transcripts."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifilite.audio import load_audio
from hifilite.data import corpus_splits, summarize_corpus
from hifilite.data.importer import ImportSettings, import_audio, split_long, trim_silence
from hifilite.errors import ConfigError, DataError

SR = 22050


def voiced(seconds: float, sr: int, freq: float = 180.0, seed: int = 0, lead: float = 0.3) -> np.ndarray:
    """`lead` s of silence, a harmonic tone of `seconds`, `lead` s of silence."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    tone = sum(0.2 / k * np.sin(2 * np.pi * k * freq * t) for k in range(1, 5)) + 0.002 * rng.standard_normal(t.size)
    pad = np.zeros(int(lead * sr))
    return np.concatenate([pad, tone, pad]).astype(np.float32)


def write(path: Path, wav: np.ndarray, sr: int, fmt: str | None = None, subtype: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), wav, sr, format=fmt, subtype=subtype)
    return path


@pytest.fixture()
def game(tmp_path: Path) -> Path:
    """sound/<level>/<lang>/*.ogg|wav at 44.1 / 16 / 8 kHz, one stereo file, a corrupt file, an
    empty file, a silent file and a `share/` folder of effects."""
    root = tmp_path / "sound"
    write(root / "city" / "cs" / "a.ogg", voiced(0.6, 44100, seed=1), 44100, "OGG")
    stereo = np.stack([voiced(0.5, 44100, seed=2), voiced(0.5, 44100, 220, seed=3)], axis=1)
    write(root / "city" / "cs" / "b.wav", stereo, 44100)
    write(root / "city" / "en" / "a.wav", voiced(0.4, 16000, seed=4), 16000)
    write(root / "dock" / "cs" / "c.wav", voiced(0.5, 8000, seed=5), 8000)
    write(root / "dock" / "cs" / "d.wav", voiced(0.5, SR, seed=6), SR)
    write(root / "lab" / "cs" / "e.wav", voiced(0.5, SR, seed=7), SR)
    write(root / "lab" / "cs" / "silent.wav", np.zeros(SR // 2, np.float32), SR)
    (root / "lab" / "cs" / "broken.ogg").write_bytes(b"OggS" + bytes(range(200)))
    (root / "lab" / "cs" / "empty.wav").write_bytes(b"")
    write(root / "share" / "bubble.wav", voiced(0.3, SR, seed=8), SR)
    return root


def rows_of(out: Path) -> dict[str, dict]:
    with (out / "manifest.csv").open(newline="") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


def test_import_resamples_mixes_trims_and_skips(game: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    settings = ImportSettings(test_folders=("lab",), val_folders=("dock",), exclude=("share",), licence="test data")
    with pytest.warns(UserWarning, match=r"skipped 3 of 9 file"):
        result = import_audio([game], out, settings)
    assert sorted(r["id"] for r in result.rows) == ["city-cs/a", "city-cs/b", "city-en/a", "dock-cs/c", "dock-cs/d",
                                                   "lab-cs/e"]
    reasons = {Path(s["source"]).name: s["reason"] for s in json.loads((out / "manifest.json").read_text())["skipped"]}
    assert set(reasons) == {"broken.ogg", "empty.wav", "silent.wav"}
    assert "empty" in reasons["empty.wav"] and "silent" in reasons["silent.wav"]
    for r in result.rows:  # every clip: mono, at the model rate, with its silent ends trimmed
        info = sf.info(str(out / f"{r['id']}.wav"))
        assert (info.samplerate, info.channels) == (SR, 1)
        source = sf.info(r["source"]).duration  # the tone with 0.3 s of silence at each end
        assert source - 0.62 < info.duration < source - 0.4
        assert info.duration == pytest.approx(float(r["seconds"]), abs=1e-3)
    rows = rows_of(out)
    assert rows["city-cs/b"]["source_channels"] == "2" and rows["city-cs/a"]["source_rate"] == "44100"
    assert rows["dock-cs/c"]["source_rate"] == "8000" and rows["city-en/a"]["source_rate"] == "16000"
    # stereo is the channel mean: both tones are in the mix-down
    b, _ = load_audio(out / "city-cs/b.wav")
    spec = np.abs(np.fft.rfft(b)) / len(b)
    freqs = np.fft.rfftfreq(len(b), 1 / SR)
    assert spec[np.argmin(abs(freqs - 180))] > 0.02 and spec[np.argmin(abs(freqs - 220))] > 0.02
    # folder splits: test voices never appear in train
    assert [r["id"] for r in result.rows if r["split"] == "test"] == ["lab-cs/e"]
    assert result.speakers("val") == ["dock-cs"]
    parts = corpus_splits(out)
    assert {u.id for u in parts["train"]} == {"city-cs/a", "city-cs/b", "city-en/a"}
    assert {u.speaker for u in parts["test"]}.isdisjoint({u.speaker for u in parts["train"]})
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["licence"] == "test data" and meta["summary"]["train"]["clips"] == 3
    summary = summarize_corpus(out)
    assert summary.unreadable == 0 and summary.splits == {"train": 3, "val": 2, "test": 1}


def test_reimport_reuses_and_removes_stale_clips(game: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    settings = ImportSettings(all_test=True, exclude=("share", "*/broken.ogg", "*/empty.wav", "*/silent.wav"))
    first = import_audio([game], out, settings)
    before = (out / "city-cs/a.wav").read_bytes()
    again = import_audio([game], out, settings)
    assert again.reused == len(again.rows) == len(first.rows) == 6
    assert (out / "city-cs/a.wav").read_bytes() == before
    fewer = import_audio([game], out, ImportSettings(all_test=True, trim_db=30.0, exclude=(*settings.exclude, "dock")))
    assert fewer.reused == 0 and not (out / "dock-cs" / "c.wav").exists()
    assert len(corpus_splits(out)["test"]) == 4


def test_speaker_depth_val_fraction_and_min_duration(game: Path, tmp_path: Path) -> None:
    settings = ImportSettings(speaker_depth=1, test_folders=("lab",), val_fraction=0.5, min_seconds=0.6,
                              exclude=("share",))
    with pytest.warns(UserWarning):
        result = import_audio([game], tmp_path / "c", settings)
    assert result.speakers() == ["city", "dock", "lab"]
    ids = {r["id"] for r in result.rows}
    assert "city/cs-a" in ids and "city/en-a" not in ids  # city/en/a.wav (0.4 s) is too short
    assert {r["split"] for r in result.rows if r["speaker"] != "lab"} <= {"train", "val"}


def test_soundtheme_transcripts(tmp_path: Path) -> None:
    root = tmp_path / "sounds"
    write(root / "en" / "ball.ogg", voiced(0.4, 44100), 44100, "OGG")
    write(root / "fr" / "balle.ogg", voiced(0.4, 44100, seed=1), 44100, "OGG")
    write(root / "fr" / "chapeau.opus", voiced(0.4, 48000, seed=2), 48000, "OGG", "OPUS")
    (root / "en.soundtheme").write_text('<language code="en">\n <sound name="ball" file="en/ball.ogg" />\n</language>')
    (root / "fr.soundtheme").write_text('<language code="fr">\n <sound name="ball" file="fr/balle.wav" />\n'
                                        ' <sound name="hat" file="fr/chapeau.wav" />\n</language>')
    result = import_audio([root], tmp_path / "k", ImportSettings(all_test=True))
    assert {r["id"]: r["text"] for r in result.rows} == {"en/ball": "ball", "fr/balle": "ball", "fr/chapeau": "hat"}
    assert (tmp_path / "k" / "fr" / "chapeau.txt").read_text().strip() == "hat"
    assert {u.text for u in corpus_splits(tmp_path / "k")["test"]} == {"ball", "hat"}
    none = import_audio([root], tmp_path / "n", ImportSettings(all_test=True), text="none")
    assert all(r["text"] == "" for r in none.rows)


def test_long_clip_is_cut_at_pauses() -> None:
    parts = [voiced(1.0, SR, seed=i, lead=0.0) for i in range(3)]
    gap = np.zeros(int(0.4 * SR), np.float32)
    wav = np.concatenate([parts[0], gap, parts[1], gap, parts[2]])
    pieces = split_long(wav, SR, 2.5, 40.0)  # the first two parts and their pause fit, the third does not
    assert len(pieces) == 2 and all(len(p) <= 2.5 * SR for p in pieces)
    first = len(parts[0]) + len(gap) + len(parts[1])
    assert first <= len(pieces[0]) <= first + len(gap) // 2 + 1
    assert np.array_equal(pieces[0][:first], wav[:first])  # starts at the start, cut inside the second pause
    assert np.abs(pieces[0][first:]).max() == 0
    assert np.array_equal(pieces[1][-len(parts[2]):], parts[2])
    # no pause at all: equal pieces
    steady = split_long(voiced(5.0, SR, lead=0.0), SR, 2.0, 40.0)
    assert len(steady) == 3 and max(map(len, steady)) - min(map(len, steady)) <= 1
    assert len(trim_silence(voiced(1.0, SR), SR, 40.0, 0.0)) == pytest.approx(SR, abs=1100)  # of 1.6 s, frame slack


def test_bad_settings_and_sources(game: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        import_audio([game], tmp_path / "x", ImportSettings(all_test=True, test_folders=("lab",)))
    with pytest.raises(DataError, match="does not exist"):
        import_audio([tmp_path / "nope"], tmp_path / "x")
    with pytest.raises(DataError, match="no training clips"), pytest.warns(UserWarning):
        import_audio([game], tmp_path / "y", ImportSettings(test_folders=("*",)))


def test_cli_import(game: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, "-m", "hifilite", "corpus", "import", str(game), "-o", str(out), "--test-folders", "lab",
         "--exclude", "share", "--licence", "fixture", "-q"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "skipped 3 of 9" in proc.stdout and "train" in proc.stdout
    assert json.loads((out / "splits.json").read_text())["test"] == ["lab-cs/e"]
    bad = subprocess.run([sys.executable, "-m", "hifilite", "corpus", "import", str(tmp_path / "nope"), "-o",
                          str(tmp_path / "z")], capture_output=True, text=True, check=False)
    assert bad.returncode != 0 and "does not exist" in bad.stderr + bad.stdout
