"""Reading subscriber CSV files: briefing's own export, the exports of Mailchimp, Substack,
Buttondown and listmonk, recognised by their header rows, or any CSV with the email column
named.

All or nothing: every row is read and checked first; a bad address, a bad date, a name with a
control character or an unknown layout is an error with file:line and nothing is imported.
What an export says is kept: the status, when the reader joined and left (Mailchimp's
OPTIN_TIME and UNSUB_TIME, ...) and why; briefing's own export comes back exactly as it went out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..content.schema import parse_mailbox
from ..errors import BriefingError, Problem, count

MAX_BYTES = 200_000_000  # a 1,000,000-reader export is about 100 MB
STATUSES = ("active", "unsubscribed", "bounced", "complained")
# C0 and C1 controls (line breaks, tab, escape), DEL, the Unicode line and paragraph
# separators, and the invisible bidirectional controls: a name is one line of text, and none
# of these may forge a line or reorder one in `subscribers list`.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e"
                      "\u2066-\u2069]")
# OWASP CSV injection: a cell starting with one of these is a formula to a spreadsheet. Our
# export prefixes a quote (and to a cell starting with a quote, so that import can undo it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def control_in(text: str) -> str:
    """'U+000A' for the first control character in a name, or ''."""
    found = _CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else ""


def neutralised(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def restored(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_START) else cell


class Row(NamedTuple):  # a tuple: a million of them are made by an import of that size
    line: int
    address: str
    name: str
    status: str  # what the export says: active, unsubscribed, bounced or complained
    added_at: str = ""    # when they joined, UTC ISO 8601 ("" when the export does not say)
    changed_at: str = ""  # when their status last changed
    reason: str = ""      # why, as the export says it
    source: str = ""      # briefing's own export: where the reader first came from
    # A `themes` column (briefing's export, or any CSV named by --email-column): the reader's
    # chosen themes as written, '' for every theme; None when the file has no such column.
    themes: str | None = None


@dataclass(frozen=True)
class Layout:
    """One service's export: how to recognise it, and how to read a row of it."""

    name: str
    email: str
    recognise: Callable[[set[str]], bool]
    name_of: Callable[[dict[str, str]], str]
    status_of: Callable[[dict[str, str]], str]
    # (column of the joining date, columns of the date of the status, newest first)
    dates: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    reason_of: Callable[[dict[str, str]], str] = lambda r: ""


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes", "t", "y")


def _mailchimp_status(row: dict[str, str]) -> str:
    # Mailchimp exports each status to its own file: unsubscribed members carry UNSUB_TIME,
    # cleaned (hard-bounced) ones CLEAN_TIME.
    if row.get("UNSUB_TIME", "").strip():
        return "unsubscribed"
    if row.get("CLEAN_TIME", "").strip():
        return "bounced"
    return "active"


_BUTTONDOWN_TYPES = {"unsubscribed": "unsubscribed", "removed": "unsubscribed",
                     "undeliverable": "bounced", "complained": "complained",
                     "spammy": "complained"}
_LISTMONK_STATUS = {"blocklisted": "unsubscribed"}

def _mailchimp_reason(row: dict[str, str]) -> str:
    return ": ".join(p for p in (row.get("UNSUB_REASON", "").strip(),
                                 row.get("UNSUB_REASON_OTHER", "").strip()) if p)


def _buttondown(email: str) -> Layout:
    # Buttondown's current exports name the column `email`, older ones `email_address`.
    return Layout(
        "Buttondown", email,
        lambda h: email in h and bool(h & {"creation_date", "subscriber_type", "type"}),
        lambda r: "",
        lambda r: _BUTTONDOWN_TYPES.get(
            (r.get("subscriber_type") or r.get("type") or "").strip().lower(), "active"),
        (("creation_date",), ("unsubscription_date",)),
        lambda r: r.get("unsubscription_reason", "").strip())


OWN = Layout("briefing", "address",
             lambda h: {"address", "status", "status_changed_at", "added_at"} <= h,
             lambda r: r.get("name", ""), lambda r: r.get("status", "").strip(),
             (("added_at",), ("status_changed_at",)), lambda r: r.get("status_reason", ""))

LAYOUTS = [
    OWN,
    Layout("Mailchimp", "Email Address",
           lambda h: "Email Address" in h and bool(h & {"MEMBER_RATING", "OPTIN_TIME", "LEID",
                                                        "EUID"}),
           lambda r: " ".join(p for p in (r.get("First Name", "").strip(),
                                          r.get("Last Name", "").strip()) if p),
           _mailchimp_status,
           (("OPTIN_TIME", "CONFIRM_TIME"),
            ("UNSUB_TIME", "CLEAN_TIME", "LAST_CHANGED", "CONFIRM_TIME", "OPTIN_TIME")),
           _mailchimp_reason),
    Layout("Substack", "email",
           lambda h: {"email", "active_subscription"} <= h,
           lambda r: r.get("name", "").strip(),
           lambda r: "bounced" if _true(r.get("email_disabled", "")) else "active",
           (("created_at",), ())),
    _buttondown("email_address"),
    Layout("listmonk", "email",
           lambda h: {"email", "name", "attributes"} <= h,
           lambda r: r.get("name", "").strip(),
           lambda r: _LISTMONK_STATUS.get(r.get("status", "").strip().lower(), "active"),
           (("created_at",), ("updated_at",))),
    _buttondown("email"),
]

DOCUMENTED = {  # for the README and the error message: what each layout is known by
    "briefing": "'address', 'status', 'added_at' and 'status_changed_at' (its own export)",
    "Mailchimp": "'Email Address' with MEMBER_RATING, OPTIN_TIME, LEID or EUID",
    "Substack": "'email' with 'active_subscription'",
    "Buttondown": "'email' or 'email_address' with 'creation_date' or 'subscriber_type'",
    "listmonk": "'email', 'name' and 'attributes'",
}


def _date(value: str) -> str:
    """A date as an export writes it (ISO 8601, with or without a time or an offset; no
    offset means UTC, as Mailchimp writes them), in the store's one format."""
    when = dt.datetime.fromisoformat(value.strip().replace(" UTC", ""))
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    # isoformat, not strftime: a third of the cost, and a million rows have two dates each.
    return when.replace(microsecond=0).isoformat() + "Z"


def _dates(layout: Layout, record: dict[str, str], shown: str, line: int,
           problems: list[Problem]) -> tuple[str, str]:
    found = []
    bad: set[str] = set()
    for columns in layout.dates:
        value = ""
        for column in columns:
            raw = record.get(column, "").strip()
            if not raw:
                continue
            try:
                value = _date(raw)
            except ValueError:
                if column not in bad:
                    bad.add(column)
                    problems.append(Problem(shown, line, 0, f"'{column}' is not a date "
                                            f"('{raw}')", "write it as 2026-02-16 or "
                                            "2026-02-16T09:00:00Z; nothing was imported"))
            break
        found.append(value)
    return found[0], found[1] or found[0]


def read_csv(path: Path, shown: str, email_column: str | None = None,
             name_column: str | None = None) -> tuple[str, list[Row]]:
    """The layout's name and every row, checked; or one error naming file:line."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BriefingError(Problem(shown, 0, 0, f"is {size:,} bytes; the limit is "
                                        f"{MAX_BYTES:,}"))
        raw = path.read_bytes()
    except OSError as exc:
        raise BriefingError(Problem(shown, 0, 0, f"cannot read file: {exc.strerror}")) from None
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BriefingError(Problem(shown, line, 0, "is not UTF-8 text",
                                    "save it as CSV UTF-8")) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise BriefingError(Problem(shown, 1, 0, f"is not CSV: {exc}")) from None
    if not header or not any(h.strip() for h in header):
        raise BriefingError(Problem(shown, 1, 0, "has no header row",
                                    "the first line must name the columns"))
    columns = [h.strip() for h in header]
    found = ", ".join(repr(c) for c in columns)
    if email_column:
        if email_column not in columns:
            raise BriefingError(Problem(shown, 1, 0, f"has no column '{email_column}'; its "
                                        f"columns: {found}"))
        if name_column and name_column not in columns:
            raise BriefingError(Problem(shown, 1, 0, f"has no column '{name_column}'; its "
                                        f"columns: {found}"))
        layout = Layout("CSV", email_column, lambda h: True,
                        lambda r: r.get(name_column, "").strip() if name_column else "",
                        lambda r: "active")
    else:
        matches = [candidate for candidate in LAYOUTS if candidate.recognise(set(columns))]
        if not matches:
            known = "; ".join(f"{k}: {v}" for k, v in DOCUMENTED.items())
            raise BriefingError(Problem(
                shown, 1, 0, f"is not a layout briefing knows; its columns: {found}",
                f"name the columns with --email-column (and --name-column); known layouts: "
                f"{known}"))
        layout = matches[0]
    rows: list[Row] = []
    problems: list[Problem] = []
    width = len(columns)
    try:
        for values in reader:
            line = reader.line_num
            if not "".join(values).strip():
                continue  # a blank line
            if len(values) != width:
                if len(values) > width:
                    problems.append(Problem(shown, line, 0, f"has {len(values)} fields but "
                                            f"the header names {width}"))
                    continue
                values += [""] * (width - len(values))
            record = dict(zip(columns, values, strict=True))
            if layout is OWN:  # undo what our export did against formulas
                record = {k: restored(v) for k, v in record.items()}
            value = record.get(layout.email, "").strip()
            try:
                mailbox = parse_mailbox(value)
            except ValueError:
                problems.append(Problem(shown, line, 0, f"'{value}' is not a valid address"
                                        if value else "has no address",
                                        "fix or delete the row; nothing was imported"))
                continue
            name = layout.name_of(record) or mailbox.name
            control = control_in(name)
            if control:
                problems.append(Problem(shown, line, 0, f"the name of {mailbox.address} has a "
                                        f"control character ({control}); a name is one line "
                                        "of text", "fix the row; nothing was imported"))
                continue
            status = layout.status_of(record)
            if status not in STATUSES:
                problems.append(Problem(shown, line, 0, f"'{status}' is not a status",
                                        f"one of {', '.join(STATUSES)}; nothing was imported"))
                continue
            added, changed = _dates(layout, record, shown, line, problems)
            themes = record.get("themes", "").strip() if "themes" in columns and \
                layout.name in ("briefing", "CSV") else None
            rows.append(Row(line, mailbox.address, name, status, added, changed,
                            layout.reason_of(record).strip(),
                            record.get("source", "").strip() if layout is OWN else "", themes))
    except csv.Error as exc:
        problems.append(Problem(shown, reader.line_num, 0, f"is not valid CSV: {exc}"))
    if problems:
        if len(problems) > 20:  # a wrong column picks garbage on every row: say so briefly
            extra = len(problems) - 20
            problems = problems[:20] + [Problem(shown, 0, 0, f"and {count(extra, 'more row')} "
                                                "with a problem")]
        raise BriefingError(problems)
    return layout.name, rows
