"""Deliver a plan: each reader's copy through the transport, over one or more connections,
with retries, an exact ledger, and a clean stop on SIGINT/SIGTERM.

For every copy: record the attempt (committed), hand the copy over, record the acceptance
(committed) before that connection sends its next copy. A refusal is judged by the one refusal
policy (subscribers/refusal.py): only a permanent refusal of the address itself at RCPT marks the
reader bounced; any refusal, MAX_FAILURES_IN_A_ROW in a row, stops the send with the reason.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from ..errors import BriefingError
from ..subscribers.refusal import ADDRESS, POLICY, Verdict, judge
from .plan import Plan, Recipient, SendOptions
from .report import Report
from .transport import MAX_ATTEMPTS, MAX_DELAY, MAX_FAILURES_IN_A_ROW, Lost, Rejected, Transport

SIGNAL_NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


class _Run:
    """What the connections share: the next reader, the stop flag, the report."""

    def __init__(self, plan: Plan, progress: Callable[[str], None],
                 sleep: Callable[[float], None]) -> None:
        self.plan = plan
        self.report = Report(plan)
        self.progress = progress
        self.sleep = sleep
        self.lock = threading.Lock()
        self.queue = list(reversed(plan.todo))
        self.stop = threading.Event()
        self.in_a_row: list[tuple[str, Verdict]] = []  # refusals since the last success
        self.next_slot = 0.0  # --rate: when the next copy may start

    def take(self) -> Recipient | None:
        with self.lock:
            if self.stop.is_set() or not self.queue:
                return None
            recipient = self.queue.pop()
            rate = self.plan.options.rate
            if not rate:
                return recipient
            now = time.monotonic()
            wait = max(0.0, self.next_slot - now)
            self.next_slot = max(now, self.next_slot) + 1 / rate
        # Waiting for its --rate slot, a copy has not started: a signal meanwhile stops it
        # (the wait ends at once) and the reader goes back to the queue, untried.
        if wait and self.stop.wait(wait):
            with self.lock:
                self.queue.append(recipient)
            return None
        return recipient

    def halt(self, reason: str) -> None:
        with self.lock:
            if not self.report.stopped:
                self.report.stopped = reason
            self.stop.set()

    def left(self) -> list[str]:
        with self.lock:
            rest = [r.address for r in reversed(self.queue)]
            self.queue.clear()
            return rest


def deliver(plan: Plan, progress: Callable[[str], None] = lambda address: None,
            sleep: Callable[[float], None] = time.sleep) -> Report:
    """Send every copy of the plan; the ledger records each one as it goes."""
    run = _Run(plan, progress, sleep)
    try:
        plan.store.probe(len(plan.todo))
        connections = max(1, min(plan.options.connections, len(plan.todo) or 1))
        transports = [plan.transport] + [plan.transport.another()
                                         for _ in range(connections - 1)]
        with _stop_on_signals(run):
            workers = [threading.Thread(target=_connection, args=(run, t), daemon=True,
                                        name=f"briefing-send-{n}")
                       for n, t in enumerate(transports)]
            for worker in workers:
                worker.start()
            for worker in workers:  # a timed join keeps the main thread free for signals
                while worker.is_alive():
                    worker.join(0.1)
        run.report.not_tried = run.left() + run.report.not_tried
    finally:
        plan.store.checkpoint()
        plan.release()
    if run.report.crash is not None:
        raise run.report.crash
    if run.report.fatal is not None:
        raise run.report.fatal
    return run.report


@contextmanager
def _stop_on_signals(run: _Run) -> Iterator[None]:
    """SIGINT or SIGTERM: no new copy starts; those in flight finish or are abandoned cleanly,
    and the ledger says which. Only the main thread can set handlers (tests may call deliver
    from another thread: then there are none)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(number: int, _frame: object) -> None:
        run.report.interrupted = SIGNAL_NAMES.get(signal.Signals(number), str(number))
        run.halt(f"interrupted by {run.report.interrupted}")

    previous = {s: signal.signal(s, stop) for s in SIGNAL_NAMES}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _connection(run: _Run, transport: Transport) -> None:
    """One connection, in its own thread; a bug in it reaches the main thread (exit 2)."""
    try:
        _send_over(run, transport)
    except BaseException as exc:  # re-raised by deliver() in the main thread
        with run.lock:
            run.report.crash = run.report.crash or exc
        run.halt(f"internal error: {type(exc).__name__}: {exc}")


def _send_over(run: _Run, transport: Transport) -> None:
    """Open the connection, then send copies until the queue is empty or the run stops."""
    report = run.report
    try:
        transport.open()
    except Lost as exc:
        run.halt(str(exc))
        return
    except BriefingError as exc:  # a refused login, a certificate that does not verify
        with run.lock:
            report.fatal = report.fatal or exc
        run.halt(exc.problems[0].message)
        return
    try:
        while True:
            recipient = run.take()
            if recipient is None:
                return
            if not _one_copy(run, transport, recipient):
                return
    finally:
        transport.close()


def _one_copy(run: _Run, transport: Transport, recipient: Recipient) -> bool:
    """Send one reader's copy; False when this connection must stop."""
    plan, report = run.plan, run.report
    address = recipient.address
    data, message_id = plan.copy_for(address)
    row = 0
    if recipient.record:
        try:
            row = plan.ledger.attempt(address, message_id, plan.sha256, transport.name,
                                      plan.themes_for(address))
        except BriefingError as exc:
            run.halt(f"could not record the copy for {address} before sending it "
                     f"({exc.problems[0].message}); nothing was sent to them")
            with run.lock:
                report.not_tried.insert(0, address)
            return False
    try:
        reply = _attempts(transport, plan.sender_for(address), address, data, plan.options,
                          run.sleep)
    except Rejected as exc:
        _refused(run, recipient, row, exc)
        return not run.stop.is_set()
    except Lost as exc:
        with run.lock:
            if exc.maybe_delivered:
                report.unconfirmed.append(address)
            else:
                report.not_tried.insert(0, address)
        if not exc.maybe_delivered and row:
            _quietly(lambda: plan.ledger.forget(row))
        run.halt(str(exc))
        return False
    if row:
        try:
            plan.ledger.accept(row, reply)
        except BriefingError as exc:
            with run.lock:
                report.unconfirmed.append(address)
            run.halt(f"{address}'s copy was accepted ({reply}) but could not be recorded "
                     f"({exc.problems[0].message}); it stays recorded as unconfirmed, so no "
                     "rerun sends it again without --force")
            return False
    with run.lock:
        run.in_a_row.clear()
        report.sent.append((address, reply))
    run.progress(address)
    return True


def _refused(run: _Run, recipient: Recipient, row: int, exc: Rejected) -> None:
    plan, report = run.plan, run.report
    if row:
        _quietly(lambda: plan.ledger.forget(row))  # refused: it certainly did not go
    verdict = judge(diagnostic=exc.reply, stage=exc.stage) if not exc.temporary else \
        judge(status="4.0.0", diagnostic=exc.reply, stage=exc.stage)
    # Only the address itself, refused for good at RCPT, is a bounce (RFC 3463 X.1.x, X.2.1).
    # A relay refusing us (5.7.x: a wrong login, a sender it does not allow) never is.
    bounced = recipient.record and exc.stage == "rcpt" and verdict.bounces
    if bounced:  # the address itself was refused for good: never mail it again
        _quietly(lambda: plan.ledger.bounced(recipient.address, exc.reply))
    with run.lock:
        report.failed.append((recipient.address, exc.reply))
        if bounced:
            report.bounced.append(recipient.address)
        # Every refusal counts: a run of them says the transport, the login or the list is
        # wrong, and going on would only repeat it.
        run.in_a_row.append((exc.reply, verdict))
        refusals = list(run.in_a_row)
        broken = len(refusals) >= MAX_FAILURES_IN_A_ROW and bool(run.queue)
    run.progress(recipient.address)
    if broken:
        run.halt(_why_stopped(plan, refusals))


def _why_stopped(plan: Plan, refusals: list[tuple[str, Verdict]]) -> str:
    """The reason a run of refusals stopped the send, and what to check."""
    reply = refusals[-1][0]
    kinds = {verdict.kind for _, verdict in refusals}
    line = f"{len(refusals)} recipients in a row were refused, the last with {reply}"
    if POLICY in kinds:
        smtp = plan.issue.config.smtp
        sender = plan.envelope_sender
        check = (f"check the login (smtp.user in briefing.yaml, the password in "
                 f"${smtp.password_env}) and that the relay lets it send as {sender}"
                 if smtp.user else
                 f"the relay may want a login (smtp.user in briefing.yaml, the password in "
                 f"${smtp.password_env}), or does not let this machine send as {sender}")
        if plan.options.sendmail:
            check = f"check the command's account and that it may send as {sender}"
        return (f"{line}; the relay refuses us, not the readers (a policy refusal): {check}; "
                "nobody was marked bounced")
    if kinds == {ADDRESS}:
        return (f"{line}; the server says these addresses do not exist (they are marked "
                "bounced): is the list old or mistyped? check it before resuming")
    return f"{line}; the transport or the sender address looks broken"


def _quietly(action: Callable[[], None]) -> None:
    """A record that only tidies up: failing to write it must not hide the real problem."""
    with suppress(BriefingError):
        action()


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
