"""`briefing subscribers sync`: unsubscribes, bounces and complaints applied to the list, once.

Two kinds of source, both read whole before anything changes, then applied in one transaction:

- the endpoint's events (a JSON-lines file, or its /events URL with a bearer secret): each
  token is mapped back to its reader by computing the token of every address we know (the
  store, briefing.yaml's recipients, the deliveries); an unknown token is reported, never
  guessed;
- a mailbox (mbox or Maildir, fetched by the editor's own tools), holding mail sent to the
  unsubscribe address (`unsubscribe+TOKEN@...`), mail from a reader asking to unsubscribe,
  delivery status notifications (RFC 3464) and abuse reports (RFC 5965).

Every applied event and message is remembered in sync_seen, so syncing twice changes nothing
the second time, even after the editor resubscribed someone. `send` syncs first
(`sync_before_send`) and refuses when a source cannot be read, unless its last good read is
under 24 hours old.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path

from ..content.model import Config
from ..content.schema import check_events_source
from ..content.validate import Project
from ..errors import BriefingError, Problem, count
from ..render.eml import list_label
from .joining import TALLIES as SIGNUP_TALLIES
from .joining import Joining
from .store import Store, address_key, now
from .tokens import KEY_ENV, KEY_FILE, TOKEN, Tokens, load_key

DEFAULT_EVENTS = ".briefing/events.jsonl"
FRESH_FOR = dt.timedelta(hours=24)  # a source that cannot be read may be skipped this long
TRANSIENT_RUN = 3                   # temporary failures on this many issues in a row bounce
MAX_EVENTS = 256 * 1024 * 1024
MAX_REASON = 300
_STATUS = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})")
_REPLY = re.compile(r"\b([245])\d\d\b")
# What a reader writes to leave, at the start of the subject or of their own first line.
_ASKS = re.compile(r"\W*(please\s+)?(unsubscribe|unsub\b|remove\s+me|take\s+me\s+off|"
                   r"opt[\s-]?out|stop\s*$)", re.I)
_REPLY_PREFIX = re.compile(r"\s*((re|fwd?|aw|wg|sv|tr)\s*:|\[[^\]]*\])\s*", re.I)
_QUOTE_START = re.compile(r">|on .* wrote:\s*$|-+\s*original message\s*-+|--\s*$", re.I)
_COPY_ID = re.compile(r"<?([^<>@\s]+)\.([0-9a-f]{16})\.([0-9a-f]{16})@([^<>\s]+)>?")
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


@dataclass(frozen=True)
class Source:
    """One place unsubscribes come from, as the editor named it."""

    kind: str   # "events" or "mailbox"
    value: str  # a path (relative to the project) or, for events, a URL
    where: str  # where it was named, for messages: --events, briefing.yaml sync.mailbox, ...

    @property
    def key(self) -> str:
        """Its row in sync_runs."""
        return f"{self.kind} {self.value}"

    @property
    def shown(self) -> str:
        return f"{self.kind} {self.value}"


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    token: str
    time: str
    line: int
    entry: dict | None = None  # a sign-up or a confirmation, for joining.py


@dataclass(frozen=True)
class Mail:
    key: str       # sync_seen key: its Message-ID, or the sha256 of its bytes
    where: str     # "mail message 1700000000.M1P1.host", for reports
    message: Message


def _read_events(project: Project, source: Source, config: Config) -> tuple[list[Event],
                                                                          list[str]]:
    """The events and a warning per line that is not one (a torn last line, say)."""
    if "://" in source.value:
        data = _fetch(source.value, config.sync.events_secret_env, source)
    else:
        path = _local(project, source)
        try:
            if path.stat().st_size > MAX_EVENTS:
                raise BriefingError(Problem(source.value, 0, 0, f"is over {MAX_EVENTS:,} bytes",
                                            "sync it, then rotate it"))
            data = path.read_bytes()
        except OSError as exc:
            raise BriefingError(Problem(source.value, 0, 0, f"cannot read the events: "
                                        f"{exc.strerror}", _where(source))) from None
    events, warnings = [], []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
            if isinstance(entry, dict) and "kind" in entry:  # the sign-up pages' events
                events.append(Event("", str(entry.get("time", "")), number, entry))
                continue
            token, time = entry["token"], entry["time"]
            if not (isinstance(token, str) and isinstance(time, str)):
                raise TypeError
        except (ValueError, TypeError, KeyError):
            warnings.append(Problem(source.value, number, 1, "is not an event (a JSON object "
                                    "with 'token' and 'time'); skipped",
                                    severity="warning").format())
            continue
        events.append(Event(token, time, number))
    return events, warnings


def _fetch(url: str, secret_env: str, source: Source) -> bytes:
    """GET the endpoint's /events with the bearer secret; never follow a redirect (it could
    carry the secret elsewhere)."""
    import urllib.error
    import urllib.request

    secret = os.environ.get(secret_env, "")
    if not secret:
        raise BriefingError(Problem(f"${secret_env}", 0, 0, f"is not set; it holds the bearer "
                                    f"secret for {url}", "set it to the secret the endpoint "
                                    "was started with"))

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}",
                                                   "User-Agent": "briefing-sync"})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            data: bytes = response.read(MAX_EVENTS + 1)
    except urllib.error.HTTPError as exc:
        hint = {401: f"the endpoint refused the secret in ${secret_env}",
                404: f"is ${secret_env} set where the endpoint runs? without it there is no "
                     "/events"}.get(exc.code, _where(source))
        raise BriefingError(Problem(url, 0, 0, f"answered {exc.code} {exc.reason}", hint)) \
            from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BriefingError(Problem(url, 0, 0, f"cannot fetch the events: {reason}",
                                    _where(source))) from None
    if len(data) > MAX_EVENTS:
        raise BriefingError(Problem(url, 0, 0, f"sent over {MAX_EVENTS:,} bytes"))
    return data


def _read_mailbox(project: Project, source: Source) -> list[Mail]:
    """Every message of an mbox file or a Maildir folder (new/ and cur/), unchanged: the
    mailbox is only read, never marked or moved."""
    import mailbox

    path = _local(project, source)
    box: mailbox.Mailbox
    if path.is_dir():
        if not ((path / "cur").is_dir() and (path / "new").is_dir()):
            raise BriefingError(Problem(source.value, 0, 0, "is a folder but not a Maildir "
                                        "(it has no cur/ and new/)", _where(source)))
        box = mailbox.Maildir(path, factory=None, create=False)
        locked = False
    elif path.is_file():
        try:
            with open(path, "rb") as handle:
                start = handle.read(5)
        except OSError as exc:
            raise BriefingError(Problem(source.value, 0, 0, f"cannot read the mailbox: "
                                        f"{exc.strerror}", _where(source))) from None
        if start and start != b"From ":
            raise BriefingError(Problem(source.value, 0, 0, "is neither an mbox file (it does "
                                        "not start with 'From ') nor a Maildir folder",
                                        _where(source)))
        box = mailbox.mbox(path, factory=None, create=False)
        try:  # the delivery agent may be appending: read between its writes
            box.lock()
            locked = True
        except mailbox.ExternalClashError:
            raise BriefingError(Problem(source.value, 0, 0, "is locked by another program",
                                        "try again in a moment")) from None
        except OSError:
            locked = False  # no right to make a dot-lock beside it: read as it is
    else:
        raise BriefingError(Problem(source.value, 0, 0, "no such mbox file or Maildir folder",
                                    _where(source)))
    mails = []
    try:
        # Maildir names start with the delivery time: sorted, they are in order of arrival.
        keys = sorted(box.keys()) if isinstance(box, mailbox.Maildir) else list(box.keys())
        for position, key in enumerate(keys, 1):
            data = box.get_bytes(key)
            message = email.message_from_bytes(data)
            message_id = (message.get("Message-ID") or "").strip()
            seen_key = message_id if message_id else "sha256:" + hashlib.sha256(data).hexdigest()
            label = key if isinstance(box, mailbox.Maildir) else str(position)
            mails.append(Mail(seen_key, f"{source.value} message {label}", message))
    except (OSError, mailbox.Error) as exc:
        raise BriefingError(Problem(source.value, 0, 0, f"cannot read the mailbox: {exc}",
                                    _where(source))) from None
    finally:
        if locked:
            box.unlock()
        box.close()
    return mails


def _local(project: Project, source: Source) -> Path:
    """A file source: relative to the project, or absolute, `~` meaning the home folder."""
    return project.root / Path(source.value).expanduser()


def _where(source: Source) -> str:
    return f"named by {source.where}" if source.where else ""


# -- who is who -------------------------------------------------------------------------------


class Readers:
    """Every address we know, their tokens (computed once, when first needed) and the copies
    we sent (by Message-ID)."""

    def __init__(self, project: Project, config: Config, store: Store) -> None:
        self.project, self.config, self.store = project, config, store
        self._known: dict[str, str] | None = None
        self._tokens: dict[str, str] | None = None
        self._folded: dict[str, str] | None = None

    def known(self) -> dict[str, str]:
        """address key -> address, for the store, briefing.yaml and the deliveries."""
        if self._known is None:
            known: dict[str, str] = {}
            for (address,) in self.store.db.execute("SELECT address FROM deliveries"):
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
        if self._tokens is None:
            self._tokens, self._folded = {}, {}
            if os.environ.get(KEY_ENV) or (self.project.root / KEY_FILE).exists():
                tokens = Tokens(load_key(self.project.root, create=False),
                                list_label(self.config))
                for address in self.known().values():
                    own = tokens.token(address)
                    self._tokens[own] = address
                    self._folded[own.lower()] = address
        assert self._folded is not None
        # A mail system may lower-case a local part; 144 bits leave no room for a clash.
        return self._tokens.get(token) or self._folded.get(token.lower())

    def copy(self, message_id: str) -> tuple[str, str] | None:
        """(address, issue) of the copy we sent with this Message-ID."""
        row = self.store.db.execute("SELECT address, issue FROM deliveries WHERE message_id = ? "
                                    "ORDER BY id DESC LIMIT 1", (message_id.strip(),)).fetchone()
        return (row[0], row[1]) if row else None


def _issue_of(message_id: str, readers: Readers) -> str:
    """The issue a copy belongs to: from the ledger, else from the shape of our per-reader
    Message-ID, <ISSUE.content-hash.reader-hash@domain> (deliver/personal.py)."""
    if not message_id:
        return ""
    found = readers.copy(message_id)
    if found:
        return found[1]
    match = _COPY_ID.fullmatch(message_id.strip())
    if match and match.group(4).lower() == readers.config.sender.domain.lower():
        return match.group(1)
    return ""


# -- applying ---------------------------------------------------------------------------------


@dataclass
class Run:
    """What one sync did: a line per change or report, and counts for the summary."""

    lines: list[str] = field(default_factory=list)
    changed: Counter[str] = field(default_factory=Counter)


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
        self.store.db.execute("DELETE FROM sync_transient WHERE address_key = ?",
                              (address_key(address),))
        self.run.lines.append(f"{status} {address} ({reason})")
        self.run.changed[status] += 1
        return True

    def unsubscribe(self, address: str, reason: str, when: str | None = None) -> bool:
        return self._set(address, "unsubscribed", reason, when)

    def bounce(self, address: str, reason: str, issue: str = "") -> bool:
        self._feedback(address, "bounced", reason, issue)
        return self._set(address, "bounced", reason)

    def complain(self, address: str, reason: str, issue: str = "") -> bool:
        # A complaint says more than an unsubscribe or a bounce: mailbox providers count it
        # against the sender (Gmail's 0.3% limit), so it replaces them.
        self._feedback(address, "complained", reason, issue)
        return self._set(address, "complained", reason,
                         over=("active", "unsubscribed", "bounced"))

    def _feedback(self, address: str, kind: str, reason: str, issue: str) -> None:
        """What came back about an issue, for the counts and complaint rate `send` prints."""
        self.store.db.execute(
            "INSERT INTO feedback (issue, address, address_key, kind, reason, source, at) "
            "VALUES (?, ?, ?, ?, ?, 'sync', ?)",
            (issue, address, address_key(address), kind, reason[:MAX_REASON], now()))

    def transient(self, address: str, issue: str, status: str, reason: str) -> None:
        """A temporary failure (4.x.x): counted per issue; TRANSIENT_RUN issues in a row, in
        the order they were sent to this reader, make a bounce."""
        existing = self.store.get(address)
        if existing is not None and existing.suppressed:
            self.run.lines.append(f"temporary failure for {existing.address} on {issue} "
                                  f"({status}); already {existing.why()}")
            return
        key = address_key(address)
        self.store.db.execute(
            "INSERT INTO sync_transient (address_key, issue, status, reason, seen_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (address_key, issue) DO UPDATE SET "
            "status = excluded.status, reason = excluded.reason, seen_at = excluded.seen_at",
            (key, issue, status, reason[:MAX_REASON], now()))
        failed = dict(self.store.db.execute(
            "SELECT issue, reason FROM sync_transient WHERE address_key = ? ORDER BY seen_at",
            (key,)).fetchall())
        sent = [issue for (issue,) in self.store.db.execute(
            "SELECT issue FROM deliveries WHERE address_key = ? GROUP BY issue "
            "ORDER BY min(attempted_at), min(id)", (key,))]
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
            self._feedback(address, "bounced", reason, issue)
            self._set(address, "bounced", f"temporary failures on {len(longest)} issues in a "
                                          f"row ({', '.join(longest)}); last: {reason}")
            return
        self.run.lines.append(
            f"temporary failure for {address} on {issue} ({reason}): "
            f"{len(longest)} of {TRANSIENT_RUN} issues in a row; bounced at {TRANSIENT_RUN}")
        self.run.changed["temporary"] += 1

    def delivered(self, address: str) -> None:
        """A success notification resets the count of temporary failures."""
        cursor = self.store.db.execute("DELETE FROM sync_transient WHERE address_key = ?",
                                       (address_key(address),))
        if cursor.rowcount:
            self.run.lines.append(f"delivered to {address}: its temporary failures are "
                                  "forgotten")


def _seen(store: Store, source: str, key: str) -> bool:
    return store.db.execute("SELECT 1 FROM sync_seen WHERE source = ? AND key = ?",
                            (source, key)).fetchone() is not None


def _remember(store: Store, source: str, key: str) -> None:
    store.db.execute("INSERT OR IGNORE INTO sync_seen (source, key, seen_at) VALUES (?, ?, ?)",
                     (source, key, now()))


def _apply_events(events: list[Event], source: Source, applier: Applier) -> str:
    store, readers, run = applier.store, applier.readers, applier.run
    tally: Counter[str] = Counter()
    joining: Joining | None = None
    for event in events:
        if event.entry is not None:
            joining = joining or Joining(applier)
            tally[joining.apply(event.entry, (source.value, event.line))] += 1
            continue
        key = f"{event.time} {event.token}"
        if _seen(store, "events", key):
            tally["seen before"] += 1
            continue
        address = readers.by_token(event.token) if TOKEN.fullmatch(event.token) else None
        if address is None:
            # Not remembered: reported at every sync until it can be honoured (a token made
            # with another key, say), never guessed.
            run.lines.append(Problem(
                source.value, event.line, 1,
                f"token '{event.token[:40]}' is no known reader's; nothing changed",
                "was the copy sent with another token key?", severity="warning").format())
            tally["unknown token"] += 1
            continue
        existing = store.get(address)
        if existing is not None and existing.status == "active" and \
                existing.status_reason.startswith("resubscribed") and \
                existing.status_changed_at > event.time:
            # The editor added them back after this click (they asked to return): the later
            # wish wins. Both times are UTC ISO 8601, so they compare as text.
            run.lines.append(f"{existing.address} clicked unsubscribe at {event.time}, before "
                             f"being {existing.status_reason} on {existing.status_changed_at}"
                             "; not applied")
            tally["older than a resubscribe"] += 1
        elif applier.unsubscribe(address, f"one-click unsubscribe at {event.time}",
                                 event.time):
            tally["unsubscribed"] += 1
        else:
            tally["already off the list"] += 1
        _remember(store, "events", key)
    return _tally(source, len(events), "event", tally)


# What a sync counts, in the order its summary gives them, singular and plural.
_TALLIES = [("unsubscribed", "unsubscribed"), ("bounced", "bounced"),
            ("complained", "complained"), ("temporary failure", "temporary failures"),
            ("success report", "success reports"),
            ("already off the list", "already off the list"),
            ("older than a resubscribe", "older than a resubscribe"),
            ("unknown token", "unknown tokens"), ("not on the list", "not on the list"),
            ("other feedback report", "other feedback reports"),
            ("temporary failure with no issue", "temporary failures with no issue"),
            ("report not understood", "reports not understood"),
            ("other message", "other messages"), *SIGNUP_TALLIES]


def _tally(source: Source, read: int, noun: str, tally: Counter[str]) -> str:
    new = read - tally["seen before"]
    assert set(tally) <= {one for one, _ in _TALLIES} | {"seen before"}, tally
    parts = [f"{tally[one]} {one if tally[one] == 1 else many}" for one, many in _TALLIES
             if tally[one]]
    line = f"synced {source.shown}: {count(new, 'new ' + noun)}"
    if parts:
        line += " (" + ", ".join(parts) + ")"
    if tally["seen before"]:
        line += f"; {tally['seen before']} seen before"
    return line


# -- mail -------------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    """A header decoded (RFC 2047) and unfolded; never raises on a broken encoded word."""
    if not value:
        return ""
    with contextlib.suppress(ValueError, LookupError, UnicodeError):
        value = str(make_header(decode_header(value)))
    return " ".join(value.split())


def _fields(part: Message) -> list[Message]:
    """The field blocks of a message/delivery-status or message/feedback-report part: the
    email package parses the first into blocks and the second into one message; the
    global (UTF-8, RFC 6533) variants are left as text."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
    return [HeaderParser().parsestr(block.strip() + "\n")
            for block in re.split(r"\r?\n\s*\r?\n", text) if block.strip()]


def _original(message: Message) -> Message | None:
    """The copy a report quotes: message/rfc822 (whole) or text/rfc822-headers (headers)."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        if kind in ("text/rfc822-headers", "message/global-headers"):
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                return HeaderParser().parsestr(raw.decode("utf-8", "replace"))
    return None


def _typed_address(value: str | None) -> str:
    """'rfc822; reader@example.org' -> 'reader@example.org' (RFC 3464 §2.3.2)."""
    if not value:
        return ""
    kind, _, address = _text(value).partition(";")
    if not address:
        address = kind
    elif kind.strip().lower() not in ("rfc822", "utf-8"):
        return ""
    return parseaddr(address.strip())[1] or address.strip().strip("<>")


def _reader_of_copy(original: Message | None, readers: Readers) -> tuple[str | None, str]:
    """The reader whose copy a report quotes, by its Message-ID in the ledger or the token
    in its List-Unsubscribe; and the issue."""
    if original is None:
        return None, ""
    message_id = _text(original.get("Message-ID"))
    issue = _issue_of(message_id, readers)
    found = readers.copy(message_id) if message_id else None
    if found:
        return found[0], issue
    # Any token-shaped run in the quoted List-Unsubscribe, wherever briefing.yaml's URL or
    # mailto puts {token}: only a real reader's token maps to an address.
    for match in re.finditer(rf"(?<![A-Za-z0-9_-])({TOKEN.pattern})(?![A-Za-z0-9_-])",
                             original.get("List-Unsubscribe") or ""):
        address = readers.by_token(match.group(1))
        if address:
            return address, issue
    return None, issue


def _dsn(mail: Mail, report: Message, applier: Applier, tally: Counter[str]) -> None:
    """RFC 3464: one block of per-message fields, then one per recipient."""
    readers, run = applier.readers, applier.run
    blocks = _fields(report)
    per_message = blocks[0] if blocks else Message()
    recipients = [b for b in blocks[1:] if b.get("Final-Recipient") or b.get("Action")]
    original = _original(mail.message)
    copy_reader, issue = _reader_of_copy(original, readers)
    if not issue:  # Gmail names the copy in the per-message fields instead
        issue = _issue_of(_text(per_message.get("X-Original-Message-ID")), readers)
        if copy_reader is None and per_message.get("X-Original-Message-ID"):
            found = readers.copy(_text(per_message.get("X-Original-Message-ID")))
            copy_reader = found[0] if found else None
    reporter = _text(per_message.get("Reporting-MTA")).partition(";")[2].strip()  # dns; host
    if not recipients:
        run.lines.append(Problem(mail.where, 0, 0, "is a delivery report with no recipient; "
                                 "nothing changed", severity="warning").format())
        tally["report not understood"] += 1
        return
    for block in recipients:
        final = _typed_address(block.get("Final-Recipient"))
        first = _typed_address(block.get("Original-Recipient"))
        action = _text(block.get("Action")).lower()
        diagnostic = _text(block.get("Diagnostic-Code"))
        kind, _, detail = diagnostic.partition(";")
        diagnostic = (detail if detail else kind).strip()
        match = _STATUS.search(_text(block.get("Status"))) or _STATUS.search(diagnostic)
        status = match.group(0) if match else ""
        klass = match.group(1) if match else ""
        if not klass:
            reply = _REPLY.search(diagnostic)
            klass = reply.group(1) if reply else ""
        # Whose address: the one the report names if it is a reader (Original-Recipient is
        # the address before any alias), else, when the report is about one recipient only,
        # the reader whose copy it quotes. Anything else is reported, not guessed.
        address = readers.address(first) or readers.address(final)
        if address is None and len(recipients) == 1:
            address = copy_reader
        details = ", ".join(d for d in (
            f"status {status}" if status and status not in diagnostic else "",
            f"issue {issue}" if issue else "",
            f"reported by {reporter}" if reporter else "") if d)
        reason = (diagnostic or status or action or "no status") + \
            (f" ({details})" if details else "")
        if action in ("delivered", "relayed", "expanded") or klass == "2":
            if address:
                applier.delivered(address)
            tally["success report"] += 1
            continue
        if action not in ("failed", "delayed"):
            run.lines.append(Problem(mail.where, 0, 0, f"a delivery report with the action "
                                     f"'{action}' for {final or first or 'nobody'}; nothing "
                                     "changed", severity="warning").format())
            tally["report not understood"] += 1
            continue
        if address is None:
            run.lines.append(Problem(
                mail.where, 0, 0, f"a {'bounce' if action == 'failed' else 'delay'} "
                                  f"({status or 'no status'}) for {final or first or 'nobody'}, "
                                  "who is not a subscriber; nothing changed",
                severity="warning").format())
            tally["not on the list"] += 1
            continue
        if action == "failed" and klass != "4":
            if applier.bounce(address, reason, issue):
                tally["bounced"] += 1
            else:
                tally["already off the list"] += 1
            continue
        # Action: delayed, or failed with a 4.x.x status (a temporary condition that outlived
        # the sender's queue): temporary, counted per issue.
        if not issue:
            run.lines.append(Problem(mail.where, 0, 0, f"a temporary failure ({status}) for "
                                     f"{address} that names no issue of ours; not counted",
                                     severity="warning").format())
            tally["temporary failure with no issue"] += 1
            continue
        applier.transient(address, issue, status or "4.0.0", reason)
        tally["temporary failure"] += 1


def _arf(mail: Mail, report: Message, applier: Applier, tally: Counter[str]) -> None:
    """RFC 5965: a complaint (Feedback-Type: abuse) marks the reader complained. Providers
    often redact the recipient, so the copy's Message-ID and List-Unsubscribe count first."""
    readers, run = applier.readers, applier.run
    fields = Message()
    for block in _fields(report):
        for name, value in block.items():
            fields[name] = value
    feedback = _text(fields.get("Feedback-Type")).lower()
    agent = _text(fields.get("User-Agent"))
    address, issue = _reader_of_copy(_original(mail.message), readers)
    named = [_typed_address(v) or parseaddr(v)[1] for v in fields.get_all("Original-Rcpt-To",
                                                                            [])]
    if address is None:
        address = next((a for a in (readers.address(n) for n in named) if a), None)
    if feedback != "abuse":
        kind = f"of type '{feedback}'" if feedback else "with no Feedback-Type"
        run.lines.append(Problem(mail.where, 0, 0, f"a feedback report {kind}, not a "
                                 "complaint (abuse); nothing changed",
                                 severity="warning").format())
        tally["other feedback report"] += 1
        return
    if address is None:
        run.lines.append(Problem(mail.where, 0, 0, f"a complaint about "
                                 f"{', '.join(n for n in named if n) or 'a redacted recipient'}"
                                 " that matches no subscriber; nothing changed",
                                 severity="warning").format())
        tally["not on the list"] += 1
        return
    reason = "abuse report" + (f" by {agent}" if agent else "") + \
        (f"; issue {issue}" if issue else "")
    if applier.complain(address, reason, issue):
        tally["complained"] += 1
    else:
        tally["already off the list"] += 1


@dataclass(frozen=True)
class MailtoRule:
    """The unsubscribe address from briefing.yaml: a pattern with the token, or a plain
    address."""

    pattern: re.Pattern[str] | None
    plain: str

    @classmethod
    def of(cls, mailto: str) -> MailtoRule:
        if not mailto:
            return cls(None, "")
        address = mailto[len("mailto:"):].split("?", 1)[0]
        local, _, domain = address.rpartition("@")
        if "{token}" in local:
            before, _, after = local.partition("{token}")
            return cls(re.compile(re.escape(before) + f"({TOKEN.pattern})" + re.escape(after)
                                  + "@" + re.escape(domain), re.I), "")
        return cls(None, address_key(address))

    def token_in(self, message: Message) -> tuple[bool, str | None]:
        """(sent to the unsubscribe address, the token in it if any)."""
        values = [v for name in _RECIPIENT_HEADERS for v in message.get_all(name, [])]
        for _name, address in getaddresses([_text(v) for v in values]):
            if self.pattern:
                match = self.pattern.fullmatch(address)
                if match:
                    return True, match.group(1)
            elif self.plain and address_key(address) == self.plain:
                return True, None
        return False, None


def _first_own_line(message: Message) -> str:
    """The first line the sender wrote, above any quoted text, of the first text part."""
    for part in message.walk():
        if part.get_content_type() != "text/plain" or part.get_filename():
            continue
        raw = part.get_payload(decode=True)
        if not isinstance(raw, bytes):
            continue
        text = raw.decode(part.get_content_charset() or "utf-8", "replace")
        for line in text.splitlines():
            if _QUOTE_START.match(line.strip()):
                return ""
            if line.strip():
                return line.strip()
        return ""
    return ""


def _asks_to_leave(message: Message) -> str:
    """'subject' or 'body' when the sender asks to unsubscribe, else ''."""
    subject = _text(message.get("Subject"))
    while True:
        stripped = _REPLY_PREFIX.sub("", subject, count=1) if _REPLY_PREFIX.match(subject) \
            else subject
        if stripped == subject:
            break
        subject = stripped
    if _ASKS.match(subject):
        return f"subject '{subject[:60]}'"
    line = _first_own_line(message)
    if line and _ASKS.match(line):
        return f"first line '{line[:60]}'"
    return ""


def _apply_mail(mails: list[Mail], source: Source, applier: Applier) -> str:
    store, readers, run = applier.store, applier.readers, applier.run
    rule = MailtoRule.of(readers.config.unsubscribe.mailto)
    tally: Counter[str] = Counter()
    for mail in mails:
        if _seen(store, "mailbox", mail.key):
            tally["seen before"] += 1
            continue
        message = mail.message
        remember = True
        report_type = str(message.get_param("report-type", "") or "").lower() \
            if message.get_content_type() == "multipart/report" else ""
        part = next((p for p in message.walk() if p.get_content_type() in (
            "message/delivery-status", "message/global-delivery-status",
            "message/feedback-report")), None)
        if report_type == "delivery-status" and part is not None:
            _dsn(mail, part, applier, tally)
        elif report_type == "feedback-report" and part is not None:
            _arf(mail, part, applier, tally)
        else:
            to_us, token = rule.token_in(message)
            sender = parseaddr(_text(message.get("From")))[1]
            automatic = _text(message.get("Auto-Submitted")).lower() not in ("", "no")
            if to_us and token:
                address = readers.by_token(token)
                if address is None:
                    run.lines.append(Problem(mail.where, 0, 0, f"mail to the unsubscribe "
                                             f"address with token '{token}', which is no "
                                             "known reader's; nothing changed",
                                             "was the copy sent with another token key?",
                                             severity="warning").format())
                    tally["unknown token"] += 1
                    remember = False  # reported at every sync until it can be honoured
                elif applier.unsubscribe(address, "unsubscribe by mail to the "
                                                  "List-Unsubscribe address"):
                    tally["unsubscribed"] += 1
                else:
                    tally["already off the list"] += 1
            elif (to_us or (not automatic and _asks_to_leave(message))) and sender:
                address = readers.address(sender)
                why = "unsubscribe by mail to the unsubscribe address" if to_us else \
                    f"asked by mail to unsubscribe: {_asks_to_leave(message)}"
                if address is None:
                    run.lines.append(Problem(mail.where, 0, 0, f"{sender} asks to unsubscribe "
                                             "but is not a subscriber; nothing changed",
                                             severity="warning").format())
                    tally["not on the list"] += 1
                elif applier.unsubscribe(address, why):
                    tally["unsubscribed"] += 1
                else:
                    tally["already off the list"] += 1
            else:
                tally["other message"] += 1
        if remember:
            _remember(store, "mailbox", mail.key)
    return _tally(source, len(mails), "message", tally)


# -- the commands -----------------------------------------------------------------------------


def _event_source(value: str, where: str) -> Source:
    try:
        check_events_source(value)
    except ValueError as exc:
        message, _, hint = str(exc).partition("|")
        raise BriefingError(Problem(where, 0, 0, f"'{value}' {message}", hint)) from None
    return Source("events", value, where)


def configured_sources(project: Project, config: Config) -> list[Source]:
    """The sources in briefing.yaml's `sync:`; without `events:`, the endpoint's default file
    if it exists (an endpoint run in this project writes there)."""
    sources = []
    if config.sync.events:
        sources.append(_event_source(config.sync.events, "briefing.yaml sync.events"))
    elif (project.root / DEFAULT_EVENTS).is_file():
        sources.append(Source("events", DEFAULT_EVENTS, ""))
    if config.sync.mailbox:
        sources.append(Source("mailbox", config.sync.mailbox, "briefing.yaml sync.mailbox"))
    return sources


def _sync_source(project: Project, config: Config, store: Store, readers: Readers,
                 source: Source, run: Run) -> None:
    """Read one source whole (raising BriefingError if it cannot be), then apply it and note
    the good read, all in one transaction."""
    if source.kind == "events":
        events, warnings = _read_events(project, source, config)
        run.lines += warnings
        with store.transaction():
            applier = Applier(store, readers, run)
            summary = _apply_events(events, source, applier)
            _record_run(store, source)
    else:
        mails = _read_mailbox(project, source)
        with store.transaction():
            applier = Applier(store, readers, run)
            summary = _apply_mail(mails, source, applier)
            _record_run(store, source)
    run.lines.append(summary)


def _record_run(store: Store, source: Source) -> None:
    store.db.execute("INSERT INTO sync_runs (source, succeeded_at) VALUES (?, ?) "
                     "ON CONFLICT (source) DO UPDATE SET succeeded_at = excluded.succeeded_at",
                     (source.key, now()))


def _changes(run: Run) -> str:
    parts = [f"{run.changed[s]} {s}" for s in ("subscribed", "unsubscribed", "bounced",
                                               "complained") if run.changed[s]]
    if run.changed["temporary"]:
        parts.append(count(run.changed["temporary"], "temporary failure") + " counted")
    return "sync: " + (", ".join(parts) if parts else "no reader changed")


def sync(project: Project, events: str | None, mailbox: str | None) -> list[str]:
    """`briefing subscribers sync`: the sources given, or those in briefing.yaml."""
    from .manage import open_store

    config, store = open_store(project)
    if events is not None or mailbox is not None:
        sources = ([_event_source(events, "--events")] if events is not None else []) + \
            ([Source("mailbox", mailbox, "--mailbox")] if mailbox is not None else [])
    else:
        sources = configured_sources(project, config)
    if not sources:
        raise BriefingError(Problem("briefing.yaml", 0, 0, "nothing to sync from: no sync.events "
                                    f"or sync.mailbox, and no {DEFAULT_EVENTS}",
                                    "pass --events PATH_OR_URL or --mailbox PATH, or set them "
                                    "under sync: in briefing.yaml"))
    run = Run(lines=list(store.notes))
    readers = Readers(project, config, store)
    for source in sources:
        _sync_source(project, config, store, readers, source, run)
    run.lines.append(_changes(run))
    return run.lines


def sync_before_send(project: Project, config: Config, store: Store) -> list[str]:
    """Sync the configured sources before a send (the dry run too: it shows what changed).
    A source that cannot be read stops the send, unless its last good read is under 24 hours
    old; the lines say which source and why."""
    sources = configured_sources(project, config)
    if not sources:
        return []
    run = Run()
    readers = Readers(project, config, store)
    for source in sources:
        try:
            _sync_source(project, config, store, readers, source, run)
        except BriefingError as exc:
            reason = "; ".join(
                p.message + (f" ({p.hint})" if p.hint and p.path == source.value else "")
                if p.path == source.value else p.format() for p in exc.problems)
            row = store.db.execute("SELECT succeeded_at FROM sync_runs WHERE source = ?",
                                   (source.key,)).fetchone()
            last = _parse_time(row[0]) if row else None
            age = dt.datetime.now(dt.UTC) - last if last else None
            if age is not None and age < FRESH_FOR:
                run.lines.append(f"sync: warning: {source.shown} cannot be read ({reason}); "
                                 f"sending on its last good sync, {_ago(age)} ago "
                                 f"({row[0]}), under 24 hours")
                continue
            when = (f"its last good sync was {_ago(age)} ago ({row[0]})" if age is not None
                    else "it was never synced")
            raise BriefingError(Problem(
                source.value, 0, 0, f"cannot sync {source.kind} before sending: {reason}; "
                                    f"{when}, so unsubscribes may be missing: not sending",
                "fix the source, or remove it from sync: in briefing.yaml; a send goes ahead "
                "on a good sync under 24 hours old")) from None
    run.lines.append(_changes(run))
    return run.lines


def _parse_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _ago(age: dt.timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return count(minutes, "minute")
    hours = minutes // 60
    return count(hours, "hour") if hours < 48 else count(hours // 24, "day")
