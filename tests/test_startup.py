"""What `briefing --help`, `build` and `check` import: exactly these modules, so start-up cannot
grow unnoticed (a new import on these paths must be added here on purpose; the time each costs
is in benchmarks/README.md). The real CLI runs with -X importtime, which names every import."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import briefing.cli
from conftest import BRIEF, REPO, make_project, run_cli

# Outside the standard library, only these, whatever the command: the CLI and its parser.
CLI = {"briefing", "typer", "annotated_doc", "shellingham"}
# What a brief needs read and its email rendered: the YAML parser, the templates, MJML, and
# markdown-it for texts with inline markup (the sample and the test brief both have some).
RENDER = {"yaml", "jinja2", "markupsafe", "mjml", "markdown_it", "mdurl"}
# Standard-library modules that only other commands need: the store (sqlite3), the network
# and the endpoint, the send path's threads pool, and Python's own slow-to-import packages.
NEVER = {"sqlite3", "ssl", "smtplib", "http", "asyncio", "concurrent", "multiprocessing",
         "wsgiref", "xmlrpc", "mailbox", "unittest", "pydoc", "zoneinfo", "decimal", "csv"}

OURS_HELP = {"briefing", "briefing.cli", "briefing.cli.common", "briefing.cli.build",
             "briefing.cli.editorial", "briefing.cli.intake", "briefing.cli.deliverability",
             "briefing.cli.send", "briefing.cli.subscribers", "briefing.cli.readers"}
# `build` and `check` import only the module of their own command group.
OURS_COMMAND = {"briefing", "briefing.cli", "briefing.cli.common", "briefing.cli.build"}
CONTENT = {"briefing.content", "briefing.content.dates", "briefing.content.load",
           "briefing.content.markdown", "briefing.content.model", "briefing.content.references",
           "briefing.content.rules", "briefing.content.schema", "briefing.content.spec",
           "briefing.content.validate", "briefing.content.project", "briefing.errors",
           "briefing.content.corrections", "briefing.content.record",  # corrections, threads
           "briefing.content.checks", "briefing.content.variants"}  # value checks, themes
# Lint: its rules, and the source rules (quotations: the matcher only for an issue that quotes,
# the saved copies and their fetch client only when some are saved).
LINT = {"briefing.editorial", "briefing.editorial.history", "briefing.editorial.lint",
        "briefing.editorial.filelint", "briefing.editorial.sourcelint",
        "briefing.publish", "briefing.publish.issues", "briefing.render",
        "briefing.render.colours", "briefing.render.html", "briefing.render.templates"}
# check goes through pipeline.check: a sent issue's briefs must still say what was sent.
OURS_CHECK = OURS_COMMAND | CONTENT | LINT | {"briefing.editorial.check", "briefing.pipeline",
                                              "briefing.render.issue",  # and briefing.yaml's
                                              "briefing.editorial.configcheck",  # own warnings
                                              "briefing.content.reserved"}
OURS_BUILD = OURS_COMMAND | CONTENT | LINT | {
    "briefing.files", "briefing.pipeline", "briefing.publish.archive", "briefing.publish.feed",
    "briefing.publish.index", "briefing.publish.jsonfeed", "briefing.publish.pagefind",
    "briefing.publish.stamp", "briefing.publish.toc", "briefing.render.eml",
    "briefing.render.issue", "briefing.render.json", "briefing.render.text", "briefing.render.web",
    "briefing.render.wrap", "briefing.editorial.quotes",  # the sample quotes people
    "briefing.publish.record", "briefing.publish.threads",  # and follows story threads
    "briefing.editorial.thread_rule", "briefing.render.subscribe"}  # the form, with signup:


def imported(cwd: Path, *args: str) -> set[str]:
    """Every module the command imported (attempts that failed, like markdown-it's optional
    linkify_it, are left out)."""
    result = run_cli(cwd, *args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.code == 0, result.err[-2000:]
    names = set(re.findall(r"^import time:[^|]*\|[^|]*\| *(\S+)$", result.err, re.MULTILINE))
    return {n for n in names if n.split(".")[0] in sys.modules or _exists(n)}


def _exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def outside_stdlib(names: set[str]) -> set[str]:
    tops = {n.split(".")[0] for n in names}
    return {t for t in tops if t not in sys.stdlib_module_names and not t.startswith("_")
            and t != "sitecustomize"}  # the interpreter's own start-up hook, if any


def test_help_imports_the_cli_alone(tmp_path: Path) -> None:
    names = imported(tmp_path, "--help")
    assert outside_stdlib(names) == CLI
    assert {n for n in names if n.startswith("briefing")} == OURS_HELP
    assert not {n.split(".")[0] for n in names} & (NEVER | {"email", "json", "sqlite3"})


def test_build_imports_what_a_build_needs(tmp_path: Path) -> None:
    for part in ("briefing.yaml", "briefs", "out"):
        copy = shutil.copytree if (REPO / part).is_dir() else shutil.copy
        copy(REPO / part, tmp_path / part)
    names = imported(tmp_path, "build", "--force")
    assert outside_stdlib(names) == CLI | RENDER
    assert {n for n in names if n.startswith("briefing")} == OURS_BUILD
    assert not {n.split(".")[0] for n in names} & NEVER


def test_check_of_one_item_imports_no_more_than_it_needs(tmp_path: Path) -> None:
    project = make_project(tmp_path / "news", briefs={"industry.yaml": BRIEF})
    names = imported(project.root, "check")
    assert outside_stdlib(names) == CLI | RENDER
    assert {n for n in names if n.startswith("briefing")} == OURS_CHECK
    # No email package, no store: check renders the HTML (for its size), never the .eml
    assert not {n.split(".")[0] for n in names} & (NEVER | {"email"})


def test_every_command_is_in_the_table_main_imports_by() -> None:
    """cli.GROUPS names the module of each command, so main() imports only that one."""
    from briefing.cli import GROUPS, common

    common_app = briefing.cli.app  # every module imported: every command registered
    found = {info.name or info.callback.__name__: info.callback.__module__
             for info in common_app.registered_commands if info.callback}
    for group in common_app.registered_groups:  # a group: where its commands are defined
        commands = group.typer_instance.registered_commands
        found[group.name] = commands[0].callback.__module__
    assert common_app is common.app
    assert found == {name: f"briefing.cli.{module}" for name, module in GROUPS.items()}
