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
            problems.append(Problem(
                plan.transport.name, 0, 0,
                f"{len(self.failed)} of {count(len(plan.todo), 'recipient')} not delivered",
                f"to retry them, run: {resume}"))
        raise BriefingError(problems)
