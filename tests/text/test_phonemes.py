"""Text front-end: normalisation, sentence splitting, phoneme ids equal to the corpus's."""

from __future__ import annotations

import pytest

from hifilite.text import Phonemizer, TextError, check_text, normalize_text, split_sentences

pytest.importorskip("num2words")


@pytest.mark.parametrize("text, expected", [
    ("I have 3 cats.", "I have three cats."),
    ("It cost $5.50.", "It cost five dollars and fifty cents."),
    ("It cost $1.", "It cost one dollar."),
    ("Only £3 or €0.01 left.", "Only three pounds or one cent left."),
    ("A $2.5 million deal.", "A two point five million dollars deal."),
    ("Born in 1999, married in 2005.", "Born in nineteen ninety-nine, married in two thousand five."),
    ("The 21st and the 3rd of May.", "The twenty-first and the third of May."),
    ("He owned 1,250 sheep.", "He owned one thousand two hundred fifty sheep."),
    ("Pi is 3.14.", "Pi is three point one four."),
    ("About 25% of us.", "About twenty-five percent of us."),
    ("Meet at 10:30 or 7:05.", "Meet at ten thirty or seven oh five."),
    ("In the 1990s.", "In the nineteen nineties."),
    ("Pages 5-10.", "Pages five to ten."),
    ("Mr. and Mrs. Smith met Dr. Jones.", "Mister and Missus Smith met Doctor Jones."),
    ("St. Paul lives on Baker St. now.", "Saint Paul lives on Baker Street now."),
    ("Fruit, e.g. apples, etc.", "Fruit, for example apples, et cetera"),
    ("Salt & pepper", "Salt and pepper"),
    ("It’s “quoted”", "It's \"quoted\""),
    ("  spaced   out  ", "spaced out"),
])
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


def test_normalized_text_has_no_digits():
    out = normalize_text("On 4/5 at 12:00, 7 of 10 paid $3.99 for item no. 42 in 2024.")
    assert not any(c.isdigit() for c in out), out


def test_split_sentences():
    text = 'Hello there. How are you? I am "fine." Ok! 3 apples.\n\nNew para'
    assert split_sentences(text) == ["Hello there.", "How are you?", 'I am "fine."', "Ok!", "3 apples.",
                                     "New para"]
    assert split_sentences("e.g. not split. lower case after.") == ["e.g. not split. lower case after."]
    long = ", ".join([" ".join(["word"] * 8)] * 20) + "."
    pieces = split_sentences(long, max_chars=60)
    assert all(len(p) <= 60 for p in pieces) and len(pieces) > 3
    assert " ".join(pieces) == long  # nothing lost, cut only at spaces
    assert split_sentences("x" * 130, max_chars=50) == ["x" * 50, "x" * 50, "x" * 30]
    assert split_sentences("  \n\n ") == []


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", "...", "?!", "你好世界", "Привет"])
def test_unspeakable_text_is_a_clear_error(bad):
    with pytest.raises(TextError):
        check_text(bad)


def test_ids_equal_the_corpus_synthesiser(phonemizer):
    """The ids the corpus was written with (PiperVoice.phonemize + phonemes_to_ids)."""
    from piper import PiperVoice

    from hifilite.data.synth import bundled_voice

    files = bundled_voice()
    voice = PiperVoice.load(files.model, config_path=files.config)
    for text in ["The morning train was late again, so Maria walked the last two miles to work.",
                 "Is it raining? Yes, a little. \"Stop,\" he said; then left!"]:
        want = [i for s in voice.phonemize(text) for i in voice.phonemes_to_ids(s)]
        got = phonemizer(text)
        assert got.ids == want
        assert got.ids[0] == 1 and got.ids[-1] == 2 and got.ids.count(1) == len(got.phonemes)


def test_phonemizer_normalises_and_errors(phonemizer):
    a = phonemizer("I have 3 cats.")
    b = phonemizer("I have three cats.")
    assert a.ids == b.ids and a.text == "I have three cats."
    with pytest.raises(TextError, match="empty"):
        phonemizer("   ")
    with pytest.raises(TextError):
        phonemizer("...")
    restored = Phonemizer.from_dict(phonemizer.to_dict())
    assert restored("Hello world.").ids == phonemizer("Hello world.").ids
    with pytest.raises(TextError, match="symbol table"):
        Phonemizer(id_map={"^": [1], "$": [2], "_": [0]})("hello")
    with pytest.raises(TextError, match="control"):
        Phonemizer(id_map={"a": [1]})
