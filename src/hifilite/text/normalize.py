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

Numbers become words with `num2words` (US style: no "and" inside numbers).
"""

from __future__ import annotations

import html.entities
import re
import unicodedata

from ..errors import HifiliteError

MAX_CARDINAL_DIGITS = 15  # longer digit strings are read digit by digit
MAX_BREAK_S = 10.0  # an SSML <break> longer than this is cut to it
# Pause per SSML break strength, in seconds (SSML leaves the values to the synthesiser).
BREAK_STRENGTHS = {"none": 0.0, "x-weak": 0.1, "weak": 0.2, "medium": 0.4, "strong": 0.7, "x-strong": 1.2}

# ------------------------------------------------------------------------------------ numbers

_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _num2words(value, **kwargs) -> str:
    try:
        from num2words import num2words
    except ImportError:  # pragma: no cover - declared in the acoustic extra
        raise HifiliteError("num2words is not installed: pip install 'hifilite[acoustic]'") from None
    return num2words(value, lang="en", **kwargs).replace(" and ", " ").replace(",", "")


def digits(text: str) -> str:
    """`"0451"` -> "zero four five one": every digit of `text` as a word, at any length."""
    return " ".join(_DIGITS[unicodedata.digit(c)] for c in text if c.isdecimal())


def cardinal(n: int | str) -> str:
    """`105` -> "one hundred five" (US: no "and", no commas); digit by digit past num2words' range."""
    text = str(n).lstrip("0") or "0"
    if len(text) > 60:  # beyond num2words' named scales (and Python's int-string limit)
        return digits(text)
    try:
        return _num2words(int(text))
    except (OverflowError, ValueError, IndexError):
        return digits(text)


def ordinal(n: int | str) -> str:
    """`22` -> "twenty-second"."""
    text = str(n).replace(",", "").lstrip("0") or "0"
    if len(text) > MAX_CARDINAL_DIGITS:
        return digits(text)
    return _num2words(int(text), to="ordinal")


def year(n: int | str) -> str:
    """`1999` -> "nineteen ninety-nine", `2005` -> "two thousand five", `1905` -> "nineteen oh-five"."""
    return _num2words(int(n), to="year")


def number_words(text: str) -> str:
    """A number as written (`1,234`, `3.5`, `1999`, `007`) in words.

    Four digits in 1100-2099 read as a year; a leading zero or more than `MAX_CARDINAL_DIGITS`
    digits (without thousands separators) digit by digit; decimals digit by digit after "point".
    """
    grouped = "," in text
    whole, _, frac = text.replace(",", "").partition(".")
    if not frac and not grouped and len(whole) == 4 and whole[0] != "0" and 1100 <= int(whole) <= 2099:
        return year(whole)
    if not grouped and (len(whole) > MAX_CARDINAL_DIGITS or (len(whole) > 1 and whole[0] == "0")):
        out = digits(whole)
    else:
        out = cardinal(whole or "0")
    return out + " point " + digits(frac) if frac else out


def _plural(word: str) -> str:
    """"ninety" -> "nineties", "fourth" -> "fourths", "half" -> "halves"."""
    if word.endswith("y"):
        return word[:-1] + "ies"
    if word.endswith("half"):
        return word[:-1] + "ves"
    return word + "s"


# ------------------------------------------------------------------------------------ cleaning

_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]"  # CSI (colours, cursor)
                      r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (titles, links)
                      r"|\x1b[ -/]*[0-~]")  # two-character escapes
_COMMENT_RE = re.compile(r"<!--.*?-->|<\?[A-Za-z].*?\?>|<!\w[^>]*>", re.DOTALL)
_CDATA_RE = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|$)", re.DOTALL)
_ATTRS = r"""(?:\s+[\w.:-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>=`]+))?)*"""
_TAG_RE = re.compile(r"</?[A-Za-z][\w.:-]*" + _ATTRS + r"\s*/?>")
_TAG_RUN_RE = re.compile(r"(?:" + _TAG_RE.pattern + r")+")
_SUB_RE = re.compile(r"<sub\b[^>]*?\balias\s*=\s*(\"[^\"]*\"|'[^']*')[^>]*>.*?</sub\s*>", re.DOTALL | re.IGNORECASE)
_SAY_AS_RE = re.compile(r"<say-as\b[^>]*?\binterpret-as\s*=\s*[\"']?(characters|spell-out|verbatim|digits|telephone)"
                        r"[\"']?[^>]*>(.*?)</say-as\s*>", re.DOTALL | re.IGNORECASE)
_BREAK_RE = re.compile(r"<break\b(" + _ATTRS + r")\s*/?>(?:\s*</break\s*>)?", re.IGNORECASE)
_ENTITY_RE = re.compile(r"&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,7})|([A-Za-z][A-Za-z0-9]{1,31}));")
_KEEP_SYMBOLS = set("°$£€¥₹¢%×^`~+=<>|±½¼¾⅓⅔")  # read (or dropped) by later stages
_CHAR_MAP = {"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'", "′": "'",
             "—": ", ", "―": ", ", "…": "...", "−": "-", "‐": "-", "‑": "-"}


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
    kind, body = match.group(1).lower(), _TAG_RE.sub(" ", match.group(2))
    if kind in ("digits", "telephone"):
        return " " + ", ".join(digits(g) for g in re.findall(r"\d+", body)) + " "
    return " " + " ".join(c.upper() if c.isalpha() else digits(c) for c in body if c.isalnum()) + " "


def _clean_char(c: str) -> str:
    if c.isspace():
        return "\n" if c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029" else " "
    if c in _CHAR_MAP:
        return _CHAR_MAP[c]
    if c.isascii() or c in _KEEP_SYMBOLS:
        return "" if unicodedata.category(c) == "Cc" else c
    cat = unicodedata.category(c)
    if cat[0] == "C" or cat in ("So", "Sk", "Sm", "Me") or 0xFE00 <= ord(c) <= 0xFE0F or 0xE0100 <= ord(c) <= 0xE01EF:
        return ""  # controls, format characters, emoji and other symbols, variation selectors
    if cat == "Sc":
        return ""  # a currency the front-end does not name
    return c


def clean(text: str) -> str:
    """Text without ANSI escapes, markup, entities, control/format characters, emoji or symbols."""
    text = unicodedata.normalize("NFC", str(text))
    text = _ANSI_RE.sub("", text)
    text = _CDATA_RE.sub(lambda m: m.group(1).replace("<", "&lt;"), text)
    text = _COMMENT_RE.sub(" ", text)
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
    return BREAK_STRENGTHS.get(strength.group(1).lower(), BREAK_STRENGTHS["medium"]) if strength else \
        BREAK_STRENGTHS["medium"]


def split_breaks(text: str) -> list[tuple[str, float]]:
    """`text` cut at SSML `<break>` tags: (piece, seconds of silence after it) pairs.

    `time="500ms"` / `time="1.5s"` give the pause (at most `MAX_BREAK_S`), `strength="weak"` etc. one
    of `BREAK_STRENGTHS`, a bare `<break/>` a medium pause. The last piece's pause is 0 unless the
    text ends with a break. Text without breaks is one piece.
    """
    text = str(text)
    pieces: list[tuple[str, float]] = []
    start = 0
    for match in _BREAK_RE.finditer(text):
        pieces.append((text[start:match.start()], _break_seconds(match.group(1))))
        start = match.end()
    pieces.append((text[start:], 0.0))
    return pieces


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


# ------------------------------------------------------------------------------ times and dates

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_MONTH_ABBR = {m[:3]: m for m in _MONTHS} | {"Sept": "September"}
_MONTH_NAME = (r"(?P<month>" + "|".join(_MONTHS) + r"|(?:" + "|".join(sorted(_MONTH_ABBR, key=len, reverse=True))
               + r")(?![a-z]))")
_AMPM = r"(?P<ampm>(?P<ap>[aApP])\.?\s?[mM](?![A-Za-z])(?P<dot>\.)?)"
_TIME_RE = re.compile(r"(?<![\d:.])(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?![\d:])(?:\s?" + _AMPM + ")?")
_TIME_RANGE_RE = re.compile(r"(\d(?:\s?[aApP]\.?\s?[mM]\.?)?)\s?[-–]\s?"
                            r"(?=\d{1,2}(?::\d{2}|\s?[aApP]\.?\s?[mM](?![A-Za-z])))")
_HOUR_AMPM_RE = re.compile(r"(?<![\d:.,])(?P<h>\d{1,2})\s?" + _AMPM)
_NUMERIC_DATE_RE = re.compile(r"(?<![\d/.-])(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-]|\.\d)")
_ISO_DATE_RE = re.compile(r"(?<![\d/.-])(\d{4})([-/])(\d{2})\2(\d{2})(?![\d/-]|\.\d)")
_MONTH_DAY_RE = re.compile(_MONTH_NAME + r"(?P<dot>\.)?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?(?![\w:.,]\d|[\w:])"
                           r"(?:,?\s+(?P<year>\d{4})(?![\w.,]\d|\w))?")
_DAY_MONTH_RE = re.compile(r"(?<![\w.,])(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_NAME
                           + r"(?:\.?,?\s+(?P<year>\d{4})(?![\w.,]\d|\w))?")


def _ampm_words(match: re.Match) -> str:
    words = "AM" if match.group("ap") in "aA" else "PM"
    if match.group("dot"):  # "9 a.m." closing a sentence keeps its period
        rest = match.string[match.end():]
        if not rest.strip() or re.match(r"\s+[\"']?[A-Z]", rest):
            words += "."
    return words


def _time(match: re.Match) -> str:
    hours, minutes = int(match.group("h")), int(match.group("m"))
    seconds = int(match.group("s") or 0)
    ampm = match.group("ampm")
    if minutes > 59 or seconds > 59 or hours > (12 if ampm else 24):
        return match.group(0)
    if ampm:
        out = cardinal(hours) if minutes == 0 else f"{cardinal(hours)} {_minutes(minutes)}"
    elif minutes == 0:
        out = f"{cardinal(hours)} o'clock" if hours <= 12 else f"{cardinal(hours)} hundred"
    else:
        out = f"{cardinal(hours)} {_minutes(minutes)}"
    if seconds:
        out += f" and {cardinal(seconds)} second{'s' if seconds != 1 else ''}"
    return out + (" " + _ampm_words(match) if ampm else "")


def _minutes(minutes: int) -> str:
    return f"oh {cardinal(minutes)}" if minutes < 10 else cardinal(minutes)


def _hour_ampm(match: re.Match) -> str:
    hours = int(match.group("h"))
    return f"{cardinal(hours)} {_ampm_words(match)}" if hours <= 12 else match.group(0)


def _date_words(month: int, day: int, year_text: str | None) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)):
        return None
    out = f"{_MONTHS[month - 1]} {ordinal(day)}"
    if year_text:
        if len(year_text) == 2:  # two-digit years: 00-68 -> 2000s, 69-99 -> 1900s (as strptime's %y)
            year_text = str((2000 if int(year_text) <= 68 else 1900) + int(year_text))
        out += ", " + year(year_text)
    return out


def _numeric_date(match: re.Match) -> str:
    if match.group(2) == "-" and len(match.group(4)) == 2:
        return match.group(0)  # "5-10-15" is more likely a list or a score than a date
    first, second = int(match.group(1)), int(match.group(3))
    month, day = (second, first) if first > 12 >= second else (first, second)  # US order unless impossible
    return _date_words(month, day, match.group(4)) or match.group(0)


def _iso_date(match: re.Match) -> str:
    return _date_words(int(match.group(3)), int(match.group(4)), match.group(1)) or match.group(0)


def _month_number(name: str) -> int:
    return _MONTHS.index(_MONTH_ABBR.get(name, name)) + 1


def _month_day(match: re.Match) -> str:
    words = _date_words(_month_number(match.group("month")), int(match.group("day")), match.group("year"))
    return words or match.group(0)


def _day_month(match: re.Match) -> str:
    month, day = _month_number(match.group("month")), int(match.group("day"))
    words = _date_words(month, day, match.group("year"))
    if words is None:
        return match.group(0)
    out = f"{ordinal(day)} of {_MONTHS[month - 1]}"
    if match.group("year"):
        out += words[words.index(","):]  # ", twenty twenty-five"
    before = match.string[:match.start()]
    return out if re.search(r"\bthe\s+$", before, re.IGNORECASE) else "the " + out


# ---------------------------------------------------------------------------------- numbers

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"  # 1,234.5 or 1234.5; a trailing comma is punctuation
_PHONE_RE = re.compile(r"(?<![\w.,+-])(?:(?:\+?1[-. ])?(?:\(\d{3}\)\s?|\d{3}[-.])\d{3}[-.]\d{4}"
                       r"|\+\d{1,3}(?:[ -]\d{1,4}){2,5})(?![\w-]|[.,]\d)")
_SCI_RE = re.compile(r"(?<![\w.])(" + _NUM + r")(?:[eE]|\s?[x×*]\s?10\^)([+-]?\d{1,3})(?!\w|\.\d)")
_POWER_RE = re.compile(r"(?<![\w.])10\^([+-]?\d{1,3})(?!\w)")
_VERSION_RE = re.compile(r"(?<![\w.])(?:(?P<v>v)(?P<vnum>\d+(?:\.\d+)*)|(?P<num>\d+(?:\.\d+){2,}))(?![\w]|\.\d)")
_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
               "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", "", ""),
               "₹": ("rupee", "rupees", "paisa", "paise")}
_CODES = {"USD": ("U S dollar", "U S dollars", "cent", "cents"), "EUR": _CURRENCIES["€"], "GBP": _CURRENCIES["£"],
          "JPY": _CURRENCIES["¥"], "INR": _CURRENCIES["₹"], "CNY": ("yuan", "yuan", "", ""),
          "CAD": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
          "AUD": ("Australian dollar", "Australian dollars", "cent", "cents"),
          "CHF": ("Swiss franc", "Swiss francs", "centime", "centimes")}
_SCALE_WORDS = r"thousand|million|billion|trillion"
_SCALE_ABBR = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion", "t": "trillion"}
_MONEY_RE = re.compile(
    r"(?P<sym>[$£€¥₹])\s?(?P<amount>" + _NUM + r")(?:\s(?P<scale>" + _SCALE_WORDS + r")\b"
    r"|(?P<abbr>bn|mn|[kmbt])(?![\w]))?", re.IGNORECASE)
_CODE_NAMES = "|".join(_CODES)
_CODE_AFTER_RE = re.compile(r"(?<![\w.])(?P<amount>" + _NUM + r")(?:\s(?P<scale>" + _SCALE_WORDS + r"))?\s?"
                            r"(?P<code>" + _CODE_NAMES + r")(?!\w)")
_CODE_BEFORE_RE = re.compile(r"(?<!\w)(?P<code>" + _CODE_NAMES + r")\s?(?P<amount>" + _NUM + r")(?:\s(?P<scale>"
                             + _SCALE_WORDS + r")\b)?")
_CENTS_RE = re.compile(r"(?<![\w.])(\d+)\s?¢")
_PERCENT_RE = re.compile(r"(?<![\d,.])(" + _NUM + r")\s?%")
_DEGREES_RE = re.compile(r"(?<=\d)\s?°\s?([CF](?![a-z])|)")
_VULGAR = {"½": ("half", "halves"), "¼": ("quarter", "quarters"), "¾": ("quarter", "quarters"),
           "⅓": ("third", "thirds"), "⅔": ("third", "thirds")}
_VULGAR_RE = re.compile(r"(?:(?<![\d.])(\d+)\s?)?([½¼¾⅓⅔])")
_DATE_CONTEXT_RE = re.compile(r"\b(?:on|by|until|till|since|from|before|after|due|dated)\s+$", re.IGNORECASE)
_FRACTION_RE = re.compile(r"(?<![\w/.,])(\d{1,2})/(\d{1,2})(?![\w/]|[.,]\d)")
_DECADE_RE = re.compile(r"(?<![\w'])(?:(\d{3}0)|'?(\d0))'?s\b")
_ORDINAL_RE = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_RANGE_RE = re.compile(r"(\d%?)\s?[-–]\s?(?=[$£€¥₹]?\d)")
_MINUS_RE = re.compile(r"(?<![\w.,)\]%])-(?=[$£€¥₹]?\.?\d)")
_LETTER_DIGIT_RE = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_NUMBER_RE = re.compile(_NUM + r"|\.\d+")
_UNITS = {"km/h": "kilometers per hour", "m/s": "meters per second", "mph": "miles per hour", "km": "kilometers",
          "kg": "kilograms", "cm": "centimeters", "mm": "millimeters"}  # longest first: "km/h" before "km"


def _money_words(amount: str, names: tuple[str, str, str, str], scale: str | None) -> str:
    one, many, sub_one, sub_many = names
    if scale:  # "$2.5 million" -> "two point five million dollars"
        return f"{number_words(amount)} {scale.lower()} {many}"
    whole, _, frac = amount.replace(",", "").partition(".")
    if len(frac) > 2 or (frac and not sub_many):
        return f"{number_words(amount)} {many}"
    whole_n = int(whole or 0) if len(whole) <= MAX_CARDINAL_DIGITS else -1
    cents = int((frac + "0")[:2]) if frac else 0
    parts = []
    if whole_n or not cents:
        parts.append(f"{cardinal(whole or '0')} {one if whole_n == 1 else many}")
    if cents:
        parts.append(f"{cardinal(cents)} {sub_one if cents == 1 else sub_many}")
    return " and ".join(parts)


def _money(match: re.Match) -> str:
    scale = match.group("scale") or _SCALE_ABBR.get((match.group("abbr") or "").lower())
    return _money_words(match.group("amount"), _CURRENCIES[match.group("sym")], scale)


def _code_money(match: re.Match) -> str:
    return _money_words(match.group("amount"), _CODES[match.group("code")], match.group("scale"))


def _sci(match: re.Match) -> str:
    return f"{_plain_number(match.group(1))} times {_power(match.group(2))}"


def _power(exponent: str) -> str:
    sign = "minus " if exponent.startswith("-") else ""
    return f"ten to the {sign}{ordinal(exponent.lstrip('+-'))}"


def _plain_number(text: str) -> str:
    """A number without the year reading (a mantissa, a version part)."""
    whole, _, frac = text.replace(",", "").partition(".")
    out = cardinal(whole or "0") if len(whole) <= MAX_CARDINAL_DIGITS else digits(whole)
    return out + " point " + digits(frac) if frac else out


def _version(match: re.Match) -> str:
    parts = (match.group("vnum") or match.group("num")).split(".")
    if not match.group("v") and len(parts) == 4 and all(len(p) <= 3 and int(p) <= 255 for p in parts):
        return " dot ".join(_plain_number(p) for p in parts)  # an IPv4 address
    words = " point ".join("oh" if p == "0" else _plain_number(p) for p in parts)
    return "version " + words if match.group("v") else words


def _vulgar(match: re.Match) -> str:
    one, many = _VULGAR[match.group(2)]
    count = {"¾": "three", "⅔": "two"}.get(match.group(2), "one")
    word = f"{count} {many if count != 'one' else one}"
    if match.group(1):
        return f"{number_words(match.group(1))} and " + ("a " + one if count == "one" else word)
    return word


def _fraction(match: re.Match) -> str:
    num, den = int(match.group(1)), int(match.group(2))
    if _DATE_CONTEXT_RE.search(match.string, 0, match.start()):  # "on 4/5": a month/day date
        words = _date_words(num, den, None)
        if words:
            return words
    if not (2 <= den <= 10 and 0 < num < den):
        return f"{cardinal(num)} {cardinal(den)}"  # "24/7" -> "twenty-four seven"
    name = {2: "half", 4: "quarter"}.get(den) or ordinal(den)
    return f"{cardinal(num)} {name if num == 1 else _plural(name)}"


def _decade(match: re.Match) -> str:
    words = year(match.group(1)) if match.group(1) else cardinal(match.group(2))
    return _plural(words)  # "nineteen eighties", "two thousands", "nineties"


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
_NAME_ABBREVIATIONS = {a: m for a, m in _MONTH_ABBR.items() if a != "May"} | {
    "Mon": "Monday", "Tue": "Tuesday", "Tues": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday",
    "Thur": "Thursday", "Thurs": "Thursday", "Fri": "Friday", "Sat": "Saturday", "Sun": "Sunday"}
_LETTER_ABBREVIATIONS = {"e.g.": "for example", "i.e.": "that is", "a.m.": "AM", "p.m.": "PM",
                         "u.s.": "U S", "u.k.": "U K"}
_ABBREV_RE = re.compile(r"\b(" + "|".join(sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")\.", re.IGNORECASE)
_NAME_ABBREV_RE = re.compile(r"\b(" + "|".join(sorted(_NAME_ABBREVIATIONS, key=len, reverse=True)) + r")\.")
_NUMBER_ABBREV_RE = re.compile(r"\b(No|no|NO|Nos|nos)\.(?=\s?\d)|#(?=\d)")
_TITLE_RE = re.compile(r"\b(Dr|St)\.(?=\s+[A-Z])")
_AFTER_NAME_RE = re.compile(r"(?<=[a-z] )(Dr|St)\.?(?=\W|$)")


def _number_abbreviation(match: re.Match) -> str:
    word = "numbers" if match.group(0).lower() == "nos." else "number"
    return _keep_case(word, match.group(0)) + " "


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
        return " " + _DIGITS[unicodedata.digit(c)] + " "
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
    text = _TIME_RANGE_RE.sub(r"\1 to ", text)
    text = _TIME_RE.sub(_time, text)
    text = _HOUR_AMPM_RE.sub(_hour_ampm, text)
    text = _ISO_DATE_RE.sub(_iso_date, text)
    text = _NUMERIC_DATE_RE.sub(_numeric_date, text)
    text = _MONTH_DAY_RE.sub(_month_day, text)
    text = _DAY_MONTH_RE.sub(_day_month, text)
    text = _PHONE_RE.sub(lambda m: " " + ", ".join(digits(g) for g in re.findall(r"\d+", m.group(0))) + " ", text)
    text = _abbreviations(text)
    text = text.replace("&", " and ")
    text = _SCI_RE.sub(_sci, text)
    text = _POWER_RE.sub(lambda m: _power(m.group(1)), text)
    text = _VERSION_RE.sub(_version, text)
    text = _RANGE_RE.sub(r"\1 to ", text)
    text = _MINUS_RE.sub("minus ", text)
    text = re.sub(r"(?<![\w.])[~≈](?=\s?[$£€¥₹]?\d)", "about ", text)
    text = re.sub(r"±", " plus or minus ", text)
    text = re.sub(r"(?<=\d)\s?×\s?(?=\d)", " times ", text)
    text = _MONEY_RE.sub(_money, text)
    text = _CODE_AFTER_RE.sub(_code_money, text)
    text = _CODE_BEFORE_RE.sub(_code_money, text)
    text = _CENTS_RE.sub(lambda m: f"{number_words(m.group(1))} cent{'s' if m.group(1) != '1' else ''}", text)
    text = _PERCENT_RE.sub(lambda m: f"{number_words(m.group(1))} percent", text)
    text = _DEGREES_RE.sub(lambda m: " degrees" + {"C": " Celsius", "F": " Fahrenheit"}.get(m.group(1), ""), text)
    text = _VULGAR_RE.sub(_vulgar, text)
    text = _FRACTION_RE.sub(_fraction, text)
    text = _DECADE_RE.sub(_decade, text)
    text = _ORDINAL_RE.sub(lambda m: ordinal(m.group(1)), text)
    text = _LETTER_DIGIT_RE.sub(" ", text)
    text = _NUMBER_RE.sub(lambda m: number_words(m.group(0)), text)
    for unit, words in _UNITS.items():
        text = re.sub(rf"(?<=[a-z]) ?{re.escape(unit)}(?!\w)", f" {words}", text)
    text = "".join(_final_char(c) for c in text)
    text = re.sub(r"\s+([,.!?;:])(?=\s|$)", r"\1", " ".join(text.split()))
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)  # left by dropped symbols: "a 😀, 😀, b"
    text = re.sub(r"(?<=\w),(?=\w)", ", ", text)  # "5,6,7" -> "five, six, seven"
    return re.sub(r"^[,;:]\s*", "", text)
