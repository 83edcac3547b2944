"""The correction notice of a sent issue (docs/record.md): a short message, text and HTML, built
like message.eml (list headers, the token placeholder in its footer) so that `send --correction`
makes each reader's copy from it by the same substitution."""

from __future__ import annotations

import datetime as dt
import hashlib
from email.message import EmailMessage
from email.utils import format_datetime

from ..content.dates import day_month_year, long_date
from ..content.model import Code, Correction, Emphasis, Issue, Link, Span, Strong, Text
from ..content.record import web_link
from .eml import (
    BODY_POLICY,
    POLICY,
    _address,
    _text_part,
    list_id,
    message_id,
    to_mailbox,
)
from .text import RULE, WIDTH
from .wrap import wrap

TEMPLATE = "correction-notice.html.j2"


def notice_subject(issue: Issue) -> str:
    return f"Correction: {issue.subject}"


def notice_message_id(issue: Issue, corrections: tuple[Correction, ...]) -> str:
    """<ISSUE+correction.HASH@domain>: one id per issue and set of corrections."""
    left, _, domain = message_id(issue).strip("<>").partition("@")
    left = left.rsplit(".", 1)[0]
    keys = "\0".join(f"{c.date.isoformat()}\0{c.item}\0{c.text_source}" for c in corrections)
    digest = hashlib.sha256(f"{issue.config.name}\n{issue.id}\n{keys}".encode()).hexdigest()
    return f"<{left}+correction.{digest[:16]}@{domain}>"


def _flat(spans: tuple[Span, ...]) -> str:
    """Inline Markdown as plain text, each link's address after its text."""
    out: list[str] = []
    for span in spans:
        if isinstance(span, (Text, Code)):
            out.append(span.text)
        elif isinstance(span, (Emphasis, Strong)):
            out.append(_flat(span.children))
        elif isinstance(span, Link):
            out.append(f"{_flat(span.children)} <{span.url}>")
    return "".join(out)


def _anchor_of(issue: Issue, headline: str) -> str:
    from ..content.corrections import item_anchors
    anchors = item_anchors([(s.theme.id, [i.headline for i in s.items]) for s in issue.sections])
    for section, section_anchors in zip(issue.sections, anchors, strict=True):
        for item, anchor in zip(section.items, section_anchors, strict=True):
            if item.headline == headline:
                return anchor
    return ""


def notice_context(issue: Issue, corrections: tuple[Correction, ...]) -> dict:
    """What the notice says: the issue it corrects and each correction with its link."""
    config = issue.config
    return {
        "issue": issue, "config": config, "brand": config.brand,
        "corrections": [{"correction": c, "link": web_link(
            config.archive_url, issue.id, _anchor_of(issue, c.item))} for c in corrections],
    }


def render_notice_text(issue: Issue, corrections: tuple[Correction, ...]) -> str:
    config = issue.config
    lines = wrap(config.name.upper(), WIDTH) + [RULE, ""]
    lines += wrap(f"A correction to {issue.title} ({issue.id}, {day_month_year(issue.date)}), "
                  "which you received:", WIDTH)
    for entry in notice_context(issue, corrections)["corrections"]:
        c = entry["correction"]
        lines += [""] + wrap(c.item, WIDTH, "• ", "  ")
        lines += wrap(f"Correction, {long_date(c.date)}: {_flat(c.text)}", WIDTH, "  ", "  ")
        if c.source is not None:
            lines += wrap(f"Source: {c.source.title}, {c.source.publisher}", WIDTH, "  ", "  ")
            lines.append("  " + c.source.url)
        if entry["link"]:
            lines.append("  " + entry["link"])
    lines += ["", RULE]
    lines += wrap(f"You are receiving this because you received {config.name} {issue.id}.",
                  WIDTH)
    lines.append(f"Unsubscribe: {config.unsubscribe_url}")
    lines += wrap(config.address, WIDTH)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_notice(issue: Issue, corrections: tuple[Correction, ...],
                  templates=None) -> bytes:
    """The notice as a message: multipart/alternative, with From, To, Subject, Date (the latest
    correction's, never the clock), Message-ID and List-Id, like message.eml."""
    from .templates import environment, render_template
    text = render_notice_text(issue, corrections)
    html = render_template(environment(templates), TEMPLATE, notice_context(issue, corrections))
    config = issue.config
    msg = EmailMessage(policy=BODY_POLICY)
    msg["From"] = _address(config.sender)
    msg["To"] = _address(to_mailbox(issue))
    if config.reply_to:
        msg["Reply-To"] = _address(config.reply_to)
    msg["Subject"] = notice_subject(issue)
    latest = max(c.date for c in corrections)
    msg["Date"] = format_datetime(dt.datetime.combine(latest, dt.time(0, 0), tzinfo=dt.UTC))
    msg["Message-ID"] = notice_message_id(issue, corrections)
    msg["List-Id"] = list_id(issue)
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = "multipart/alternative"
    msg.attach(_text_part(text, "plain"))  # type: ignore[arg-type]
    msg.attach(_text_part(html, "html"))  # type: ignore[arg-type]
    digest = hashlib.sha256(text.encode() + b"\0" + html.encode()).hexdigest()[:32]
    msg.set_boundary(f"=_briefing_{digest}")
    return msg.as_bytes(policy=POLICY)
