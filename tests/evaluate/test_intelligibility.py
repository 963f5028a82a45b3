"""Intelligibility: WER/CER arithmetic on hand-checked transcripts, the shared normalisation, the
real recogniser on speech and noise, the held-out sentences and `hifilite evaluate --asr`."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from hifilite.errors import ConfigError, DataError
from hifilite.evaluate.intelligibility import (LENGTH_BUCKETS, Recognizer, audio_files, bucket_of, heldout_sentences,
                                               normalize_transcript, score, score_files)

pytest.importorskip("jiwer")


@pytest.mark.parametrize("raw,expected", [
    ("I have 5 cats.", "i have five cats"),
    ("Mr. Lee's flight leaves at 7:30!", "mister lees flight leaves at seven thirty"),
    ("It costs $45, about 20% more.", "it costs forty five dollars about twenty percent more"),
    ("The 1st of June, 1932", "the first of june nineteen thirty two"),
    ("<s> hello [NOISE] world(2) </s>", "hello world"),  # recogniser fillers and alternates
    ("  Well -- that's   it/done  ", "well thats it done"),
    ("see you at 9 p.m. in the U.S.", "see you at nine pm in the us"),  # letters joined, either spelling
    ("see you at nine PM in the U S", "see you at nine pm in the us"),
    ("I am a fan", "i am a fan"),
])
def test_normalisation_is_shared_by_references_and_transcripts(raw, expected):
    assert normalize_transcript(raw) == expected


def test_corpus_wer_counts_edits_over_words_with_numbers_matched_as_words():
    refs = ["I have 5 cats.",                                    # 4 words, 16 chars
            "Where is Mr. Smith?",                               # 4 words, 21 chars
            "The bus leaves at 9 from the station every day."]  # 10 words, 49 chars
    hyps = ["i have five bats",                                  # 1 substitution (c -> b: 1 char)
            "where is mister",                                   # 1 deletion (" smith": 6 chars)
            "the bus leaves at nine from the the station every day"]  # 1 insertion ("the ": 4 chars)
    res = score(refs, hyps, ids=["a", "b", "c"])
    assert (res["words"], res["errors"], res["chars"], res["char_errors"]) == (18, 3, 86, 11)
    assert res["wer"] == pytest.approx(3 / 18) and res["cer"] == pytest.approx(11 / 86)
    assert res["wer"] != pytest.approx(np.mean([1 / 4, 1 / 4, 1 / 10]))  # not a mean of sentence rates
    a, b, c = res["rows"]
    assert (a["id"], a["reference"], a["substitutions"]) == ("a", "i have five cats", 1)
    assert (a["wer"], a["cer"]) == (0.25, 1 / 16)
    assert (b["deletions"], b["cer"]) == (1, pytest.approx(6 / 21))
    assert (c["insertions"], c["words"], c["wer"], c["bucket"]) == (1, 10, 0.1, "9-16")
    short, medium, long = (res["buckets"][label] for label, _, _ in LENGTH_BUCKETS)
    assert (short["sentences"], short["words"], short["wer"]) == (2, 8, 0.25)
    assert (medium["sentences"], medium["words"], medium["wer"]) == (1, 10, 0.1)
    assert long["sentences"] == 0 and math.isnan(long["wer"])
    perfect = score(["It is 3:45 on the 2nd."], ["it is three forty five on the second"])
    assert perfect["wer"] == 0.0 and perfect["cer"] == 0.0
    silent = score(["Call me at 5."], [""])
    assert silent["wer"] == 1.0 and silent["rows"][0]["deletions"] == 4


def test_length_buckets_and_bad_input():
    assert [bucket_of(n) for n in (1, 8, 9, 16, 17, 60)] == ["1-8", "1-8", "9-16", "9-16", "17+", "17+"]
    with pytest.raises(ConfigError, match="hypothesis"):
        score(["one", "two"], ["one"])
    with pytest.raises(DataError, match="no words"):
        score(["?!"], ["anything"])
    with pytest.raises(DataError, match="nothing to score"):
        score([], [])


def test_heldout_sentences_are_new_varied_and_never_in_the_training_list():
    from hifilite.data.synth import shipped_sentences

    held = heldout_sentences()
    assert len(held) >= 120
    keys = [normalize_transcript(t) for t in held]
    assert len(set(keys)) == len(keys)
    assert not set(keys) & {normalize_transcript(t) for t in shipped_sentences()}
    buckets = [bucket_of(len(k.split())) for k in keys]
    assert min(buckets.count(label) for label, _, _ in LENGTH_BUCKETS) >= 20
    assert sum("?" in t for t in held) >= 10 and sum(any(c.isdigit() for c in t) for t in held) >= 15
    assert not any("|" in t for t in held)  # corpus synthesis refuses its metadata separator


def test_recogniser_hears_nothing_in_noise():
    rng = np.random.default_rng(0)
    asr = Recognizer()
    noise = (0.3 * rng.standard_normal(3 * 22050)).astype(np.float32)
    res = score(["Please call me back after lunch tomorrow."], [asr(noise, 22050)])
    assert res["wer"] >= 0.9
    assert asr.seconds == pytest.approx(3.0) and 0 < asr.x_real_time < math.inf
    with pytest.raises(DataError, match="NaN"):
        asr(np.full(100, np.nan, dtype=np.float32), 16000)


@pytest.mark.slow
def test_recogniser_understands_clear_speech_and_not_noise():
    from hifilite.evaluate.speaking import piper_speak, piper_voice
    from hifilite.evaluate.intelligibility import intelligibility

    voice, _ = piper_voice(threads=1)
    sr = int(voice.config.sample_rate)
    texts = ["Where did you leave the keys to the car?", "The museum closes at 5 on Sundays."]
    wavs = [piper_speak(voice, t, noise=False) for t in texts]  # the same audio every run
    assert np.array_equal(wavs[0], piper_speak(voice, texts[0], noise=False))
    res = intelligibility(texts, wavs, sr)
    assert res["wer"] <= 0.25, res["rows"]
    assert 0 < res["asr_x_real_time"] < math.inf
    noise = [np.random.default_rng(i).standard_normal(len(w)).astype(np.float32) * 0.3 for i, w in enumerate(wavs)]
    assert intelligibility(texts, noise, sr)["wer"] >= 0.9


class _ByLength:
    """A stand-in recogniser that 'hears' a word chosen by the audio's length, so pairing is checkable."""

    seconds = compute_s = 0.0

    def __call__(self, wav, sr):
        self.seconds += len(wav) / sr
        self.compute_s += 0.01
        return {1000: "one", 2000: "two", 3000: "three"}[len(wav)]


def test_score_files_pairs_texts_with_files_in_natural_order(tmp_path):
    for name, n in (("x-10.wav", 3000), ("x-2.wav", 2000), ("x-1.wav", 1000)):
        sf.write(tmp_path / name, np.zeros(n, dtype=np.float32), 16000)
    (tmp_path / "notes.txt").write_text("not audio")
    files = audio_files(tmp_path)
    assert [f.name for f in files] == ["x-1.wav", "x-2.wav", "x-10.wav"]
    res = score_files(["One.", "Two!", "Three?"], files, recognizer=_ByLength())
    assert res["wer"] == 0.0 and [r["id"] for r in res["rows"]] == ["x-1.wav", "x-2.wav", "x-10.wav"]
    assert res["asr_x_real_time"] == pytest.approx((6000 / 16000) / 0.03)
    with pytest.raises(DataError, match="one audio file per text"):
        score_files(["One.", "Two!"], files, recognizer=_ByLength())
    with pytest.raises(DataError, match="no such folder"):
        audio_files(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no audio files"):
        audio_files(tmp_path / "empty")


def test_cli_evaluate_asr_scores_audio_against_texts(tmp_path):
    from hifilite.cli import app

    audio = tmp_path / "wavs"
    audio.mkdir()
    rng = np.random.default_rng(1)
    for i in range(2):
        sf.write(audio / f"tts-{i}.wav", (0.3 * rng.standard_normal(22050)).astype(np.float32), 22050)
    texts = tmp_path / "texts.txt"
    texts.write_text("I will be there at 6.\n\nSee you soon.\n")
    res = CliRunner().invoke(app, ["evaluate", "--asr", "--texts", str(texts), "--audio", str(audio),
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "out" / "intelligibility.json").read_text())
    assert report["sentences"] == 2 and report["words"] == 9  # "i will be there at six" + "see you soon"
    assert report["rows"][0]["reference"] == "i will be there at six" and report["wer"] >= 0.9
    assert (tmp_path / "out" / "intelligibility.csv").read_text().startswith("id,bucket,words")
    assert "WER" in res.output
    bad = CliRunner().invoke(app, ["evaluate", "--asr", "--texts", str(texts)])
    assert isinstance(bad.exception, ConfigError) and "--audio" in str(bad.exception)
    bad = CliRunner().invoke(app, ["evaluate", "--asr", "--model", "joe-lite", "--data", str(tmp_path)])
    assert isinstance(bad.exception, ConfigError)


def test_cli_evaluate_asr_scores_a_corpus_recordings(tmp_path):
    from tests.helpers.corpora import make_ljspeech

    from hifilite.cli import app

    root = make_ljspeech(tmp_path / "lj")
    res = CliRunner().invoke(app, ["evaluate", "--asr", "--data", str(root), "--split", "all",
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "out" / "intelligibility.json").read_text())
    assert [r["id"] for r in report["rows"]] == sorted(r["id"] for r in report["rows"]) and report["sentences"] == 5
    assert report["rows"][-1]["reference"] == "stop he said now"  # LJSpeech's normalised column
    bad = CliRunner().invoke(app, ["evaluate", "--asr", "--data", str(root), "--split", "dev"])
    assert isinstance(bad.exception, ConfigError)
