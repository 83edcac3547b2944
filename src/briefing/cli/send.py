"""send: each reader's copy through SMTP or a sendmail command; a dry run unless told."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated

import typer

from .common import IssueArg, app, current_project


@app.command()
def send(issue: IssueArg = None,
         dry_run: Annotated[bool, typer.Option(
             "--dry-run/--no-dry-run", show_default=False,
             help="Show what would be sent (the default); --no-dry-run sends.")] = True,
         to: Annotated[list[str] | None, typer.Option(
             "--to", metavar="ADDRESS", show_default=False,
             help="Send to this address instead of the list (repeatable), e.g. a test send "
                  "to yourself.")] = None,
         themes: Annotated[str | None, typer.Option(
             "--themes", metavar="IDS",
             help="With --to: preview the copy of a reader who chose these themes "
                  "(industry,policy; '*' for every theme); never recorded.")] = None,
         smtp: Annotated[str | None, typer.Option(
             "--smtp", metavar="URL",
             help="smtp://host:587 (STARTTLS) or smtps://host:465 (default: "
                  "smtp.url).")] = None,
         sendmail: Annotated[str | None, typer.Option(
             "--sendmail", metavar="COMMAND",
             help="A sendmail-compatible command that reads the message on stdin, e.g. "
                  "'msmtp'.")] = None,
         insecure: Annotated[bool, typer.Option(
             "--insecure", help="Local test servers only: skip certificate checks and allow "
                                "plain text without STARTTLS.")] = False,
         force: Annotated[bool, typer.Option(
             "--force", help="Send to readers who already got it (or may have), or a message "
                             "that changed since it was sent; never to a suppressed "
                             "address.")] = False,
         rate: Annotated[float, typer.Option(
             "--rate", metavar="N", show_default=False,
             help="At most N messages per second (default: no limit).")] = 0.0,
         timeout: Annotated[float, typer.Option(
             "--timeout", metavar="SECONDS", callback=_positive_seconds,
             help="Deadline for each step of an SMTP transaction, or for a sendmail "
                  "command.")] = 30.0,
         connections: Annotated[int, typer.Option(
             "--connections", metavar="N", min=1, max=32,
             help="Send over N SMTP sessions (or commands) at once.")] = 1,
         correction: Annotated[bool, typer.Option(
             "--correction", help="Send the issue's corrections as a short notice, only to "
                                  "the readers who received it, each correction once.")] = False,
         retry_delay: Annotated[float, typer.Option(
             "--retry-delay", hidden=True, envvar="BRIEFING_RETRY_DELAY")] = 2.0) -> None:
    """Send the built out/<ISSUE>/message.eml to each recipient; a dry run unless --no-dry-run."""
    from ..deliver.plan import SendOptions, prepare
    from ..deliver.send import deliver

    options = SendOptions(to=tuple(to or ()), smtp=smtp, sendmail=sendmail, insecure=insecure,
                          force=force, rate=rate, timeout=timeout, retry_delay=retry_delay,
                          connections=connections, themes=themes)
    if correction:  # docs/record.md
        _send_correction(issue, options, dry_run)
        return
    plan = prepare(current_project(), issue, options, for_real=not dry_run)
    try:
        for line in plan.warnings:
            typer.echo(line, err=True)
        for line in plan.describe(dry_run):
            typer.echo(line)
        if dry_run or not plan.todo:
            return
        progress = _progress(len(plan.todo))
        report = deliver(plan, progress=progress)
    finally:
        plan.release()
    progress(None)
    for line in report.summary():
        typer.echo(line)
    for line in report.failures():
        typer.echo(line, err=True)
    report.check()


def _send_correction(issue: str | None, options, dry_run: bool) -> None:
    """`--correction`: the notice of an issue's corrections to the readers who received it."""
    from ..deliver.correction import prepare_correction, send_correction

    notice = prepare_correction(current_project(), issue, options, for_real=not dry_run)
    try:
        for line in notice.describe(dry_run):
            typer.echo(line)
        if dry_run or not notice.todo:
            return
        progress = _progress(notice.todo)
        send_correction(notice, typer.echo, progress)
    finally:
        notice.release()
    progress(None)


def _positive_seconds(value: float) -> float:
    import math
    if not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"{value!r} is not a number of seconds above 0")
    return value


def _progress(total: int) -> Callable[[str | None], None]:
    """A progress callback: a bar on a terminal, nothing otherwise. Thread-safe (several
    connections report); called with None at the end."""
    import threading
    lock = threading.Lock()
    bar = typer.progressbar(length=total, label="sending", file=sys.stderr) \
        if sys.stderr.isatty() else None
    if bar is not None:
        bar.__enter__()

    def update(address: str | None) -> None:
        with lock:
            if bar is None:
                return
            if address is None:
                bar.__exit__(None, None, None)
            else:
                bar.update(1)
    return update
