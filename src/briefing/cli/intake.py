"""The editor's week: add an item from a URL, keep a private copy of every cited page."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from .common import IssueArg, app, current_project

if TYPE_CHECKING:
    from ..content.model import Theme


@app.command()
def add(urls: Annotated[list[str], typer.Argument(
            metavar="URL...", show_default=False,
            help="The article's address (several: one item each).")],
        theme: Annotated[str | None, typer.Option(
            "--theme", help="Theme id from briefing.yaml (asked for on a terminal).")] = None,
        issue: Annotated[str | None, typer.Option(
            "--issue", help="Issue folder under briefs/ (default: the latest by date).")] = None,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="Print the item instead of adding it.")] = False,
        timeout: Annotated[float, typer.Option(
            "--timeout", min=0.1, help="Seconds to wait for each page.")] = 20.0) -> None:
    """Add an item from a URL to a theme's brief: headline, publisher and date from the page;
    the summary is a TODO for you."""
    from ..editorial.intake import add_items

    choose = _ask_theme if theme is None and sys.stdin.isatty() else None
    result = add_items(current_project(), urls, theme, issue, dry_run, timeout, choose)
    if dry_run:
        typer.echo(result.text, nl=False)
    for warning in result.warnings:
        typer.echo(warning.format(), err=True)
    for intake in result.intakes:
        for line in [*intake.notes, *(f"missing {m}" for m in intake.missing)]:
            typer.echo(f"{intake.asked}: {line}", err=True)
    headlines = ", ".join(f'"{i.item.headline}"' for i in result.intakes)
    where = f"{result.shown} (line {result.line})"
    n = len(result.intakes)
    items = f"{n} item{'s' if n > 1 else ''}"
    if dry_run:
        typer.echo(f"dry run: would add {items} to {where}; nothing written", err=True)
        return
    for created in result.created:
        typer.echo(f"created {created}")
    typer.echo(f"added {items} to {where}: {headlines}")
    typer.echo(f"next: write the {'summaries' if n > 1 else 'summary'} (TODO), then "
               f"'briefing check {result.issue_id}'")


def _ask_theme(themes: tuple[Theme, ...]) -> str:
    ids = [t.id for t in themes]
    typer.echo("themes:", err=True)
    for number, theme in enumerate(themes, 1):
        typer.echo(f"  {number}. {theme.id} ({theme.title})", err=True)
    while True:
        answer = typer.prompt("theme (number or id)", err=True).strip()
        if answer.isdigit() and 1 <= int(answer) <= len(themes):
            return ids[int(answer) - 1]
        if answer in ids:
            return answer
        typer.echo(f"no theme '{answer}': answer 1 to {len(themes)} or an id", err=True)


@app.command()
def sources(issue: IssueArg = None,
            save: Annotated[bool, typer.Option(
                "--save", help="First save a private copy of every cited page "
                               "(.briefing/sources/).")] = False,
            timeout: Annotated[float, typer.Option(
                "--timeout", min=0.1, help="Seconds to wait for each page.")] = 20.0) -> None:
    """List every source of an issue with its saved copy; --save keeps a copy of each page."""
    from ..content.validate import load_issue
    from ..editorial.saved import listing_lines, save_copies

    project = current_project()
    loaded = load_issue(project, issue)
    if save:
        for line in save_copies(project, loaded, timeout).lines(project):
            typer.echo(line, err=line.startswith("not saved"))
    for line in listing_lines(project, loaded):
        typer.echo(line)
