"""Streamed text (Wyoming's synthesize-chunk events, e.g. from a language model) cut where a
sentence ends, so each finished sentence is spoken while the rest is still arriving.

    seg = Segmenter()
    seg.add("Hello there. It is")      # ["Hello there."]
    seg.add(" 5:30 now.")              # [] (the sentence may go on)
    seg.finish()                       # "It is 5:30 now."

A sentence ends at `.`, `!`, `?` or `…` (and closing quotes or brackets) followed by space and a
capital, digit or opening quote, or at a blank line; not after a likely abbreviation (a capitalised
word of up to three letters such as "Dr.", a single letter, or a word with periods inside such as
"e.g."). Text that grows past `max_chars` without an end is cut at its last clause mark.
"""

from __future__ import annotations

import re

_END = re.compile(r"(?P<end>[.!?\u2026]+)[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])|\n[ \t]*\n\s*")
_ABBREVIATION = re.compile(r"(?:^|\s)(?:[A-Z][a-z]{0,2}|[A-Za-z]|\S+\.\S+)\.$")
_CLAUSE = re.compile(r"[,;:]\s+")


class Segmenter:
    def __init__(self, max_chars: int = 400) -> None:
        self.buffer = ""
        self.max_chars = max_chars

    def add(self, text: str) -> list[str]:
        """The finished part of the text so far (one piece, possibly several sentences), if any."""
        self.buffer += text
        cut = 0
        for m in _END.finditer(self.buffer):
            if m.group("end") == "." and _ABBREVIATION.search(self.buffer[:m.start() + 1]):
                continue
            cut = m.end()
        if not cut and len(self.buffer) > self.max_chars:
            clauses = list(_CLAUSE.finditer(self.buffer))
            cut = clauses[-1].end() if clauses else 0
        if not cut:
            return []
        done, self.buffer = self.buffer[:cut].strip(), self.buffer[cut:]
        return [done] if done else []

    def finish(self) -> str:
        """What is left (the last sentence), emptying the buffer."""
        rest, self.buffer = self.buffer.strip(), ""
        return rest
