"""SMTP to a relay or submission server: STARTTLS or implicit TLS, verified, with AUTH."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..content.model import Config
from ..errors import BriefingError, Problem
from .transport import Lost, Rejected, reply_text, why

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


@dataclass
class SmtpTransport:
    """One connection, one SMTP transaction (MAIL, RCPT, DATA) per recipient."""

    scheme: str
    host: str
    port: int
    user: str
    password_env: str
    insecure: bool
    timeout: float
    _password: str = field(default="", repr=False)  # never printed, never logged
    _smtp: smtplib.SMTP | None = field(default=None, repr=False)
    _watchdog: _Watchdog | None = field(default=None, repr=False)

    def another(self) -> SmtpTransport:
        return dataclasses.replace(self, _smtp=None, _watchdog=None)

    @property
    def name(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def describe(self) -> str:
        if self.scheme == "smtps":
            tls = "implicit TLS"
        else:
            tls = "STARTTLS if offered, else plain text (--insecure)" if self.insecure \
                else "STARTTLS required"
        tls += ", certificate not verified (--insecure)" if self.insecure \
            else ", certificate verified"
        auth = (f"AUTH as {self.user} (password from ${self.password_env})" if self.user
                else "no AUTH (no smtp.user in briefing.yaml)")
        return f"{self.name}, {tls}, {auth}"

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()  # verifies the chain and the host name
        if self.insecure:  # a local test server with a self-signed certificate, nothing else
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def open(self) -> None:
        self._watchdog = _Watchdog(self.timeout)
        try:
            # Created unconnected, so the watchdog holds it before the greeting is read: a
            # server that sends an endless "220-" greeting, or drips a byte at a time, never
            # trips the per-read timeout but does trip the deadline of the step.
            if self.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(timeout=self.timeout,
                                                      context=self._context())
            else:
                smtp = smtplib.SMTP(timeout=self.timeout)
            self._smtp = smtp
            smtp._host = self.host  # type: ignore[attr-defined]  # TLS SNI and name check
            with self._watchdog.step(smtp):
                code, text = smtp.connect(self.host, self.port)
                if code != 220:
                    raise smtplib.SMTPConnectError(code, text)
            with self._watchdog.step(smtp):
                smtp.ehlo()
            if self.scheme == "smtp":
                if smtp.has_extn("starttls"):
                    # smtplib's starttls() without a context does not verify certificates.
                    with self._watchdog.step(smtp):
                        smtp.starttls(context=self._context())
                        smtp.ehlo()
                elif not self.insecure:
                    raise BriefingError(Problem(
                        self.name, 0, 0, "the server does not offer STARTTLS; refusing to send "
                                         "in clear text; nothing was sent",
                        "use smtps://, or --insecure for a local test server only"))
            if self.user:
                with self._watchdog.step(smtp):
                    self._login(smtp)
        except BriefingError:
            self.close()
            raise
        except ssl.SSLCertVerificationError as exc:
            self.close()
            reason = exc.verify_message or str(exc)
            raise BriefingError(Problem(
                self.name, 0, 0, f"the server's TLS certificate could not be verified "
                                 f"({reason}); nothing was sent",
                "give the server a certificate a public CA signed; --insecure skips the check, "
                "for a local test server only")) from None
        except (OSError, smtplib.SMTPException) as exc:
            timed_out = self._watchdog.fired
            self.close()
            raise Lost(f"could not connect ({'timed out' if timed_out else why(exc)})") \
                from None

    def _login(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.login(self.user, self._password)
        except smtplib.SMTPAuthenticationError as exc:
            raise BriefingError(Problem(
                self.name, 0, 0, f"the server refused the login of '{self.user}': "
                                 f"{reply_text(exc.smtp_code, exc.smtp_error)}; nothing was sent",
                f"check the password in ${self.password_env}")) from None
        except smtplib.SMTPNotSupportedError:
            raise BriefingError(Problem(
                self.name, 0, 0, f"the server does not offer AUTH, but smtp.user is "
                                 f"'{self.user}'; nothing was sent",
                "remove smtp.user from briefing.yaml if the server needs no login")) from None

    def deliver(self, sender: str, recipient: str, data: bytes) -> str:
        smtp = self._smtp
        assert smtp is not None
        # The file has LF line ends; SMTP needs CRLF, and smtplib leaves bytes as they are.
        data = data.replace(b"\n", b"\r\n") if b"\r" not in data else \
            re.sub(rb"\r?\n", b"\r\n", data)
        handed_over = False
        watchdog = self._watchdog
        assert watchdog is not None
        try:
            for step, args in (("mail", (sender,)), ("rcpt", (recipient,))):
                with watchdog.step(smtp):
                    code, text = getattr(smtp, step)(*args)
                if code not in (250, 251):
                    self._refused(smtp, code, text, step)
            handed_over = True  # from here on the server may have the message
            try:
                with watchdog.step(smtp):
                    code, text = smtp.data(data)
            except smtplib.SMTPDataError as exc:  # no 354 after DATA
                self._refused(smtp, exc.smtp_code, exc.smtp_error, "data")
            if code != 250:
                self._refused(smtp, code, text, "data")
            return reply_text(code, text)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            reason = "timed out" if watchdog.fired else why(exc)
            self.close()
            raise Lost(f"lost the connection ({reason})", maybe_delivered=handed_over) \
                from None

    def _refused(self, smtp: smtplib.SMTP, code: int, text: bytes | str, stage: str) -> None:
        reply = reply_text(code, text)
        if code == 421 or code == -1:  # 421: the server is closing the connection (RFC 5321)
            self.close()
            raise Lost(f"the server closed the connection ({reply})")
        try:
            assert self._watchdog is not None
            with self._watchdog.step(smtp):
                smtp.rset()  # end the failed transaction so the next recipient starts clean
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Lost(f"lost the connection ({why(exc)})") from None
        raise Rejected(reply, temporary=400 <= code < 500, stage=stage)

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        watchdog, self._watchdog = self._watchdog, None
        if smtp is not None:
            try:
                if watchdog is not None and not watchdog.fired:
                    with watchdog.step(smtp):
                        smtp.quit()
                else:
                    smtp.close()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        if watchdog is not None:
            watchdog.stop()


class _Watchdog:
    """A deadline for each SMTP step (greeting, EHLO, MAIL, RCPT, DATA...), not only for each
    read: smtplib's timeout applies per socket read, so a server dripping one byte at a time,
    or sending an endless multi-line greeting, would hold a send for ever. One thread per
    connection checks the deadline and shuts the socket down when it passes; the blocked read
    then fails and the step is reported as timed out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._deadline = 0.0  # 0: no step running
        self._smtp: smtplib.SMTP | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True,
                                        name="briefing-smtp-deadline")
        self._thread.start()

    def step(self, smtp: smtplib.SMTP) -> _Step:
        return _Step(self, smtp)

    def _watch(self) -> None:
        while not self._stopped.wait(min(0.05, self.seconds / 4)):
            deadline, smtp = self._deadline, self._smtp
            if deadline and time.monotonic() > deadline and smtp is not None:
                self.fired = True
                sock = getattr(smtp, "sock", None)
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                self._deadline = 0.0

    def stop(self) -> None:
        self._stopped.set()


class _Step:
    def __init__(self, watchdog: _Watchdog, smtp: smtplib.SMTP) -> None:
        self.watchdog, self.smtp = watchdog, smtp

    def __enter__(self) -> None:
        self.watchdog._smtp = self.smtp
        self.watchdog._deadline = time.monotonic() + self.watchdog.seconds

    def __exit__(self, *exc: object) -> None:
        self.watchdog._deadline = 0.0


def smtp_transport(url: str, config: Config, insecure: bool, timeout: float,
                   where: str) -> SmtpTransport:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/")
            or parts.query or parts.fragment or port == -1 or port == 0):
        raise BriefingError(Problem(where, 0, 0, f"'{url}' is not an SMTP URL",
                                    "write smtp://host:587 (STARTTLS) or smtps://host:465"))
    if "@" in parts.netloc:
        raise BriefingError(Problem(where, 0, 0, f"'{url}' holds a user name or password",
                                    "put the user in smtp.user in briefing.yaml and the "
                                    "password in an environment variable"))
    if insecure and not _loopback(parts.hostname):
        raise BriefingError(Problem(
            "--insecure", 0, 0, f"is for a local test server only, not {parts.hostname}",
            "leave it out; a real server needs a certificate that verifies"))
    smtp = config.smtp
    transport = SmtpTransport(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme],
                              smtp.user, smtp.password_env, insecure, timeout)
    if smtp.user:
        password = os.environ.get(smtp.password_env, "")
        if not password:
            raise BriefingError(Problem(
                "briefing.yaml", 0, 0, f"smtp.user is '{smtp.user}' but ${smtp.password_env} "
                                       "is not set",
                f"export the password as {smtp.password_env}; it never goes in briefing.yaml"))
        transport._password = password
    return transport


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
