"""A cited page's date: what it declares, its URL and its byline, weighed; a guess is flagged."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

# A UTC time this close to midnight is another day somewhere a newsroom works: between 10:00
# and 13:00 UTC it is the same date from Hawaii (UTC-10) to Sydney (UTC+11). US sites declare
# datePublished in UTC, so a story that ran at 8 pm in New York is declared the next day.
SAME_DAY_UTC_HOURS = range(10, 13)

_ISO = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
                  r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)?)?\s*$")
_SLASHED = re.compile(r"\s*(\d{4})/(\d{1,2})/(\d{1,2})\s*$")
_COMPACT = re.compile(r"\s*(\d{4})(\d{2})(\d{2})(?:T?\d{4,6}Z?)?\s*$")
_YEAR_MONTH = re.compile(r"\s*(\d{4})[-/](\d{1,2})\s*$")


@dataclass(frozen=True)
class When:
    """A date a page gives, as its publisher wrote it."""

    date: dt.date
    utc_hour: int | None = None  # a time of day in UTC: the publisher's own date may differ
    written: str = ""            # the value as the page has it, for messages

    @property
    def sure(self) -> bool:
        """The date is the same wherever the story ran."""
        return self.utc_hour is None or self.utc_hour in SAME_DAY_UTC_HOURS

    def could_be(self, day: dt.date) -> bool:
        """`day` is this moment's date somewhere between UTC-10 and UTC+11."""
        if day == self.date or self.utc_hour is None:
            return day == self.date
        if day == self.date - dt.timedelta(days=1):
            return self.utc_hour < SAME_DAY_UTC_HOURS.start
        if day == self.date + dt.timedelta(days=1):
            return self.utc_hour >= SAME_DAY_UTC_HOURS.stop
        return False


def parse_declared(value: str) -> When | None:
    """A date as metadata writes it: ISO 8601 (a date, or a time with or without an offset),
    2026/02/13, 20260213, or RFC 2822 (`Fri, 13 Feb 2026 20:30:00 -0500`); None otherwise.

    A time with an offset other than UTC gives the date where it was written (the publisher's
    own); a UTC time keeps its hour, because the publisher's date may be the one before."""
    value = value.strip()[:100]
    match = _ISO.match(value)
    if match:
        year, month, day, hour, _, _, zone = match.groups()
        date = _date(int(year), int(month), int(day))
        if date is None:
            return None
        utc = hour is not None and zone is not None and (
            zone.upper() in ("Z", "UTC", "GMT") or not zone.lstrip("+-").strip("0:"))
        return When(date, int(hour) if utc and hour else (0 if utc else None), value)
    for pattern in (_SLASHED, _COMPACT):
        match = pattern.match(value)
        if match:
            date = _date(*(int(x) for x in match.groups()[:3]))
            return When(date, None, value) if date else None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    offset = moment.utcoffset()
    return When(moment.date(), moment.hour if offset is not None and not offset else None,
                value)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    return date if 1990 <= year <= 2100 else None


# -- a date in an address ----------------------------------------------------------------------

_URL_DATE = re.compile(r"(?<![0-9])((?:19|20)\d{2})([/_-]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])"
                       r"(?![0-9])")
_URL_YEAR_DAY = re.compile(r"/((?:19|20)\d{2})/(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])/")
_URL_MONTH = re.compile(r"/((?:19|20)\d{2})/(0[1-9]|1[0-2])/")


def url_date(path: str) -> dt.date | None:
    """/2026/02/13/, /2026-02-13-slug, /20260213/, /2026/0213/ in a URL's path; the first
    one wins."""
    found = [(m.start(), m.group(1), m.group(3), m.group(4)) for m in _URL_DATE.finditer(path)]
    found += [(m.start(), m.group(1), m.group(2), m.group(3))
              for m in _URL_YEAR_DAY.finditer(path)]
    for _, year, month, day in sorted(found):
        date = _date(int(year), int(month), int(day))
        if date:
            return date
    return None


def url_month(path: str) -> tuple[int, int] | None:
    match = _URL_MONTH.search(path)
    return (int(match.group(1)), int(match.group(2))) if match else None


# -- a date in text, as readers see it ----------------------------------------------------------

_MONTHS = {
    # English, French, German, Spanish, Italian, Portuguese, Dutch: the newsrooms' languages
    # that write a day, a month name and a year.
    **{m: i + 1 for i, m in enumerate(["january", "february", "march", "april", "may", "june",
                                         "july", "august", "september", "october",
                                         "november", "december"])},
    **{m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                         "sep", "oct", "nov", "dec"])},
    "sept": 9,
    **{m: i + 1 for i, m in enumerate(["janvier", "février", "mars", "avril", "mai", "juin",
                                         "juillet", "août", "septembre", "octobre",
                                         "novembre", "décembre"])},
    "fevrier": 2, "aout": 8, "decembre": 12, "janv": 1, "févr": 2, "avr": 4, "juil": 7,
    **{m: i + 1 for i, m in enumerate(["januar", "februar", "märz", "april", "mai", "juni",
                                         "juli", "august", "september", "oktober",
                                         "november", "dezember"])},
    "jänner": 1, "maerz": 3,
    **{m: i + 1 for i, m in enumerate(["enero", "febrero", "marzo", "abril", "mayo", "junio",
                                         "julio", "agosto", "septiembre", "octubre",
                                         "noviembre", "diciembre"])},
    **{m: i + 1 for i, m in enumerate(["gennaio", "febbraio", "marzo", "aprile", "maggio",
                                         "giugno", "luglio", "agosto", "settembre", "ottobre",
                                         "novembre", "dicembre"])},
}
_MONTH = r"([^\W\d_]{3,10})\.?"
_TEXT_DATES = [
    # 2026年2月13日 (Chinese, Japanese), 2026년 2월 13일 (Korean)
    (re.compile(r"((?:19|20)\d{2})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]"), "ymd"),
    (re.compile(r"(?<![\d-])((?:19|20)\d{2})-(\d{2})-(\d{2})(?![\d])"), "ymd"),
    # February 13, 2026 / Feb. 13 2026
    (re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{2})\b"), "mdy"),
    # 13 February 2026 / 13 février 2026 / 13. Februar 2026 / 1er mars 2026 / 13 de febrero de
    (re.compile(r"\b(\d{1,2})(?:er|\.|st|nd|rd|th)?\s+(?:de\s+)?" + _MONTH
                + r",?\s+(?:de\s+)?((?:19|20)\d{2})\b"), "dmy"),
    # 13.02.2026 (German and most of Europe write day.month.year with dots)
    (re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.((?:19|20)\d{2})(?![\d])"), "dmy"),
]


def text_date(text: str) -> dt.date | None:
    """The first date written out in `text`, in the forms newsrooms use; None if none."""
    found: list[tuple[int, dt.date]] = []
    for pattern, order in _TEXT_DATES:
        for match in pattern.finditer(text):
            a, b, c = match.groups()
            year, month, day = (a, b, c) if order == "ymd" else (c, a, b) if order == "mdy" \
                else (c, b, a)
            number = int(month) if month.isdigit() else _MONTHS.get(month.lower())
            if number is None:
                continue
            date = _date(int(year), number, int(day))
            if date:
                found.append((match.start(), date))
                break
    return min(found, key=lambda f: f[0])[1] if found else None


# -- the decision ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DateChoice:
    """The date to write, and why it is flagged (`guess`) or left out (`missing`)."""

    date: dt.date | None
    guess: str = ""    # non-empty: written with a '# guessed: ...' comment
    missing: str = ""  # no date: why


def choose(declared: list[tuple[When, str]], from_url: dt.date | None,
           shown: tuple[When, str] | None) -> DateChoice:
    """The publication date from what a page declares (`declared`: each value and where it was
    found, best first), the date in its URL, and the date it shows readers (`shown`).

    A declared date is written as fact when nothing contradicts it and it cannot be another
    day where the story ran. When the declared date, the URL's and the byline's disagree, the
    date the others support is written, flagged. An undeclared date is always flagged."""
    others = [(d, f"its URL ({d})") for d in [from_url] if d]
    if shown is not None:
        others.append((shown[0].date, f"{shown[1]} ({shown[0].date})"))
    if declared:
        return _weigh(declared, others, shown)
    if not others:
        return DateChoice(None, missing="the page gives none (nothing declared, none in its "
                                        "URL or text)")
    dates = {d for d, _ in others}
    first = from_url or others[0][0]
    said = " and ".join(why for _, why in others)
    if len(dates) == 1:
        return DateChoice(first, guess=f"the page declares no date; {said}")
    return DateChoice(first, guess=f"the page declares no date, and {said} disagree")


def _weigh(declared: list[tuple[When, str]], others: list[tuple[dt.date, str]],
           shown: tuple[When, str] | None) -> DateChoice:
    # A time with an offset says the publisher's own date; prefer it to a UTC one.
    when, where = next(((w, s) for w, s in declared if w.utc_hour is None), declared[0])
    said = f"the page declares {when.written or when.date} ({where})"
    against = [(d, why) for d, why in others if d != when.date]
    if not against:
        if when.sure or others:
            return DateChoice(when.date)
        day = "before" if when.utc_hour is not None and when.utc_hour < 10 else "after"
        return DateChoice(when.date, guess=f"{said}, a time in UTC: where the story ran it "
                                           f"may be the day {day}")
    votes: dict[dt.date, list[str]] = {}
    for date, why in others:
        votes.setdefault(date, []).append(why)
    best, reasons = max(votes.items(), key=lambda v: (len(v[1]), when.could_be(v[0])))
    supported = best != when.date and (len(reasons) > 1 or when.could_be(best))
    if supported:
        explained = ", a time in UTC" if when.could_be(best) else ""
        return DateChoice(best, guess=f"{said}{explained}, but {' and '.join(reasons)} say "
                                      f"{best}")
    return DateChoice(when.date, guess=f"{said}, but {' and '.join(w for _, w in against)} "
                                       "disagree")
