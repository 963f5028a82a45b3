"""Offline corpus synthesis with the bundled Piper voice, the shipped sentence list, and
`hifilite corpus synth`. Real Piper synthesis of two short sentences: a few seconds on 2 cores."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from hifilite.audio import load_audio
from hifilite.data import (
    SPLITS,
    detect_layout,
    read_alignment,
    read_corpus,
    read_split_file,
    select_texts,
    shipped_sentences,
)
from hifilite.data import synth as synth_mod
from hifilite.data.synth import synthesize_corpus
from hifilite.errors import DataError

pytest.importorskip("piper")
pytest.importorskip("onnx")  # Piper needs it to expose the duration output

TEXTS = ["The cat sat on the warm mat.", "Is it raining? Yes, a little."]


# ---------------------------------------------------------------------------- sentence list


def test_shipped_sentences_are_varied_unique_and_well_formed():
    texts = shipped_sentences()
    assert len(texts) >= 600
    assert len(set(texts)) == len(texts)
    lengths = [len(t.split()) for t in texts]
    assert min(lengths) >= 4 and max(lengths) <= 30
    assert not any("|" in t or any(c.isdigit() for c in t) for t in texts)  # numbers as words
    assert sum(t.endswith("?") for t in texts) >= 50
    assert sum(t.endswith("!") for t in texts) >= 30
    assert sum('"' in t for t in texts) >= 30  # dialogue
    demo = lengths[:40]
    assert sum(8 <= n <= 20 for n in demo) >= 32  # the demo's sentences: mostly 2-6 s each
    assert {t[-1] for t in texts[:40]} >= {".", "?", "!"}


def test_select_texts_sources_and_errors(tmp_path):
    f = tmp_path / "texts.txt"
    f.write_text("\n  first line  \n\n\nsecond line\n   \n", encoding="utf-8")
    assert select_texts(texts_file=f) == ["first line", "second line"]
    assert select_texts(1, texts_file=f) == ["first line"]
    assert select_texts(3) == shipped_sentences()[:3]
    assert select_texts(["  a   b ", "", "c"]) == ["a b", "c"]
    with pytest.raises(DataError, match="has 2"):
        select_texts(5, texts_file=f)
    (tmp_path / "blank.txt").write_text("\n \n\t\n", encoding="utf-8")
    with pytest.raises(DataError, match="no text"):
        select_texts(texts_file=tmp_path / "blank.txt")
    with pytest.raises(DataError, match="cannot read"):
        select_texts(texts_file=tmp_path / "missing.txt")
    with pytest.raises(DataError, match="separator"):
        select_texts(["a|b"])
    with pytest.raises(DataError):
        select_texts(0)


# ------------------------------------------------------------------------------- synthesis


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return synthesize_corpus(tmp_path_factory.mktemp("synth") / "hl", TEXTS, progress=False)


def test_synthesized_corpus_layout(corpus):
    assert detect_layout(corpus) == "ljspeech"
    for name in ("metadata.csv", "splits.json", "corpus.json"):
        assert (corpus / name).is_file()
    rows = (corpus / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert rows == [f"HL-0001|{TEXTS[0]}|{TEXTS[0]}", f"HL-0002|{TEXTS[1]}|{TEXTS[1]}"]
    info = json.loads((corpus / "corpus.json").read_text())
    assert info["sample_rate"] == 22050 and info["hop_length"] == 256 and info["count"] == 2
    assert info["voice"] == "en_US-joe-medium" and info["generator"].startswith("hifilite ")
    # no temp files left behind by the atomic writes
    assert not [p for p in corpus.rglob(".*")]


def test_synthesized_utterances_read_back_with_alignments(corpus):
    utts = read_corpus(corpus)
    assert [(u.id, u.text, u.speaker) for u in utts] == [
        ("HL-0001", TEXTS[0], "joe"),
        ("HL-0002", TEXTS[1], "joe"),
    ]
    id_map = json.loads((corpus / "corpus.json").read_text())["phoneme_id_map"]
    for u in utts:
        info = sf.info(str(u.wav_path))
        assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
        align = read_alignment(u.alignment_path)
        assert align.text == u.text
        assert len(align.durations) == len(align.phoneme_ids) > 10
        assert all(d >= 0 for d in align.durations)
        # the alignment accounts for every sample: mel frames == sum(durations)
        assert info.frames == sum(align.durations) * 256 == align.num_samples
        assert align.phoneme_ids[0] == id_map["^"][0] and align.phoneme_ids[-1] == id_map["$"][0]
        wav, _ = load_audio(u.wav_path)
        assert 0.9 < np.abs(wav).max() <= 0.951  # peak-normalised, not clipped
        assert 0.5 < info.duration < 6.0
    # two sentences in one text: one sequence with two BOS/EOS pairs, one wav
    second = read_alignment(utts[1].alignment_path)
    assert second.phoneme_ids.count(id_map["^"][0]) == 2


def test_splits_cover_the_corpus(corpus):
    parts = read_split_file(corpus / "splits.json", read_corpus(corpus))
    assert sorted(u.id for k in SPLITS for u in parts[k]) == ["HL-0001", "HL-0002"]


def _counting_synth(monkeypatch):
    calls = []

    class Counting(synth_mod.PiperSynth):
        def __call__(self, text):
            calls.append(text)
            return super().__call__(text)

    monkeypatch.setattr(synth_mod, "PiperSynth", Counting)
    return calls


def test_rerun_is_idempotent_and_resumes_only_what_is_missing(corpus, monkeypatch):
    calls = _counting_synth(monkeypatch)
    wavs = sorted((corpus / "wavs").glob("*.wav"))
    before = {p: os.stat(p).st_mtime_ns for p in wavs}
    synthesize_corpus(corpus, TEXTS, progress=False)
    assert calls == []  # nothing re-synthesised, the voice was not even loaded
    assert {p: os.stat(p).st_mtime_ns for p in wavs} == before

    # an interrupted run: the wav of HL-0002 exists but its alignment was never written
    (corpus / "alignments" / "HL-0002.json").unlink()
    synthesize_corpus(corpus, TEXTS, progress=False)
    assert calls == [TEXTS[1]]
    assert os.stat(wavs[0]).st_mtime_ns == before[wavs[0]]
    align = read_alignment(corpus / "alignments" / "HL-0002.json")
    assert sf.info(str(wavs[1])).frames == align.num_samples


def test_changed_text_is_resynthesized(tmp_path, monkeypatch):
    out = synthesize_corpus(tmp_path / "c", ["Good morning to you."], progress=False)
    calls = _counting_synth(monkeypatch)
    synthesize_corpus(out, ["Good evening to you."], progress=False)
    assert calls == ["Good evening to you."]
    assert read_alignment(out / "alignments" / "HL-0001.json").text == "Good evening to you."


def test_cli_corpus_synth(tmp_path):
    from typer.testing import CliRunner

    from hifilite.cli import app

    texts = tmp_path / "t.txt"
    texts.write_text("\nHello there, friend.\n\n", encoding="utf-8")
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        app, ["corpus", "synth", "--out", str(out), "--texts", str(texts), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "1 utterances" in result.output
    assert [u.text for u in read_corpus(out)] == ["Hello there, friend."]

    result = CliRunner().invoke(app, ["corpus", "synth", "--out", str(out), "--sentences", "99999"])
    assert result.exit_code != 0 and isinstance(result.exception, DataError)
