"""The never-twice ledger, in the subscriber store: who got which content of which issue.

A copy is recorded as `attempted` (committed) before it is handed to the transport, and as
`accepted` (committed) once the server or command took it, before the next copy goes. So a
crash at any moment leaves either nothing (the copy never left), an acceptance, or an attempt
without an acceptance: that reader *may* have it, and a rerun says so instead of sending again.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..subscribers.store import Store, address_key, now


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


@dataclass(frozen=True)
class LedgerState:
    accepted: dict[str, Delivery]     # address key -> its (last) accepted copy
    # Copies handed over without an acceptance: the reader may or may not have them.
    unconfirmed: dict[str, Delivery]
    hashes: set[str]                  # the contents (sha256 of message.eml) readers got


class Ledger:
    """The deliveries of one issue."""

    def __init__(self, store: Store, issue_id: str) -> None:
        self.store = store
        self.issue_id = issue_id

    @property
    def shown(self) -> str:
        return self.store.shown

    def deliveries(self) -> list[Delivery]:
        rows = self.store.read(
            "SELECT address, message_id, sha256, state, attempted_at, accepted_at, reply, "
            "transport FROM deliveries WHERE issue = ? ORDER BY id", (self.issue_id,))
        return [Delivery(*row) for row in rows]

    def state(self) -> LedgerState:
        """What the ledger says of the issue, from one read of its deliveries."""
        rows = self.deliveries()
        accepted = {address_key(d.address): d for d in rows if d.state == "accepted"}
        unconfirmed = {address_key(d.address): d for d in rows
                       if d.state == "attempted" and address_key(d.address) not in accepted}
        return LedgerState(accepted, unconfirmed, {d.sha256 for d in accepted.values()})

    def attempt(self, address: str, message_id: str, sha256: str, transport: str) -> int:
        """Record that a copy is about to be handed over; committed before it is."""
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO deliveries (issue, address, address_key, message_id, sha256, state, "
                "attempted_at, transport) VALUES (?, ?, ?, ?, ?, 'attempted', ?, ?)",
                (self.issue_id, address, address_key(address), message_id, sha256, now(),
                 transport))
            return int(cursor.lastrowid or 0)

    def accept(self, row: int, reply: str) -> None:
        """The server (or command) took the copy. The send time is the only clock value
        briefing keeps about a delivery."""
        with self.store.transaction() as db:
            db.execute("UPDATE deliveries SET state = 'accepted', accepted_at = ?, reply = ? "
                       "WHERE id = ?", (now(), reply, row))

    def forget(self, row: int) -> None:
        """The copy certainly did not go (refused, or the connection failed before DATA): no
        record of it is kept."""
        with self.store.transaction() as db:
            db.execute("DELETE FROM deliveries WHERE id = ? AND state = 'attempted'", (row,))

    def bounced(self, address: str, reply: str) -> None:
        """The server refused the address itself for good (5xx at RCPT): the reader is marked
        bounced now, so no later issue is sent to them."""
        reason = f"refused when sending {self.issue_id}: {reply}"
        with self.store.transaction() as db:
            db.execute("INSERT INTO feedback (issue, address, address_key, kind, reason, "
                       "source, at) VALUES (?, ?, ?, 'bounced', ?, 'send', ?)",
                       (self.issue_id, address, address_key(address), reply, now()))
            if self.store.get(address) is None:  # a reader from briefing.yaml
                self.store.insert(address, "", "bounced", "briefing.yaml", reason)
            else:
                self.store.set_status(address, "bounced", reason)

    def outcome(self) -> tuple[int, int, int]:
        """Readers who got the issue, bounced on it, complained about it."""
        delivered = self.store.read(
            "SELECT count(DISTINCT address_key) FROM deliveries WHERE issue = ? AND "
            "state = 'accepted'", (self.issue_id,))[0][0]
        found = dict(self.store.read(
            "SELECT kind, count(DISTINCT address_key) FROM feedback WHERE issue = ? GROUP BY "
            "kind", (self.issue_id,)))
        return delivered, found.get("bounced", 0), found.get("complained", 0)
