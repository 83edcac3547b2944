"""The ready-to-send message.eml: multipart/alternative (digest, then HTML) with list headers."""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import re
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import format_datetime

from ..errors import BriefingError, Problem
from ..model import Issue

# Headers stay literal up to RFC 5322's hard limit of 998 octets, so a long List-Unsubscribe is
# never folded into an RFC 2047 encoded word (which Gmail then ignores).
POLICY = email.policy.default.clone(max_line_length=998)

EXPECTED_HEADERS = {
    "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
    "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
}


def message_id(issue: Issue) -> str:
    """The same issue of the same newsletter always gets the same id."""
    digest = hashlib.sha256(f"{issue.config.name}\n{issue.id}".encode()).hexdigest()[:16]
    return f"<{issue.id}.{digest}@{issue.config.sender.domain}>"


def list_id(issue: Issue) -> str:
    """RFC 2919: a phrase and a list-label under the sender's domain."""
    label = re.sub(r"[^a-z0-9]+", "-", issue.config.name.lower()).strip("-") or "briefing"
    return f"{issue.config.name} <{label}.{issue.config.sender.domain}>"


def list_unsubscribe(issue: Issue) -> str:
    config = issue.config
    value = f"<{config.unsubscribe_url}>"
    if config.unsubscribe_mailto:
        value += f", <{config.unsubscribe_mailto}>"
    return value


def to_header(issue: Issue) -> str:
    """One recipient is addressed directly; several never see each other: To is the list."""
    config = issue.config
    if len(config.recipients) == 1:
        return str(config.recipients[0])
    return str(config.list_address or config.sender)


def render_eml(issue: Issue, text: str, html: str) -> bytes:
    config = issue.config
    msg = EmailMessage(policy=POLICY)
    msg["From"] = str(config.sender)
    msg["To"] = to_header(issue)
    if config.reply_to:
        msg["Reply-To"] = str(config.reply_to)
    msg["Subject"] = issue.subject
    msg["Date"] = format_datetime(dt.datetime.combine(issue.date, dt.time(0, 0),
                                                      tzinfo=dt.timezone.utc))
    msg["Message-ID"] = message_id(issue)
    msg["List-Id"] = list_id(issue)
    msg["List-Unsubscribe"] = list_unsubscribe(issue)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058 one-click
    # Quoted-printable keeps every line under 78 octets and decodes back to the files exactly.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # A boundary from the content, not random: the same issue gives the same bytes. '=' cannot
    # occur in quoted-printable output, so the boundary can never collide with a body line.
    digest = hashlib.sha256(text.encode() + b"\0" + html.encode()).hexdigest()[:32]
    msg.set_boundary(f"=_briefing_{digest}")
    data = msg.as_bytes(policy=POLICY)
    _verify(data, issue)
    return data


def _verify(data: bytes, issue: Issue) -> None:
    """Re-parse what we wrote: the exact header set, no overlong line (CVE-2024-6923 defence)."""
    expected = EXPECTED_HEADERS | ({"Reply-To"} if issue.config.reply_to else set())
    parsed = message_from_bytes(data, policy=email.policy.default)
    names = set(parsed.keys())
    longest = max(len(line) for line in data.split(b"\n"))
    if names != expected or len(parsed.keys()) != len(expected) or longest > 998:
        raise BriefingError(Problem(
            f"out/{issue.id}/message.eml", 0, 0,
            "refusing to write a message whose headers did not survive a re-parse "
            f"(got {sorted(names ^ expected) or 'a line of ' + str(longest) + ' octets'})"))
