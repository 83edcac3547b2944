"""The consent columns of `subscribers export`, and `import` of such a file restoring them.

A reader's consent record travels with them: when they signed up and confirmed, the page the
form was on, the hash and the words of what they agreed to, the keyed hash of their IP address.
Every value is checked before anything is imported (all or nothing, with file:line).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..errors import BriefingError, Problem
from .consent import record_consent
from .importer import restored
from .store import Store, address_key, now

COLUMNS = ("signed_up_at", "confirmed_at", "signup_page", "consent_sha256", "consent_wording",
           "ip_hash")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_CHECKS = {
    "signed_up_at": (lambda v: bool(_TIME.fullmatch(v)), "a UTC time like 2026-02-13T09:00:00Z"),
    "confirmed_at": (lambda v: bool(_TIME.fullmatch(v)), "a UTC time like 2026-02-13T09:00:00Z"),
    "signup_page": (lambda v: len(v) <= 500 and v.isprintable(), "a URL of at most 500 "
                                                                 "characters"),
    "consent_sha256": (lambda v: bool(re.fullmatch(r"[0-9a-f]{64}", v)), "64 hex digits"),
    "consent_wording": (lambda v: len(v) <= 2000 and v.isprintable(), "one line of text"),
    "ip_hash": (lambda v: bool(re.fullmatch(r"[0-9a-f]{32}", v)), "32 hex digits"),
}
SOURCES = re.compile(r"cli|signup|sync|import:[^:]*:.*")


def exported(store: Store) -> dict[str, list[str]]:
    """address key -> the consent columns of that reader."""
    found = {}
    for key, source, signed, confirmed, page, sha, ip in store.db.execute(
            "SELECT address_key, source, signed_up_at, confirmed_at, page, wording_hash, "
            "ip_hash FROM consent"):
        del source  # the source column of the export is the reader's own
        words = store.db.execute("SELECT text FROM consent_wordings WHERE hash = ?",
                                 (sha,)).fetchone() if sha else None
        found[key] = [signed, confirmed, page, sha, words[0] if words else "", ip]
    return found


def read(path: Path, shown: str) -> dict[str, dict[str, str]] | None:
    """The consent columns of a CSV that has them (our own export), by address key; None for a
    file without them. Raises with every bad value's file:line."""
    text = path.read_bytes().decode("utf-8-sig", "replace")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or ()]
    if not {"address", "signed_up_at"} <= set(header):
        return None
    reader.fieldnames = header
    rows: dict[str, dict[str, str]] = {}
    problems = []
    for record in reader:
        # export neutralised cells a spreadsheet would run (importer.restored undoes it)
        values = {c: restored((record.get(c) or "").strip()) for c in (*COLUMNS, "source")}
        for column, (good, expected) in _CHECKS.items():
            if values[column] and not good(values[column]):
                problems.append(Problem(shown, reader.line_num, 0,
                                        f"'{column}' is not {expected}: "
                                        f"'{values[column][:60]}'"))
        if values["source"] and not SOURCES.fullmatch(values["source"]):
            values["source"] = ""
        rows.setdefault(address_key(record.get("address") or ""), values)
    if problems:
        raise BriefingError(problems[:20])
    return rows


def restore(store: Store, address: str, values: dict[str, str], source: str) -> None:
    """The imported reader's consent record as the export had it (inside the import's
    transaction)."""
    if values["consent_sha256"] and values["consent_wording"]:
        store.db.execute("INSERT OR IGNORE INTO consent_wordings (hash, text, first_seen) "
                         "VALUES (?, ?, ?)", (values["consent_sha256"], values["consent_wording"],
                                              now()))
    record_consent(store, address, values["source"] or source,
                   values["signed_up_at"] or now(), values["confirmed_at"],
                   values["signup_page"], values["consent_sha256"], values["ip_hash"])
