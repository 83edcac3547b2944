"""Applying what `sync` read: who is who (addresses, tokens, the copies in the ledger), the
changes to the store, and the events of the endpoint, each kind by its own function.

New kinds of event (a sign-up, a confirmation, a theme choice) join EVENT_KINDS; new kinds of
mail join subscribers/mail.py. Every change is made inside the transaction `sync` holds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ..content.model import Config
from ..content.validate import Project
from ..errors import Problem, count
from . import records
from .sources import Event, Source
from .store import Store, address_key, now
from .themes import apply_choice
from .tokens import READER_CHARS, TOKEN, Tokens, is_placeholder

MAX_REASON = 300
TRANSIENT_RUN = 3   # temporary failures on this many issues in a row bounce
_COPY_ID = re.compile(r"<?([^<>@\s]+)\.([0-9a-f]{16})\.([0-9a-f]{16})@([^<>\s]+)>?")


class Readers:
    """Every address we know, their tokens (computed once, when first needed) and the copies
    we sent (by Message-ID)."""

    def __init__(self, project: Project, config: Config, store: Store,
                 tokens: Tokens | None) -> None:
        self.project, self.config, self.store, self.tokens = project, config, store, tokens
        self._known: dict[str, str] | None = None
        self._by_reader: dict[str, str] | None = None

    def known(self) -> dict[str, str]:
        """address key -> address, for the store, briefing.yaml and the deliveries."""
        if self._known is None:
            known: dict[str, str] = {}
            for address in records.delivered_addresses(self.store.db):
                known[address_key(address)] = address
            for mailbox in self.config.recipients:
                known[address_key(mailbox.address)] = mailbox.address
            for (address,) in self.store.db.execute("SELECT address FROM subscribers"):
                known[address_key(address)] = address
            self._known = known
        return self._known

    def address(self, value: str) -> str | None:
        return self.known().get(address_key(value)) if value else None

    def by_token(self, token: str) -> str | None:
        """The reader whose token this is (today's or, for copies sent before the check
        existed, a legacy one), or None. Both share their first 12 bytes: one HMAC each."""
        if self.tokens is None or not TOKEN.fullmatch(token) or is_placeholder(token):
            return None
        if self._by_reader is None:
            # Lower-cased: a mail system may fold a local part; 96 bits leave no clash.
            self._by_reader = {self.tokens.token(a)[:READER_CHARS].lower(): a
                               for a in self.known().values()}
        address = self._by_reader.get(token[:READER_CHARS].lower())
        if address is None:
            return None
        now_, legacy = self.tokens.both(address)
        valid = [now_] + ([legacy] if self.tokens.legacy else [])
        return address if token.lower() in (v.lower() for v in valid) else None

    def copy(self, message_id: str) -> tuple[str, str] | None:
        """(address, issue) of the copy we sent with this Message-ID."""
        return records.copy_sent(self.store.db, message_id) if message_id else None

    def issue_of(self, message_id: str) -> str:
        """The issue a copy belongs to: from the ledger, else from the shape of our per-reader
        Message-ID, <ISSUE.content-hash.reader-hash@domain> (deliver/personal.py)."""
        found = self.copy(message_id)
        if found:
            return found[1]
        match = _COPY_ID.fullmatch(message_id.strip())
        if match and match.group(4).lower() == self.config.sender.domain.lower():
            return match.group(1)
        return ""


@dataclass
class Run:
    """What one sync did: a line per change or report, and counts for the summary."""

    lines: list[str] = field(default_factory=list)
    changed: Counter[str] = field(default_factory=Counter)

    def warn(self, where: str, message: str, hint: str = "", line: int = 0) -> None:
        self.lines.append(Problem(where, line, 1 if line else 0, message, hint,
                                  severity="warning").format())


class Applier:
    """Changes to the store for one sync, inside its transaction."""

    def __init__(self, store: Store, readers: Readers, run: Run) -> None:
        self.store, self.readers, self.run = store, readers, run

    def _set(self, address: str, status: str, reason: str, when: str | None = None,
             over: tuple[str, ...] = ("active",)) -> bool:
        """Give the reader `status` if theirs is one of `over`; a reader known only from
        briefing.yaml or the ledger gets a row, so the suppression holds."""
        reason = reason[:MAX_REASON]
        existing = self.store.get(address)
        if existing is None:
            self.store.insert(address, "", status, "sync", reason, when)
        elif existing.status in over:
            self.store.set_status(address, status, reason, when)
        else:
            self.run.lines.append(f"{existing.address} is already {existing.why()}; "
                                  f"not {status} again")
            return False
        records.forget_transients(self.store.db, address)
        self.run.lines.append(f"{status} {address} ({reason})")
        self.run.changed[status] += 1
        return True

    def unsubscribe(self, address: str, reason: str, when: str | None = None) -> bool:
        return self._set(address, "unsubscribed", reason, when)

    def bounce(self, address: str, reason: str, issue: str) -> bool:
        records.add_feedback(self.store.db, issue, address, "bounced", reason[:MAX_REASON],
                             "sync")
        return self._set(address, "bounced", reason)

    def complain(self, address: str, reason: str, issue: str) -> bool:
        # A complaint says more than an unsubscribe or a bounce: mailbox providers count it
        # against the sender (Gmail's 0.3% limit), so it replaces them.
        records.add_feedback(self.store.db, issue, address, "complained", reason[:MAX_REASON],
                             "sync")
        return self._set(address, "complained", reason,
                         over=("active", "unsubscribed", "bounced"))

    def transient(self, address: str, issue: str, status: str, reason: str) -> None:
        """A temporary failure (or a permanent one that does not say the address is gone) on
        one issue. TRANSIENT_RUN issues in a row, in the order they were sent to this reader,
        make a bounce; one that reached them in between (a success report) breaks the run."""
        existing = self.store.get(address)
        if existing is not None and existing.suppressed:
            self.run.lines.append(f"temporary failure for {existing.address} on {issue} "
                                  f"({status}); already {existing.why()}")
            return
        failed = records.note_transient(self.store.db, address, issue, status,
                                        reason[:MAX_REASON])
        sent = records.issues_sent_to(self.store.db, address)
        # Issues with a failure but no copy in the ledger (sent before the store, say) are
        # placed after the ones we can order.
        order = sent + [i for i in failed if i not in sent]
        run: list[str] = []
        longest: list[str] = []
        for each in order:
            run = run + [each] if each in failed else []
            if len(run) > len(longest):
                longest = run
        if len(longest) >= TRANSIENT_RUN:
            records.add_feedback(self.store.db, issue, address, "bounced", reason[:MAX_REASON],
                                 "sync")
            self._set(address, "bounced", f"temporary failures on {len(longest)} issues in a "
                                          f"row ({', '.join(longest)}); last: {reason}")
            return
        self.run.lines.append(
            f"temporary failure for {address} on {issue} ({reason}): "
            f"{len(longest)} of {TRANSIENT_RUN} issues in a row; bounced at {TRANSIENT_RUN}")
        self.run.changed["temporary"] += 1

    def delivered(self, address: str) -> None:
        """A success notification resets the count of temporary failures."""
        if records.forget_transients(self.store.db, address):
            self.run.lines.append(f"delivered to {address}: its temporary failures are "
                                  "forgotten")


def seen(store: Store, source: str, key: str) -> bool:
    return store.db.execute("SELECT 1 FROM sync_seen WHERE source = ? AND key = ?",
                            (source, key)).fetchone() is not None


def remember(store: Store, source: str, key: str) -> None:
    store.db.execute("INSERT OR IGNORE INTO sync_seen (source, key, seen_at) VALUES (?, ?, ?)",
                     (source, key, now()))


# -- events -----------------------------------------------------------------------------------


def _unsubscribe(event: Event, source: Source, applier: Applier) -> str:
    """One click of one-click unsubscribe; the tally it counts under."""
    store, readers, run = applier.store, applier.readers, applier.run
    if is_placeholder(event.token):
        return "from the public copy"  # recorded by an endpoint from before its own page
    address = readers.by_token(event.token)
    if address is None:
        # Remembered like every event: reported once, never guessed (a made-up token, or one
        # of another list).
        run.warn(source.value, f"token '{event.token[:40]}' is no known reader's; nothing "
                               "changed", line=event.line)
        return "unknown token"
    existing = store.get(address)
    if existing is not None and existing.status == "active" and \
            existing.status_reason.startswith("resubscribed") and \
            existing.status_changed_at > event.time:
        # The editor added them back after this click (they asked to return): the later
        # wish wins. Both times are UTC ISO 8601, so they compare as text.
        run.lines.append(f"{existing.address} clicked unsubscribe at {event.time}, before "
                         f"being {existing.status_reason} on {existing.status_changed_at}"
                         "; not applied")
        return "older than a resubscribe"
    if applier.unsubscribe(address, f"one-click unsubscribe at {event.time}", event.time):
        return "unsubscribed"
    return "already off the list"


def _joining(event: Event, source: Source, applier: Applier) -> str:
    """A sign-up or its confirmation (subscribers/joining.py)."""
    from .joining import apply_joining
    return apply_joining(event, source, applier)


EVENT_KINDS: dict[str, Callable[[Event, Source, Applier], str]] = {
    "unsubscribe": _unsubscribe,
    "themes": apply_choice,  # the preference page (subscribers/prefpage.py)
    "signup": _joining,
    "confirm": _joining,
}


def apply_events(events: list[Event], source: Source, applier: Applier) -> str:
    tally: Counter[str] = Counter()
    for event in events:
        # The key of an unsubscribe is what it has always been: time and token.
        key = f"{event.time} {event.token}" if event.kind == "unsubscribe" else \
            f"{event.kind} {event.time} {event.token} {_digest(event.entry)}"
        if seen(applier.store, "events", key):
            tally["seen before"] += 1
            continue
        handler = EVENT_KINDS.get(event.kind)
        if handler is None:
            # A newer endpoint's event: left for a briefing that knows it, not remembered.
            applier.run.warn(source.value, f"an event of kind '{event.kind[:40]}', which this "
                                           "briefing does not know; skipped",
                             "upgrade briefing", line=event.line)
            tally["unknown kind"] += 1
            continue
        tally[handler(event, source, applier)] += 1
        remember(applier.store, "events", key)
    return tally_line(source, len(events), "event", tally)


def _digest(entry: dict) -> str:
    """What tells two events of one kind, token and second apart (a reader who changes their
    themes twice within a second: both are applied, the later last)."""
    import hashlib
    import json
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()[:16]


# What a sync counts, in the order its summary gives them, singular and plural.
TALLIES = [("unsubscribed", "unsubscribed"), ("bounced", "bounced"),
           ("complained", "complained"), ("temporary failure", "temporary failures"),
           ("success report", "success reports"),
           ("already off the list", "already off the list"),
           ("older than a resubscribe", "older than a resubscribe"),
           ("theme choice", "theme choices"),
           ("older than a later choice", "older than a later choice"),
           ("refused us", "refused us"),
           ("not proven", "not proven"),
           ("unknown token", "unknown tokens"), ("not on the list", "not on the list"),
           ("from the public copy", "from the public copy"),
           ("other feedback report", "other feedback reports"),
           ("temporary failure with no issue", "temporary failures with no issue"),
           ("report not understood", "reports not understood"),
           ("unreadable", "unreadable"), ("unknown kind", "of an unknown kind"),
           ("other message", "other messages"),
           # joining.py's: sign-ups and their confirmations
           ("subscribed", "subscribed"), ("confirmed again", "confirmed again"),
           ("sign-up waiting for confirmation", "sign-ups waiting for confirmation"),
           ("expired sign-up", "expired sign-ups"),
           ("confirmation not applied", "confirmations not applied"),
           ("event not understood", "events not understood")]


def tally_line(source: Source, read: int, noun: str, tally: Counter[str]) -> str:
    new = read - tally["seen before"]
    assert set(tally) <= {one for one, _ in TALLIES} | {"seen before"}, tally
    parts = [f"{tally[one]} {one if tally[one] == 1 else many}" for one, many in TALLIES
             if tally[one]]
    line = f"synced {source.shown}: {count(new, 'new ' + noun)}"
    if parts:
        line += " (" + ", ".join(parts) + ")"
    if tally["seen before"]:
        line += f"; {tally['seen before']} seen before"
    return line
