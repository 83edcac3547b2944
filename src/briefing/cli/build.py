"""build, check and archive: validate the briefs and write the public web edition."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from .common import IssueArg, app, current_project

if TYPE_CHECKING:
    from ..content.validate import Project
    from ..pipeline import BuildResult
    from ..publish.archive import ArchiveResult

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
    from ..pipeline import build as run_build
    from ..pipeline import build_all

    project = current_project()
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
    from ..errors import count
    for result in results:
        if result.warnings:
            typer.echo(f"{count(result.warnings, 'warning')}: run 'briefing check "
                       f"{result.issue.id}'")


def _screenshots(project: Project, result: BuildResult) -> None:
    """Preview PNGs of a built email, and a warning for anything a reader would see go wrong."""
    from ..editorial.browser import write_previews
    from ..publish.issues import output_root

    issue_id = result.issue.id
    root, shown = output_root(project, result.issue.draft)
    paths, warnings = write_previews(root, issue_id, shown)
    for warning in warnings:
        typer.echo(warning.format(), err=True)
    typer.echo(f"preview {issue_id}: {', '.join(p.name for p in paths)} -> "
               f"{shown}/{issue_id}/preview/")


def _report_build(result: BuildResult) -> None:
    """The one-line summary of a built issue, and a warning if Gmail would clip it."""
    from ..errors import count
    from ..render.html import size_text, size_warning
    if result.corrected:  # a sent issue: docs/record.md
        typer.echo(f"corrected {result.issue.id} ({result.issue.date}): "
                   f"{count(len(result.issue.corrections), 'correction')}; issue.json and its "
                   f"web page -> {result.folder} (the email, digest and message stay as sent)")
        return
    counts = ", ".join(f"{s.theme.id} {len(s.items)}" for s in result.issue.sections)
    html = result.sizes["email.html"]
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
    from ..editorial.lint import report_json
    from ..pipeline import check as run_check

    project = current_project()
    if output is OutputFormat.json:
        from ..errors import BriefingError
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
    from ..errors import count
    from ..publish.archive import ARCHIVE_FILES

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
    from ..publish.archive import refresh

    _report_archive(refresh(current_project()))


@archive_app.command("search")
def archive_search(terms: Annotated[list[str], typer.Argument(
        metavar="TERMS...",
        help="Words or quoted phrases; an item must contain all of them.")]) -> None:
    """Print the items of every issue that contain all TERMS (any case, Chinese too).

    Exits 1 when nothing matches, like grep."""
    from ..errors import count
    from ..publish.search import search

    result = search(current_project(), terms)
    for warning in result.warnings:
        typer.echo(warning.format(), err=True)
    for match in result.matches:
        draft = " (draft)" if match.draft else "" if match.built else " (not built)"
        typer.echo(f"{match.issue} ({match.date}){draft} · {match.theme} · {match.headline}")
        for source in match.sources:
            typer.echo(f"  [{source['number']}] {source['title']} ({source['publisher']}) "
                       f"{source['url']}")
        for date, text in match.corrections:
            typer.echo(f"  correction, {date}: {text}")
    wanted = " ".join(terms)
    if not result.matches:
        typer.echo(f"no item in {count(result.searched, 'issue')} matches '{wanted}'", err=True)
        raise typer.Exit(1)
    issues = len({m.issue for m in result.matches})
    typer.echo(f"found {count(len(result.matches), 'item')} in {count(issues, 'issue')} "
               f"matching '{wanted}'")
