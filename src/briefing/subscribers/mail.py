"""Applying the mailbox: each message parsed and read inside its own guard, and a report
applied only when it proves which copy it is about.

The bounce address is public: anyone can send it anything. So one message that cannot be read
(a raw 8-bit Message-ID, an unknown charset, multipart nested thousands deep) is reported with
its place and skipped, and the rest are applied. And a report is a claim: it bounces or marks a
reader only when it proves it is about a copy we sent to that reader, by

- VERP: `bounce_address` holds `{token}`, so each copy's return path was its reader's own
  address and the report was delivered there (Delivered-To, X-Original-To, To); or
- the copy it quotes: its Message-ID is in the ledger as sent to the recipient the report
  names (or its List-Unsubscribe carries that reader's token).

A report that proves neither is reported, not applied. What a proven failure means is decided
by the one refusal policy (subscribers/refusal.py).
"""

from __future__ import annotations

import email
from collections import Counter
from email.message import Message
from email.parser import BytesHeaderParser

from . import reports
from .apply import Applier, Readers, remember, seen, tally_line
from .refusal import ADDRESS, DELIVERED, POLICY, TEMPORARY, judge
from .reports import AddressRule, Bounce, Complaint, Copy, Failure, Request
from .sources import Mail, Source
from .store import address_key
from .tokens import is_placeholder


def _why(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "its parts are nested too deeply"
    if isinstance(exc, LookupError):
        return f"it names a charset or encoding Python does not know ({exc})"
    return f"{type(exc).__name__}: {exc}"[:200]


def apply_mail(mails: list[Mail], source: Source, applier: Applier) -> str:
    store = applier.store
    config = applier.readers.config
    mailto = AddressRule.of(config.unsubscribe.mailto[len("mailto:"):].split("?", 1)[0]
                            if config.unsubscribe.mailto else "")
    sender = config.envelope_sender
    verp = AddressRule.of(sender) if "{token}" in sender else None
    tally: Counter[str] = Counter()
    for mail in mails:
        try:  # the header only, to know it again: cheap, and never recursive
            key = reports.message_id(BytesHeaderParser().parsebytes(mail.data)) or mail.digest
        except Exception:  # reported below, by the guard that parses it whole
            key = mail.digest
        if seen(store, "mailbox", key):
            tally["seen before"] += 1
            continue
        try:
            message: Message = email.message_from_bytes(mail.data)
            finding = reports.read(message, mailto)
        except Exception as exc:  # any bytes at all can arrive: never stop the sync on one
            applier.run.warn(mail.where, f"cannot be read ({_why(exc)}); skipped, the other "
                                         "messages are applied")
            tally["unreadable"] += 1
            remember(store, "mailbox", key)
            continue
        if isinstance(finding, Bounce):
            for outcome in _bounce(mail, finding, applier, verp):
                tally[outcome] += 1
        elif isinstance(finding, Complaint):
            tally[_complaint(mail, finding, applier, verp)] += 1
        elif isinstance(finding, Request):
            tally[_request(mail, finding, applier)] += 1
        else:
            tally["other message"] += 1
        remember(store, "mailbox", key)
    return tally_line(source, len(mails), "message", tally)


def _proof(copy: Copy, envelope: tuple[str, ...], readers: Readers,
           verp: AddressRule | None) -> tuple[str | None, str | None, str]:
    """(the reader the report was delivered for by VERP, the reader whose copy it quotes,
    the issue)."""
    by_verp = None
    if verp is not None:
        _found, token = verp.find(envelope)
        by_verp = readers.by_token(token) if token else None
    quoted, issue = None, ""
    for message_id in copy.message_ids:
        found = readers.copy(message_id)
        if found:
            quoted, issue = found
            break
    for message_id in copy.message_ids:
        issue = issue or readers.issue_of(message_id)
    if quoted is None:
        quoted = next((a for a in (readers.by_token(t) for t in copy.tokens) if a), None)
    return by_verp, quoted, issue


def _same(a: str, b: str) -> bool:
    return address_key(a) == address_key(b)


def _bounce(mail: Mail, bounce: Bounce, applier: Applier, verp: AddressRule | None
            ) -> list[str]:
    readers, run = applier.readers, applier.run
    if not bounce.failures:
        run.warn(mail.where, "is a delivery report with no recipient; nothing changed")
        return ["report not understood"]
    by_verp, quoted, issue = _proof(bounce.copy, bounce.envelope, readers, verp)
    return [_failure(mail, bounce, failure, applier, by_verp, quoted, issue)
            for failure in bounce.failures]


def _failure(mail: Mail, bounce: Bounce, failure: Failure, applier: Applier,
             by_verp: str | None, quoted: str | None, issue: str) -> str:
    readers, run = applier.readers, applier.run
    named = failure.named
    who = failure.final or failure.original or "nobody"
    address = None
    if by_verp and (any(_same(n, by_verp) for n in named) or len(bounce.failures) == 1):
        address = by_verp  # its return path was this reader's own (VERP)
    elif quoted and any(_same(n, quoted) for n in named):
        address = quoted   # the copy it quotes was sent to the recipient it names
    action = failure.action
    if action in ("delivered", "relayed", "expanded"):
        if address:
            applier.delivered(address)
        return "success report"
    if action not in ("failed", "delayed"):
        run.warn(mail.where, f"a delivery report with the action '{action}' for {who}; "
                             "nothing changed")
        return "report not understood"
    verdict = judge(failure.status, failure.diagnostic)
    if not (verdict.status or verdict.reply):  # no code anywhere: the action says the class
        verdict = judge("5.0.0" if action == "failed" else "4.0.0", failure.diagnostic)
    if verdict.kind == DELIVERED:
        if address:
            applier.delivered(address)
        return "success report"
    status = verdict.status or failure.status or "no status"
    what = "bounce" if action == "failed" else "delay"
    if address is None:
        if quoted or by_verp:
            run.warn(mail.where, f"a {what} ({status}) for {who}, quoting the copy sent to "
                                 f"{quoted or by_verp}: it is not about that reader; nothing "
                                 "changed")
            return "not proven"
        if not any(readers.address(n) for n in named):
            run.warn(mail.where, f"a {what} ({status}) for {who}, who is not a subscriber; "
                                 "nothing changed")
            return "not on the list"
        run.warn(mail.where, f"a {what} ({status}) for {who} that does not prove it is about a "
                             "copy we sent (no VERP return path, and no copy of ours quoted for "
                             "that address); nothing changed",
                 "anyone can send such a report: see 'Bounces' in docs/subscribers.md")
        return "not proven"
    details = ", ".join(d for d in (
        f"status {failure.status}" if failure.status and failure.status not in
        failure.diagnostic else "",
        f"issue {issue}" if issue else "",
        f"reported by {bounce.reporter}" if bounce.reporter else "") if d)
    reason = (failure.diagnostic or failure.status or action) + \
        (f" ({details})" if details else "")
    if verdict.kind == POLICY and action == "failed":
        run.warn(mail.where, f"a bounce for {address} ({status}): {verdict.why}; the reader "
                             f"stays on the list: {failure.diagnostic[:200]}",
                 "fix the sending side (authentication: SPF, DKIM, DMARC; reputation)")
        return "refused us"
    if verdict.kind == ADDRESS and action == "failed":
        return "bounced" if applier.bounce(address, reason, issue) else "already off the list"
    # Delayed, a 4.x.x, or a permanent refusal that does not say the address is gone: counted
    # per issue; a run of issues bounces.
    if not issue:
        run.warn(mail.where, f"a temporary failure ({status}) for {address} that names no "
                             "issue of ours; not counted")
        return "temporary failure with no issue"
    if verdict.kind != TEMPORARY and action == "failed":
        reason = f"{reason}; {verdict.why}"
    applier.transient(address, issue, status if status != "no status" else "4.0.0", reason)
    return "temporary failure"


def _complaint(mail: Mail, complaint: Complaint, applier: Applier,
               verp: AddressRule | None) -> str:
    """RFC 5965: a complaint (Feedback-Type: abuse) marks the reader complained, when it proves
    whose copy it was (feedback loops usually redact the recipient but quote the copy)."""
    readers, run = applier.readers, applier.run
    if complaint.feedback != "abuse":
        kind = f"of type '{complaint.feedback}'" if complaint.feedback else \
            "with no Feedback-Type"
        run.warn(mail.where, f"a feedback report {kind}, not a complaint (abuse); nothing "
                             "changed")
        return "other feedback report"
    by_verp, quoted, issue = _proof(complaint.copy, complaint.envelope, readers, verp)
    address = by_verp or quoted
    if address is None:
        named = ", ".join(complaint.named) or "a redacted recipient"
        if not any(readers.address(n) for n in complaint.named):
            run.warn(mail.where, f"a complaint about {named} that matches no subscriber; "
                                 "nothing changed")
            return "not on the list"
        run.warn(mail.where, f"a complaint about {named} that does not prove it is about a "
                             "copy we sent (no VERP return path, no copy of ours quoted); "
                             "nothing changed")
        return "not proven"
    reason = "abuse report" + (f" by {complaint.agent}" if complaint.agent else "") + \
        (f"; issue {issue}" if issue else "")
    return "complained" if applier.complain(address, reason, issue) else "already off the list"


def _request(mail: Mail, request: Request, applier: Applier) -> str:
    readers, run = applier.readers, applier.run
    token = request.token if request.token and not is_placeholder(request.token) else None
    if request.to_us and token:
        address = readers.by_token(token)
        if address is None:
            run.warn(mail.where, f"mail to the unsubscribe address with token '{token}', which "
                                 "is no known reader's; nothing changed")
            return "unknown token"
        if applier.unsubscribe(address, "unsubscribe by mail to the List-Unsubscribe "
                                        "address"):
            return "unsubscribed"
        return "already off the list"
    if not request.sender:
        return "other message"
    address = readers.address(request.sender)
    why = "unsubscribe by mail to the unsubscribe address" if request.to_us else \
        f"asked by mail to unsubscribe: {request.asks}"
    if address is None:
        run.warn(mail.where, f"{request.sender} asks to unsubscribe but is not a subscriber; "
                             "nothing changed")
        return "not on the list"
    return "unsubscribed" if applier.unsubscribe(address, why) else "already off the list"
