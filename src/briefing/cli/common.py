"""What every command shares: the Typer app, -C DIR, the ISSUE argument, the project found."""

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

# Where a newcomer reads on: the docs ship with the source, not inside the wheel.
DOCS = "docs/index.md in briefing's source (getting started: docs/getting-started.md)"

class _ProjectGroup(typer.core.TyperGroup):
    """The top-level group: every command under it also takes -C DIR after its name
    (`briefing check -C news`), as the group does before it (`briefing -C news check`)."""

    def get_command(self, ctx, cmd_name):
        command = super().get_command(ctx, cmd_name)
        directory = next((p for p in self.params if "-C" in getattr(p, "opts", ())), None)
        if command is not None and directory is not None:
            _give_directory_option(command, directory)
        return command


def _give_directory_option(command, directory) -> None:
    import copy
    if not any("-C" in getattr(p, "opts", ()) for p in command.params):
        option = copy.copy(directory)
        option.expose_value = False  # the command's function has no parameter for it
        option.name = "change_directory"  # `init DIR` has a parameter named `directory`
        command.params.append(option)
    for sub in getattr(command, "commands", {}).values():  # archive search, subscribers add
        _give_directory_option(sub, directory)


app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, cls=_ProjectGroup,
                  help="Build, check, send and archive a newsletter from YAML briefs.",
                  epilog=f"Documentation: {DOCS}.")

IssueArg = Annotated[str | None, typer.Argument(
    metavar="[ISSUE]", show_default=False,
    help="Issue folder under briefs/ (default: the latest by date).")]


def current_project() -> Project:
    """The project this folder is in: briefing.yaml here or in a folder above (as git finds
    .git), so `check` works from inside briefs/2026-W49/ too."""
    from ..content.project import Project
    return Project.find(Path.cwd())


def _version(value: bool) -> None:
    if value:
        from .. import __version__
        typer.echo(f"briefing {__version__}")
        raise typer.Exit()


def _change_directory(folder: Path | None) -> Path | None:
    """-C DIR: run as if briefing was started in DIR (git -C, make -C), so every command and
    every relative path it is given (an import file, --events) starts there."""
    if folder is not None:
        import os
        try:
            os.chdir(folder)
        except OSError as exc:
            raise typer.BadParameter(f"cannot enter '{folder}': {exc.strerror}",
                                     param_hint="'-C'") from None
    return folder


@app.callback()
def _main_options(
        directory: Annotated[Path | None, typer.Option(
            "-C", metavar="DIR", callback=_change_directory, is_eager=True, show_default=False,
            help="Run as if briefing was started in DIR. Either way, briefing.yaml is looked "
                 "for in the folder and then in each folder above it.")] = None,
        version: Annotated[bool, typer.Option(
            "--version", callback=_version, is_eager=True,
            help="Print the version and exit.")] = False) -> None:
    """Build, check, send and archive a newsletter from YAML briefs."""
