"""English text normalisation: what people write -> words the phonemiser reads as a listener expects.

`normalize_text(text) -> str` is the one entry point. It never raises on any string: whatever it
cannot read is dropped, not spelled out. Its output holds only letters, whitespace and the
punctuation `. , ! ? ; : ' " - ( )` (no digits, symbols, tags or control characters), so espeak
has nothing left to guess about. The stages, in order:

1. Cleaning: ANSI escape sequences, SSML/XML markup (`<sub alias>` and `<say-as>` honoured, every
   other tag stripped; `<break>` is a pause only in `split_breaks`, used by the speaking pipeline),
   XML/HTML entities (`&amp;` -> "and"), control and format characters (NUL included), emoji and
   other pictographic symbols (dropped, never read by their names).
2. URLs and e-mail addresses: `https://example.com/a-b` -> "example dot com slash a dash b",
   `user@host.org` -> "user at host dot org" (the scheme is dropped).
3. Times: `10:45pm` -> "ten forty-five PM", `9:00 am` -> "nine AM", `9 a.m.` -> "nine AM". A 24-hour
   time is read as written: `14:05` -> "fourteen oh five", `14:00` -> "fourteen hundred"; `5:30` ->
   "five thirty", `12:00` -> "twelve o'clock". "AM"/"PM" are capitals because espeak reads a lone
   lowercase "a" as the article.
4. Dates: `3/4/2025` and `3-4-2025` are month/day/year (US order; when the first number cannot be
   a month, as in `25/12/2025`, day/month/year), `2025-03-04` ISO, `March 4, 2025`, `Mar. 4th`
   -> "March fourth, twenty twenty-five"; `4 March 2025` -> "the fourth of March, twenty twenty-five".
5. Phone numbers (`555-123-4567`, `(555) 123-4567`, `+44 20 7946 0958`) digit by digit.
6. Abbreviations (`Mr.`, `Dr.`, `St.`, `e.g.`, `etc.`, month and weekday names when capitalised,
   `No.` before a number).
7. Scientific notation (`1e6` -> "one times ten to the sixth", `2.5e-3`, `3 x 10^8`), versions
   (`2.0.1` -> "two point oh point one", `v1.2` -> "version one point two"), IPv4 addresses.
8. Currency: `$5`, `$5.50`, `£3`, `€10`, `¥500`, `5¢`, `5 USD`, `EUR 10`, `$1.2 million`, `$5k`.
   Percentages (`45%`, `3.5%`), degrees (`20°C`), fractions (`3/4`, `½`), decades (`1990s`,
   `'90s`), ordinals (`1st`, `22nd`, `103rd`), ranges (`5-10` -> "five to ten"), negative numbers
   (`-7` -> "minus seven"), thousands separators (`1,000,000` -> "one million"), years (a
   four-digit number in 1100-2099 without a comma), decimals (`3.14` -> "three point one four").
9. Long digit strings: a number of more than `MAX_CARDINAL_DIGITS` digits (no thousands
   separators), or one with a leading zero (`007`, `02139`), is read digit by digit, at any length.

Each stage has its module: `markup` (1), `dates` (3, 4), `numbers` (7-9); this one holds the
order, addresses, phone numbers, abbreviations and the final filter.
"""

from __future__ import annotations

import re
import unicodedata

from .dates import MONTH_ABBREVIATIONS, times_and_dates
from .markup import BREAK_STRENGTHS, MAX_BREAK_S, clean, split_breaks
from .numbers import MAX_CARDINAL_DIGITS, cardinal, digits, number_words, numbers_to_words, ordinal, year

__all__ = ["normalize_text", "clean", "split_breaks", "cardinal", "ordinal", "year", "digits", "number_words",
           "MAX_CARDINAL_DIGITS", "MAX_BREAK_S", "BREAK_STRENGTHS"]

# ---------------------------------------------------------------------------- URLs and e-mail

_TLDS = ("com|org|net|edu|gov|mil|int|io|ai|dev|app|info|biz|co|us|uk|de|fr|es|it|nl|eu|ca|au|jp|cn|in|ru|br|"
         "ch|se|no|fi|dk|pl|be|at|nz|ie|me|tv|ly|gl|sh|xyz|online|site|tech|page|blog")
_URL_RE = re.compile(
    r"(?<![\w@.-])(?:(?:https?|ftp)://(?P<host>[\w-]+(?:\.[\w-]+)*)"
    r"|(?P<bare>(?:[A-Za-z0-9][\w-]*\.)*[A-Za-z0-9][\w-]+\.(?:" + _TLDS + r")(?![\w-])))"
    r"(?P<port>:\d{1,5})?(?P<path>[/?#][^\s<>\"']*)?", re.IGNORECASE)
_EMAIL_RE = re.compile(r"(?<![\w.+-])([\w.%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![\w-])")
_URL_SYMBOLS = {".": " dot ", "/": " slash ", "-": " dash ", "_": " underscore ", "~": " tilde ",
                "?": " question mark ", "=": " equals ", "&": " and ", "#": " hash ", "%": " percent ",
                "+": " plus ", ":": " colon ", "@": " at "}


def _spoken_address(text: str) -> str:
    text = re.sub(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])", " ", text)
    text = "".join(_URL_SYMBOLS.get(c, c if c.isalnum() or c.isspace() else " ") for c in text)
    text = re.sub(r"\bwww\b", "w w w", text, flags=re.IGNORECASE)
    return " " + re.sub(r"\d+", lambda m: number_words(m.group(0)), text) + " "


def _url(match: re.Match) -> str:
    whole = match.group(0)
    tail = re.search(r"[.,;:!?)\]'\"]+$", whole)  # sentence punctuation after the address
    trailing = tail.group(0) if tail else ""
    body = whole[:len(whole) - len(trailing)]
    body = re.sub(r"^(?:https?|ftp)://", "", body, flags=re.IGNORECASE).rstrip("/")
    return _spoken_address(body) + trailing


def _email(match: re.Match) -> str:
    return _spoken_address(match.group(1)) + " at " + _spoken_address(match.group(2))


# ---------------------------------------------------------------------------- phone numbers

_PHONE_RE = re.compile(r"(?<![\w.,+-])(?:(?:\+?1[-. ])?(?:\(\d{3}\)\s?|\d{3}[-.])\d{3}[-.]\d{4}"
                       r"|\+\d{1,3}(?:[ -]\d{1,4}){2,5})(?![\w-]|[.,]\d)")


def _phone(match: re.Match) -> str:
    """`555-123-4567` -> "five five five, one two three, four five six seven" (a pause per group)."""
    return " " + ", ".join(digits(group) for group in re.findall(r"\d+", match.group(0))) + " "


# ------------------------------------------------------------------------------ abbreviations

# Abbreviations whose expansion does not depend on context. "St." is "Saint" before a capitalised
# name and "Street" after one; "Dr." is "Doctor" (before a name) or "Drive" (after one).
_ABBREVIATIONS = {
    "mr": "mister", "mrs": "missus", "ms": "miz", "prof": "professor", "sr": "senior",
    "jr": "junior", "capt": "captain", "gen": "general", "lt": "lieutenant", "col": "colonel",
    "sgt": "sergeant", "gov": "governor", "rev": "reverend", "hon": "honorable", "ave": "avenue",
    "rd": "road", "blvd": "boulevard", "mt": "mount", "vs": "versus",
    "etc": "et cetera", "approx": "approximately", "dept": "department", "est": "established",
    "fig": "figure", "inc": "incorporated", "ltd": "limited", "co": "company", "corp": "corporation",
}
# Only when capitalised ("Sat." is Saturday, "sat." the verb).
_NAME_ABBREVIATIONS = {a: m for a, m in MONTH_ABBREVIATIONS.items() if a != "May"} | {
    "Mon": "Monday", "Tue": "Tuesday", "Tues": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday",
    "Thur": "Thursday", "Thurs": "Thursday", "Fri": "Friday", "Sat": "Saturday", "Sun": "Sunday"}
_LETTER_ABBREVIATIONS = {"e.g.": "for example", "i.e.": "that is", "a.m.": "AM", "p.m.": "PM",
                         "u.s.": "U S", "u.k.": "U K"}
_ABBREV_RE = re.compile(r"\b(" + "|".join(sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")\.", re.IGNORECASE)
_NAME_ABBREV_RE = re.compile(r"\b(" + "|".join(sorted(_NAME_ABBREVIATIONS, key=len, reverse=True)) + r")\.")
_NUMBER_ABBREV_RE = re.compile(r"\b(?:No|no|NO|Nos|nos|p|pp|vol|Vol)\.(?=\s?\d)|#(?=\d)")
_BEFORE_NUMBER = {"no.": "number", "nos.": "numbers", "#": "number", "p.": "page", "pp.": "pages", "vol.": "volume"}
_TITLE_RE = re.compile(r"\b(Dr|St)\.(?=\s+[A-Z])")
_AFTER_NAME_RE = re.compile(r"(?<=[a-z] )(Dr|St)\.?(?=\W|$)")


def _number_abbreviation(match: re.Match) -> str:
    return _keep_case(_BEFORE_NUMBER[match.group(0).lower()], match.group(0)) + " "


def _keep_case(word: str, like: str) -> str:
    return word[0].upper() + word[1:] if like[:1].isupper() else word


def _abbreviations(text: str) -> str:
    for abbr, words in _LETTER_ABBREVIATIONS.items():
        text = re.sub(r"(?<!\w)" + re.escape(abbr), words, text, flags=re.IGNORECASE)
    text = _TITLE_RE.sub(lambda m: {"Dr": "Doctor", "St": "Saint"}[m.group(1)], text)
    text = _AFTER_NAME_RE.sub(lambda m: {"Dr": "Drive", "St": "Street"}[m.group(1)], text)
    text = re.sub(r"\bDr\.", "Doctor", text)
    text = re.sub(r"\bSt\.", "Saint", text)
    text = _NUMBER_ABBREV_RE.sub(_number_abbreviation, text)
    text = _NAME_ABBREV_RE.sub(lambda m: _NAME_ABBREVIATIONS[m.group(1)], text)
    return _ABBREV_RE.sub(lambda m: _keep_case(_ABBREVIATIONS[m.group(1).lower()], m.group(1)), text)


# ------------------------------------------------------------------------------- entry point

_FINAL_SYMBOLS = {"+": " plus ", "=": " equals ", "@": " at ", "%": " percent ", "&": " and ", "±": " plus or minus ",
                  "°": " degrees ", "²": " squared ", "³": " cubed ", "~": " ", "/": " ", "–": " ", "\n": " "}
_PUNCTUATION = set(".,!?;:'\"-()")


def _final_char(c: str) -> str:
    if c.isalpha() or c in _PUNCTUATION or c == " ":
        return c
    if c.isdecimal():
        return " " + digits(c) + " "  # a digit no earlier stage read (none is known)
    if unicodedata.category(c) in ("Mn", "Mc"):
        return c  # accents written as combining marks
    return _FINAL_SYMBOLS.get(c, " ")


def normalize_text(text: str) -> str:
    """English text as words espeak reads as a listener expects (see the module docstring).

    Never raises on a string; the result holds only letters, single spaces and `. , ! ? ; : ' " - ( )`.
    """
    text = clean(text)
    text = _EMAIL_RE.sub(_email, text)
    text = _URL_RE.sub(_url, text)
    text = times_and_dates(text)
    text = _PHONE_RE.sub(_phone, text)
    text = _abbreviations(text)
    text = text.replace("&", " and ")
    text = numbers_to_words(text)
    text = "".join(_final_char(c) for c in text)
    text = re.sub(r"\s+([,.!?;:])(?=\s|$)", r"\1", " ".join(text.split()))
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)  # left by dropped symbols: "a 😀, 😀, b"
    text = re.sub(r"(?<=\w),(?=\w)", ", ", text)  # "5,6,7" -> "five, six, seven"
    return re.sub(r"^[,;:]\s*", "", text)
