"""Send a built issue: transports (SMTP, a sendmail command), the never-twice ledger, retries."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import os
import re
import shlex
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import urlsplit

from .errors import BriefingError, Problem, count
from .model import Config, Issue
from .pipeline import LEDGER, render_issue
from .schema import parse_mailbox
from .validate import Project, load_issue

MESSAGE = "message.eml"
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
MAX_ATTEMPTS = 4          # per recipient, for temporary (4xx) failures
MAX_DELAY = 60.0          # seconds: the backoff never waits longer than this between attempts
MAX_FAILURES_IN_A_ROW = 5  # then the transport (or the sender address) is broken: stop
SHOWN = 5                 # recipients listed by name in the dry run
# sysexits.h: a sendmail-compatible command signals "try again later" with these. msmtp exits 75
# when it cannot connect and 69 when the server answers 4xx; 5xx gives 65 (measured, msmtp 1.8).
TEMPORARY_EXITS = {69, 75}


# ---------------------------------------------------------------------------------------------
# What a transport reports for one recipient

class Rejected(Exception):
    """The server (or command) refused this recipient; `temporary` when it may work later."""

    def __init__(self, reply: str, temporary: bool) -> None:
        super().__init__(reply)
        self.reply = reply
        self.temporary = temporary


class Lost(Exception):
    """The transport itself failed (connection refused, dropped, timed out): stop the run."""


class Transport(Protocol):
    name: str

    def describe(self) -> str: ...

    def open(self) -> None: ...

    def deliver(self, sender: str, recipient: str, data: bytes) -> str: ...

    def close(self) -> None: ...


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(f"{code} {text}".split())


# ---------------------------------------------------------------------------------------------
# SMTP

@dataclass
class SmtpTransport:
    """One connection, one SMTP transaction (MAIL, RCPT, DATA) per recipient."""

    scheme: str
    host: str
    port: int
    user: str
    password_env: str
    insecure: bool
    timeout: float
    _password: str = field(default="", repr=False)  # never printed, never logged
    _smtp: smtplib.SMTP | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def describe(self) -> str:
        if self.scheme == "smtps":
            tls = "implicit TLS"
        else:
            tls = "STARTTLS if offered, else plain text (--insecure)" if self.insecure \
                else "STARTTLS required"
        tls += ", certificate not verified (--insecure)" if self.insecure \
            else ", certificate verified"
        auth = (f"AUTH as {self.user} (password from ${self.password_env})" if self.user
                else "no AUTH (no smtp.user in briefing.yaml)")
        return f"{self.name}, {tls}, {auth}"

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()  # verifies the chain and the host name
        if self.insecure:  # a local test server with a self-signed certificate, nothing else
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def open(self) -> None:
        try:
            if self.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                      context=self._context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            self._smtp = smtp
            smtp.ehlo()
            if self.scheme == "smtp":
                if smtp.has_extn("starttls"):
                    # smtplib's starttls() without a context does not verify certificates.
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                elif not self.insecure:
                    raise BriefingError(Problem(
                        self.name, 0, 0, "the server does not offer STARTTLS; refusing to send "
                                         "in clear text; nothing was sent",
                        "use smtps://, or --insecure for a local test server only"))
            if self.user:
                self._login(smtp)
        except BriefingError:
            self.close()
            raise
        except ssl.SSLCertVerificationError as exc:
            self.close()
            reason = exc.verify_message or str(exc)
            raise BriefingError(Problem(
                self.name, 0, 0, f"the server's TLS certificate could not be verified "
                                 f"({reason}); nothing was sent",
                "give the server a certificate a public CA signed; --insecure skips the check, "
                "for a local test server only")) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Lost(f"could not connect ({_why(exc)})") from None

    def _login(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.login(self.user, self._password)
        except smtplib.SMTPAuthenticationError as exc:
            raise BriefingError(Problem(
                self.name, 0, 0, f"the server refused the login of '{self.user}': "
                                 f"{_reply(exc.smtp_code, exc.smtp_error)}; nothing was sent",
                f"check the password in ${self.password_env}")) from None
        except smtplib.SMTPNotSupportedError:
            raise BriefingError(Problem(
                self.name, 0, 0, f"the server does not offer AUTH, but smtp.user is "
                                 f"'{self.user}'; nothing was sent",
                "remove smtp.user from briefing.yaml if the server needs no login")) from None

    def deliver(self, sender: str, recipient: str, data: bytes) -> str:
        smtp = self._smtp
        assert smtp is not None
        # The file has LF line ends; SMTP needs CRLF, and smtplib leaves bytes as they are.
        data = re.sub(rb"\r?\n", b"\r\n", data)
        try:
            for step, args in (("mail", (sender,)), ("rcpt", (recipient,))):
                code, text = getattr(smtp, step)(*args)
                if code not in (250, 251):
                    self._refused(smtp, code, text)
            try:
                code, text = smtp.data(data)
            except smtplib.SMTPDataError as exc:  # no 354 after DATA
                self._refused(smtp, exc.smtp_code, exc.smtp_error)
            if code != 250:
                self._refused(smtp, code, text)
            return _reply(code, text)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.close()
            raise Lost(f"lost the connection ({_why(exc)})") from None

    def _refused(self, smtp: smtplib.SMTP, code: int, text: bytes | str) -> None:
        reply = _reply(code, text)
        if code == 421 or code == -1:  # 421: the server is closing the connection (RFC 5321)
            self.close()
            raise Lost(f"the server closed the connection ({reply})")
        try:
            smtp.rset()  # end the failed transaction so the next recipient starts clean
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Lost(f"lost the connection ({_why(exc)})") from None
        raise Rejected(reply, temporary=400 <= code < 500)

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _why(exc: BaseException) -> str:
    """A short reason: 'connection refused', 'timed out', the server's words."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPServerDisconnected) and str(exc).endswith("timed out"):
        return "timed out"  # smtplib reports a read timeout as a disconnection
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    text = str(exc) or type(exc).__name__
    return text[0].lower() + text[1:] if text else text


def smtp_transport(url: str, config: Config, insecure: bool, timeout: float,
                   where: str) -> SmtpTransport:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/")
            or parts.query or parts.fragment or port == -1 or port == 0):
        raise BriefingError(Problem(where, 0, 0, f"'{url}' is not an SMTP URL",
                                    "write smtp://host:587 (STARTTLS) or smtps://host:465"))
    if "@" in parts.netloc:
        raise BriefingError(Problem(where, 0, 0, f"'{url}' holds a user name or password",
                                    "put the user in smtp.user in briefing.yaml and the "
                                    "password in an environment variable"))
    if insecure and not _loopback(parts.hostname):
        raise BriefingError(Problem(
            "--insecure", 0, 0, f"is for a local test server only, not {parts.hostname}",
            "leave it out; a real server needs a certificate that verifies"))
    smtp = config.smtp
    transport = SmtpTransport(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme],
                              smtp.user, smtp.password_env, insecure, timeout)
    if smtp.user:
        password = os.environ.get(smtp.password_env, "")
        if not password:
            raise BriefingError(Problem(
                "briefing.yaml", 0, 0, f"smtp.user is '{smtp.user}' but ${smtp.password_env} "
                                       "is not set",
                f"export the password as {smtp.password_env}; it never goes in briefing.yaml"))
        transport._password = password
    return transport


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# A sendmail-compatible command

@dataclass
class SendmailTransport:
    """`sendmail -i -f SENDER -- RECIPIENT` with the message on stdin, once per recipient."""

    argv: list[str]
    timeout: float
    dropped: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return Path(self.argv[0]).name

    def describe(self) -> str:
        text = f"the command {shlex.join(self.argv)} (message on stdin, one run per recipient)"
        if self.dropped:
            text += (f"; {' '.join(self.dropped)} left out: briefing gives the command each "
                     "recipient itself, and reading them from the message would also mail the "
                     "To header (the list) once per reader")
        return text

    def open(self) -> None:
        pass

    def deliver(self, sender: str, recipient: str, data: bytes) -> str:
        argv = list(self.argv)
        if not any(a in ("-f", "--from") or a.startswith(("-f", "--from=")) for a in argv[1:]):
            argv += ["-f", sender]
        argv += ["-i", "--", recipient]  # -i: a line with a single '.' is not the end
        try:
            proc = subprocess.run(argv, input=data, capture_output=True, timeout=self.timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise Lost(f"{self.name} did not finish within {self.timeout:g} s") from None
        except OSError as exc:
            raise Lost(f"could not run {self.name}: {_why(exc)}") from None
        said = " ".join((proc.stderr or proc.stdout).decode("utf-8", "replace").split())[:300]
        reply = f"exit {proc.returncode}" + (f": {said}" if said else "")
        if proc.returncode:
            raise Rejected(reply, temporary=proc.returncode in TEMPORARY_EXITS)
        return reply

    def close(self) -> None:
        pass


def sendmail_transport(command: str, timeout: float) -> SendmailTransport:
    try:
        argv = shlex.split(command)  # no shell: the command line is split, never interpreted
    except ValueError as exc:
        raise BriefingError(Problem("--sendmail", 0, 0, f"cannot split '{command}': {exc}")) \
            from None
    if not argv:
        raise BriefingError(Problem("--sendmail", 0, 0, "the command is empty",
                                    "write e.g. --sendmail 'msmtp -a work'"))
    # `msmtp -t` / `sendmail -t` read recipients from the headers *in addition* to those on
    # the command line: with To set to the list, every run would also mail the list. The
    # command is still the right tool, so -t is left out (and the dry run says so).
    dropped = tuple(a for a in argv[1:] if a in ("-t", "--read-recipients"))
    argv = [argv[0]] + [a for a in argv[1:] if a not in ("-t", "--read-recipients")]
    if shutil.which(argv[0]) is None:
        raise BriefingError(Problem("--sendmail", 0, 0, f"command '{argv[0]}' not found"))
    return SendmailTransport(argv, timeout, dropped)


# ---------------------------------------------------------------------------------------------
# The ledger: out/<ISSUE>/sent.jsonl, one line per accepted recipient

@dataclass
class Ledger:
    """Who got the issue. Appended and fsynced after each acceptance, so a crash loses nothing."""

    out: Path
    issue_id: str
    entries: list[dict] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return f"out/{self.issue_id}/{LEDGER}"

    @classmethod
    def read(cls, out: Path, issue_id: str) -> "Ledger":
        ledger = cls(out, issue_id)
        path = out / issue_id / LEDGER
        if not path.exists():
            return ledger
        if path.is_symlink() or not path.is_file():
            raise BriefingError(Problem(ledger.shown, 0, 0, "is not a regular file"))
        for number, line in enumerate(path.read_bytes().split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not (isinstance(entry, dict) and isinstance(entry.get("recipient"), str)
                        and isinstance(entry.get("sha256"), str)):
                    raise ValueError
            except ValueError:
                raise BriefingError(Problem(
                    ledger.shown, number, 1, "is not a ledger line (a JSON object with "
                                             "'recipient' and 'sha256')",
                    "the ledger says who got the issue: fix that line by hand, and delete it "
                    "only if you know that recipient did not get it")) from None
            ledger.entries.append(entry)
        return ledger

    def recipients(self) -> set[str]:
        return {e["recipient"].lower() for e in self.entries}

    def hashes(self) -> set[str]:
        return {e["sha256"] for e in self.entries}

    def append(self, entry: dict) -> None:
        # write.py is the one path for outputs; the ledger is the one file that is appended to,
        # so it gets the same confinement check and its own append + fsync.
        from .write import confined_path
        path = confined_path(self.out, f"{self.issue_id}/{LEDGER}")
        line = json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")) + "\n"
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:  # the new name itself must survive a crash too
            from .write import fsync_dir
            fsync_dir(path.parent)
        self.entries.append(entry)


# ---------------------------------------------------------------------------------------------
# Plan (everything a dry run checks) and delivery

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


@dataclass
class Report:
    plan: Plan
    sent: list[tuple[str, str]] = field(default_factory=list)    # (address, server reply)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, last reply)
    stopped: str = ""                                            # why the run stopped early
    not_tried: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        plan = self.plan
        line = (f"sent {plan.issue.id} to {len(self.sent)} of "
                f"{count(len(plan.todo), 'recipient')}")
        if plan.skipped:
            line += f" ({len(plan.skipped)} skipped: already sent)"
        if any(r.record for r in plan.todo):
            line += f"; ledger: {plan.ledger.shown}"
        return [line]

    def failures(self) -> list[str]:
        """One line per recipient that did not get the message, and why."""
        return [Problem(self.plan.transport.name, 0, 0,
                        f"{address} was not delivered: {reply}").format()
                for address, reply in self.failed]

    def check(self) -> None:
        """Raise (exit 1) unless every recipient got the message, with the command that resumes."""
        plan = self.plan
        if not self.failed and not self.stopped:
            return
        problems = []
        rest = [a for a, _ in self.failed] + self.not_tried
        # Without --force the ledger skips whoever got it, so the same command resumes. After
        # --force it would send to everyone again, and --to test sends are not in the ledger:
        # then the command names the rest.
        named = plan.options.force or bool(plan.options.to)
        resume = plan.command(rest if named else None)
        if self.stopped:
            problems.append(Problem(
                plan.transport.name, 0, 0,
                f"stopped after {len(self.sent)} of {count(len(plan.todo), 'recipient')}: "
                f"{self.stopped}; {len(self.not_tried)} not tried",
                f"to resume, run: {resume}"))
        else:
            problems.append(Problem(
                plan.transport.name, 0, 0,
                f"{len(self.failed)} of {count(len(plan.todo), 'recipient')} not delivered",
                f"to retry them, run: {resume}"))
        raise BriefingError(problems)


def deliver(plan: Plan, progress: Callable[[str], None] = lambda address: None,
            sleep: Callable[[float], None] = time.sleep) -> Report:
    """Send to every recipient of the plan; record each acceptance in the ledger at once."""
    report = Report(plan)
    options, transport = plan.options, plan.transport
    sender = plan.issue.config.sender.address
    try:
        transport.open()
    except Lost as exc:
        report.stopped = str(exc)
        report.not_tried = [r.address for r in plan.todo]
        return report
    try:
        last = 0.0
        in_a_row = 0
        for index, recipient in enumerate(plan.todo):
            if options.rate:
                wait = last + 1 / options.rate - time.monotonic()
                if wait > 0:
                    sleep(wait)
            last = time.monotonic()
            try:
                reply = _attempts(transport, sender, recipient.address, plan.data, options,
                                  sleep)
            except Rejected as exc:
                report.failed.append((recipient.address, exc.reply))
                in_a_row += 1
                if in_a_row >= MAX_FAILURES_IN_A_ROW and index + 1 < len(plan.todo):
                    report.stopped = (f"{in_a_row} recipients in a row were not delivered "
                                      f"(the transport or the sender address looks broken)")
                    report.not_tried = [r.address for r in plan.todo[index + 1:]]
                    break
            except Lost as exc:
                report.stopped = str(exc)
                report.not_tried = [r.address for r in plan.todo[index:]]
                break
            else:
                in_a_row = 0
                if recipient.record:
                    plan.ledger.append({
                        "recipient": recipient.address,
                        "message_id": plan.message_id,
                        "sha256": plan.sha256,
                        # The one clock value allowed on disk: when this copy was accepted.
                        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                        "reply": reply,
                        "transport": transport.name,
                    })
                report.sent.append((recipient.address, reply))
            progress(recipient.address)
    finally:
        transport.close()
    return report


def _attempts(transport: Transport, sender: str, recipient: str, data: bytes,
              options: SendOptions, sleep: Callable[[float], None]) -> str:
    """Deliver, retrying temporary refusals with bounded exponential backoff."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return transport.deliver(sender, recipient, data)
        except Rejected as exc:
            if not exc.temporary or attempt == MAX_ATTEMPTS:
                if exc.temporary:
                    exc.reply += f" (after {MAX_ATTEMPTS} attempts)"
                raise
            sleep(min(options.retry_delay * 2 ** (attempt - 1), MAX_DELAY))
    raise AssertionError("unreachable")  # pragma: no cover
