"""Times and dates in words.

Times: `10:45pm` -> "ten forty-five PM", `9:00 am` -> "nine AM", `9 a.m.` -> "nine AM"; a 24-hour
time is read as written: `14:05` -> "fourteen oh five", `14:00` -> "fourteen hundred"; `5:30` ->
"five thirty", `12:00` -> "twelve o'clock". "AM"/"PM" are capitals because espeak reads a lone
lowercase "a" as the article.

Dates: `3/4/2025` and `3-4-2025` are month/day/year (US order; when the first number cannot be a
month, as in `25/12/2025`, day/month/year), `2025-03-04` is ISO; `March 4, 2025` and `Mar. 4th`
-> "March fourth, twenty twenty-five"; `4 March 2025` -> "the fourth of March, twenty twenty-five";
`on 4/5` (after on, by, until, ...) -> "on April fifth".
"""

from __future__ import annotations

import re

from .numbers import cardinal, ordinal, year

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
MONTH_ABBREVIATIONS = {m[:3]: m for m in _MONTHS} | {"Sept": "September"}
_ABBREVIATED = "|".join(sorted(MONTH_ABBREVIATIONS, key=len, reverse=True))
_MONTH_NAME = r"(?P<month>" + "|".join(_MONTHS) + r"|(?:" + _ABBREVIATED + r")(?![a-z]))"
_AMPM = r"(?P<ampm>(?P<ap>[aApP])\.?\s?[mM](?![A-Za-z])(?P<dot>\.)?)"
_TIME_RE = re.compile(r"(?<![\d:.])(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?![\d:])(?:\s?" + _AMPM + ")?")
_TIME_RANGE_RE = re.compile(r"(\d(?:\s?[aApP]\.?\s?[mM]\.?)?)\s?[-–]\s?"
                            r"(?=\d{1,2}(?::\d{2}|\s?[aApP]\.?\s?[mM](?![A-Za-z])))")
_HOUR_AMPM_RE = re.compile(r"(?<![\d:.,])(?P<h>\d{1,2})\s?" + _AMPM)
_NUMERIC_DATE_RE = re.compile(r"(?<![\d/.-])(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-]|\.\d)")
_ISO_DATE_RE = re.compile(r"(?<![\d/.-])(\d{4})([-/])(\d{2})\2(\d{2})(?![\d/-]|\.\d)")
_SHORT_DATE_RE = re.compile(r"\b((?:on|by|until|till|since|from|before|after|due|dated)\s+)"
                            r"(\d{1,2})/(\d{1,2})(?![\w/]|[.,]\d)", re.IGNORECASE)
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
    if minutes > 59 or seconds > 59 or (ampm and hours > 12):
        return match.group(0)
    if hours > 24:  # a duration ("25:30"): the numbers as written
        return " ".join([cardinal(hours), _minutes(minutes)] + ([cardinal(seconds)] if match.group("s") else []))
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
    return _MONTHS.index(MONTH_ABBREVIATIONS.get(name, name)) + 1


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


def _short_date(match: re.Match) -> str:
    words = _date_words(int(match.group(2)), int(match.group(3)), None)
    return match.group(1) + words if words else match.group(0)


def times_and_dates(text: str) -> str:
    """Times, then dates, in words (before other numbers: `10:45`, `3/4/2025` hold several)."""
    text = _TIME_RANGE_RE.sub(r"\1 to ", text)
    text = _TIME_RE.sub(_time, text)
    text = _HOUR_AMPM_RE.sub(_hour_ampm, text)
    text = _ISO_DATE_RE.sub(_iso_date, text)
    text = _NUMERIC_DATE_RE.sub(_numeric_date, text)
    text = _SHORT_DATE_RE.sub(_short_date, text)
    text = _MONTH_DAY_RE.sub(_month_day, text)
    return _DAY_MONTH_RE.sub(_day_month, text)
