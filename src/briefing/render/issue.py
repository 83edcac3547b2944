"""All outputs of one issue, rendered in memory (pure: nothing is written)."""

from __future__ import annotations

from dataclasses import dataclass

from ..content.model import Issue
from ..content.validate import Project

OUTPUTS = ("email.html", "digest.txt", "message.eml", "issue.json")


@dataclass(frozen=True)
class Rendered:
    issue: Issue
    files: dict[str, bytes]  # name within out/<ISSUE>/ -> bytes


def render_issue(project: Project, issue: Issue) -> Rendered:
    """Every output of one issue, in memory (pure: nothing is written)."""
    from .eml import render_eml
    from .html import render_html
    from .json import render_json
    from .text import render_text

    templates = project.root / "templates"
    html = render_html(issue, templates)
    text = render_text(issue)
    return Rendered(issue, {
        "email.html": html.encode("utf-8"),
        "digest.txt": text.encode("utf-8"),
        "message.eml": render_eml(issue, text, html),
        "issue.json": render_json(issue).encode("utf-8"),
    })
