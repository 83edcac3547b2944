"""Deliver a plan: each copy through the transport, retries, and each acceptance in the ledger."""

from __future__ import annotations

import time
from collections.abc import Callable

from .plan import Plan, SendOptions
from .report import Report
from .transport import MAX_ATTEMPTS, MAX_DELAY, MAX_FAILURES_IN_A_ROW, Lost, Rejected, Transport


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
            data, message_id = plan.copy_for(recipient.address)
            row = (plan.ledger.attempt(recipient.address, message_id, plan.sha256,
                                       transport.name) if recipient.record else 0)
            try:
                reply = _attempts(transport, sender, recipient.address, data, options, sleep)
            except Rejected as exc:
                if row:
                    plan.ledger.forget(row)
                report.failed.append((recipient.address, exc.reply))
                in_a_row += 1
                if in_a_row >= MAX_FAILURES_IN_A_ROW and index + 1 < len(plan.todo):
                    report.stopped = (f"{in_a_row} recipients in a row were not delivered "
                                      f"(the transport or the sender address looks broken)")
                    report.not_tried = [r.address for r in plan.todo[index + 1:]]
                    break
            except Lost as exc:
                report.stopped = str(exc)
                if exc.maybe_delivered:
                    report.unconfirmed.append(recipient.address)
                    report.not_tried = [r.address for r in plan.todo[index + 1:]]
                else:
                    if row:
                        plan.ledger.forget(row)
                    report.not_tried = [r.address for r in plan.todo[index:]]
                break
            else:
                in_a_row = 0
                if row:
                    plan.ledger.accept(row, reply)
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
