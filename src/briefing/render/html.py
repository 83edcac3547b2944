"""The HTML email: Jinja2 renders MJML, mjml-python turns it into the tables mail clients read."""

from __future__ import annotations

from pathlib import Path

from ..content.markdown import plain_text
from ..content.model import Issue
from ..content.variants import preferences_link
from ..errors import BriefingError, Problem
from .templates import environment, render_template

TEMPLATE = "email.mjml.j2"
PREHEADER_CHARS = 140
# Gmail clips a message whose HTML is over 102 KB, hiding the rest (and the footer with the
# unsubscribe link) behind "[Message clipped] View entire message".
GMAIL_CLIP_BYTES = 102 * 1024
SIZE_RULE = "html-size"


def preheader(issue: Issue) -> str:
    """issue.yaml's preheader, else the start of the intro, cut at a word."""
    if issue.preheader:
        return issue.preheader
    text = " ".join(plain_text(issue.intro).split())
    if len(text) <= PREHEADER_CHARS:
        return text
    return text[:PREHEADER_CHARS].rsplit(" ", 1)[0] + "…"


def context(issue: Issue) -> dict:
    """The one documented template context (README, Templates)."""
    return {
        "issue": issue,
        "config": issue.config,
        "brand": issue.config.brand,
        "sections": issue.sections,
        "references": issue.references,
        "numbers": {r.url: r.number for r in issue.references},
        "preheader": preheader(issue),
        "web_url": web_url(issue),
        # "Choose what you get": '' without briefing.yaml `preferences:`.
        "preferences_url": preferences_link(issue),
    }


def web_url(issue: Issue) -> str:
    """The issue's web page, <archive_url><ISSUE>/, or '' without archive_url. A draft links to
    where the page will be once it is published."""
    base = issue.config.archive_url
    if not base:
        return ""
    return f"{base if base.endswith('/') else base + '/'}{issue.id}/"


def render_mjml(issue: Issue, templates: Path | None = None) -> str:
    return render_template(environment(templates), TEMPLATE, context(issue))


def render_html(issue: Issue, templates: Path | None = None) -> str:
    source = render_mjml(issue, templates)
    import mjml
    try:
        # fonts={}: no Google Fonts <link>/@import (mjml adds one for Roboto in the font stack):
        # a request to Google on every open, and bytes toward the clip limit.
        html = mjml.mjml2html(source, disable_comments=True, fonts={})
    # mjml-python's Rust panics arrive as PanicException, a BaseException.
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        message = " ".join(str(exc).split())[:200]
        raise BriefingError(Problem(f"templates/{TEMPLATE}", 0, 0,
                                    f"the MJML renderer failed: {message}")) from None
    return html if html.endswith("\n") else html + "\n"


def size_text(n: int) -> str:
    """'38.6 KB' (1 KB = 1024 bytes, as Gmail counts its limit)."""
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} B"


def size_warning(issue_id: str, size: int) -> Problem | None:
    """A warning when the email's HTML is over Gmail's clip limit."""
    if size <= GMAIL_CLIP_BYTES:
        return None
    return Problem(f"out/{issue_id}/email.html", 0, 0,
                   f"{size_text(size)} is over Gmail's 102 KB clip limit; Gmail will hide the "
                   "end of the email, unsubscribe link included",
                   hint="move items to the next issue or shorten summaries",
                   severity="warning", rule=SIZE_RULE)
