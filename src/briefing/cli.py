"""The command line: each command parses options, calls one pipeline function and prints a summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

# Heavy modules (yaml, jinja2, mjml, email) are imported inside commands so `--help` stays fast.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Build, check, send and archive a newsletter from YAML briefs.")

ISSUE_ARG = typer.Argument(None, help="Issue folder under briefs/ (default: the latest by date).")


def _project():
    from .validate import Project
    return Project(Path.cwd())


def _run(action):
    """The one place a BriefingError becomes a message on stderr and exit status 1."""
    from .errors import BriefingError
    try:
        return action()
    except BriefingError as exc:
        typer.echo(exc.report(), err=True)
        raise typer.Exit(1) from None


@app.command()
def build(issue: Optional[str] = ISSUE_ARG,
          force: bool = typer.Option(False, "--force", help="Rebuild an issue that was sent."),
          all_issues: bool = typer.Option(False, "--all", help="Rebuild every issue that was not "
                                          "sent; nothing is written if any is invalid."),
          screenshots: bool = typer.Option(False, "--screenshots", help="Also open email.html in "
                                           "headless Chromium at 375 and 600 px, light and dark, "
                                           "and save PNGs in out/<ISSUE>/preview/.")):
    """Validate an issue and write out/<ISSUE>/: email.html, digest.txt, message.eml, issue.json.

    Then refresh the archive: out/index.html, out/feed.xml, out/archive.txt."""
    from .pipeline import build as run_build, build_all

    project = _project()
    if all_issues:
        if issue is not None:
            raise typer.BadParameter("give an issue or --all, not both", param_hint="'--all'")
        everything = _run(lambda: build_all(project, force=force))
        for result in everything.built:
            _report_build(result)
            if screenshots:
                _screenshots(project, result.issue.id)
        for issue_id in everything.frozen:
            typer.echo(f"skipped {issue_id}: sent, so its outputs are frozen (rebuild it with "
                       f"'briefing build {issue_id} --force')")
        _report_archive(everything.archive)
        return
    result = _run(lambda: run_build(project, issue, force=force))
    _report_build(result)
    if screenshots:
        _screenshots(project, result.issue.id)
    for warning in result.archive.warnings if result.archive else ():
        typer.echo(warning.format(), err=True)


def _screenshots(project, issue_id: str) -> None:
    """Preview PNGs of a built email, and a warning for anything a reader would see go wrong."""
    from .browser import write_previews

    paths, warnings = _run(lambda: write_previews(project.out, issue_id))
    for warning in warnings:
        typer.echo(warning.format(), err=True)
    typer.echo(f"preview {issue_id}: {', '.join(p.name for p in paths)} -> "
               f"out/{issue_id}/preview/")


def _report_build(result) -> None:
    """The one-line summary of a built issue, and a warning if Gmail would clip it."""
    from .render.html import size_text, size_warning

    counts = ", ".join(f"{s.theme.id} {len(s.items)}" for s in result.issue.sections)
    html = result.sizes["email.html"]
    typer.echo(f"built {result.issue.id} ({result.issue.date}): {len(result.issue.items)} items "
               f"({counts}); email.html {size_text(html)}, digest.txt "
               f"{size_text(result.sizes['digest.txt'])}, message.eml "
               f"{size_text(result.sizes['message.eml'])} -> out/{result.issue.id}/")
    warning = size_warning(result.issue.id, html)
    if warning:
        typer.echo(warning.format(), err=True)


@app.command()
def check(issue: Optional[str] = ISSUE_ARG,
          strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors (exit 1)."),
          format: str = typer.Option("text", "--format", help="Output: text or json (for CI).")):
    """Validate config and briefs, then lint them: every problem at once, compiler style."""
    from .lint import check as run_check, report_json

    project = _project()
    if format not in ("text", "json"):
        typer.echo(f"--format: '{format}' is not a format; use text or json", err=True)
        raise typer.Exit(2)
    if format == "json":
        from .errors import BriefingError
        try:
            result = run_check(project, issue)
        except BriefingError as exc:
            typer.echo(report_json(None, exc), nl=False)
            raise typer.Exit(1) from None
        typer.echo(report_json(result, strict=strict), nl=False)
        raise typer.Exit(1 if strict and result.problems else 0)
    result = _run(lambda: run_check(project, issue, strict=strict))
    for problem in result.problems:
        typer.echo(problem.format(), err=True)
    typer.echo(f"ok: {result.summary()}")


def _report_archive(result) -> None:
    from .archive import ARCHIVE_FILES
    from .errors import count

    for warning in result.warnings if result else ():
        typer.echo(warning.format(), err=True)
    if result is None:
        return
    files = ", ".join(f"out/{name}" for name in ARCHIVE_FILES)
    line = f"archived {count(len(result.entries), 'issue')} -> {files}"
    if result.unbuilt:
        line += f" (not built yet, so not listed: {', '.join(result.unbuilt)})"
    typer.echo(line)


archive_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                          help="Rebuild the archive pages from out/, or search every issue.")
app.add_typer(archive_app, name="archive")


@archive_app.callback(invoke_without_command=True)
def archive(ctx: typer.Context):
    """Rebuild out/index.html, out/feed.xml and out/archive.txt from every out/<ISSUE>/issue.json.

    Issues are not re-rendered: the archive lists what was built (and sent)."""
    if ctx.invoked_subcommand is not None:
        return
    from .archive import refresh

    project = _project()
    _report_archive(_run(lambda: refresh(project)))


@archive_app.command("search")
def archive_search(terms: List[str] = typer.Argument(
        ..., help="Words or quoted phrases; an item must contain all of them.")):
    """Print the items of every issue that contain all TERMS (any case, Chinese too).

    Exits 1 when nothing matches, like grep."""
    from .archive import search
    from .errors import count

    project = _project()
    result = _run(lambda: search(project, terms))
    for warning in result.warnings:
        typer.echo(warning.format(), err=True)
    for match in result.matches:
        draft = "" if match.built else " (not built)"
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
def init(directory: Path = typer.Argument(..., metavar="DIR", help="Folder for the new project "
                                           "(created if needed; existing files are never touched)."),
         name: str = typer.Option("My Briefing", "--name", help="The newsletter's name.")):
    """Start a newsletter project: briefing.yaml, example briefs for this week, schemas, README."""
    from .scaffold import init_project

    created = _run(lambda: init_project(directory, name))
    typer.echo(f"created {directory}/: {', '.join(created.files[:5])} and schema/ "
               f"({len(created.files) - 5} files), templates/ (empty: the packaged ones apply)")
    typer.echo(f"next: cd {directory} && briefing check && briefing build {created.issue_id}")


@app.command()
def new(theme: str = typer.Argument(..., help="Theme id from briefing.yaml."),
        issue: Optional[str] = typer.Option(None, "--issue", help="Issue folder under briefs/ "
                                            "(default: this ISO week, e.g. 2026-W07)."),
        name: Optional[str] = typer.Option(None, "--name", help="File name without .yaml "
                                           "(default: the theme), e.g. ethics-2.")):
    """Create briefs/<ISSUE>/<THEME>.yaml from a commented template; never overwrites."""
    from .scaffold import new_brief

    project = _project()
    made = _run(lambda: new_brief(project, theme, issue, name))
    typer.echo(f"created {made.shown} (theme {made.theme}); replace its TODOs, then run "
               f"'briefing check {made.issue_id}'")


@app.command()
def schema(which: str = typer.Argument("all", help="brief, config, issue or all."),
           write: Optional[Path] = typer.Option(None, "--write", metavar="DIR",
                                                help="Write <name>.schema.json files into DIR.")):
    """Print the JSON Schema of the brief, issue and config formats (editor completion)."""
    from .scaffold import schema_text, write_schemas

    if write is None:
        typer.echo(_run(lambda: schema_text(which)), nl=False)
        return
    paths = _run(lambda: write_schemas(write, which))
    typer.echo(f"wrote {', '.join(str(write / p.name) for p in paths)}")


@app.command()
def links(issue: Optional[str] = ISSUE_ARG,
          timeout: float = typer.Option(10.0, "--timeout", min=0.1,
                                        help="Seconds to wait for an answer."),
          per_host: int = typer.Option(2, "--per-host", min=1,
                                       help="Requests at a time to any one host."),
          cache_hours: float = typer.Option(24.0, "--cache-hours", min=0,
                                            help="Trust a working link checked this recently."),
          no_cache: bool = typer.Option(False, "--no-cache", help="Check every link again.")):
    """Check every link of an issue over HTTP (HEAD, else GET); exit 1 if one is broken."""
    from .links import check_links

    project = _project()
    bar: list = []

    def started(total: int) -> None:
        if total and sys.stderr.isatty():  # a bar only where someone watches it
            bar.append(typer.progressbar(length=total, label="checking links",
                                         file=sys.stderr).__enter__())

    try:
        report = _run(lambda: check_links(
            project, issue, timeout=timeout, per_host=per_host, max_age_hours=cache_hours,
            use_cache=not no_cache, started=started,
            progress=lambda n: bar and bar[0].update(n)))
    finally:
        if bar:
            bar[0].__exit__(None, None, None)
    for problem in report.problems:
        typer.echo(problem.format(), err=True)
    typer.echo(report.summary())
    if report.broken:
        raise typer.Exit(1)


@app.command()
def send(issue: Optional[str] = ISSUE_ARG,
         dry_run: bool = typer.Option(True, "--dry-run/--no-dry-run",
                                      help="Show what would be sent (the default); "
                                           "--no-dry-run sends."),
         to: List[str] = typer.Option([], "--to", metavar="ADDRESS",
                                      help="Send to this address instead of the list "
                                           "(repeatable), e.g. a test send to yourself."),
         smtp: Optional[str] = typer.Option(None, "--smtp", metavar="URL",
                                            help="smtp://host:587 (STARTTLS) or "
                                                 "smtps://host:465 (default: smtp.url)."),
         sendmail: Optional[str] = typer.Option(None, "--sendmail", metavar="COMMAND",
                                                help="A sendmail-compatible command that reads "
                                                     "the message on stdin, e.g. 'msmtp'."),
         insecure: bool = typer.Option(False, "--insecure",
                                       help="Local test servers only: skip certificate checks "
                                            "and allow plain text without STARTTLS."),
         force: bool = typer.Option(False, "--force",
                                    help="Send to recipients already in sent.jsonl, or a "
                                         "message that changed since it was sent."),
         rate: float = typer.Option(0.0, "--rate", metavar="N",
                                    help="At most N messages per second (default: no limit)."),
         timeout: float = typer.Option(30.0, "--timeout", metavar="SECONDS",
                                       help="Network (or command) timeout."),
         retry_delay: float = typer.Option(2.0, "--retry-delay", hidden=True,
                                           envvar="BRIEFING_RETRY_DELAY")):
    """Send the built out/<ISSUE>/message.eml to each recipient; a dry run unless --no-dry-run."""
    from .send import SendOptions, deliver, prepare

    project = _project()
    options = SendOptions(to=tuple(to), smtp=smtp, sendmail=sendmail, insecure=insecure,
                          force=force, rate=rate, timeout=timeout, retry_delay=retry_delay)
    plan = _run(lambda: prepare(project, issue, options))
    for line in plan.describe(dry_run):
        typer.echo(line)
    if dry_run or not plan.todo:
        return
    with typer.progressbar(length=len(plan.todo), label="sending", file=sys.stderr) as bar:
        report = _run(lambda: deliver(plan, progress=lambda _address: bar.update(1)))
    for line in report.summary():
        typer.echo(line)
    for line in report.failures():
        typer.echo(line, err=True)
    _run(report.check)


@app.command()
def preview(issue: Optional[str] = ISSUE_ARG,
            port: int = typer.Option(8000, "--port", min=0, max=65535,
                                     help="Port on 127.0.0.1; 0 picks a free one.")):
    """Serve a live preview on 127.0.0.1: the email at desktop and 375 px, and the digest."""
    from .preview import serve

    project = _project()

    def ready(url: str, build) -> None:
        typer.echo(f"preview at {url} (Ctrl-C stops it)")
        if build.errors:
            typer.echo(build.errors, err=True)

    def rebuilt(build) -> None:
        if build.errors:
            typer.echo(build.errors, err=True)
        else:
            typer.echo(f"rebuilt {build.issue_id}")

    _run(lambda: serve(project, issue, port, on_ready=ready, on_rebuild=rebuilt))
    typer.echo("preview stopped")


def main() -> None:
    """Run the app. A bug (never bad input: that is a BriefingError) gets one line and exit 2;
    BRIEFING_DEBUG=1 shows the traceback."""
    import os
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        if os.environ.get("BRIEFING_DEBUG"):
            raise
        typer.echo(f"briefing: internal error: {type(exc).__name__}: {exc} (this is a bug; "
                   "rerun with BRIEFING_DEBUG=1 for details)", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
