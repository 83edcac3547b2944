"""Everything a send checks before the first copy: the plan a dry run shows."""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from ..content.model import Issue
from ..content.schema import parse_mailbox
from ..content.validate import Project, load_issue
from ..errors import BriefingError, Problem, count
from ..render.issue import render_issue
from .ledger import Ledger
from .sendmail import sendmail_transport
from .smtp import SmtpTransport, smtp_transport
from .transport import MAX_ATTEMPTS, Transport

MESSAGE = "message.eml"
SHOWN = 5                 # recipients listed by name in the dry run


@dataclass(frozen=True)
class SendOptions:
    to: tuple[str, ...] = ()
    smtp: str | None = None
    sendmail: str | None = None
    insecure: bool = False
    force: bool = False
    rate: float = 0.0          # messages per second; 0 = as fast as the transport takes them
    timeout: float = 30.0
    retry_delay: float = 2.0   # first backoff delay; doubles per attempt, capped at MAX_DELAY


@dataclass(frozen=True)
class Recipient:
    address: str
    record: bool  # on the list in briefing.yaml: the ledger records it (a --to test send is not)


@dataclass
class Plan:
    issue: Issue
    options: SendOptions
    data: bytes
    sha256: str
    message_id: str
    transport: Transport
    ledger: Ledger
    selected: list[Recipient]
    todo: list[Recipient]
    skipped: list[str]  # already in the ledger, not sent again
    again: list[str]    # already in the ledger, sent again because of --force

    @property
    def message_path(self) -> str:
        return f"out/{self.issue.id}/{MESSAGE}"

    def command(self, recipients: list[str] | None = None, force: bool | None = None) -> str:
        """The command line that sends for real (or resumes), with the options given."""
        o = self.options
        args = ["briefing", "send", self.issue.id, "--no-dry-run"]
        for address in (o.to if recipients is None else recipients):
            args += ["--to", address]
        if o.smtp:
            args += ["--smtp", o.smtp]
        if o.sendmail:
            args += ["--sendmail", o.sendmail]
        if o.insecure:
            args.append("--insecure")
        if o.force if force is None else force:
            args.append("--force")
        if o.rate:
            args += ["--rate", f"{o.rate:g}"]
        return shlex.join(args)

    def describe(self, dry_run: bool) -> list[str]:
        """What a dry run shows; its last line says how to send for real."""
        issue, o = self.issue, self.options
        lines = []
        if dry_run:
            lines.append("dry run: nothing is sent")
        lines += [
            f"issue:      {issue.id} ({issue.date})",
            f"message:    {self.message_path}, {_size(len(self.data))}, sha256 "
            f"{self.sha256[:12]}, built from the current briefs",
            f"subject:    {issue.subject}",
            f"from:       {issue.config.sender}",
            f"to header:  {_header(self.data, 'To')} (the same in every copy)",
            f"transport:  {self.transport.describe()}",
            f"recipients: {_listing([r.address for r in self.selected])}"
            + (" (from --to)" if o.to else " (from briefing.yaml)"),
        ]
        tests = [r.address for r in self.selected if not r.record]
        if tests:
            lines.append(f"test send:  {_listing(tests)} not on the list: not recorded in "
                         f"{self.ledger.shown}, so the issue stays editable")
        if self.ledger.entries:
            lines.append(f"ledger:     {self.ledger.shown} has "
                         f"{count(len(self.ledger.recipients()), 'recipient')}")
        if self.skipped:
            lines.append(f"skipped:    {_listing(self.skipped)}: already got this issue "
                         f"(--force sends again)")
        if self.again:
            lines.append(f"again:      {_listing(self.again)}: already got this issue, sent "
                         f"again because of --force")
        if not self.todo:
            lines.append(f"nothing to send: every recipient is in {self.ledger.shown}")
            if dry_run:
                lines.append(f"to send again anyway: {self.command(force=True)}")
            return lines
        how = "one SMTP transaction per recipient" if isinstance(self.transport, SmtpTransport) \
            else "one run of the command per recipient"
        rate = f", at most {o.rate:g} per second" if o.rate else ""
        record = " and record each accepted one" if any(r.record for r in self.todo) else ""
        if dry_run:
            lines.append(f"would send: {count(len(self.todo), 'message')} ({how}{rate})"
                         f"{record}; 4xx replies are retried up to {MAX_ATTEMPTS} times")
            lines.append(f"to send for real: {self.command()}")
        else:
            lines.append(f"sending:    {count(len(self.todo), 'message')} ({how}{rate})")
        return lines


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} B"


def _listing(addresses: list[str]) -> str:
    shown = ", ".join(addresses[:SHOWN])
    more = f" and {len(addresses) - SHOWN} more" if len(addresses) > SHOWN else ""
    return f"{len(addresses)}: {shown}{more}"


def _header(data: bytes, name: str) -> str:
    return str(BytesHeaderParser(policy=default_policy).parsebytes(data)[name] or "")


def _recipients(issue: Issue, to: tuple[str, ...]) -> list[Recipient]:
    listed = {r.address.lower() for r in issue.config.recipients}
    if to:
        addresses = []
        for value in to:
            if any(c in value for c in "\r\n\0"):
                raise BriefingError(Problem("--to", 0, 0, "an address must not contain a line "
                                                          "break"))
            try:
                addresses.append(parse_mailbox(value).address)
            except ValueError:
                raise BriefingError(Problem("--to", 0, 0, f"'{value}' is not a valid address",
                                            "write it as user@example.org")) from None
    else:
        addresses = [r.address for r in issue.config.recipients]
    seen: set[str] = set()
    out = []
    for address in addresses:  # the same address twice would get two copies: once is enough
        if address.lower() not in seen:
            seen.add(address.lower())
            out.append(Recipient(address, address.lower() in listed))
    return out


def prepare(project: Project, issue_id: str | None, options: SendOptions) -> Plan:
    """Check everything a real send needs, without sending: the dry run is this plus output."""
    issue = load_issue(project, issue_id)
    shown = f"out/{issue.id}/{MESSAGE}"
    path = project.out / issue.id / MESSAGE
    if not path.is_file():
        raise BriefingError(Problem(shown, 0, 0, f"issue {issue.id} has not been built",
                                    f"run 'briefing build {issue.id}' first"))
    data = path.read_bytes()
    if render_issue(project, issue).files[MESSAGE] != data:
        raise BriefingError(Problem(shown, 0, 0, "is out of date with the briefs (or was edited)",
                                    f"run 'briefing build {issue.id}' first"))
    digest = hashlib.sha256(data).hexdigest()
    if options.smtp and options.sendmail:
        raise BriefingError(Problem("--sendmail", 0, 0, "give --smtp or --sendmail, not both"))
    if options.rate < 0 or options.timeout <= 0 or options.retry_delay < 0:
        raise BriefingError(Problem("send", 0, 0, "--rate, --timeout and the retry delay "
                                                  "must be positive"))
    transport: Transport
    if options.sendmail and options.insecure:
        raise BriefingError(Problem("--insecure", 0, 0, "applies to --smtp only"))
    if options.sendmail:
        transport = sendmail_transport(options.sendmail, options.timeout)
    elif options.smtp or issue.config.smtp.url:
        where = "--smtp" if options.smtp else "briefing.yaml"
        transport = smtp_transport(options.smtp or issue.config.smtp.url, issue.config,
                                   options.insecure, options.timeout, where)
    else:
        raise BriefingError(Problem(
            "briefing.yaml", 0, 0, "no way to send: no smtp.url in briefing.yaml",
            "set smtp.url, or pass --smtp smtp://host:587 or --sendmail 'msmtp'"))
    ledger = Ledger.read(project.out, issue.id)
    selected = _recipients(issue, options.to)
    old = ledger.hashes() - {digest}
    if old and not options.force:
        raise BriefingError(Problem(
            ledger.shown, 0, 0, f"{MESSAGE} has changed since it was sent to "
                                f"{count(len(ledger.recipients()), 'recipient')} "
                                f"(sha256 {', '.join(sorted(h[:12] for h in old))} then, "
                                f"{digest[:12]} now)",
            "send the changed issue with --force; check the dry run first"))
    done = ledger.recipients()
    already = [r.address for r in selected if r.address.lower() in done]
    todo = [r for r in selected if options.force or r.address.lower() not in done]
    return Plan(issue=issue, options=options, data=data, sha256=digest,
                message_id=_header(data, "Message-ID"), transport=transport, ledger=ledger,
                selected=selected, todo=todo,
                skipped=[] if options.force else already,
                again=already if options.force else [])
