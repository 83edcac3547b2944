"""The confirmation mail's way out: the SMTP settings `send` uses, one short session a mail."""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..content.model import Config
from ..errors import BriefingError, Problem
from .smtp import smtp_transport

TIMEOUT = 30.0


def confirmation_sender(config: Config, url: str | None, insecure: bool,
                        timeout: float = TIMEOUT) -> tuple[Callable[[str, bytes], None], str]:
    """A function that sends one confirmation mail (raising the transport's Rejected or Lost,
    or BriefingError, when it cannot), and the transport in words for the banner. Everything
    that can be checked before the first sign-up (the URL, the password variable) is checked
    now."""
    chosen = url or config.smtp.url
    if not chosen:
        raise BriefingError(Problem(
            "briefing.yaml", 0, 0, "signup: needs a way to send the confirmation mail, and "
                                   "there is no smtp.url",
            "set smtp.url (send uses it too), or pass --smtp smtp://host:587"))
    transport = smtp_transport(chosen, config, insecure, timeout,
                               "--smtp" if url else "briefing.yaml smtp.url")
    lock = threading.Lock()  # one session at a time: at most signup.hourly_cap an hour
    # A confirmation goes to no reader yet, so it has no token for a VERP bounce_address
    # (bounces+{token}@...): its bounces go to the same mailbox, under a name no token has,
    # and sync reports them as proving nothing about a reader.
    envelope = config.envelope_sender.replace("{token}", "confirm")

    def send(address: str, data: bytes) -> None:
        with lock:
            session = transport.another()
            session.open()
            try:
                session.deliver(envelope, address, data)
            finally:
                session.close()

    return send, transport.name
