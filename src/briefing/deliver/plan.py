"""Everything a send checks before the first copy: the plan a dry run shows.

Who gets an issue: the active readers in the subscriber store plus `recipients:` from
briefing.yaml, once each (addresses compare case-insensitively), minus every suppressed
address (unsubscribed, bounced, complained): never sent to, not with --force, not with --to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import shlex
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import PurePosixPath

from ..content.model import Issue
from ..content.schema import parse_mailbox
from ..content.validate import Project, load_issue
from ..editorial.saved import save_sources
from ..errors import BriefingError, Problem, count
from ..publish.issues import issue_folder, issue_folder_shown
from ..publish.stamp import is_current
from ..subscribers.identity import list_tokens
from ..subscribers.store import Store, Subscriber, address_key
from ..subscribers.sync import sync_before_send
from ..subscribers.tokens import Tokens
from .ledger import Ledger
from .lock import SendLock
from .personal import CopyMaker
from .preflight import for_send
from .sendmail import sendmail_transport
from .smtp import SmtpTransport, smtp_transport
from .transport import MAX_ATTEMPTS, Transport
from .variants import Chosen, Variant, Variants, preview_choice, theme_lines

MESSAGE = "message.eml"
SHOWN = 5                 # recipients listed by name in the dry run



def retries(transport: Transport) -> str:
    """What the dry run says is tried again: "try later" is an SMTP 4xx reply, or a command's
    exit status 75 or 69 (sysexits.h; deliver/sendmail.py)."""
    later = "a 4xx reply is" if isinstance(transport, SmtpTransport) else \
        "an exit status 75 or 69 (try again later) is"
    return f"{later} tried up to {MAX_ATTEMPTS} times in all"

@dataclass(frozen=True)
class SendOptions:
    to: tuple[str, ...] = ()
    smtp: str | None = None
    sendmail: str | None = None
    insecure: bool = False
    force: bool = False
    rate: float = 0.0          # messages per second; 0 = as fast as the transport takes them
    timeout: float = 30.0      # a deadline for each step of a transaction, or for a command
    retry_delay: float = 2.0   # first backoff delay; doubles per attempt, capped at MAX_DELAY
    connections: int = 1       # SMTP sessions (or commands) at once
    themes: str | None = None  # --themes: preview the variant of these themes (with --to)


@dataclass(frozen=True)
class Recipient:
    address: str
    record: bool  # on the list: the ledger records it (a --to test send is not)


@dataclass
class Audience:
    """Who is on the list for this send, and who was left out because they must not get it."""

    readers: list[Recipient]
    from_store: int
    from_config: int
    suppressed: int  # addresses in the store or briefing.yaml that are never mailed


@dataclass
class Plan:
    issue: Issue
    options: SendOptions
    data: bytes
    sha256: str
    transport: Transport
    store: Store
    ledger: Ledger
    tokens: Tokens
    copies: CopyMaker
    audience: Audience
    selected: list[Recipient]
    todo: list[Recipient]
    skipped: list[str]  # already in the ledger, not sent again
    again: list[str]    # already in the ledger, sent again because of --force
    unconfirmed: list[str] = field(default_factory=list)  # may have it: left out
    delivered: int = 0  # readers the ledger has an accepted copy for
    notes: list[str] = field(default_factory=list)  # what opening the store did
    lock: SendLock | None = None  # held by a real send, from before the ledger is read
    # Theme choices (deliver/variants.py): one built message per distinct choice; readers
    # whose themes hold nothing this week get no copy; --themes previews one choice.
    variants: Variants | None = None
    nothing: list[str] = field(default_factory=list)
    preview: Chosen = None
    warnings: list[str] = field(default_factory=list)  # the preflight's (deliver/preflight.py)

    @property
    def envelope_sender(self) -> str:
        return self.issue.config.envelope_sender

    def sender_for(self, address: str) -> str:
        """The copy's envelope sender: with `{token}` in bounce_address, the reader's own
        return path (VERP), so a bounce proves whose copy it was."""
        sender = self.envelope_sender
        return sender.replace("{token}", self.tokens.token(address)) if "{token}" in sender \
            else sender

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    @property
    def message_path(self) -> str:
        return f"{issue_folder_shown(self.issue.id, self.issue.draft)}/{MESSAGE}"

    def variant_for(self, address: str) -> Variant | None:
        """The built message a reader's copy is made from; None: nothing in their themes."""
        assert self.variants is not None
        if self.options.themes is not None:
            return self.variants.get(self.preview)
        return self.variants.for_reader(address)

    def copy_for(self, address: str, when: dt.datetime | None = None) -> tuple[bytes, str]:
        """This reader's own copy and its Message-ID."""
        # A plan without variants (a correction notice) has one message for everyone.
        maker = self.copies
        if self.variants is not None:
            variant = self.variant_for(address)
            assert variant is not None, address  # readers with nothing are not in todo
            maker = variant.maker
        return maker.copy(self.tokens.token(address), when or dt.datetime.now(dt.UTC))

    def themes_for(self, address: str) -> str:
        """The themes a reader's copy carries, as the ledger records them ('' without
        variants)."""
        variant = self.variant_for(address) if self.variants is not None else None
        return variant.ledger_themes if variant is not None else ""

    def command(self, recipients: list[str] | None = None, force: bool | None = None) -> str:
        """The command line that sends for real (or resumes), with the options given."""
        o = self.options
        args = ["briefing", "send", self.issue.id, "--no-dry-run"]
        for address in (o.to if recipients is None else recipients):
            args += ["--to", address]
        if o.themes is not None:
            args += ["--themes", o.themes]
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
        if o.connections != 1:
            args += ["--connections", str(o.connections)]
        if o.timeout != SendOptions.timeout:
            args += ["--timeout", f"{o.timeout:g}"]
        return shlex.join(args)

    def describe(self, dry_run: bool) -> list[str]:
        """What a dry run shows; its last line says how to send for real."""
        issue, o = self.issue, self.options
        lines = list(self.notes)
        if dry_run:
            lines.append("dry run: nothing is sent")
        lines += [
            f"issue:      {issue.id} ({issue.date})",
            f"message:    {self.message_path}, {_size(len(self.data))}, sha256 "
            f"{self.sha256[:12]}, built from the current briefs",
            f"subject:    {issue.subject}",
            f"from:       {issue.config.sender}"
            + (f" (bounces to {self.envelope_sender}"
               + (", each reader's own (VERP)" if "{token}" in self.envelope_sender else "")
               + ")" if self.envelope_sender != issue.config.sender.address else ""),
            f"to header:  {_header(self.data, 'To')} (the same in every copy)",
            "copies:     one per reader, with their own one-click unsubscribe link "
            "(List-Unsubscribe, List-Unsubscribe-Post), Message-ID and Date",
            f"transport:  {self.transport.describe()}",
            f"recipients: {_listing([r.address for r in self.selected])}"
            + (" (from --to)" if o.to else f" ({self._sources()})"),
        ]
        tests = [r.address for r in self.selected if not r.record]
        if tests:
            lines.append(f"test send:  {_listing(tests)} "
                         + ("not on the list" if o.themes is None else "(a preview)")
                         + f": not recorded in {self.ledger.shown}, so the issue stays "
                           "editable")
        if self.delivered:
            lines.append(f"ledger:     {self.ledger.shown} has "
                         f"{count(self.delivered, 'recipient')} of this issue")
        if self.skipped:
            lines.append(f"skipped:    {_listing(self.skipped)}: already got this issue "
                         f"(--force sends again)")
        if self.variants is not None:
            lines += theme_lines(self.variants, [r.address for r in self.todo], self.nothing,
                                 o.themes is not None, self.preview)
        if self.unconfirmed:
            lines.append(f"unconfirmed: {_listing(self.unconfirmed)}: a copy was handed over "
                         "when an earlier send stopped, so they may have it; not sent again "
                         "(--force sends again)")
        if self.again:
            lines.append(f"again:      {_listing(self.again)}: already got this issue, sent "
                         f"again because of --force")
        if not self.todo:
            lines.append("nothing to send: no recipient has anything in their themes this "
                         "week" if self.nothing and not self.skipped else
                         f"nothing to send: every recipient is in {self.ledger.shown}"
                         if self.selected else "nothing to send: the list is empty (add "
                         "readers with 'briefing subscribers add' or 'import')")
            if dry_run:
                lines.append(f"to send again anyway: {self.command(force=True)}")
            return lines
        how = "one SMTP transaction per recipient" if isinstance(self.transport, SmtpTransport) \
            else "one run of the command per recipient"
        if o.connections > 1:
            how += f", {o.connections} " + ("connections" if isinstance(
                self.transport, SmtpTransport) else "commands") + " at once"
        rate = f", at most {o.rate:g} per second" if o.rate else ""
        record = " and record each accepted one" if any(r.record for r in self.todo) else ""
        if dry_run:
            lines.append(f"would send: {count(len(self.todo), 'message')} ({how}{rate})"
                         f"{record}; {retries(self.transport)}")
            lines.append(f"to send for real: {self.command()}")
        else:
            lines.append(f"sending:    {count(len(self.todo), 'message')} ({how}{rate})")
        return lines

    def _sources(self) -> str:
        a = self.audience
        parts = []
        if a.from_store or not a.from_config:
            parts.append(f"{count(a.from_store, 'subscriber')} in {self.store.shown}")
        if a.from_config:
            parts.append(f"{a.from_config} from briefing.yaml")
        text = ", ".join(parts)
        if a.suppressed:
            text += f"; {a.suppressed} suppressed left out"
        return text


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} B"


def _listing(addresses: list[str]) -> str:
    if not addresses:
        return "none"
    shown = ", ".join(addresses[:SHOWN])
    more = f" and {len(addresses) - SHOWN} more" if len(addresses) > SHOWN else ""
    return f"{len(addresses)}: {shown}{more}"


def _header(data: bytes, name: str) -> str:
    return str(BytesHeaderParser(policy=default_policy).parsebytes(data)[name] or "")


def audience(issue: Issue, store: Store) -> tuple[Audience, dict[str, Subscriber]]:
    """The list: active readers in the store, then briefing.yaml's recipients, once each,
    without any suppressed address."""
    suppressed = store.suppressed()
    seen: set[str] = set()
    readers: list[Recipient] = []
    left_out: set[str] = set()
    from_store = from_config = 0
    for address, key in store.active_addresses():
        if key not in seen:
            seen.add(key)
            readers.append(Recipient(address, True))
            from_store += 1
    for mailbox in issue.config.recipients:
        key = address_key(mailbox.address)
        if key in suppressed:
            left_out.add(key)
        elif key not in seen:
            seen.add(key)
            readers.append(Recipient(mailbox.address, True))
            from_config += 1
    # Every suppressed address is on the list in a sense: it is left out, and counted.
    return Audience(readers, from_store, from_config, len(set(suppressed) | left_out)), \
        suppressed


def _chosen(to: tuple[str, ...], on_list: set[str],
            suppressed: dict[str, Subscriber]) -> list[Recipient]:
    """--to addresses: a reader on the list gets their copy (recorded), anyone else a test
    send (not recorded); a suppressed address is refused with the reason."""
    problems = []
    chosen = []
    seen: set[str] = set()
    for value in to:
        if any(c in value for c in "\r\n\0"):
            problems.append(Problem("--to", 0, 0, "an address must not contain a line break"))
            continue
        try:
            address = parse_mailbox(value).address
        except ValueError:
            problems.append(Problem("--to", 0, 0, f"'{value}' is not a valid address",
                                    "write it as user@example.org"))
            continue
        key = address_key(address)
        if key in suppressed:
            problems.append(Problem(
                "--to", 0, 0, f"{address} is {suppressed[key].why()}: briefing never mails a "
                              "suppressed address, not with --to or --force",
                f"if they asked to come back: briefing subscribers add {address} "
                "--resubscribe"))
            continue
        if key not in seen:  # the same address twice would get two copies: once is enough
            seen.add(key)
            chosen.append(Recipient(address, key in on_list))
    if problems:
        raise BriefingError(problems)
    return chosen


def _ready_for(project: Project, issue: Issue, options: SendOptions) -> None:
    """A draft goes only to --to test addresses; an issue with placeholders left (TODO, TK,
    FIXME) never goes to the list: a warning in `check` is an error here."""
    if options.to:
        return
    if issue.draft:
        raise BriefingError(Problem(
            f"briefs/{issue.id}/issue.yaml", 0, 0,
            f"issue {issue.id} is a draft: a draft is never sent to the list",
            f"test it with --to you@example.org; to publish it, remove 'draft: true' and run "
            f"'briefing build {issue.id}'"))
    from ..editorial.lint import placeholders
    left = [dataclasses.replace(p, severity="error") for p in placeholders(project, issue)]
    if left:
        raise BriefingError(left + [Problem(
            f"briefs/{issue.id}", 0, 0, "placeholders are left in the issue: it is not sent "
                                       "to the list", "replace them, rebuild, then send")])


def _transport(issue: Issue, options: SendOptions) -> Transport:
    if options.smtp and options.sendmail:
        raise BriefingError(Problem("--sendmail", 0, 0, "give --smtp or --sendmail, not both"))
    if options.sendmail and options.insecure:
        raise BriefingError(Problem("--insecure", 0, 0, "applies to --smtp only"))
    if options.sendmail:
        return sendmail_transport(options.sendmail, options.timeout)
    if options.smtp or issue.config.smtp.url:
        where = "--smtp" if options.smtp else "briefing.yaml"
        return smtp_transport(options.smtp or issue.config.smtp.url, issue.config,
                              options.insecure, options.timeout, where)
    raise BriefingError(Problem(
        "briefing.yaml", 0, 0, "no way to send: no smtp.url in briefing.yaml",
        "set smtp.url, or pass --smtp smtp://host:587 or --sendmail 'msmtp'"))


def prepare(project: Project, issue_id: str | None, options: SendOptions,
            for_real: bool = False) -> Plan:
    """Check everything a real send needs, without sending: the dry run is this plus output.

    For a real send (`for_real`), the project's send lock is taken before the ledger is read,
    so two sends started together can never both find a reader missing from it."""
    issue = load_issue(project, issue_id)
    _ready_for(project, issue, options)
    shown = f"{issue_folder_shown(issue.id, issue.draft)}/{MESSAGE}"
    path = issue_folder(project, issue.id, issue.draft) / MESSAGE
    if not path.is_file():
        raise BriefingError(Problem(shown, 0, 0, f"issue {issue.id} has not been built",
                                    f"run 'briefing build {issue.id}' first"))
    data = path.read_bytes()
    # The build's record proves the message current in a few file reads; without one (or when
    # it differs) the issue is rendered again and compared, byte for byte.
    from ..render.issue import render_issue
    if not is_current(project, issue.id, data) and \
            render_issue(project, issue).files[MESSAGE] != data:
        raise BriefingError(Problem(shown, 0, 0, "is out of date with the briefs (or was edited)",
                                    f"run 'briefing build {issue.id}' first"))
    digest = hashlib.sha256(data).hexdigest()
    if not (options.rate >= 0 and options.timeout > 0 and options.retry_delay >= 0
            and math.isfinite(options.timeout) and math.isfinite(options.rate)):
        raise BriefingError(Problem("send", 0, 0, "--rate, --timeout and the retry delay "
                                                  "must be finite and positive"))
    transport = _transport(issue, options)
    try:
        store = Store.open(project.root, issue.config.state)
    except BriefingError as exc:
        first = exc.problems[0]
        raise BriefingError(dataclasses.replace(
            first, message=first.message + "; nothing was sent")) from None
    lock = None
    if for_real:
        folder = store.path.parent
        shown = str(PurePosixPath(store.shown).parent)
        lock = SendLock(folder, "" if shown == "." else shown, issue.id).acquire()
        if lock.note:
            store.notes.append(lock.note)
    try:
        return _plan(project, issue, options, data, digest, transport, store, lock)
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def _plan(project: Project, issue: Issue, options: SendOptions, data: bytes, digest: str,
          transport: Transport, store: Store, lock: SendLock | None) -> Plan:
    shown = f"{issue_folder_shown(issue.id, issue.draft)}/{MESSAGE}"
    synced = sync_before_send(project, issue.config, store)  # before the list is read
    ledger = Ledger(store, issue.id)
    everyone, suppressed = audience(issue, store)
    # A draft's test copies are never a reader's copy: nothing of a draft is recorded.
    if options.to:  # a test send: who of them is on the list (a draft's copies never are)
        on_list = set() if issue.draft else {address_key(r.address) for r in everyone.readers}
        selected = _chosen(options.to, on_list, suppressed)
    else:
        selected = everyone.readers
    preview = preview_choice(options.themes, issue.config)
    if options.themes is not None:
        if not options.to:
            raise BriefingError(Problem("--themes", 0, 0, "previews the copy of a theme "
                                        "choice: give --to too", "e.g. --to you@example.org "
                                        "--themes industry,policy"))
        # A preview is not anyone's copy of the issue: never recorded.
        selected = [Recipient(r.address, False) for r in selected]
    recorded = ledger.state()
    old = recorded.hashes - {digest}
    delivered = recorded.accepted
    if old and not options.force:
        raise BriefingError(Problem(
            ledger.shown, 0, 0, f"{MESSAGE} of {issue.id} has changed since it was sent to "
                                f"{count(len(delivered), 'recipient')} "
                                f"(sha256 {', '.join(sorted(h[:12] for h in old))} then, "
                                f"{digest[:12]} now)",
            "send the changed issue with --force; check the dry run first"))
    maybe = recorded.unconfirmed
    keyed = [(r, address_key(r.address)) for r in selected]  # once each: a million readers
    already = [r.address for r, key in keyed if key in delivered]
    unsure = [r.address for r, key in keyed if key in maybe]
    todo = [r for r, key in keyed if options.force or (key not in delivered and key not in maybe)]
    checked = for_send(project, issue, data, store, [r.address for r in todo],
                       list_send=not options.to, for_real=lock is not None)
    # Pages are fetched only once the checks above have passed: a refused send fetches nothing.
    synced += save_sources(project, issue) if lock is not None and not options.to else []
    tokens = list_tokens(project.root, store, issue.config)
    assert tokens is not None  # made on first use
    # Each theme choice's message is signed with its own body (deliver/variants.py).
    variants = Variants(project, issue, data, digest, shown, tokens, store, checked.keys)
    base = variants.get(None)
    copies = base.maker if base is not None else CopyMaker(data, issue.config.unsubscribe,
                                                           digest, shown)
    plan = Plan(issue=issue, options=options, data=data, sha256=digest, transport=transport,
                store=store, ledger=ledger, tokens=tokens, copies=copies, audience=everyone,
                selected=selected, todo=todo, skipped=[] if options.force else already,
                again=already if options.force else [],
                unconfirmed=[] if options.force else unsure, delivered=len(delivered),
                notes=list(store.notes) + synced, lock=lock, variants=variants,
                preview=preview, warnings=checked.warnings)
    # Every distinct choice among the readers is built now (the dry run too), once each.
    variants.resolve([r.address for r in todo])
    plan.nothing = [r.address for r in todo if plan.variant_for(r.address) is None]
    if plan.nothing:
        plan.todo = [r for r in todo if plan.variant_for(r.address) is not None]
    if plan.todo:  # the dry run makes one copy too, so what could fail in a copy fails now
        plan.copy_for(plan.todo[0].address)
    return plan
