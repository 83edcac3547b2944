"""The command line: each command parses options, calls one function and prints a summary.

Errors reach the user through Click: a BriefingError is a ClickException (exit 1), options with
a fixed set of values are Click choices, and a bug anywhere gets one line and exit 2 in main().
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from .content.validate import Project
    from .pipeline import BuildResult
    from .publish.archive import ArchiveResult

# Heavy modules (yaml, jinja2, mjml, email) are imported inside commands so `--help` stays fast.
# rich_markup_mode=None: Click prints usage errors and our BriefingError as plain lines, and
# --help does not import rich.
def _plain_usage_metavar(make_metavar):
    """Typer 0.20+ writes a required argument as {DIR} in usage lines, a notation no manual
    page or --help elsewhere uses (`briefing init [OPTIONS] {DIR}`): write it as DIR."""
    def plain(self, ctx, *args, **kwargs):
        text = make_metavar(self, ctx, *args, **kwargs)
        if text.startswith("{") and "}" in text:
            text = text[1:].replace("}", "", 1)
        return text
    return plain


typer.core.TyperArgument.make_metavar = _plain_usage_metavar(  # type: ignore[method-assign]
    typer.core.TyperArgument.make_metavar)

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Build, check, send and archive a newsletter from YAML briefs.")

IssueArg = Annotated[str | None, typer.Argument(
    metavar="[ISSUE]", show_default=False,
    help="Issue folder under briefs/ (default: the latest by date).")]


def _project() -> Project:
    from .content.validate import Project
    return Project(Path.cwd())


def _version(value: bool) -> None:
    if value:
        from . import __version__
        typer.echo(f"briefing {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Build, check, send and archive a newsletter from YAML briefs."""


@app.command()
def build(issue: IssueArg = None,
          force: Annotated[bool, typer.Option(
              "--force", help="Rebuild an issue that was sent.")] = False,
          all_issues: Annotated[bool, typer.Option(
              "--all", help="Rebuild every issue that was not sent; nothing is written if any "
                            "is invalid.")] = False,
          screenshots: Annotated[bool, typer.Option(
              "--screenshots", help="Also open email.html in headless Chromium at 375 and "
                                    "600 px, light and dark, and save PNGs in "
                                    "out/<ISSUE>/preview/.")] = False) -> None:
    """Validate an issue and write out/<ISSUE>/: email.html, digest.txt, message.eml, issue.json
    and its web page index.html (a draft: into .briefing/drafts/<ISSUE>/, never out/).

    Then refresh the web edition: out/index.html, feeds, archive.txt, search index."""
    from .pipeline import build as run_build
    from .pipeline import build_all

    project = _project()
    if all_issues:
        if issue is not None:
            raise typer.BadParameter("give an issue or --all, not both", param_hint="'--all'")
        everything = build_all(project, force=force)
        for result in everything.built:
            _report_build(result)
            if screenshots:
                _screenshots(project, result)
        for issue_id in everything.frozen:
            typer.echo(f"skipped {issue_id}: sent, so its outputs are frozen (rebuild it with "
                       f"'briefing build {issue_id} --force')")
        for name, reason in everything.skipped:
            typer.echo(f"skipped briefs/{name}/: {reason}")
        _report_archive(everything.archive)
        _report_warnings(everything.built)
        return
    result = run_build(project, issue, force=force)
    _report_build(result)
    if screenshots:
        _screenshots(project, result)
    for warning in result.archive.warnings if result.archive else ():
        typer.echo(warning.format(), err=True)
    _report_warnings([result])


def _report_warnings(results: list[BuildResult]) -> None:
    """The last line when lint found anything: build does not list warnings, check does."""
    from .errors import count
    for result in results:
        if result.warnings:
            typer.echo(f"{count(result.warnings, 'warning')}: run 'briefing check "
                       f"{result.issue.id}'")


def _screenshots(project: Project, result: BuildResult) -> None:
    """Preview PNGs of a built email, and a warning for anything a reader would see go wrong."""
    from .editorial.browser import write_previews
    from .publish.issues import output_root

    issue_id = result.issue.id
    root, shown = output_root(project, result.issue.draft)
    paths, warnings = write_previews(root, issue_id, shown)
    for warning in warnings:
        typer.echo(warning.format(), err=True)
    typer.echo(f"preview {issue_id}: {', '.join(p.name for p in paths)} -> "
               f"{shown}/{issue_id}/preview/")


def _report_build(result: BuildResult) -> None:
    """The one-line summary of a built issue, and a warning if Gmail would clip it."""
    from .render.html import size_text, size_warning

    counts = ", ".join(f"{s.theme.id} {len(s.items)}" for s in result.issue.sections)
    html = result.sizes["email.html"]
    from .errors import count
    typer.echo(f"built {result.issue.id} ({result.issue.date}): "
               f"{count(len(result.issue.items), 'item')} "
               f"({counts}); email.html {size_text(html)}, digest.txt "
               f"{size_text(result.sizes['digest.txt'])}, message.eml "
               f"{size_text(result.sizes['message.eml'])} -> {result.folder}"
               + (" (a draft: not published)" if result.issue.draft else ""))
    warning = size_warning(result.issue.id, html)
    if warning:
        typer.echo(warning.format(), err=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def check(issue: IssueArg = None,
          strict: Annotated[bool, typer.Option(
              "--strict", help="Treat warnings as errors (exit 1).")] = False,
          output: Annotated[OutputFormat, typer.Option(
              "--format", help="Output: text, or json for CI.")] = OutputFormat.text) -> None:
    """Validate config and briefs, then lint them: every problem at once, compiler style."""
    from .editorial.lint import check as run_check
    from .editorial.lint import report_json

    project = _project()
    if output is OutputFormat.json:
        from .errors import BriefingError
        try:
            result = run_check(project, issue)
        except BriefingError as exc:  # the errors, as JSON on stdout instead of lines
            typer.echo(report_json(None, exc), nl=False)
            raise typer.Exit(1) from None
        typer.echo(report_json(result, strict=strict), nl=False)
        raise typer.Exit(1 if strict and result.problems else 0)
    result = run_check(project, issue, strict=strict)
    for problem in result.problems:
        typer.echo(problem.format(), err=True)
    typer.echo(f"ok: {result.summary()}")


def _report_archive(result: ArchiveResult | None) -> None:
    from .errors import count
    from .publish.archive import ARCHIVE_FILES

    if result is None:
        return
    for warning in result.warnings:
        typer.echo(warning.format(), err=True)
    files = ", ".join(f"out/{name}" for name in ARCHIVE_FILES)
    line = f"archived {count(len(result.entries), 'issue')} -> {files}, out/pagefind/"
    unbuilt = [i for i in result.unbuilt if i not in result.drafts]
    if unbuilt:
        line += f" (not built yet, so not listed: {', '.join(unbuilt)})"
    if result.drafts:
        line += f" (drafts, never listed: {', '.join(result.drafts)})"
    typer.echo(line)


archive_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                          rich_markup_mode=None,
                          help="Rebuild the archive pages from out/, or search every issue.")
app.add_typer(archive_app, name="archive")


@archive_app.callback(invoke_without_command=True)
def archive(ctx: typer.Context) -> None:
    """Rebuild the web edition from every out/<ISSUE>/issue.json: out/index.html, each issue's
    page, feed.xml, feed.json, archive.txt and the search index (out/pagefind/).

    Issues are not re-rendered: the archive lists what was built (and sent)."""
    if ctx.invoked_subcommand is not None:
        return
    from .publish.archive import refresh

    _report_archive(refresh(_project()))


@archive_app.command("search")
def archive_search(terms: Annotated[list[str], typer.Argument(
        metavar="TERMS...",
        help="Words or quoted phrases; an item must contain all of them.")]) -> None:
    """Print the items of every issue that contain all TERMS (any case, Chinese too).

    Exits 1 when nothing matches, like grep."""
    from .errors import count
    from .publish.search import search

    result = search(_project(), terms)
    for warning in result.warnings:
        typer.echo(warning.format(), err=True)
    for match in result.matches:
        draft = " (draft)" if match.draft else "" if match.built else " (not built)"
        typer.echo(f"{match.issue} ({match.date}){draft} · {match.theme} · {match.headline}")
        for source in match.sources:
            typer.echo(f"  [{source['number']}] {source['title']} ({source['publisher']}) "
                       f"{source['url']}")
    wanted = " ".join(terms)
    if not result.matches:
        typer.echo(f"no item in {count(result.searched, 'issue')} matches '{wanted}'", err=True)
        raise typer.Exit(1)
    issues = len({m.issue for m in result.matches})
    typer.echo(f"found {count(len(result.matches), 'item')} in {count(issues, 'issue')} "
               f"matching '{wanted}'")


@app.command()
def init(directory: Annotated[Path, typer.Argument(
             metavar="DIR", help="Folder for the new project (created if needed; existing "
                                 "files are never touched).")],
         name: Annotated[str, typer.Option(
             "--name", help="The newsletter's name.")] = "My Briefing") -> None:
    """Start a newsletter project: briefing.yaml, example briefs for this week, schemas, README."""
    from .editorial.scaffold import init_project

    created = init_project(directory, name)
    schemas = [f for f in created.files if f.startswith("schema/")]
    others = [f for f in created.files if f not in schemas]
    typer.echo(f"created {directory}/: {', '.join(others)} and schema/ "
               f"({len(schemas)} files), templates/ (empty: the packaged ones apply)")
    typer.echo(f"next: cd {directory} && briefing check && briefing build {created.issue_id}")


@app.command()
def new(theme: Annotated[str, typer.Argument(metavar="THEME",
                                              help="Theme id from briefing.yaml.")],
        issue: Annotated[str | None, typer.Option(
            "--issue", help="Issue folder under briefs/ (default: this ISO week, e.g. "
                            "2026-W07).")] = None,
        name: Annotated[str | None, typer.Option(
            "--name", help="File name without .yaml (default: the theme), e.g. "
                           "ethics-2.")] = None) -> None:
    """Create briefs/<ISSUE>/<THEME>.yaml from a commented template; never overwrites."""
    from .editorial.scaffold import new_brief

    made = new_brief(_project(), theme, issue, name)
    if made.draft:
        typer.echo(f"created {made.draft} (draft: true: builds go to .briefing/drafts/"
                   f"{made.issue_id}/ until you remove that line)")
    typer.echo(f"created {made.shown} (theme {made.theme}); replace its TODOs, then run "
               f"'briefing check {made.issue_id}'")


class SchemaName(StrEnum):
    all = "all"
    brief = "brief"
    config = "config"
    issue = "issue"


@app.command()
def schema(which: Annotated[SchemaName, typer.Argument(
               metavar="[WHICH]", help="brief, config, issue or all (the default).",
               show_default=False)] = SchemaName.all,
           write: Annotated[Path | None, typer.Option(
               "--write", metavar="DIR",
               help="Write <name>.schema.json files into DIR.")] = None) -> None:
    """Print the JSON Schema of the brief, issue and config formats (editor completion)."""
    from .editorial.scaffold import schema_text, write_schemas

    if write is None:
        typer.echo(schema_text(which.value), nl=False)
        return
    paths = write_schemas(write, which.value)
    typer.echo(f"wrote {', '.join(str(write / p.name) for p in paths)}")


@app.command()
def links(issue: IssueArg = None,
          timeout: Annotated[float, typer.Option(
              "--timeout", min=0.1, help="Seconds to wait for an answer.")] = 10.0,
          per_host: Annotated[int, typer.Option(
              "--per-host", min=1, help="Requests at a time to any one host.")] = 2,
          cache_hours: Annotated[float, typer.Option(
              "--cache-hours", min=0,
              help="Trust a working link checked this recently.")] = 24.0,
          no_cache: Annotated[bool, typer.Option(
              "--no-cache", help="Check every link again.")] = False) -> None:
    """Check every link of an issue over HTTP (HEAD, else GET); exit 1 if one is broken."""
    from .editorial.links import check_links

    project = _project()
    bar: list = []

    def started(total: int) -> None:
        if total and sys.stderr.isatty():  # a bar only where someone watches it
            bar.append(typer.progressbar(length=total, label="checking links",
                                         file=sys.stderr).__enter__())

    def progress(n: int) -> None:
        if bar:
            bar[0].update(n)

    try:
        report = check_links(project, issue, timeout=timeout, per_host=per_host,
                             max_age_hours=cache_hours, use_cache=not no_cache,
                             started=started, progress=progress)
    finally:
        if bar:
            bar[0].__exit__(None, None, None)
    for problem in report.problems:
        typer.echo(problem.format(), err=True)
    typer.echo(report.summary())
    if report.broken:
        raise typer.Exit(1)


@app.command()
def send(issue: IssueArg = None,
         dry_run: Annotated[bool, typer.Option(
             "--dry-run/--no-dry-run",
             help="Show what would be sent (the default); --no-dry-run sends.")] = True,
         to: Annotated[list[str] | None, typer.Option(
             "--to", metavar="ADDRESS", show_default=False,
             help="Send to this address instead of the list (repeatable), e.g. a test send "
                  "to yourself.")] = None,
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
             "--rate", metavar="N",
             help="At most N messages per second (default: no limit).")] = 0.0,
         timeout: Annotated[float, typer.Option(
             "--timeout", metavar="SECONDS", callback=_positive_seconds,
             help="Deadline for each step of an SMTP transaction, or for a sendmail "
                  "command.")] = 30.0,
         connections: Annotated[int, typer.Option(
             "--connections", metavar="N", min=1, max=32,
             help="Send over N SMTP sessions (or commands) at once.")] = 1,
         retry_delay: Annotated[float, typer.Option(
             "--retry-delay", hidden=True, envvar="BRIEFING_RETRY_DELAY")] = 2.0) -> None:
    """Send the built out/<ISSUE>/message.eml to each recipient; a dry run unless --no-dry-run."""
    from .deliver.plan import SendOptions, prepare
    from .deliver.send import deliver

    options = SendOptions(to=tuple(to or ()), smtp=smtp, sendmail=sendmail, insecure=insecure,
                          force=force, rate=rate, timeout=timeout, retry_delay=retry_delay,
                          connections=connections)
    plan = prepare(_project(), issue, options, for_real=not dry_run)
    try:
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


subscribers_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                              rich_markup_mode=None, no_args_is_help=True,
                              help="The reader list: add, remove, list, import, export, "
                                   "sync; and the unsubscribe endpoint (serve).")
app.add_typer(subscribers_app, name="subscribers")


class Status(StrEnum):
    active = "active"
    unsubscribed = "unsubscribed"
    bounced = "bounced"
    complained = "complained"


class ListFormat(StrEnum):
    text = "text"
    csv = "csv"
    json = "json"


@subscribers_app.command("add")
def subscribers_add(
        address: Annotated[str, typer.Argument(metavar="ADDRESS",
                                               help="user@example.org or 'Name <user@...>'.")],
        name: Annotated[str | None, typer.Option("--name", help="The reader's name.")] = None,
        resubscribe: Annotated[bool, typer.Option(
            "--resubscribe", help="Add back an address that unsubscribed, bounced or "
                                  "complained (only if they asked to come back).")] = False,
) -> None:
    """Add a reader to the list (the store in .briefing/)."""
    from .subscribers.manage import add

    for line in add(_project(), address, name, resubscribe):
        typer.echo(line)


@subscribers_app.command("remove")
def subscribers_remove(address: Annotated[str, typer.Argument(metavar="ADDRESS")]) -> None:
    """Unsubscribe a reader. The address stays, as unsubscribed, so it is never mailed again."""
    from .subscribers.manage import remove

    for line in remove(_project(), address):
        typer.echo(line)


@subscribers_app.command("list")
def subscribers_list(
        status: Annotated[Status | None, typer.Option(
            "--status", help="Only readers with this status.")] = None,
        output: Annotated[ListFormat, typer.Option(
            "--format", help="text, csv or json.")] = ListFormat.text) -> None:
    """List the readers: status, address, name, since when (and why, for those who left)."""
    from .subscribers.manage import counts_line, formatted, subscribers

    store, readers = subscribers(_project(), status.value if status else None)
    for note in store.notes:
        typer.echo(note, err=True)
    typer.echo(formatted(readers, output.value), nl=False)
    if output is ListFormat.text:
        typer.echo(counts_line(store), err=True)


@subscribers_app.command("import")
def subscribers_import(
        file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="A CSV export.")],
        email_column: Annotated[str | None, typer.Option(
            "--email-column", metavar="NAME",
            help="The column with the addresses, for a CSV of another layout.")] = None,
        name_column: Annotated[str | None, typer.Option(
            "--name-column", metavar="NAME", help="The column with the names.")] = None,
        resubscribe: Annotated[bool, typer.Option(
            "--resubscribe", help="Also make active again the addresses that unsubscribed, "
                                  "bounced or complained.")] = False) -> None:
    """Import readers from a Mailchimp, Substack, Buttondown or listmonk export, or any CSV.

    All or nothing: a bad row or an unknown layout is an error and nothing is imported."""
    from .subscribers.manage import import_file

    if name_column and not email_column:
        raise typer.BadParameter("needs --email-column too", param_hint="'--name-column'")
    result = import_file(_project(), file, email_column, name_column, resubscribe)
    for note in result.notes:
        typer.echo(note)
    typer.echo(result.summary(str(file)))


@subscribers_app.command("export")
def subscribers_export(file: Annotated[Path | None, typer.Argument(
        metavar="[FILE]", help="Write the CSV here (mode 0600) instead of printing it.",
        show_default=False)] = None) -> None:
    """Export every address with its status, as CSV (suppressions included)."""
    from .subscribers.manage import export

    text, n = export(_project(), file)
    if file is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"exported {n} address{'' if n == 1 else 'es'} -> {file}")


@subscribers_app.command("serve")
def subscribers_serve(
        host: Annotated[str, typer.Option(
            "--host", help="Address to listen on; keep 127.0.0.1 behind a proxy.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(
            "--port", min=0, max=65535, help="Port; 0 picks a free one.")] = 8080,
        events: Annotated[str | None, typer.Option(
            "--events", metavar="PATH",
            help="Where to record the clicks (default: sync.events in briefing.yaml if it is a "
                 "file, else .briefing/events.jsonl).")] = None) -> None:
    """Run the one-click unsubscribe endpoint (RFC 8058) under waitress.

    It records tokens and times only; 'briefing subscribers sync' applies them."""
    from .subscribers.endpoint import serve_project

    def ready(lines: list[str]) -> None:
        for line in lines:
            typer.echo(line)

    serve_project(_project(), host, port, events, ready)
    typer.echo("endpoint stopped")


@subscribers_app.command("sync")
def subscribers_sync(
        events: Annotated[str | None, typer.Option(
            "--events", metavar="PATH_OR_URL",
            help="The endpoint's events: its file, or the https URL of its /events.")] = None,
        mailbox: Annotated[str | None, typer.Option(
            "--mailbox", metavar="PATH",
            help="An mbox file or Maildir folder: unsubscribe mail, bounces, complaints.")]
        = None) -> None:
    """Apply unsubscribes, bounces and complaints to the list, once each.

    Without options, reads the sources under sync: in briefing.yaml (send does this first)."""
    from .subscribers.sync import sync

    for line in sync(_project(), events, mailbox):
        typer.echo(line)


@app.command()
def preview(issue: IssueArg = None,
            port: Annotated[int, typer.Option(
                "--port", min=0, max=65535,
                help="Port on 127.0.0.1; 0 picks a free one.")] = 8000) -> None:
    """Serve a live preview on 127.0.0.1: the email at desktop and 375 px, and the digest."""
    from .editorial.preview import Build, serve

    def ready(url: str, build: Build) -> None:
        typer.echo(f"preview at {url} (Ctrl-C stops it)")
        if build.errors:
            typer.echo(build.errors, err=True)

    def rebuilt(build: Build) -> None:
        if build.errors:
            typer.echo(build.errors, err=True)
        else:
            typer.echo(f"rebuilt {build.issue_id}")

    serve(_project(), issue, port, on_ready=ready, on_rebuild=rebuilt)
    typer.echo("preview stopped")


def main() -> None:
    """Run the app. A bug (never bad input: that is a BriefingError) gets one line and exit 2;
    BRIEFING_DEBUG=1 shows the traceback."""
    import os
    try:
        app()
    except Exception as exc:  # the last line of defence against a traceback
        if os.environ.get("BRIEFING_DEBUG"):
            raise
        typer.echo(f"briefing: internal error: {type(exc).__name__}: {exc} (this is a bug; "
                   "rerun with BRIEFING_DEBUG=1 for details)", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
