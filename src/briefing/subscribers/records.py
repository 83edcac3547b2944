"""The SQL for deliveries (the ledger) and feedback (bounces, delays, complaints), in one place:
`send` writes them (deliver/ledger.py) and `sync` reads and adds to them (subscribers/apply.py).

Every function takes the open connection; the callers hold the transaction.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .store import address_key, now

FEEDBACK_KINDS = ("bounced", "deferred", "complained")


@dataclass(frozen=True)
class Delivery:
    address: str
    message_id: str
    sha256: str
    state: str
    attempted_at: str
    accepted_at: str | None
    reply: str
    transport: str


_DELIVERY = "address, message_id, sha256, state, attempted_at, accepted_at, reply, transport"


def deliveries_of(db: sqlite3.Connection, issue: str) -> list[Delivery]:
    rows = db.execute(f"SELECT {_DELIVERY} FROM deliveries WHERE issue = ? ORDER BY id",
                      (issue,))
    return [Delivery(*row) for row in rows]


def attempt(db: sqlite3.Connection, issue: str, address: str, message_id: str, sha256: str,
            transport: str, themes: str = "") -> int:
    """`themes`: the theme ids the copy carries, comma-separated ('' in rows from before)."""
    cursor = db.execute(
        "INSERT INTO deliveries (issue, address, address_key, message_id, sha256, state, "
        "attempted_at, transport, themes) VALUES (?, ?, ?, ?, ?, 'attempted', ?, ?, ?)",
        (issue, address, address_key(address), message_id, sha256, now(), transport, themes))
    return int(cursor.lastrowid or 0)


def accept(db: sqlite3.Connection, row: int, reply: str) -> None:
    db.execute("UPDATE deliveries SET state = 'accepted', accepted_at = ?, reply = ? "
               "WHERE id = ?", (now(), reply, row))


def forget(db: sqlite3.Connection, row: int) -> None:
    db.execute("DELETE FROM deliveries WHERE id = ? AND state = 'attempted'", (row,))


def copy_sent(db: sqlite3.Connection, message_id: str) -> tuple[str, str] | None:
    """(address, issue) of the copy we sent with this Message-ID: the ledger's proof that a
    report is about one of our copies."""
    row = db.execute("SELECT address, issue FROM deliveries WHERE message_id = ? "
                     "ORDER BY id DESC LIMIT 1", (message_id.strip(),)).fetchone()
    return (row[0], row[1]) if row else None


def issues_sent_to(db: sqlite3.Connection, address: str) -> list[str]:
    """The issues a reader was sent, in the order they were first sent to them."""
    return [issue for (issue,) in db.execute(
        "SELECT issue FROM deliveries WHERE address_key = ? GROUP BY issue "
        "ORDER BY min(attempted_at), min(id)", (address_key(address),))]


def delivered_addresses(db: sqlite3.Connection) -> list[str]:
    return [address for (address,) in db.execute("SELECT DISTINCT address FROM deliveries")]


def add_feedback(db: sqlite3.Connection, issue: str, address: str, kind: str, reason: str,
                 source: str) -> None:
    assert kind in FEEDBACK_KINDS, kind
    db.execute("INSERT INTO feedback (issue, address, address_key, kind, reason, source, at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               (issue, address, address_key(address), kind, reason, source, now()))


def outcome(db: sqlite3.Connection, issue: str) -> tuple[int, int, int]:
    """Readers who got the issue, bounced on it, complained about it."""
    delivered = db.execute("SELECT count(DISTINCT address_key) FROM deliveries WHERE issue = ? "
                           "AND state = 'accepted'", (issue,)).fetchone()[0]
    found = dict(db.execute("SELECT kind, count(DISTINCT address_key) FROM feedback WHERE "
                            "issue = ? GROUP BY kind", (issue,)).fetchall())
    return delivered, found.get("bounced", 0), found.get("complained", 0)


# -- temporary failures, counted per reader and issue (sync) ----------------------------------


def note_transient(db: sqlite3.Connection, address: str, issue: str, status: str,
                   reason: str) -> dict[str, str]:
    """Remember a temporary failure of one issue; every issue that failed for the reader."""
    key = address_key(address)
    db.execute("INSERT INTO sync_transient (address_key, issue, status, reason, seen_at) "
               "VALUES (?, ?, ?, ?, ?) ON CONFLICT (address_key, issue) DO UPDATE SET "
               "status = excluded.status, reason = excluded.reason, seen_at = excluded.seen_at",
               (key, issue, status, reason, now()))
    return dict(db.execute("SELECT issue, reason FROM sync_transient WHERE address_key = ? "
                           "ORDER BY seen_at", (key,)).fetchall())


def forget_transients(db: sqlite3.Connection, address: str) -> int:
    return db.execute("DELETE FROM sync_transient WHERE address_key = ?",
                      (address_key(address),)).rowcount
