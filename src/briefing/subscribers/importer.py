"""Reading subscriber CSV files: the exports of Mailchimp, Substack, Buttondown and listmonk,
recognised by their header rows, or any CSV with the email column named.

All or nothing: every row is read and checked first; a bad address or an unknown layout is an
error with file:line and nothing is imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..content.schema import parse_mailbox
from ..errors import BriefingError, Problem, count

MAX_BYTES = 200_000_000  # a 1,000,000-reader export is about 100 MB


class Row(NamedTuple):  # a tuple: a million of them are made by an import of that size
    line: int
    address: str
    name: str
    status: str  # what the export says: active, unsubscribed, bounced or complained


@dataclass(frozen=True)
class Layout:
    """One service's export: how to recognise it, and how to read a row of it."""

    name: str
    email: str
    recognise: Callable[[set[str]], bool]
    name_of: Callable[[dict[str, str]], str]
    status_of: Callable[[dict[str, str]], str]


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

LAYOUTS = [
    Layout("Mailchimp", "Email Address",
           lambda h: "Email Address" in h and bool(h & {"MEMBER_RATING", "OPTIN_TIME", "LEID",
                                                        "EUID"}),
           lambda r: " ".join(p for p in (r.get("First Name", "").strip(),
                                          r.get("Last Name", "").strip()) if p),
           _mailchimp_status),
    Layout("Substack", "email",
           lambda h: {"email", "active_subscription"} <= h,
           lambda r: r.get("name", "").strip(),
           lambda r: "bounced" if _true(r.get("email_disabled", "")) else "active"),
    Layout("Buttondown", "email_address",
           lambda h: "email_address" in h and bool(h & {"creation_date", "subscriber_type",
                                                        "type"}),
           lambda r: "",
           lambda r: _BUTTONDOWN_TYPES.get(
               (r.get("subscriber_type") or r.get("type") or "").strip().lower(), "active")),
    Layout("listmonk", "email",
           lambda h: {"email", "name", "attributes"} <= h,
           lambda r: r.get("name", "").strip(),
           lambda r: _LISTMONK_STATUS.get(r.get("status", "").strip().lower(), "active")),
]

DOCUMENTED = {  # for the README and the error message: what each layout is known by
    "Mailchimp": "'Email Address' with MEMBER_RATING, OPTIN_TIME, LEID or EUID",
    "Substack": "'email' with 'active_subscription'",
    "Buttondown": "'email_address' with 'creation_date' or 'subscriber_type'",
    "listmonk": "'email', 'name' and 'attributes'",
}


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
            value = record.get(layout.email, "").strip()
            try:
                mailbox = parse_mailbox(value)
            except ValueError:
                problems.append(Problem(shown, line, 0, f"'{value}' is not a valid address"
                                        if value else "has no address",
                                        "fix or delete the row; nothing was imported"))
                continue
            rows.append(Row(line, mailbox.address, layout.name_of(record) or mailbox.name,
                            layout.status_of(record)))
    except csv.Error as exc:
        problems.append(Problem(shown, reader.line_num, 0, f"is not valid CSV: {exc}"))
    if problems:
        if len(problems) > 20:  # a wrong column picks garbage on every row: say so briefly
            extra = len(problems) - 20
            problems = problems[:20] + [Problem(shown, 0, 0, f"and {count(extra, 'more row')} "
                                                "with a problem")]
        raise BriefingError(problems)
    return layout.name, rows
