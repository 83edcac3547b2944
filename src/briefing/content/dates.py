"""Dates as readers see them, in English and independent of the machine's locale."""

from __future__ import annotations

import datetime as dt

# strftime's %A/%B follow the C library's LC_TIME, which any library may change with
# setlocale(); spelling the names out keeps every output byte-identical on every machine.
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def day_month_year(date: dt.date) -> str:
    """'13 February 2026'."""
    return f"{date.day} {_MONTHS[date.month - 1]} {date.year}"


def long_date(date: dt.date) -> str:
    """'Friday 13 February 2026'."""
    return f"{_DAYS[date.weekday()]} {day_month_year(date)}"


def short_date(date: dt.date) -> str:
    """'9 Feb 2026', with no-break spaces: a date never wraps across lines."""
    return f"{date.day}\u00a0{_MONTHS[date.month - 1][:3]}\u00a0{date.year}"


def date_problem(year: int, month: int, day: int) -> str:
    """Why year-month-day is not a date, in words ('' when it is one)."""
    if not 1 <= month <= 12:
        return f"{year:04}-{month:02}-{day:02} does not exist: there is no month {month}"
    try:
        dt.date(year, month, day)
    except ValueError:
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        return (f"{year:04}-{month:02}-{day:02} does not exist: {_MONTHS[month - 1]} {year} "
                f"has {last} days")
    return ""
