"""Cutting streamed text at sentence ends."""

from __future__ import annotations

import pytest

from hifilite.serve.segment import Segmenter


def pieces(chunks: list[str], max_chars: int = 400) -> list[str]:
    seg = Segmenter(max_chars)
    out = [p for chunk in chunks for p in seg.add(chunk)]
    rest = seg.finish()
    return out + ([rest] if rest else [])


def test_sentences_are_cut_once_the_next_one_starts():
    seg = Segmenter()
    assert seg.add("Hello there.") == []  # "there." may be "there.com" or go on
    assert seg.add(" It is") == ["Hello there."]
    assert seg.add(" 5:30 now! And") == ["It is 5:30 now!"]
    assert seg.finish() == "And"
    assert seg.finish() == ""


@pytest.mark.parametrize("text,want", [
    ("Dr. Smith paid $5. Then he left.", ["Dr. Smith paid $5.", "Then he left."]),
    ("We met J. R. Tolkien today. Yes.", ["We met J. R. Tolkien today.", "Yes."]),
    ("Use e.g. This one. Fine.", ["Use e.g. This one.", "Fine."]),
    ('He said "Stop." Then we ran?! "Why?" she asked.', ['He said "Stop."', "Then we ran?!", '"Why?" she asked.']),
    ("First part\n\nsecond part", ["First part", "second part"]),
    ("version 2.5 is out. 3 more", ["version 2.5 is out.", "3 more"]),
])
def test_abbreviations_quotes_and_paragraphs(text, want):
    assert pieces(list(text)) == want  # as a language model streams it: each sentence once it ends
    assert " ".join(pieces([text])) == " ".join(want)  # at once: the finished sentences in one piece


def test_long_text_without_an_end_is_cut_at_a_clause():
    text = "one, two, three, four, five, six"
    assert pieces([text], max_chars=20) == ["one, two, three, four, five,", "six"]
    assert pieces([w + " " for w in text.split(" ")], max_chars=20) == ["one, two, three, four,", "five, six"]
