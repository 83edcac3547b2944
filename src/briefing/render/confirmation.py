"""The confirmation mail of a sign-up (double opt-in): plain text, one link, nothing else.

It goes to an address somebody typed into a form on the open web, perhaps a stranger's, so it
carries nothing the form's visitor wrote: not the name (sign-up forms are used to put spam in
front of strangers through the "Hello <name>" of a confirmation mail), not the page. Only the
newsletter's own words, the address itself and the link.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from ..content.model import Config
from .eml import BODY_POLICY, MAX_LINE, POLICY


def confirmation_text(config: Config, address: str, link: str, expires: dt.datetime) -> str:
    name = config.name
    until = expires.strftime("%d %B %Y, %H:%M UTC").lstrip("0")
    paragraphs = [
        f"Someone, probably you, asked to receive {name} at {address}.",
        "To confirm, open this link and press the button on the page:",
        link,  # never wrapped: on a line of its own, whole
        f"The link works until {until}. If you did not ask for this, ignore this message: "
        "you will not be subscribed and will hear nothing more from us.",
    ]
    body = "\n\n".join(p if p == link else textwrap.fill(p, 72, break_long_words=False,
                                                          break_on_hyphens=False)
                       for p in paragraphs)
    return f"{body}\n\n-- \n{name}\n{config.address}\n"


def confirmation_message(config: Config, address: str, link: str, expires: dt.datetime,
                         now: dt.datetime, message_id: str) -> bytes:
    """The whole message, headers and body, with LF line ends (the transport makes CRLF)."""
    message = EmailMessage(policy=BODY_POLICY)  # headers are folded by POLICY in as_bytes()
    sender = config.sender
    message["From"] = Address(sender.name, addr_spec=sender.address) if sender.name \
        else Address(addr_spec=sender.address)
    message["To"] = Address(addr_spec=address)
    message["Subject"] = f"Confirm your subscription to {config.name}"
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = message_id
    # RFC 3834 §5: sent by a program, not a person, so vacation responders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    body = confirmation_text(config, address, link, expires)
    # 7bit keeps the link on one line; a non-ASCII name, or a link past RFC 5322's 998 octets
    # (a long name sealed into the token), makes quoted-printable, whose soft line breaks every
    # mail client joins again before it finds the link.
    plain = body.isascii() and max(map(len, body.splitlines())) <= MAX_LINE
    message.set_content(body, cte="7bit" if plain else "quoted-printable")
    return message.as_bytes(policy=POLICY)
