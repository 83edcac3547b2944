"""Sign-ups and confirmations from the endpoint's events, applied by `sync` (and before `send`).

A sign-up event holds keyed hashes only (the address, the IP address), the page and the
consent wording: it becomes a pending sign-up, which never receives anything and is deleted
once its link expires. A confirmation event holds the token, which only this machine can open:
its reader becomes active with source `signup`, whatever their status was (a reader who left
and signs up and confirms again gives their own, explicit consent), unless they were erased at
their request after that sign-up was made; the themes they ticked become their choice of
themes. apply.py's EVENT_KINDS sends both kinds here; it
remembers each event, so a second sync changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from typing import TYPE_CHECKING, Any

from ..content.schema import parse_mailbox
from ..errors import BriefingError, Problem
from .consent import erased_at, forget_erasure, record_consent
from .signup import EditorKeys, Joiner, check_token, editor_keys, open_token, seconds_of, stamp
from .store import Store, now
from .themes import apply_signup_choice

if TYPE_CHECKING:
    from .apply import Applier
    from .sources import Event, Source

_HEX = {24: re.compile(r"[0-9a-f]{24}"), 32: re.compile(r"[0-9a-f]{32}"),
        64: re.compile(r"[0-9a-f]{64}")}


def _hex(value: Any, length: int, empty: bool = False) -> bool:
    return isinstance(value, str) and (bool(_HEX[length].fullmatch(value))
                                       or (empty and value == ""))


class _Keys:
    """The token key and the sign-up keys of one sync, read once, when first needed."""

    def __init__(self, applier: Applier) -> None:
        self.root = applier.readers.project.root
        self._keys: tuple[bytes, EditorKeys] | None = None

    def get(self) -> tuple[bytes, EditorKeys]:
        if self._keys is None:
            from .tokens import KEY_FILE, key_source, read_key
            token_key = read_key(self.root)
            if token_key is None:
                # Not remembered, not skipped: the sync stops until the key is back.
                raise BriefingError(Problem(
                    KEY_FILE, 0, 0, "is missing: the confirmations of sign-ups are sealed with "
                                    "it and cannot be read; nothing was changed",
                    f"restore {key_source(self.root)} from your backup of .briefing/"))
            self._keys = token_key, editor_keys(token_key)
        return self._keys


def forget_expired_signups(store: Store) -> None:
    """A sign-up nobody confirmed in time is forgotten at every sync of the events: it may have
    been a stranger's address (call inside the sync's transaction)."""
    store.db.execute("DELETE FROM signups_pending WHERE expires_at < ?", (now(),))


_KEYS: weakref.WeakKeyDictionary[Applier, _Keys] = weakref.WeakKeyDictionary()


def _keys(applier: Applier) -> _Keys:
    if applier not in _KEYS:
        _KEYS[applier] = _Keys(applier)
    return _KEYS[applier]


def apply_joining(event: Event, source: Source, applier: Applier) -> str:
    """One sign-up or confirmation; the tally it counts under."""
    keys = _keys(applier)
    if event.kind == "signup":
        return _sign_up(event.entry, source, event.line, applier)
    return _confirm(event, source, applier, keys)


def _sign_up(entry: dict[str, Any], source: Source, line: int, applier: Applier) -> str:
    signup_id, time, expires = entry.get("token"), entry.get("time"), entry.get("expires")
    page, wording = entry.get("page", ""), entry.get("wording", "")
    if not (_hex(signup_id, 24) and _hex(entry.get("address"), 32)
            and _hex(entry.get("consent", ""), 64, empty=True)
            and _hex(entry.get("ip", ""), 32, empty=True)
            and seconds_of(time) is not None and seconds_of(expires) is not None
            and isinstance(page, str) and len(page) <= 500
            and isinstance(wording, str) and len(wording) <= 2000):
        applier.run.warn(source.value, "is not a sign-up event (token, time, address, expires, "
                                       "page, consent); skipped", line=line)
        return "event not understood"
    assert isinstance(time, str) and isinstance(expires, str)  # seconds_of said so
    if expires < now():  # its link has expired already: nothing to wait for
        return "expired sign-up"
    consent = entry.get("consent", "")
    db = applier.store.db
    db.execute("INSERT OR IGNORE INTO signups_pending (id, address_hash, signed_up_at, "
               "expires_at, page, wording_hash, ip_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (signup_id, entry["address"], time, expires, page, consent, entry.get("ip", "")))
    if wording and hashlib.sha256(wording.encode("utf-8")).hexdigest() == consent:
        db.execute("INSERT OR IGNORE INTO consent_wordings (hash, text, first_seen) VALUES "
                   "(?, ?, ?)", (consent, wording, now()))
    return "sign-up waiting for confirmation"


def _confirm(event: Event, source: Source, applier: Applier, keys: _Keys) -> str:
    from .apply import remember, seen
    at = seconds_of(event.time)
    if at is None:
        applier.run.warn(source.value, "is not a confirmation event (time, token); skipped",
                         line=event.line)
        return "event not understood"
    # One link confirms once, whenever it is pressed again: a reader who confirmed and then
    # left is not brought back by the same old link.
    once = "confirmed " + hashlib.sha256(event.token.encode("utf-8", "replace")).hexdigest()
    if seen(applier.store, "events", once):
        return "confirmed again"
    token_key, editor = keys.get()
    signed = check_token(editor, event.token)
    joiner = open_token(editor, signed) if signed is not None else None
    if signed is None or joiner is None:
        applier.run.warn(source.value, "a confirmation whose link was not made with this "
                                       "project's key; nothing changed", line=event.line)
        return "confirmation not applied"
    remember(applier.store, "events", once)
    if signed.expired(at):
        applier.run.warn(source.value, f"a confirmation made at {event.time}, after its link "
                                       f"expired at {stamp(signed.expires)}; nothing changed",
                         line=event.line)
        return "confirmation not applied"
    try:
        address = parse_mailbox(joiner.address).address
    except ValueError:
        applier.run.warn(source.value, "a confirmation for an address that is not valid; "
                                       "nothing changed", line=event.line)
        return "confirmation not applied"
    return _subscribe(applier, token_key, editor, address, joiner, signed.signup_id,
                      stamp(signed.issued), event.time)


def _subscribe(applier: Applier, token_key: bytes, editor: EditorKeys, address: str,
               joiner: Joiner, signup_id: str, signed_up: str, confirmed: str) -> str:
    store, lines = applier.store, applier.run.lines
    erased = erased_at(store, token_key, address)
    if erased is not None:
        if signed_up <= erased:
            lines.append(f"not subscribed: {address} was erased at their request on "
                         f"{erased[:10]}, after this sign-up ({signed_up}) was made")
            return "confirmation not applied"
        forget_erasure(store, token_key, address)
        lines.append(f"{address} was erased on {erased[:10]}; they signed up and confirmed "
                     "again since")
    pending = store.db.execute("SELECT page, wording_hash, ip_hash FROM signups_pending WHERE "
                               "id = ?", (signup_id,)).fetchone()
    existing = store.get(address)
    reason = f"confirmed sign-up at {confirmed}"
    if existing is None:
        store.insert(address, joiner.name, "active", "signup", reason, confirmed)
        lines.append(f"subscribed {address} ({reason})")
        label = "subscribed"
    elif existing.status == "active":
        lines.append(f"{existing.address} is already subscribed; the consent record now holds "
                     f"this sign-up ({reason})")
        label = "confirmed again"
    else:
        # Their own explicit consent, given again: unlike an import, it needs no --resubscribe.
        store.set_status(address, "active", f"{reason} (was {existing.why()})", confirmed)
        lines.append(f"subscribed {existing.address} again ({reason}; was {existing.why()})")
        label = "subscribed"
    if joiner.name and (existing is None or joiner.name != existing.name):
        store.set_name(address, joiner.name)
    page, wording_hash, ip_hash = pending or ("", "", "")
    record_consent(store, address, "signup", signed_up, confirmed, page, wording_hash, ip_hash,
                   ",".join(joiner.themes))
    # What they ticked is also their choice of themes (subscribers/themes.py), so the next
    # send gives them exactly those; the consent record keeps what the form said.
    apply_signup_choice(applier, address, joiner.themes, joiner.offered, signed_up)
    store.db.execute("DELETE FROM signups_pending WHERE id = ? OR address_hash = ?",
                     (signup_id, editor.address_hash(address)))
    if label == "subscribed":
        applier.run.changed["subscribed"] += 1
    return label
