"""`briefing send ISSUE --correction`: a short notice of a sent issue's corrections, mailed only
to the readers the ledger shows received that issue (docs/record.md).

Each reader gets a personal copy (their own one-click unsubscribe), made from the built notice
by the same substitution as an issue's copies and delivered by the same loop (deliver/send.py).
The ledger records a row per reader and correction (issue `<ISSUE>+correction-<key>`), so no
reader gets the same correction twice: a later correction goes only with what is new to them.
Readers who have unsubscribed, bounced or complained since are left out.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..content.corrections import correction_key
from ..content.model import Correction, Issue
from ..content.validate import Project, load_issue
from ..errors import BriefingError, Problem, count
from ..subscribers.store import Store, address_key, now
from .ledger import Ledger
from .lock import SendLock
from .personal import CopyMaker
from .plan import Audience, Plan, Recipient, SendOptions, _listing, _transport, retries
from .report import Report

MARK = "+correction"  # ledger issue of a notice: <ISSUE>+correction-<key>; no issue id has '+'


def keys(corrections: tuple[Correction, ...]) -> list[str]:
    """Each correction's key in the ledger (its date and item; a repeat gets -2, -3)."""
    seen: dict[tuple, int] = {}
    out = []
    for c in corrections:
        seen[(c.date, c.item)] = seen.get((c.date, c.item), 0) + 1
        out.append(correction_key(c.date, c.item, seen[(c.date, c.item)]))
    return out


class NoticeLedger(Ledger):
    """The notices of one set of corrections: a copy is recorded once per correction it
    carries (rows share its Message-ID), accepted or forgotten together."""

    def __init__(self, store: Store, issue_id: str, corrections: list[str]) -> None:
        super().__init__(store, issue_id + MARK)
        self.names = [f"{issue_id}{MARK}-{key}" for key in corrections]

    def attempt(self, address: str, message_id: str, sha256: str, transport: str,
                themes: str = "") -> int:
        with self.store.transaction() as db:
            rows = [int(db.execute(
                "INSERT INTO deliveries (issue, address, address_key, message_id, sha256, "
                "state, attempted_at, transport) VALUES (?, ?, ?, ?, ?, 'attempted', ?, ?)",
                (name, address, address_key(address), message_id, sha256, now(), transport)
            ).lastrowid or 0) for name in self.names]
            return rows[0]

    def _same_copy(self) -> str:
        marks = ", ".join("?" * len(self.names))
        return (f"address_key = (SELECT address_key FROM deliveries WHERE id = ?) AND "
                f"message_id = (SELECT message_id FROM deliveries WHERE id = ?) AND "
                f"issue IN ({marks})")

    def accept(self, row: int, reply: str) -> None:
        with self.store.transaction() as db:
            db.execute(f"UPDATE deliveries SET state = 'accepted', accepted_at = ?, reply = ? "
                       f"WHERE {self._same_copy()}", (now(), reply, row, row, *self.names))

    def forget(self, row: int) -> None:
        with self.store.transaction() as db:
            db.execute(f"DELETE FROM deliveries WHERE state = 'attempted' AND "
                       f"{self._same_copy()}", (row, row, *self.names))

    def outcome(self) -> tuple[int, int, int]:
        marks = ", ".join("?" * len(self.names))
        delivered = self.store.read(
            f"SELECT count(DISTINCT address_key) FROM deliveries WHERE issue IN ({marks}) AND "
            "state = 'accepted'", tuple(self.names))[0][0]
        found = dict(self.store.read(
            "SELECT kind, count(DISTINCT address_key) FROM feedback WHERE issue = ? GROUP BY "
            "kind", (self.issue_id,)))
        return delivered, found.get("bounced", 0), found.get("complained", 0)


@dataclass
class NoticePlan(Plan):
    """One notice (a set of corrections) and the readers who get it."""

    corrections: tuple[Correction, ...] = ()
    left_out: list[str] = field(default_factory=list)  # received the issue, suppressed since

    @property
    def message_path(self) -> str:
        return f"the correction notice of {self.issue.id}"

    def command(self, recipients: list[str] | None = None, force: bool | None = None) -> str:
        o = self.options
        args = ["briefing", "send", self.issue.id, "--correction", "--no-dry-run"]
        for address in recipients or ():
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
        if o.connections != 1:
            args += ["--connections", str(o.connections)]
        return shlex.join(args)

    def describe(self, dry_run: bool) -> list[str]:
        from ..render.notice import notice_subject
        listed = "; ".join(f"'{c.item}' ({c.date})" for c in self.corrections)
        lines = [f"notice:     {count(len(self.corrections), 'correction')}: {listed}",
                 f"subject:    {notice_subject(self.issue)}",
                 f"recipients: {_listing([r.address for r in self.todo])} (received "
                 f"{self.issue.id} and not this correction yet)"]
        if not self.todo:
            return lines[:2] + ["nothing to send: every reader of the issue has it"]
        how = f"{count(len(self.todo), 'message')}, each recorded once accepted"
        lines.append(f"would send: {how}; {retries(self.transport)}" if dry_run
                     else f"sending:    {how}")
        return lines


@dataclass
class CorrectionSend:
    """Every notice to send for an issue: one per set of corrections readers are missing."""

    issue: Issue
    plans: list[NoticePlan]
    received: int  # readers the ledger shows received the issue
    left_out: list[str]  # of those, suppressed since
    already: list[str]  # of those, who have every correction already
    unconfirmed: list[str]  # may have a notice (an earlier send stopped): left out
    notes: list[str]
    options: SendOptions
    lock: SendLock | None = None

    @property
    def todo(self) -> int:
        return sum(len(p.todo) for p in self.plans)

    def describe(self, dry_run: bool) -> list[str]:
        lines = list(self.notes) + (["dry run: nothing is sent"] if dry_run else [])
        first = self.plans[0] if self.plans else None
        lines += [f"correction: {self.issue.id} ({self.issue.date}), "
                  f"{count(len(self.issue.corrections), 'correction')}",
                  f"readers:    {count(self.received, 'reader')} received {self.issue.id} "
                  "(from the ledger); only they can get the notice"]
        if first is not None:
            lines.append(f"transport:  {first.transport.describe()}")
        if self.left_out:
            lines.append(f"left out:   {_listing(self.left_out)}: unsubscribed, bounced or "
                         "complained since")
        if self.already:
            lines.append(f"skipped:    {_listing(self.already)}: already got every correction "
                         "(--force sends again)")
        if self.unconfirmed:
            lines.append(f"unconfirmed: {_listing(self.unconfirmed)}: a notice was handed over "
                         "when an earlier send stopped; not sent again (--force sends again)")
        for plan in self.plans:
            lines += plan.describe(dry_run)
        if not self.todo:
            lines.append("nothing to send")
        elif dry_run and first is not None:
            lines.append(f"to send for real: {first.command()}")
        return lines

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def prepare_correction(project: Project, issue_id: str | None, options: SendOptions,
                       for_real: bool = False) -> CorrectionSend:
    """Check everything a correction send needs: the issue is sent, its corrections are
    published (built), the readers are the ledger's; nothing is sent."""
    from ..render.json import correction_data
    from ..subscribers.identity import list_tokens
    from ..subscribers.sync import sync_before_send
    if options.to:
        raise BriefingError(Problem("--to", 0, 0, "a correction notice goes only to the readers "
                                                  "who received the issue; --to is not used "
                                                  "with --correction"))
    issue = load_issue(project, issue_id)
    if not issue.corrections:
        raise BriefingError(Problem(
            f"briefs/{issue.id}/issue.yaml", 0, 0, f"issue {issue.id} has no corrections",
            "add 'corrections:' (date, item, text) to it, then 'briefing build "
            f"{issue.id}' (docs/record.md)"))
    _published(project, issue, [correction_data(c) for c in issue.corrections])
    transport = _transport(issue, options)
    store = Store.open(project.root, issue.config.state)
    lock = None
    if for_real:
        shown = str(PurePosixPath(store.shown).parent)
        lock = SendLock(store.path.parent, "" if shown == "." else shown, issue.id).acquire()
    try:
        notes = list(store.notes) + ([lock.note] if lock and lock.note else [])
        notes += sync_before_send(project, issue.config, store)
        tokens = list_tokens(project.root, store, issue.config)
        return _plans(issue, options, transport, store, tokens, notes, lock,
                      _signing_keys(project, issue))
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def _published(project: Project, issue: Issue, wanted: list[dict]) -> None:
    """The notice says what the web edition shows: the corrections must be built."""
    from ..publish.issues import ISSUE_JSON, read_issue_json
    shown = f"out/{issue.id}/{ISSUE_JSON}"
    path = project.out / issue.id / ISSUE_JSON
    built = read_issue_json(path, shown, issue.id) if path.is_file() else {}
    if built.get("corrections") != wanted:
        raise BriefingError(Problem(shown, 0, 0, "does not have the corrections of "
                                                 f"briefs/{issue.id}/issue.yaml yet",
                                    f"run 'briefing build {issue.id}' first"))


def _signing_keys(project: Project, issue: Issue):  # -> dkim.SigningKeys | None
    """A notice is signed as the issue's copies are (a broken key stops it as it stops send)."""
    settings = issue.config.dkim
    if settings is None or settings.relay:
        return None
    from .dkim import load_keys
    return load_keys(project.root, settings)


def _plans(issue: Issue, options: SendOptions, transport, store: Store, tokens,
           notes: list[str], lock: SendLock | None, signing=None) -> CorrectionSend:
    from ..render.notice import render_notice
    received = Ledger(store, issue.id).state().accepted
    if not received:
        raise BriefingError(Problem(
            store.shown, 0, 0, f"no reader has received {issue.id} (the ledger has no delivery "
                               "of it), so there is nobody to send its corrections to",
            "the web page shows them once built; the next issue lists them"))
    suppressed = store.suppressed()
    all_keys = keys(issue.corrections)
    names = {f"{issue.id}{MARK}-{k}": k for k in all_keys}
    got: dict[str, set[str]] = {}
    maybe: dict[str, set[str]] = {}
    marks = ", ".join("?" * len(names))
    for key, name, state in store.read(
            f"SELECT address_key, issue, state FROM deliveries WHERE issue IN ({marks})",
            tuple(names)):
        (got if state == "accepted" else maybe).setdefault(key, set()).add(names[name])
    groups: dict[tuple[str, ...], list[str]] = {}
    left_out, already, unsure = [], [], []
    for key, delivery in received.items():
        if key in suppressed:
            left_out.append(delivery.address)
            continue
        have = set() if options.force else got.get(key, set())
        unsure_keys = set() if options.force else maybe.get(key, set()) - have
        missing = tuple(k for k in all_keys if k not in have and k not in unsure_keys)
        if unsure_keys:
            unsure.append(delivery.address)
        if missing:
            groups.setdefault(missing, []).append(delivery.address)
        elif not unsure_keys:
            already.append(delivery.address)
    plans: list[NoticePlan] = []
    for missing, addresses in sorted(groups.items(), key=lambda g: (-len(g[0]), g[0])):
        chosen = tuple(c for c, k in zip(issue.corrections, all_keys, strict=True)
                       if k in missing)
        data = render_notice(issue, chosen)
        digest = hashlib.sha256(data).hexdigest()
        readers = [Recipient(a, True) for a in addresses]
        copies = CopyMaker(data, issue.config.unsubscribe, digest,
                           f"the correction notice of {issue.id}")
        if signing is not None:
            copies.sign_with(signing)
        plan = NoticePlan(
            issue=issue, options=options, data=data, sha256=digest,
            transport=transport if not plans else transport.another(), store=store,
            ledger=NoticeLedger(store, issue.id, list(missing)), tokens=tokens,
            copies=copies,
            audience=Audience(readers, len(readers), 0, len(left_out)), selected=readers,
            todo=readers, skipped=[], again=[], corrections=chosen, left_out=left_out)
        plan.copy_for(readers[0].address)  # what could fail in a copy fails in the dry run
        plans.append(plan)
    return CorrectionSend(issue, plans, len(received), left_out, already, unsure, notes,
                          options, lock)


def send_correction(send: CorrectionSend, echo: Callable[..., None],
                    progress: Callable[[str], None] = lambda address: None) -> None:
    """Deliver every notice, echoing a summary line for each (and a line per reader not
    reached, on stderr). Raises, with the command that resumes, when a reader was not reached."""
    from .send import deliver
    try:
        for plan in send.plans:
            report = deliver(plan, progress=progress)
            echo(_summary(plan, report))
            for line in report.failures():
                echo(line, err=True)
            report.check()
    finally:
        send.release()


def _summary(plan: NoticePlan, report: Report) -> str:
    delivered, bounced, complained = plan.ledger.outcome()
    return (f"sent the correction notice of {plan.issue.id} "
            f"({count(len(plan.corrections), 'correction')}) to {len(report.sent)} of "
            f"{count(len(plan.todo), 'reader')}; ledger: {plan.ledger.shown} "
            f"({delivered} have it, {bounced} bounced, {complained} complained)")

