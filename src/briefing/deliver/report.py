"""What a send did: who got it, who did not and why, and the command that resumes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import BriefingError, Problem, count
from .plan import Plan


@dataclass
class Report:
    plan: Plan
    sent: list[tuple[str, str]] = field(default_factory=list)    # (address, server reply)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, last reply)
    stopped: str = ""                                            # why the run stopped early
    not_tried: list[str] = field(default_factory=list)
    # Handed over when the transport failed: they may have it, so a rerun leaves them out.
    unconfirmed: list[str] = field(default_factory=list)
    bounced: list[str] = field(default_factory=list)  # refused at RCPT for good: now bounced
    interrupted: str = ""  # SIGINT or SIGTERM
    fatal: BriefingError | None = None  # a login refused, a certificate that does not verify
    crash: BaseException | None = None  # a bug in a connection's thread

    def summary(self) -> list[str]:
        plan = self.plan
        line = (f"sent {plan.issue.id} to {len(self.sent)} of "
                f"{count(len(plan.todo), 'recipient')}")
        if plan.skipped:
            line += f" ({len(plan.skipped)} skipped: already sent)"
        if any(r.record for r in plan.todo):
            line += f"; ledger: {plan.ledger.shown}"
        lines = [line]
        if plan.nothing:
            lines.append(f"{count(len(plan.nothing), 'reader')}: nothing in their themes this "
                         "week")
        if self.bounced:
            lines.append(f"bounced:    {', '.join(self.bounced)}: the server refused the "
                         "address for good, so it is marked bounced and never mailed again")
        if any(r.record for r in plan.todo):
            delivered, bounced, complained = plan.ledger.outcome()
            rate = complained / delivered * 100 if delivered else 0.0
            # Gmail's sender guidelines: keep the spam rate reported in Postmaster Tools below
            # 0.3%; over it, mail is filtered or refused.
            verdict = "over Gmail's limit of 0.3%" if rate >= 0.3 else \
                "under Gmail's limit of 0.3%"
            lines.append(f"{plan.issue.id} so far: {delivered} delivered, {bounced} bounced, "
                         f"{complained} complained (complaint rate {rate:.2f}%, {verdict})")
        return lines

    def failures(self) -> list[str]:
        """One line per recipient that did not get the message, and why."""
        return [Problem(self.plan.transport.name, 0, 0,
                        f"{address} was not delivered: {reply}").format()
                for address, reply in self.failed]

    def check(self) -> None:
        """Raise (exit 1; 130 or 143 after SIGINT or SIGTERM) unless every recipient got the
        message, with the command that resumes."""
        plan = self.plan
        if not self.failed and not self.stopped:
            return
        if self.interrupted:
            done = len(self.sent)
            rest = [a for a, _ in self.failed] + self.not_tried
            named = plan.options.force or bool(plan.options.to)
            error = BriefingError(Problem(
                plan.transport.name, 0, 0,
                f"interrupted by {self.interrupted}: sent {done} of "
                f"{count(len(plan.todo), 'recipient')}; the ledger is saved; "
                f"{len(rest)} not sent",
                f"to resume, run: {plan.command(rest if named else None)}"))
            error.exit_code = 130 if self.interrupted == "SIGINT" else 143
            raise error
        problems = []
        # A bounced address is never mailed again: no command "retries" it.
        rest = [a for a, _ in self.failed if a not in self.bounced] + self.not_tried
        # Without --force the ledger skips whoever got it, so the same command resumes. After
        # --force it would send to everyone again, and --to test sends are not in the ledger:
        # then the command names the rest.
        named = plan.options.force or bool(plan.options.to)
        resume = plan.command(rest if named else None)
        if self.stopped:
            for address in self.unconfirmed:
                problems.append(Problem(
                    plan.transport.name, 0, 0,
                    f"{address} may have received the issue: the transport failed after the "
                    "message was handed over, so it is recorded as unconfirmed and a rerun "
                    "does not send it again", "send it again only if you know it did not "
                    f"arrive: {plan.command([address], force=True)}"))
            problems.append(Problem(
                plan.transport.name, 0, 0,
                f"stopped after {len(self.sent)} of {count(len(plan.todo), 'recipient')}: "
                f"{self.stopped}; {len(self.not_tried)} not tried",
                f"to resume, run: {resume}"))
        else:
            hint = (f"to retry them, run: {resume}" if rest else
                    "they are marked bounced; 'briefing subscribers list --status bounced' "
                    "shows why")
            problems.append(Problem(
                plan.transport.name, 0, 0,
                f"{len(self.failed)} of {count(len(plan.todo), 'recipient')} not delivered",
                hint))
        raise BriefingError(problems)
