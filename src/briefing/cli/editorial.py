"""The editor's tools: start a project or a brief, the schemas, link checks, the live preview."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .common import IssueArg, app, current_project


@app.command()
def init(directory: Annotated[Path, typer.Argument(
             metavar="DIR", help="Folder for the new project (created if needed; existing "
                                 "files are never touched).")],
         name: Annotated[str, typer.Option(
             "--name", help="The newsletter's name.")] = "My Briefing") -> None:
    """Start a newsletter project: briefing.yaml, example briefs for this week, schemas, README."""
    from ..editorial.scaffold import init_project

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
    from ..editorial.scaffold import new_brief

    made = new_brief(current_project(), theme, issue, name)
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
    from ..editorial.scaffold import schema_text, write_schemas

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
    from ..editorial.links import check_links

    project = current_project()
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
def preview(issue: IssueArg = None,
            port: Annotated[int, typer.Option(
                "--port", min=0, max=65535,
                help="Port on 127.0.0.1; 0 picks a free one.")] = 8000) -> None:
    """Serve a live preview on 127.0.0.1: the email at desktop and 375 px, and the digest."""
    from ..editorial.preview import Build, serve

    def ready(url: str, build: Build) -> None:
        typer.echo(f"preview at {url} (Ctrl-C stops it)")
        if build.errors:
            typer.echo(build.errors, err=True)

    def rebuilt(build: Build) -> None:
        if build.errors:
            typer.echo(build.errors, err=True)
        else:
            typer.echo(f"rebuilt {build.issue_id}")

    serve(current_project(), issue, port, on_ready=ready, on_rebuild=rebuilt)
    typer.echo("preview stopped")
