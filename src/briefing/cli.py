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


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} B"


@app.command()
def build(issue: Optional[str] = ISSUE_ARG,
          force: bool = typer.Option(False, "--force", help="Rebuild an issue that was sent.")):
    """Validate an issue and write out/<ISSUE>/: email.html, digest.txt, message.eml, issue.json."""
    from .pipeline import GMAIL_CLIP_BYTES, build as run_build

    project = _project()
    result = _run(lambda: run_build(project, issue, force=force))
    counts = ", ".join(f"{s.theme.id} {len(s.items)}" for s in result.issue.sections)
    html = result.sizes["email.html"]
    typer.echo(f"built {result.issue.id} ({result.issue.date}): {len(result.issue.items)} items "
               f"({counts}); email.html {_size(html)}, digest.txt "
               f"{_size(result.sizes['digest.txt'])}, message.eml "
               f"{_size(result.sizes['message.eml'])} -> out/{result.issue.id}/")
    if html > GMAIL_CLIP_BYTES:
        typer.echo(f"out/{result.issue.id}/email.html: warning: {_size(html)} is over Gmail's "
                   f"102 KB clip limit [html-size]", err=True)


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
