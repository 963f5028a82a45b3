"""Text -> sentences: what to refuse (control characters, no words, other scripts) and where to cut.

`split_sentences` runs on normalised text (`text.normalize`) and keeps every sentence short enough
for the acoustic model (`MAX_SENTENCE_CHARS`); `check_text` is the one gate that says, in one line,
why a text cannot be spoken.
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import TextError

MAX_SENTENCE_CHARS = 300  # longer sentences are cut at clause punctuation, then at spaces

_SENTENCE_END_RE = re.compile(r"([.!?][\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Sentences of (normalised) text, each at most `max_chars` long.

    Splits after `.`, `!` or `?` (and closing quotes) followed by a capital or digit, and at blank
    lines; a sentence longer than `max_chars` is cut at `,;:` and then at spaces.
    """
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        if not para:
            continue
        for sentence in _SENTENCE_END_RE.sub("\\1\n", para).split("\n"):
            out.extend(_cut(sentence.strip(), max_chars))
    return [s for s in out if s]


_CUT_SEPARATORS = (r"(?<=[,;:])\s+", r"\s+")


def _cut(sentence: str, max_chars: int, seps: tuple[str, ...] = _CUT_SEPARATORS) -> list[str]:
    """Pieces of at most `max_chars`: greedily packed clauses, then words, then hard cuts."""
    if len(sentence) <= max_chars:
        return [sentence]
    if not seps:
        return [sentence[i:i + max_chars] for i in range(0, len(sentence), max_chars)]
    packed: list[str] = []
    for piece in re.split(seps[0], sentence):
        if packed and len(packed[-1]) + 1 + len(piece) <= max_chars:
            packed[-1] += " " + piece
        else:
            packed.append(piece)
    return [q for p in packed for q in _cut(p, max_chars, seps[1:])]


# Control characters that are not whitespace (NUL, bell, escape, DEL, C1 controls): not text
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def refuse_control_characters(text: str) -> None:
    """TextError naming the first control character in `text` (NUL, escape, ...); tabs, line and
    page breaks count as spaces."""
    found = _CONTROL.search(str(text))
    if found:
        raise TextError(f"text contains the control character U+{ord(found.group()):04X} at position "
                        f"{found.start()}; remove it (tabs and line breaks are fine)")


def check_text(text: str) -> str:
    """`text` stripped, or TextError if it is empty, has no letters, has control characters
    (`refuse_control_characters`), or uses a non-Latin script."""
    refuse_control_characters(text)
    text = " ".join(str(text).split())
    if not text:
        raise TextError("text is empty")
    letters = [c for c in text if c.isalpha()]
    if not letters:
        raise TextError(f"text has no words to speak: {text!r}")
    foreign = sorted({c for c in letters if not unicodedata.name(c, "").startswith("LATIN")})
    if foreign:
        shown = "".join(foreign[:8])
        raise TextError(f"text uses characters the English voice cannot read: {shown!r}")
    return text
