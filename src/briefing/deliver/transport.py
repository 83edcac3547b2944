"""What every transport promises: deliver one copy, or say why not (refused, or lost)."""

from __future__ import annotations

import smtplib
import socket
from typing import Protocol

MAX_ATTEMPTS = 4          # per recipient, for temporary (4xx) failures
MAX_DELAY = 60.0          # seconds: the backoff never waits longer than this between attempts
MAX_FAILURES_IN_A_ROW = 5  # then the transport (or the sender address) is broken: stop


class Rejected(Exception):
    """The server (or command) refused this recipient; `temporary` when it may work later.

    `stage` says what was refused: "rcpt" (the address itself: a permanent refusal there is a
    bounce), "mail" (the sender), "data" (this message, not the address) or "command"."""

    def __init__(self, reply: str, temporary: bool, stage: str = "data") -> None:
        super().__init__(reply)
        self.reply = reply
        self.temporary = temporary
        self.stage = stage


class Lost(Exception):
    """The transport itself failed (connection refused, dropped, timed out): stop the run.

    `maybe_delivered`: it failed after the message itself was handed over (during or after
    DATA, or while the command ran), so the reader may have it; before that, certainly not."""

    def __init__(self, reason: str, maybe_delivered: bool = False) -> None:
        super().__init__(reason)
        self.maybe_delivered = maybe_delivered


class Transport(Protocol):
    @property
    def name(self) -> str: ...

    def describe(self) -> str: ...

    def another(self) -> Transport:
        """A fresh, unopened copy with the same settings: one per connection."""
        ...

    def open(self) -> None: ...

    def deliver(self, sender: str, recipient: str, data: bytes) -> str: ...

    def close(self) -> None: ...


def reply_text(code: int, text: bytes | str) -> str:
    """A server's reply as one printable line: a hostile server's control characters (a
    terminal escape, say) never reach the editor's terminal or the ledger."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(f"{code} {text}".split())[:500]


def why(exc: BaseException) -> str:
    """A short reason: 'connection refused', 'timed out', the server's words."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return reply_text(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPServerDisconnected) and str(exc).endswith("timed out"):
        return "timed out"  # smtplib reports a read timeout as a disconnection
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    text = str(exc) or type(exc).__name__
    return text[0].lower() + text[1:] if text else text
