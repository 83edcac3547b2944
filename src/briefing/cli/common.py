"""What every command shares: the Typer app, the ISSUE argument, the project found here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ..content.validate import Project

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


def current_project() -> Project:
    from ..content.validate import Project
    return Project(Path.cwd())


def _version(value: bool) -> None:
    if value:
        from .. import __version__
        typer.echo(f"briefing {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Build, check, send and archive a newsletter from YAML briefs."""
