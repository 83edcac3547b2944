"""What a message in the bounce mailbox says, read by pure functions: a delivery report (RFC
3464, or another format flufl.bounce recognises), an abuse report (RFC 5965), a request to
unsubscribe, or nothing of ours.

Everything here only reads the message; whether a report is proven to be about a copy we sent,
and what it changes, is decided by subscribers/mail.py against the ledger. Python's `email`
package returns Header objects for raw 8-bit header bytes, can name unknown charsets and
recurses on nested parts: callers parse and read each message inside a guard.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr

from .tokens import TOKEN

# What a reader writes to leave, at the start of the subject or of their own first line.
_ASKS = re.compile(r"\W*(please\s+)?(unsubscribe|unsub\b|remove\s+me|take\s+me\s+off|"
                   r"opt[\s-]?out|stop\s*$)", re.I)
_REPLY_PREFIX = re.compile(r"\s*((re|fwd?|aw|wg|sv|tr)\s*:|\[[^\]]*\])\s*", re.I)
_QUOTE_START = re.compile(r">|on .* wrote:\s*$|-+\s*original message\s*-+|--\s*$", re.I)
_TOKEN_RUN = re.compile(rf"(?<![A-Za-z0-9_-])({TOKEN.pattern})(?![A-Za-z0-9_-])")
_QUOTED_ID = re.compile(r"^message-id:[ \t]*(<[^<>\s]+>)", re.I | re.M)
_QUOTED_UNSUBSCRIBE = re.compile(r"^list-unsubscribe:[^\n]*(?:\n[ \t][^\n]*)*", re.I | re.M)
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To")
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.I)
_BOUNCE_SUBJECT = re.compile(r"undeliver|returned mail|delivery (status notification|failure|"
                             r"has failed)|failure notice|mail delivery failed|could not be "
                             r"delivered|non-?delivery", re.I)


@dataclass(frozen=True)
class Copy:
    """What a report shows of the copy it is about."""

    message_ids: tuple[str, ...]  # the quoted Message-ID (and Gmail's X-Original-Message-ID)
    tokens: tuple[str, ...]       # token-shaped runs in the quoted List-Unsubscribe


@dataclass(frozen=True)
class Failure:
    """One recipient a delivery report names."""

    final: str       # Final-Recipient (or the address flufl.bounce found)
    original: str    # Original-Recipient, the address before any alias
    action: str      # failed, delayed, delivered, relayed, expanded, ...
    status: str      # the Status field, e.g. 5.1.1
    diagnostic: str  # the server's words, without the "smtp;" type

    @property
    def named(self) -> tuple[str, ...]:
        return tuple(a for a in (self.original, self.final) if a)


@dataclass(frozen=True)
class Bounce:
    rfc3464: bool               # False: another format, found by flufl.bounce
    failures: tuple[Failure, ...]
    copy: Copy
    envelope: tuple[str, ...]   # where the report was delivered: the VERP address, if any
    reporter: str               # the Reporting-MTA


@dataclass(frozen=True)
class Complaint:
    feedback: str               # the Feedback-Type, lower-cased
    agent: str
    named: tuple[str, ...]      # Original-Rcpt-To, often redacted
    copy: Copy
    envelope: tuple[str, ...]


@dataclass(frozen=True)
class Request:
    """Mail to the unsubscribe address, or from someone asking to leave."""

    to_us: bool        # sent to the unsubscribe address
    token: str | None  # the token in that address (unsubscribe+TOKEN@)
    sender: str
    asks: str          # "subject 'unsubscribe'": why it reads as a request, or ""


@dataclass(frozen=True)
class Other:
    pass


Finding = Bounce | Complaint | Request | Other


def text(value: object) -> str:
    """A header decoded (RFC 2047) and unfolded; never raises. A raw 8-bit header is a Header
    object in the compat32 email package, not a str."""
    if value is None:
        return ""
    value = str(value)
    with contextlib.suppress(ValueError, LookupError, UnicodeError, AttributeError):
        value = str(make_header(decode_header(value)))
    return " ".join(value.split())


def message_id(message: Message) -> str:
    return text(message.get("Message-ID"))


@dataclass(frozen=True)
class AddressRule:
    """An address from briefing.yaml that may hold {token} in its local part (the unsubscribe
    mailto, the VERP bounce address): a pattern with the token, or a plain address."""

    pattern: re.Pattern[str] | None
    plain: str

    @classmethod
    def of(cls, address: str) -> AddressRule:
        if not address:
            return cls(None, "")
        local, _, domain = address.rpartition("@")
        if "{token}" in local:
            before, _, after = local.partition("{token}")
            return cls(re.compile(re.escape(before) + f"({TOKEN.pattern})" + re.escape(after)
                                  + "@" + re.escape(domain), re.I), "")
        return cls(None, address.strip().lower())

    def find(self, addresses: tuple[str, ...]) -> tuple[bool, str | None]:
        """(one of the addresses is this one, the token in it if any)."""
        for address in addresses:
            if self.pattern:
                match = self.pattern.fullmatch(address)
                if match:
                    return True, match.group(1)
            elif self.plain and address.strip().lower() == self.plain:
                return True, None
        return False, None


def addresses_in(message: Message, names: tuple[str, ...]) -> tuple[str, ...]:
    values = [text(v) for name in names for v in message.get_all(name, [])]
    return tuple(address for _name, address in getaddresses(values) if address)


def read(message: Message, mailto: AddressRule) -> Finding:
    """What one message is. Pure; may raise on a hostile message (the caller guards)."""
    kind = message.get_content_type()
    report_type = str(message.get_param("report-type", "") or "").lower() \
        if kind == "multipart/report" else ""
    part = next((p for p in message.walk() if p.get_content_type() in (
        "message/delivery-status", "message/global-delivery-status",
        "message/feedback-report")), None)
    envelope = addresses_in(message, ENVELOPE_HEADERS)
    if report_type == "delivery-status" and part is not None:
        return _dsn(message, part, envelope)
    if report_type == "feedback-report" and part is not None:
        return _arf(message, part, envelope)
    to_us, token = mailto.find(addresses_in(message, RECIPIENT_HEADERS))
    sender = parseaddr(text(message.get("From")))[1]
    if _looks_like_a_bounce(message, sender):
        bounce = _other_bounce(message, envelope)
        if bounce is not None:
            return bounce
    automatic = text(message.get("Auto-Submitted")).lower() not in ("", "no")
    asks = "" if automatic else asks_to_leave(message)
    if to_us or asks:
        return Request(to_us, token, sender, asks)
    return Other()


def _fields(part: Message) -> list[Message]:
    """The field blocks of a message/delivery-status or message/feedback-report part: the
    email package parses the first into blocks and the second into one message; the
    global (UTF-8, RFC 6533) variants are left as text."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    raw = part.get_payload(decode=True)
    body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
    return [HeaderParser().parsestr(block.strip() + "\n")
            for block in re.split(r"\r?\n\s*\r?\n", body) if block.strip()]


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


def _copy(message: Message, *more_ids: str) -> Copy:
    original = _original(message)
    ids: list[str] = []
    tokens: list[str] = []
    if original is not None:
        ids.append(message_id(original))
        tokens += _TOKEN_RUN.findall(text(original.get("List-Unsubscribe")))
    else:  # a copy quoted as plain text (qmail, many free-text formats)
        body = _body_text(message)
        ids += _QUOTED_ID.findall(body)
        for header in _QUOTED_UNSUBSCRIBE.findall(body):
            tokens += _TOKEN_RUN.findall(header)
    ids += [i for i in more_ids if i]
    # Gmail's reports thread under the copy they are about.
    ids += [text(message.get(name)) for name in ("In-Reply-To",) if message.get(name)]
    return Copy(tuple(dict.fromkeys(i for i in ids if i)), tuple(dict.fromkeys(tokens)))


def typed_address(value: object) -> str:
    """'rfc822; reader@example.org' -> 'reader@example.org' (RFC 3464 §2.3.2)."""
    if not value:
        return ""
    kind, _, address = text(value).partition(";")
    if not address:
        address = kind
    elif kind.strip().lower() not in ("rfc822", "utf-8"):
        return ""
    return parseaddr(address.strip())[1] or address.strip().strip("<>")


def _dsn(message: Message, report: Message, envelope: tuple[str, ...]) -> Bounce:
    """RFC 3464: one block of per-message fields, then one per recipient."""
    blocks = _fields(report)
    per_message = blocks[0] if blocks else Message()
    failures = []
    for block in blocks[1:]:
        if not (block.get("Final-Recipient") or block.get("Action")):
            continue
        diagnostic = text(block.get("Diagnostic-Code"))
        kind, _, detail = diagnostic.partition(";")
        failures.append(Failure(typed_address(block.get("Final-Recipient")),
                                typed_address(block.get("Original-Recipient")),
                                text(block.get("Action")).lower(), text(block.get("Status")),
                                (detail if detail else kind).strip()))
    reporter = text(per_message.get("Reporting-MTA")).partition(";")[2].strip()  # dns; host
    copy = _copy(message, text(per_message.get("X-Original-Message-ID")))
    return Bounce(True, tuple(failures), copy, envelope, reporter)


def _arf(message: Message, report: Message, envelope: tuple[str, ...]) -> Complaint:
    """RFC 5965. Providers often redact the recipient; the quoted copy says more."""
    fields = Message()
    for block in _fields(report):
        for name, value in block.items():
            fields[name] = value
    named = tuple(n for n in (typed_address(v) or parseaddr(text(v))[1]
                              for v in fields.get_all("Original-Rcpt-To", [])) if n)
    return Complaint(text(fields.get("Feedback-Type")).lower(), text(fields.get("User-Agent")),
                     named, _copy(message), envelope)


def _looks_like_a_bounce(message: Message, sender: str) -> bool:
    return bool(_DAEMONS.match(sender) or text(message.get("Return-Path")) == "<>"
                or _BOUNCE_SUBJECT.search(text(message.get("Subject"))))


def _other_bounce(message: Message, envelope: tuple[str, ...]) -> Bounce | None:
    """A bounce in one of the many formats that are not RFC 3464 (qmail, old Exchange, free
    text): flufl.bounce (Mailman's detectors) finds the failed addresses; the words after
    each address in the text are its diagnostic. Still only a claim until proven."""
    from flufl.bounce import all_failures

    temporary, permanent = all_failures(message)
    body = _body_text(message)
    found = {raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw): action
             for action, each in (("delayed", temporary), ("failed", permanent)) for raw in each}
    failures = [Failure(address, "", action, "", _words_after(body, address, set(found)))
                for address, action in sorted(found.items())]
    if not failures:
        return None
    return Bounce(False, tuple(failures), _copy(message), envelope, "")


def _words_after(body: str, address: str, others: set[str]) -> str:
    """The paragraph that follows an address in a free-text bounce, up to the next failed
    address: where the reason is."""
    lower = body.lower()
    at = lower.find(address.lower())
    if at < 0:
        return ""
    paragraph = re.split(r"\n\s*\n", body[at + len(address):], maxsplit=1)[0]
    for other in others - {address}:
        # The next failed address (not this one quoted again in its own reason).
        cut = re.search(r"\n[ \t]*<?" + re.escape(other), paragraph, re.I)
        if cut:
            paragraph = paragraph[:cut.start()]
    return " ".join(paragraph.strip(" >:\n").split())[:500]


def _body_text(message: Message) -> str:
    """The text parts, decoded (an unknown charset is read as UTF-8 with replacements)."""
    out = []
    for part in message.walk():
        if part.get_content_maintype() != "text" or part.get_filename():
            continue
        raw = part.get_payload(decode=True)
        if isinstance(raw, bytes):
            out.append(_decode(raw, part.get_content_charset()))
        if sum(len(t) for t in out) > 200_000:
            break
    return "\n".join(out)


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", "replace")


def _first_own_line(message: Message) -> str:
    """The first line the sender wrote, above any quoted text, of the first text part."""
    for part in message.walk():
        if part.get_content_type() != "text/plain" or part.get_filename():
            continue
        raw = part.get_payload(decode=True)
        if not isinstance(raw, bytes):
            continue
        for line in _decode(raw, part.get_content_charset()).splitlines():
            if _QUOTE_START.match(line.strip()):
                return ""
            if line.strip():
                return line.strip()
        return ""
    return ""


def asks_to_leave(message: Message) -> str:
    """'subject ...' or 'first line ...' when the sender asks to unsubscribe, else ''."""
    subject = text(message.get("Subject"))
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
