"""Sign-ups and confirmations from the endpoint's events, applied by `sync` (and before `send`).

A sign-up event holds keyed hashes only (the address, the IP address), the page and the
consent wording: it becomes a pending sign-up, which never receives anything and is deleted
once its link expires. A confirmation event holds the token, which only this machine can open:
its reader becomes active with source `signup`, whatever their status was (a reader who left
and signs up and confirms again gives their own, explicit consent), unless they were erased at
their request after that sign-up was made.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from ..content.schema import parse_mailbox
from ..errors import Problem
from .consent import erased_at, forget_erasure, record_consent
from .signup import EditorKeys, Joiner, check_token, editor_keys, open_token, seconds_of, stamp
from .store import now

if TYPE_CHECKING:
    from .sync import Applier

# What a sync counts (singular, plural), after sync.py's own.
TALLIES = [("subscribed", "subscribed"), ("confirmed again", "confirmed again"),
           ("sign-up waiting for confirmation", "sign-ups waiting for confirmation"),
           ("expired sign-up", "expired sign-ups"),
           ("confirmation not applied", "confirmations not applied"),
           ("event not understood", "events not understood")]
_HEX = {24: re.compile(r"[0-9a-f]{24}"), 32: re.compile(r"[0-9a-f]{32}"),
        64: re.compile(r"[0-9a-f]{64}")}


def _hex(value: Any, length: int, empty: bool = False) -> bool:
    return isinstance(value, str) and (bool(_HEX[length].fullmatch(value))
                                       or (empty and value == ""))


class Joining:
    """The sign-up events of one sync, applied inside its transaction."""

    def __init__(self, applier: Applier) -> None:
        self.applier = applier
        self.store, self.run = applier.store, applier.run
        self.project, self.config = applier.readers.project, applier.readers.config
        self._keys: EditorKeys | None = None
        self._token_key: bytes | None = None
        # A sign-up nobody confirmed in time is forgotten: it may be a stranger's address.
        self.store.db.execute("DELETE FROM signups_pending WHERE expires_at < ?", (now(),))

    def _load_keys(self) -> bool:
        if self._keys is None:
            import os

            from .tokens import KEY_ENV, KEY_FILE, load_key
            if not (os.environ.get(KEY_ENV) or (self.project.root / KEY_FILE).exists()):
                return False
            self._token_key = load_key(self.project.root, create=False)
            self._keys = editor_keys(self._token_key)
        return True

    def _seen(self, key: str) -> bool:
        return self.store.db.execute("SELECT 1 FROM sync_seen WHERE source = 'events' AND "
                                     "key = ?", (key,)).fetchone() is not None

    def _remember(self, key: str) -> None:
        self.store.db.execute("INSERT OR IGNORE INTO sync_seen (source, key, seen_at) VALUES "
                              "('events', ?, ?)", (key, now()))

    def _warn(self, where: tuple[str, int], message: str, hint: str = "") -> None:
        self.run.lines.append(Problem(where[0], where[1], 1, message, hint,
                                      severity="warning").format())

    def apply(self, entry: dict[str, Any], where: tuple[str, int]) -> str:
        """Apply one event; what it was, for the sync's summary."""
        kind = entry.get("kind")
        if kind == "signup":
            return self._sign_up(entry, where)
        if kind == "confirm":
            return self._confirm(entry, where)
        self._warn(where, f"an event of kind '{str(kind)[:40]}', which this briefing does not "
                          "know; skipped", "is the endpoint a newer briefing?")
        return "event not understood"

    def _sign_up(self, entry: dict[str, Any], where: tuple[str, int]) -> str:
        signup_id, time, expires = entry.get("id"), entry.get("time"), entry.get("expires")
        page, wording = entry.get("page", ""), entry.get("wording", "")
        if not (_hex(entry.get("id"), 24) and _hex(entry.get("address"), 32)
                and _hex(entry.get("consent", ""), 64, empty=True)
                and _hex(entry.get("ip", ""), 32, empty=True)
                and seconds_of(time) is not None and seconds_of(expires) is not None
                and isinstance(page, str) and len(page) <= 500
                and isinstance(wording, str) and len(wording) <= 2000):
            self._warn(where, "is not a sign-up event (id, time, address, expires, page, "
                              "consent); skipped")
            return "event not understood"
        assert isinstance(time, str) and isinstance(expires, str)  # seconds_of said so
        key = f"signup {signup_id}"
        if self._seen(key):
            return "seen before"
        consent = entry.get("consent", "")
        if expires < now():  # its link has expired already: nothing to wait for
            return self._done(key, "expired sign-up")
        self.store.db.execute(
            "INSERT OR IGNORE INTO signups_pending (id, address_hash, signed_up_at, expires_at, "
            "page, wording_hash, ip_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (signup_id, entry["address"], time, expires, page, consent,
             entry.get("ip", "")))
        if wording and hashlib.sha256(wording.encode("utf-8")).hexdigest() == consent:
            self.store.db.execute("INSERT OR IGNORE INTO consent_wordings (hash, text, "
                                  "first_seen) VALUES (?, ?, ?)", (consent, wording, now()))
        self._remember(key)
        return "sign-up waiting for confirmation"

    def _confirm(self, entry: dict[str, Any], where: tuple[str, int]) -> str:
        token, time = entry.get("token"), entry.get("time")
        at = seconds_of(time)
        if not isinstance(token, str) or at is None:
            self._warn(where, "is not a confirmation event (time, token); skipped")
            return "event not understood"
        key = "confirm " + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]
        if self._seen(key):
            return "seen before"
        if not self._load_keys():
            # Not remembered: applied once the key is back where it belongs.
            from .tokens import KEY_FILE
            self._warn(where, f"a confirmation, which needs the token key ({KEY_FILE}) to "
                              "read; nothing changed", "restore the key from your backup")
            return "confirmation not applied"
        assert self._keys is not None and self._token_key is not None
        signed = check_token(self._keys, token)
        joiner = open_token(self._keys, signed) if signed is not None else None
        if signed is None or joiner is None:
            self._warn(where, "a confirmation whose link was not made with this project's "
                              "key; nothing changed")
            return self._done(key, "confirmation not applied")
        if signed.expired(at):
            self._warn(where, f"a confirmation made at {time}, after its link expired at "
                              f"{stamp(signed.expires)}; nothing changed")
            return self._done(key, "confirmation not applied")
        try:
            address = parse_mailbox(joiner.address).address
        except ValueError:
            self._warn(where, "a confirmation for an address that is not valid; nothing "
                              "changed")
            return self._done(key, "confirmation not applied")
        assert isinstance(time, str)
        return self._done(key, self._subscribe(address, joiner, signed.signup_id,
                                               stamp(signed.issued), time))

    def _done(self, key: str, label: str) -> str:
        self._remember(key)
        return label

    def _subscribe(self, address: str, joiner: Joiner, signup_id: str, signed_up: str,
                   confirmed: str) -> str:
        assert self._keys is not None and self._token_key is not None
        store, lines = self.store, self.run.lines
        erased = erased_at(store, self._token_key, address)
        if erased is not None:
            if signed_up <= erased:
                lines.append(f"not subscribed: {address} was erased at their request on "
                             f"{erased[:10]}, after this sign-up ({signed_up}) was made")
                return "confirmation not applied"
            forget_erasure(store, self._token_key, address)
            lines.append(f"{address} was erased on {erased[:10]}; they signed up and "
                         "confirmed again since")
        pending = store.db.execute(
            "SELECT page, wording_hash, ip_hash FROM signups_pending WHERE id = ?",
            (signup_id,)).fetchone()
        existing = store.get(address)
        reason = f"confirmed sign-up at {confirmed}"
        if existing is None:
            store.insert(address, joiner.name, "active", "signup", reason, confirmed)
            lines.append(f"subscribed {address} ({reason})")
            label = "subscribed"
        elif existing.status == "active":
            lines.append(f"{existing.address} is already subscribed; the consent record now "
                         f"holds this sign-up ({reason})")
            label = "confirmed again"
        else:
            # Their own explicit consent, given again: unlike an import, it needs no
            # --resubscribe.
            store.set_status(address, "active", f"{reason} (was {existing.why()})", confirmed)
            lines.append(f"subscribed {existing.address} again ({reason}; was "
                         f"{existing.why()})")
            label = "subscribed"
        if joiner.name and (existing is None or joiner.name != existing.name):
            store.set_name(address, joiner.name)
        page, wording_hash, ip_hash = pending or ("", "", "")
        record_consent(store, address, "signup", signed_up, confirmed, page, wording_hash,
                       ip_hash, ",".join(joiner.themes))
        store.db.execute("DELETE FROM signups_pending WHERE id = ? OR address_hash = ?",
                         (signup_id, self._keys.address_hash(address)))
        if label == "subscribed":
            self.run.changed["subscribed"] += 1
        return label
