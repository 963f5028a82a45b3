"""Corpus readers, layout detection, deterministic splits and `hifilite corpus info`."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from hifilite.audio import load_audio
from hifilite.data import (
    SPLITS,
    Utterance,
    detect_layout,
    load_split,
    read_corpus,
    read_folder,
    read_ljspeech,
    read_split_file,
    read_vctk,
    speaker_split,
    split_utterances,
    summarize_corpus,
)
from hifilite.errors import ConfigError, DataError

from tests.helpers.corpora import (
    LJ_ROWS,
    VCTK_SPEAKERS,
    make_folder,
    make_ljspeech,
    make_vctk_080,
    make_vctk_092,
    vctk_text,
    write_audio,
)

# ------------------------------------------------------------------------------------ LJSpeech


def test_ljspeech_reads_every_row_with_normalized_text(tmp_path):
    root = make_ljspeech(tmp_path / "LJSpeech-1.1")
    utts = read_ljspeech(root)
    assert [u.id for u in utts] == list(LJ_ROWS)  # metadata order
    expected = {uid: norm if norm is not None else raw for uid, (raw, norm) in LJ_ROWS.items()}
    assert {u.id: u.text for u in utts} == expected  # quotes kept (QUOTE_NONE), 2-field row ok
    assert {u.speaker for u in utts} == {"LJ"}
    assert all(u.wav_path == root / "wavs" / f"{u.id}.wav" for u in utts)
    assert all(u.alignment_path is None for u in utts)
    wav, sr = load_audio(utts[0].wav_path)
    assert sr == 22050 and wav.size > 0


def test_ljspeech_speaker_is_folder_name_and_alignments_are_found(tmp_path):
    root = make_ljspeech(tmp_path / "my_voice")
    (root / "alignments").mkdir()
    (root / "alignments" / "LJ001-0002.json").write_text("{}")
    utts = {u.id: u for u in read_ljspeech(root)}
    assert {u.speaker for u in utts.values()} == {"my_voice"}
    assert utts["LJ001-0002"].alignment_path == root / "alignments" / "LJ001-0002.json"
    assert utts["LJ001-0001"].alignment_path is None


def test_ljspeech_missing_wav_is_an_error_naming_it(tmp_path):
    root = make_ljspeech(tmp_path / "lj", missing=("LJ001-0003",))
    with pytest.raises(DataError, match="LJ001-0003"):
        read_ljspeech(root)


def test_ljspeech_missing_wav_can_be_skipped_with_a_warning(tmp_path):
    root = make_ljspeech(tmp_path / "lj", missing=("LJ001-0003",))
    with pytest.warns(UserWarning, match="1 metadata row"):
        utts = read_ljspeech(root, on_missing="skip")
    assert [u.id for u in utts] == [i for i in LJ_ROWS if i != "LJ001-0003"]


def test_ljspeech_without_metadata_or_with_duplicates_is_an_error(tmp_path):
    root = make_ljspeech(tmp_path / "lj")
    (root / "metadata.csv").rename(root / "other.csv")
    with pytest.raises(DataError, match="metadata.csv"):
        read_ljspeech(root)
    (root / "metadata.csv").write_text("LJ001-0001|a|a\nLJ001-0001|b|b\n")
    with pytest.raises(DataError, match="duplicate"):
        read_ljspeech(root)


# ---------------------------------------------------------------------------------------- VCTK


def _expected_vctk():
    return {
        f"{spk}_{n:03d}": ("" if spk == "p315" else vctk_text(spk, n), spk)
        for spk, nums in VCTK_SPEAKERS.items()
        for n in nums
    }


@pytest.mark.parametrize("make", [make_vctk_092, make_vctk_080], ids=["0.92", "0.80"])
def test_vctk_reads_one_utterance_per_sentence(tmp_path, make):
    root = make(tmp_path / "VCTK")
    utts = read_vctk(root)
    assert {u.id: (u.text, u.speaker) for u in utts} == _expected_vctk()
    assert [u.id for u in utts] == sorted(u.id for u in utts)
    assert all(u.wav_path.is_file() for u in utts)
    assert "p225_099" not in {u.id for u in utts}  # transcript without audio


def test_vctk_092_reads_mic1_by_default_and_mic2_on_request(tmp_path):
    root = make_vctk_092(tmp_path / "VCTK")
    mic1 = read_vctk(root)
    mic2 = read_vctk(root, mic="mic2")
    assert all(u.wav_path.name.endswith("_mic1.flac") for u in mic1)
    assert all(u.wav_path.name.endswith("_mic2.flac") for u in mic2)
    assert [u.id for u in mic1] == [u.id for u in mic2]
    with pytest.raises(ConfigError):
        read_vctk(root, mic="mic3")
    wav, sr = load_audio(mic1[0].wav_path)
    assert sr == 48000 and wav.size == 2400


def test_vctk_without_audio_folder_is_an_error(tmp_path):
    (tmp_path / "txt").mkdir()
    with pytest.raises(DataError, match="wav48"):
        read_vctk(tmp_path)


# -------------------------------------------------------------------------------------- folder


def test_folder_reads_nested_audio_with_sibling_transcripts(tmp_path):
    root = make_folder(tmp_path / "mine")
    utts = {u.id: u for u in read_folder(root)}
    assert set(utts) == {"alice/a1", "alice/a2", "bob/session/b1", "bob/a1"}
    assert utts["alice/a1"].text == "Hello from Alice."
    assert utts["alice/a2"].text == ""
    assert utts["bob/session/b1"].text == "Bob's label"
    assert {k: u.speaker for k, u in utts.items()} == {
        "alice/a1": "alice",
        "alice/a2": "alice",
        "bob/session/b1": "session",
        "bob/a1": "bob",
    }


def test_folder_with_no_audio_is_an_error(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match="no audio"):
        read_folder(tmp_path)


# ------------------------------------------------------------------------------- read_corpus


@pytest.mark.parametrize(
    "make, layout, count",
    [
        (make_ljspeech, "ljspeech", len(LJ_ROWS)),
        (make_vctk_092, "vctk", sum(map(len, VCTK_SPEAKERS.values()))),
        (make_vctk_080, "vctk", sum(map(len, VCTK_SPEAKERS.values()))),
        (make_folder, "folder", 4),
    ],
)
def test_read_corpus_detects_the_layout(tmp_path, make, layout, count):
    root = make(tmp_path / "c")
    assert detect_layout(root) == layout
    assert len(read_corpus(root)) == count


def test_read_corpus_missing_or_empty_folder_is_an_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_corpus(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no audio"):
        read_corpus(tmp_path / "empty")


# -------------------------------------------------------------------------------------- splits


def _utts(n: int, speakers: int = 1) -> list[Utterance]:
    return [Utterance(f"u{i:04d}", Path(f"u{i}.wav"), "", f"s{i % speakers}") for i in range(n)]


def _ids(parts):
    return {k: [u.id for u in v] for k, v in parts.items()}


def test_split_is_deterministic_disjoint_and_complete():
    utts = _utts(200)
    parts = split_utterances(utts, val=0.1, test=0.05, seed=3)
    assert set(parts) == set(SPLITS)
    ids = _ids(parts)
    assert (len(ids["train"]), len(ids["val"]), len(ids["test"])) == (170, 20, 10)
    all_ids = ids["train"] + ids["val"] + ids["test"]
    assert sorted(all_ids) == [u.id for u in utts]  # disjoint and covering
    assert _ids(split_utterances(utts, val=0.1, test=0.05, seed=3)) == ids


def test_split_is_independent_of_input_order():
    utts = _utts(100)
    shuffled = utts[:]
    random.Random(1).shuffle(shuffled)
    assert _ids(split_utterances(shuffled, seed=7)) == _ids(split_utterances(utts, seed=7))


def test_split_depends_on_the_seed_and_accepts_counts():
    utts = _utts(100)
    a, b = split_utterances(utts, val=5, test=5, seed=0), split_utterances(utts, val=5, test=5, seed=1)
    assert len(a["val"]) == len(a["test"]) == 5
    assert _ids(a)["test"] != _ids(b)["test"]


def test_split_of_three_utterances_fills_every_split():
    parts = split_utterances(_utts(3), val=0.01, test=0.01)
    assert [len(parts[k]) for k in SPLITS] == [1, 1, 1]


def test_split_rejects_bad_sizes_and_duplicate_ids():
    with pytest.raises(DataError, match="no training"):
        split_utterances(_utts(4), val=2, test=2)
    with pytest.raises(ConfigError):
        split_utterances(_utts(10), val=1.5)
    with pytest.raises(ConfigError):
        split_utterances(_utts(10), test=-1)
    with pytest.raises(DataError, match="unique"):
        split_utterances(_utts(3) + _utts(1))


def test_split_does_not_use_pythons_randomised_hash():
    code = (
        "from pathlib import Path; from hifilite.data import Utterance, split_utterances;"
        "u=[Utterance(f'x{i}', Path('a'), '', 's') for i in range(50)];"
        "print([x.id for x in split_utterances(u, val=5, test=5)['test']])"
    )
    outs = set()
    for hashseed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        outs.add(res.stdout)
    assert len(outs) == 1


def test_speaker_split_holds_out_exactly_the_listed_speakers():
    utts = _utts(120, speakers=6)
    parts = speaker_split(utts, ["s1", "s4"], val=0.1, seed=0)
    assert {u.speaker for u in parts["test"]} == {"s1", "s4"}
    assert len(parts["test"]) == 40
    seen = parts["train"] + parts["val"]
    assert {u.speaker for u in seen} == {"s0", "s2", "s3", "s5"}
    assert len(seen) == 80 and len(parts["val"]) == 8
    with pytest.raises(DataError, match="s9"):
        speaker_split(utts, ["s1", "s9"])


def test_speaker_split_on_vctk_with_default_list_needs_those_speakers(tmp_path):
    utts = read_vctk(make_vctk_092(tmp_path / "v"))
    with pytest.raises(DataError, match="p228"):  # the fixture has p226 and p248 but not p228
        speaker_split(utts)
    parts = speaker_split(utts, ["p226", "p248"], val=1)
    assert {u.speaker for u in parts["test"]} == {"p226", "p248"}


def test_split_file_overrides_hashing(tmp_path):
    root = make_ljspeech(tmp_path / "lj")
    spec = {
        "train": ["LJ001-0001", "LJ001-0002", "LJ002-0002"],
        "val": ["LJ001-0003"],
        "test": ["LJ002-0001"],
    }
    (root / "splits.json").write_text(json.dumps(spec))
    assert [u.id for u in load_split(root, "val")] == ["LJ001-0003"]
    assert [u.id for u in load_split(root, "train", seed=99)] == spec["train"]
    with pytest.raises(ConfigError):
        load_split(root, "valid")


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"train": ["LJ001-0001", "LJ001-0002", "LJ001-0003"], "test": ["nope"]}, "nope"),
        ({"train": ["LJ001-0001", "LJ001-0002"], "test": ["LJ002-0001"]}, "in no split"),
        ({"train": list(LJ_ROWS), "test": ["LJ002-0001"]}, "both"),
        ({"training": list(LJ_ROWS)}, "keys"),
    ],
)
def test_inconsistent_split_file_is_an_error(tmp_path, spec, message):
    root = make_ljspeech(tmp_path / "lj")
    (root / "splits.json").write_text(json.dumps(spec))
    with pytest.raises(DataError, match=message):
        read_split_file(root / "splits.json", read_ljspeech(root))


def test_load_split_without_split_file_matches_split_utterances(tmp_path):
    root = make_vctk_080(tmp_path / "v")
    expected = split_utterances(read_corpus(root), val=1, test=2, seed=5)
    for name in SPLITS:
        got = load_split(root, name, val=1, test=2, seed=5)
        assert [u.id for u in got] == [u.id for u in expected[name]]
    held = load_split(root, "test", held_out_speakers=["p315"])
    assert {u.speaker for u in held} == {"p315"}


# ---------------------------------------------------------------------------- summary and CLI


def test_summarize_corpus_counts_speakers_duration_and_splits(tmp_path):
    root = make_vctk_092(tmp_path / "v")
    write_audio(root / "wav48_silence_trimmed" / "p226" / "p226_009_mic1.flac", 1.0, sr=48000)
    s = summarize_corpus(root, val=1, test=1)
    assert s.layout == "vctk"
    assert s.utterances == 10
    assert s.speakers == {"p225": 3, "p226": 3, "p248": 2, "p315": 2}
    assert s.untranscribed == 3  # p315 (2) + the extra p226 file
    assert s.seconds == pytest.approx(9 * 0.05 + 1.0, abs=1e-3)
    assert s.splits == {"train": 8, "val": 1, "test": 1}
    assert s.split_source == "hash (seed 0)"


def test_cli_corpus_info_prints_a_table(tmp_path):
    from typer.testing import CliRunner

    from hifilite.cli import app

    root = make_ljspeech(tmp_path / "LJSpeech-1.1")
    result = CliRunner().invoke(app, ["corpus", "info", str(root)])
    assert result.exit_code == 0, result.output
    assert "ljspeech" in result.output and "LJ" in result.output
    assert "train 3, val 1, test 1" in result.output

    result = CliRunner().invoke(app, ["corpus", "info", str(tmp_path / "missing")])
    assert result.exit_code != 0
    assert isinstance(result.exception, DataError)


@pytest.mark.parametrize("n", [1, 2])
def test_split_of_tiny_corpora_keeps_everything_in_train(n):
    parts = split_utterances(_utts(n))
    assert [len(parts[k]) for k in SPLITS] == [n, 0, 0]
