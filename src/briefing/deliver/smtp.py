"""SMTP to a relay or submission server: STARTTLS or implicit TLS, verified, with AUTH."""

from __future__ import annotations

import ipaddress
import os
import re
import smtplib
import ssl
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
        try:
            if self.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                      context=self._context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            self._smtp = smtp
            smtp.ehlo()
            if self.scheme == "smtp":
                if smtp.has_extn("starttls"):
                    # smtplib's starttls() without a context does not verify certificates.
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                elif not self.insecure:
                    raise BriefingError(Problem(
                        self.name, 0, 0, "the server does not offer STARTTLS; refusing to send "
                                         "in clear text; nothing was sent",
                        "use smtps://, or --insecure for a local test server only"))
            if self.user:
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
            self.close()
            raise Lost(f"could not connect ({why(exc)})") from None

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
        try:
            for step, args in (("mail", (sender,)), ("rcpt", (recipient,))):
                code, text = getattr(smtp, step)(*args)
                if code not in (250, 251):
                    self._refused(smtp, code, text)
            handed_over = True  # from here on the server may have the message
            try:
                code, text = smtp.data(data)
            except smtplib.SMTPDataError as exc:  # no 354 after DATA
                self._refused(smtp, exc.smtp_code, exc.smtp_error)
            if code != 250:
                self._refused(smtp, code, text)
            return reply_text(code, text)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.close()
            raise Lost(f"lost the connection ({why(exc)})", maybe_delivered=handed_over) \
                from None

    def _refused(self, smtp: smtplib.SMTP, code: int, text: bytes | str) -> None:
        reply = reply_text(code, text)
        if code == 421 or code == -1:  # 421: the server is closing the connection (RFC 5321)
            self.close()
            raise Lost(f"the server closed the connection ({reply})")
        try:
            smtp.rset()  # end the failed transaction so the next recipient starts clean
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Lost(f"lost the connection ({why(exc)})") from None
        raise Rejected(reply, temporary=400 <= code < 500)

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


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
