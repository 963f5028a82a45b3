"""Markup and noise out of text: ANSI escapes, SSML/XML tags and entities, control characters, emoji.

`clean` keeps what is meant to be read: `<sub alias="...">` becomes its alias, `<say-as
interpret-as="characters|digits|telephone">` is spelled out, other tags go (a space where they
separated words), entities are decoded (`&amp;` -> "&"), control and format characters (NUL
included), emoji and other pictographic symbols are dropped, never read by their names.
`split_breaks` cuts text at SSML `<break>` tags for the speaking pipeline, which puts the pause there.
"""

from __future__ import annotations

import html.entities
import re
import unicodedata

from .numbers import digits, ordinal

MAX_BREAK_S = 10.0  # an SSML <break> longer than this is cut to it
# Pause per SSML break strength, in seconds (SSML leaves the values to the synthesiser).
BREAK_STRENGTHS = {"none": 0.0, "x-weak": 0.1, "weak": 0.2, "medium": 0.4, "strong": 0.7, "x-strong": 1.2}

_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]"  # CSI (colours, cursor)
                      r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (titles, links)
                      r"|\x1b[ -/]*[0-~]")  # two-character escapes
_DECLARATION_RE = re.compile(r"<\?[A-Za-z][^<>]*\?>|<!\w[^<>]*>")  # <?xml ...?>, <!DOCTYPE ...>
_CDATA_RE = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|$)", re.DOTALL)
_ATTRS = r"""(?:\s+[\w.:-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>=`]+))?)*"""
_TAG_RE = re.compile(r"</?[A-Za-z][\w.:-]*" + _ATTRS + r"\s*/?>")
_TAG_RUN_RE = re.compile(r"(?:" + _TAG_RE.pattern + r")+")
_SUB_RE = re.compile(r"<sub\b[^<>]*?\balias\s*=\s*(\"[^\"<>]*\"|'[^'<>]*')[^<>]*>[^<]*</sub\s*>", re.IGNORECASE)
_SAY_AS_RE = re.compile(r"<say-as\b[^<>]*?\binterpret-as\s*=\s*[\"']?"
                        r"(characters|spell-out|verbatim|digits|telephone|ordinal)[\"']?[^<>]*>([^<]*)</say-as\s*>",
                        re.IGNORECASE)
_BREAK_RE = re.compile(r"<break\b(" + _ATTRS + r")\s*/?>(?:\s*</break\s*>)?", re.IGNORECASE)
_ENTITY_RE = re.compile(r"&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,7})|([A-Za-z][A-Za-z0-9]{1,31}));")
_KEEP_SYMBOLS = set("°$£€¥₹¢%×^`~+=<>|±½¼¾⅓⅔")  # read (or dropped) by later stages
_CHAR_MAP = {"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'", "′": "'",
             "—": ", ", "―": ", ", "…": "...", "−": "-", "‐": "-", "‑": "-"}


def _without_comments(text: str) -> str:
    """`text` without `<!-- ... -->` (an unclosed comment is left as it is); linear in its length."""
    out, pos = [], 0
    while (start := text.find("<!--", pos)) >= 0 and (end := text.find("-->", start + 4)) >= 0:
        out.append(text[pos:start] + " ")
        pos = end + 3
    return "".join(out) + text[pos:]


def _entity(match: re.Match) -> str:
    if match.group(3):
        return html.entities.html5.get(match.group(3) + ";", match.group(0))
    code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else ""


def _tag_gap(match: re.Match) -> str:
    """Markup separates words ("a<br/>b", "</p><p>"), except next to spaces, quotes and punctuation."""
    text = match.string
    before = text[match.start() - 1] if match.start() else " "
    after = text[match.end()] if match.end() < len(text) else " "
    if before.isspace() or after.isspace() or before in "\"'([{" or after in ".,!?;:)]}'\"":
        return ""
    return " "


def _spell(match: re.Match) -> str:
    kind, body = match.group(1).lower(), match.group(2)
    if kind in ("digits", "telephone"):
        return " " + ", ".join(digits(g) for g in re.findall(r"\d+", body)) + " "
    if kind == "ordinal":
        number = re.fullmatch(r"\s*(\d{1,15})\s*", body)
        return f" {ordinal(number.group(1))} " if number else body
    # hyphens keep espeak spelling: a lone "A" it reads as the article, "A-B-C" as letters
    return " " + "-".join(c.upper() if c.isalpha() else digits(c) for c in body if c.isalnum()) + " "


def _clean_char(c: str) -> str:
    if c.isspace():
        return "\n" if c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029" else " "
    if c in _CHAR_MAP:
        return _CHAR_MAP[c]
    if c.isascii() or c in _KEEP_SYMBOLS:
        return "" if unicodedata.category(c) == "Cc" else c
    if 0xFF01 <= ord(c) <= 0xFF5E or 0x1D400 <= ord(c) <= 0x1D7FF:
        return unicodedata.normalize("NFKC", c)  # full-width and "𝐛𝐨𝐥𝐝" letters and digits: plain ones
    cat = unicodedata.category(c)
    if cat[0] == "C" or cat in ("So", "Sk", "Sm", "Sc", "Me") or 0xFE00 <= ord(c) <= 0xFE0F \
            or 0xE0100 <= ord(c) <= 0xE01EF:
        return ""  # controls, format characters, emoji, other symbols and currencies, variation selectors
    return c


def clean(text: str) -> str:
    """Text without ANSI escapes, markup, entities, control/format characters, emoji or symbols."""
    text = unicodedata.normalize("NFC", str(text))
    text = _ANSI_RE.sub("", text)
    text = _CDATA_RE.sub(lambda m: m.group(1).replace("<", "&lt;"), text)
    text = _DECLARATION_RE.sub(" ", _without_comments(text))
    text = _SUB_RE.sub(lambda m: " " + m.group(1)[1:-1] + " ", text)
    text = _SAY_AS_RE.sub(_spell, text)
    text = _TAG_RUN_RE.sub(_tag_gap, text)
    text = _ENTITY_RE.sub(_entity, text)
    text = _ANSI_RE.sub("", text)
    return "".join(_clean_char(c) for c in text)


def _break_seconds(attrs: str) -> float:
    time = re.search(r"\btime\s*=\s*[\"']?\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s)\b", attrs, re.IGNORECASE)
    if time:
        value = float(time.group(1)) / (1000.0 if time.group(2).lower() == "ms" else 1.0)
        return min(value, MAX_BREAK_S)
    strength = re.search(r"\bstrength\s*=\s*[\"']?([\w-]+)", attrs, re.IGNORECASE)
    name = strength.group(1).lower() if strength else "medium"
    return BREAK_STRENGTHS.get(name, BREAK_STRENGTHS["medium"])


def split_breaks(text: str) -> list[tuple[str, float]]:
    """`text` cut at SSML `<break>` tags: (piece, seconds of silence after it) pairs.

    `time="500ms"` / `time="1.5s"` give the pause (at most `MAX_BREAK_S`), `strength="weak"` etc. one
    of `BREAK_STRENGTHS`, a bare `<break/>` a medium pause. The last piece (empty when the text
    ends with a break) has 0; text without breaks is one piece.
    """
    text = str(text)
    pieces: list[tuple[str, float]] = []
    start = 0
    for match in _BREAK_RE.finditer(text):
        pieces.append((text[start:match.start()], _break_seconds(match.group(1))))
        start = match.end()
    pieces.append((text[start:], 0.0))
    return pieces
