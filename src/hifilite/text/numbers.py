"""Numbers in words: cardinals, ordinals, years, digit strings, currency, scientific notation, versions.

`numbers_to_words` reads every number a text still holds once dates, times and phone numbers are
words (`hifilite.text.normalize` runs it in that order). Numbers become words with `num2words`
(US style: no "and" inside numbers). A number of more than `MAX_CARDINAL_DIGITS` digits (without
thousands separators) or with a leading zero (`007`, `02139`) is read digit by digit, at any length.
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import HifiliteError

MAX_CARDINAL_DIGITS = 15  # longer digit strings are read digit by digit

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


_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"  # 1,234.5 or 1234.5; a trailing comma is punctuation
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
_DEGREES_RE = re.compile(r"(?<=\d)\s?°(?:\s?([CF])(?![a-z]))?")
_VULGAR = {"½": ("half", "halves"), "¼": ("quarter", "quarters"), "¾": ("quarter", "quarters"),
           "⅓": ("third", "thirds"), "⅔": ("third", "thirds")}
_VULGAR_RE = re.compile(r"(?:(?<![\d.])(\d+)\s?)?([½¼¾⅓⅔])")
_FRACTION_RE = re.compile(r"(?<![\w/.,])(\d{1,2})/(\d{1,2})(?![\w/]|[.,]\d)")
_DECADE_RE = re.compile(r"(?<![\w'])(?:(\d{3}0)|'?(\d0))'?s\b")
_ORDINAL_RE = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_RANGE_RE = re.compile(r"(\d%?)\s?[-–]\s?(?=[$£€¥₹]?\d)")
_MINUS_RE = re.compile(r"(?<![\w.,)\]%])-(?=[$£€¥₹]?\.?\d)")
_LETTER_DIGIT_RE = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_NUMBER_RE = re.compile(_NUM + r"|\.\d+")
# unit -> (after "one" or "per", otherwise); longest first: "km/h" before "km"
_UNITS = {"km/h": ("kilometer per hour", "kilometers per hour"), "m/s": ("meter per second", "meters per second"),
          "mph": ("mile per hour", "miles per hour"), "km": ("kilometer", "kilometers"),
          "kg": ("kilogram", "kilograms"), "cm": ("centimeter", "centimeters"), "mm": ("millimeter", "millimeters")}
_UNIT_RE = re.compile(r"(?<=[a-z])( ?)(" + "|".join(re.escape(u) for u in _UNITS) + r")(?!\w)")


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
    if not (2 <= den <= 10 and 0 < num < den):
        return f"{cardinal(num)} {cardinal(den)}"  # "24/7" -> "twenty-four seven"
    name = {2: "half", 4: "quarter"}.get(den) or ordinal(den)
    return f"{cardinal(num)} {name if num == 1 else _plural(name)}"


def _decade(match: re.Match) -> str:
    words = year(match.group(1)) if match.group(1) else cardinal(match.group(2))
    return _plural(words)  # "nineteen eighties", "two thousands", "nineties"


def numbers_to_words(text: str) -> str:
    """Every number left in `text` (after dates, times and phone numbers) in words, in this order:
    scientific notation, powers of ten, versions, ranges, signs, currency, percentages, degrees,
    fractions, decades, ordinals, then plain numbers and the units after them."""
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
    return _UNIT_RE.sub(_unit, text)


def _unit(match: re.Match) -> str:
    one, many = _UNITS[match.group(2)]
    singular = re.search(r"\b(?:one|per)$", match.string[:match.start()])
    return " " + (one if singular else many)
