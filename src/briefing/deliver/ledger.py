"""The never-twice ledger, in the subscriber store: who got which content of which issue.

A copy is recorded as `attempted` (committed) before it is handed to the transport, and as
`accepted` (committed) once the server or command took it, before the next copy goes. So a
crash at any moment leaves either nothing (the copy never left), an acceptance, or an attempt
without an acceptance: that reader *may* have it, and a rerun says so instead of sending again.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..subscribers import records
from ..subscribers.records import Delivery
from ..subscribers.store import Store, address_key

__all__ = ["Delivery", "Ledger", "LedgerState"]


@dataclass(frozen=True)
class LedgerState:
    accepted: dict[str, Delivery]     # address key -> its (last) accepted copy
    # Copies handed over without an acceptance: the reader may or may not have them.
    unconfirmed: dict[str, Delivery]
    hashes: set[str]                  # the contents (sha256 of message.eml) readers got


class Ledger:
    """The deliveries of one issue (the SQL is in subscribers/records.py, shared with sync)."""

    def __init__(self, store: Store, issue_id: str) -> None:
        self.store = store
        self.issue_id = issue_id

    @property
    def shown(self) -> str:
        return self.store.shown

    def deliveries(self) -> list[Delivery]:
        with self.store.lock:
            return records.deliveries_of(self.store.db, self.issue_id)

    def state(self) -> LedgerState:
        """What the ledger says of the issue, from one read of its deliveries."""
        rows = self.deliveries()
        accepted = {address_key(d.address): d for d in rows if d.state == "accepted"}
        unconfirmed = {address_key(d.address): d for d in rows
                       if d.state == "attempted" and address_key(d.address) not in accepted}
        return LedgerState(accepted, unconfirmed, {d.sha256 for d in accepted.values()})

    def attempt(self, address: str, message_id: str, sha256: str, transport: str,
                themes: str = "") -> int:
        """Record that a copy is about to be handed over, with the themes it carries;
        committed before it is."""
        with self.store.transaction() as db:
            return records.attempt(db, self.issue_id, address, message_id, sha256, transport,
                                   themes)

    def accept(self, row: int, reply: str) -> None:
        """The server (or command) took the copy. The send time is the only clock value
        briefing keeps about a delivery."""
        with self.store.transaction() as db:
            records.accept(db, row, reply)

    def forget(self, row: int) -> None:
        """The copy certainly did not go (refused, or the connection failed before DATA): no
        record of it is kept."""
        with self.store.transaction() as db:
            records.forget(db, row)

    def bounced(self, address: str, reply: str) -> None:
        """The server refused the address itself for good (an address failure at RCPT, by
        subscribers/refusal.py): the reader is marked bounced now, so no later issue is sent
        to them."""
        reason = f"refused when sending {self.issue_id}: {reply}"
        with self.store.transaction() as db:
            records.add_feedback(db, self.issue_id, address, "bounced", reply, "send")
            if self.store.get(address) is None:  # a reader from briefing.yaml
                self.store.insert(address, "", "bounced", "briefing.yaml", reason)
            else:
                self.store.set_status(address, "bounced", reason)

    def outcome(self) -> tuple[int, int, int]:
        """Readers who got the issue, bounced on it, complained about it."""
        with self.store.lock:
            return records.outcome(self.store.db, self.issue_id)
