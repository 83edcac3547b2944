"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the send tests: plain, STARTTLS, SMTPS, AUTH,
scripted replies per recipient and a dropped connection; it records every message it accepts."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # as it came over the wire (CRLF line ends, dots unstuffed)


@dataclass
class Behaviour:
    """What the server does: replies queued per recipient, and when to drop a connection."""

    replies: dict[str, list[str]] = field(default_factory=dict)  # RCPT address -> replies to use
    every_rcpt: str | None = None  # the reply to every RCPT ({address} is filled in), if set
    # RCPT address -> replies to the end of DATA (the message refused, not the address)
    data_replies: dict[str, list[str]] = field(default_factory=dict)
    drop_after: int | None = None  # close the connection at the RCPT after this many messages
    data_delay: float = 0.0  # seconds to wait before answering DATA (a slow relay)
    # called with the number of the message about to be accepted (1, 2, ...), before its 250
    on_data: Callable[[int], None] | None = None
    mail_froms: list[str] = field(default_factory=list)
    sessions: int = 0  # connections that said EHLO/HELO
    most_at_once: int = 0
    open_now: int = 0
    rcpt_attempts: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler:
    def __init__(self, behaviour: Behaviour) -> None:
        self.b = behaviour

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        b = self.b
        with b.lock:
            b.rcpt_attempts[address] = b.rcpt_attempts.get(address, 0) + 1
            if b.drop_after is not None and len(b.received) >= b.drop_after:
                b.drop_after = None  # once: the rerun finds the server up again
                server.transport.abort()  # the connection is gone mid-transaction
                return "421 4.3.0 dropping the connection"
            queue = b.replies.get(address)
            if queue:
                return queue.pop(0)
            if b.every_rcpt is not None:
                return b.every_rcpt.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.b.lock:
            self.b.sessions += 1
            self.b.open_now += 1
            self.b.most_at_once = max(self.b.most_at_once, self.b.open_now)
        session.host_name = hostname
        return responses

    async def handle_QUIT(self, server, session, envelope):
        with self.b.lock:
            self.b.open_now -= 1
        return "221 Bye"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.b.lock:
            self.b.mail_froms.append(address)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.b.data_delay:
            await asyncio.sleep(self.b.data_delay)
        with self.b.lock:
            for address in envelope.rcpt_tos:
                queue = self.b.data_replies.get(address)
                if queue:
                    return queue.pop(0)
            if self.b.on_data is not None:
                self.b.on_data(len(self.b.received) + 1)
            self.b.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                            bytes(envelope.original_content)))
            number = len(self.b.received)
        return f"250 2.0.0 OK queued as T{number}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command line."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class Server:
    """`with Server(...) as server:` runs an SMTP server on 127.0.0.1:server.port."""

    def __init__(self, *, starttls: tuple[Path, Path] | None = None,
                 smtps: tuple[Path, Path] | None = None,
                 auth: tuple[str, str] | None = None, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.port = free_port()
        kwargs: dict = {}
        if starttls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, starttls))
            kwargs.update(tls_context=context, require_starttls=True)
        if smtps:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, smtps))
            kwargs.update(ssl_context=context)
        if auth:
            user, password = auth

            def authenticator(server, session, envelope, mechanism, data):
                ok = (isinstance(data, LoginPassword) and data.login == user.encode()
                      and data.password == password.encode())
                if ok:
                    self.behaviour.logins.append(user)
                return AuthResult(success=ok, handled=False)

            # Over plain text only for the test without TLS; with STARTTLS, AUTH needs TLS.
            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=bool(starttls or smtps))
        self.controller = Controller(Handler(self.behaviour), hostname=HOST, port=self.port,
                                     ready_timeout=10, **kwargs)

    @property
    def received(self) -> list[Received]:
        return self.behaviour.received

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def __enter__(self) -> Server:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
