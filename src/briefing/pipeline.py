"""The pipeline end to end: load -> validate -> model -> render -> write (-> archive)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import BriefingError, Problem
from .model import Issue
from .validate import Project, load_issue

LEDGER = "sent.jsonl"
OUTPUTS = ("email.html", "digest.txt", "message.eml", "issue.json")
GMAIL_CLIP_BYTES = 102 * 1024


@dataclass(frozen=True)
class Rendered:
    issue: Issue
    files: dict[str, bytes]  # name within out/<ISSUE>/ -> bytes


@dataclass(frozen=True)
class BuildResult:
    issue: Issue
    paths: list[Path]
    sizes: dict[str, int]


def render_issue(project: Project, issue: Issue) -> Rendered:
    """Every output of one issue, in memory (pure: nothing is written)."""
    from .render.eml import render_eml
    from .render.html import render_html
    from .render.json import render_json
    from .render.text import render_text

    templates = project.root / "templates"
    html = render_html(issue, templates)
    text = render_text(issue)
    return Rendered(issue, {
        "email.html": html.encode("utf-8"),
        "digest.txt": text.encode("utf-8"),
        "message.eml": render_eml(issue, text, html),
        "issue.json": render_json(issue).encode("utf-8"),
    })


def is_frozen(project: Project, issue_id: str) -> bool:
    """An issue with a send ledger has gone out: its outputs are what readers got."""
    return (project.out / issue_id / LEDGER).exists()


def build(project: Project, issue_id: str | None = None, force: bool = False) -> BuildResult:
    issue = load_issue(project, issue_id)
    if is_frozen(project, issue.id) and not force:
        raise BriefingError(Problem(
            f"out/{issue.id}/{LEDGER}", 0, 0,
            f"issue {issue.id} has been sent, so its outputs are frozen",
            f"rebuild anyway with 'briefing build {issue.id} --force'"))
    rendered = render_issue(project, issue)
    from .write import write_files
    paths = write_files(project.out, {f"{issue.id}/{name}": data
                                      for name, data in rendered.files.items()})
    return BuildResult(issue, paths, {n: len(d) for n, d in rendered.files.items()})
