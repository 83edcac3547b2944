"""The one-click unsubscribe endpoint (RFC 8058): a WSGI app that records tokens and times only.

Deploy it your own way with any WSGI server:

    from briefing.subscribers.endpoint import make_app
    app = make_app("/srv/news/.briefing/events.jsonl")   # secret from $BRIEFING_EVENTS_SECRET

or run `briefing subscribers serve`, which runs it under waitress. It knows no reader: a token
is an HMAC that only `briefing subscribers sync`, with the key, maps back to an address. It
answers:

- POST /u/<token> with the body `List-Unsubscribe=One-Click`: records the token and the time
  (one JSON line, appended and fsynced) and answers 200 with a short page, never a redirect
  (RFC 8058 §3.2: the POST carries no cookies and no authorisation, and the mailbox provider
  does not follow redirects).
- GET /u/<token>: a page whose button makes that same POST. A GET never records anything: mail
  scanners and link previews fetch every URL in a message (RFC 8058 §1).
- GET /events: the recorded events, to a caller with `Authorization: Bearer <secret>` only; the
  secret comes from an environment variable, and without it /events does not exist.
- /s and /c/<token>: with `signup:` in briefing.yaml, the sign-up form and its confirmation
  links (signup_site.py), which record sign-ups and confirmations as events too.

An unknown or malformed token gets the same answer as a good one (a malformed one is not
recorded), so the endpoint tells nobody which tokens exist. Anything else is 404, 405 or 413.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from .store import now
from .tokens import well_formed

if TYPE_CHECKING:
    from ..content.validate import Project
    from .signup_site import MakeSender, SignupSite

SECRET_ENV = "BRIEFING_EVENTS_SECRET"
DEFAULT_EVENTS = ".briefing/events.jsonl"
MAX_BODY = 4096        # a one-click body is 26 bytes; a multipart one a few hundred
MAX_EVENTS_FILE = 64 * 1024 * 1024  # past this, refuse (503) rather than fill the disk
MIN_SECRET = 16
ONE_CLICK = ("List-Unsubscribe", "One-Click")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_STYLE = ("body{font:16px/1.5 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
          "max-width:32em;margin:3em auto;padding:0 1em;color:#1d232b;background:#fff}"
          "button{font:inherit;padding:.5em 1.2em;border:0;border-radius:4px;color:#fff;"
          "background:#1f5fbf;cursor:pointer}"
          "@media (prefers-color-scheme:dark){body{color:#e8eaed;background:#17191c}}")
# A strict policy: nothing loads, nothing runs, the only style is the one above (by its hash),
# forms post only back here, and no other site may frame the page (clickjacking a button
# that unsubscribes).
_CSP = ("default-src 'none'; style-src 'sha256-"
        + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
        + "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Robots-Tag", "noindex, nofollow"),
    ("Content-Security-Policy", _CSP),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
]
_TOKEN_PATH = re.compile(r"/u/([^/]*)")


class EventLog:
    """The append-only events file: one JSON line per recorded click, written whole and
    fsynced before the answer goes out, one writer at a time (threads of this process by a
    lock, other processes by flock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._recorded: set[str] = set()  # a token clicked twice is recorded once per process

    def create(self) -> None:
        """Make the (empty) file now, so a sync finds it before the first click and a folder
        that cannot be written shows at start, not at a reader's click."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW,
                         0o600))

    def record(self, token: str) -> None:
        with self._lock:
            if token in self._recorded:
                return
            self._append({"time": now(), "token": token})
            self._recorded.add(token)

    def append(self, entry: dict[str, Any]) -> None:
        """Record any event (the sign-up pages' too): one line, whole, fsynced."""
        with self._lock:
            self._append(entry)

    def _append(self, entry: dict[str, Any]) -> None:
        import fcntl
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW,
                     0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            start = os.fstat(fd).st_size
            if start > MAX_EVENTS_FILE:
                raise OSError(f"{self.path} is over {MAX_EVENTS_FILE} bytes: sync and "
                              "rotate it")
            try:
                written = 0
                while written < len(line):  # a short write (a full disk) is not success
                    written += os.write(fd, line[written:])
                os.fsync(fd)
            except OSError:
                # Never leave half a line for the next click to be glued to.
                os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)  # closing releases the flock

    def read(self) -> bytes:
        try:
            with open(self.path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return b""


def _page(title: str, body: str) -> bytes:
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n<h1>{html.escape(title)}</h1>\n{body}</main>\n</body>\n"
            "</html>\n").encode()


def _one_click(environ: dict[str, Any], body: bytes) -> bool:
    """Whether the body holds List-Unsubscribe=One-Click. RFC 8058 §3.2: sent as
    multipart/form-data or application/x-www-form-urlencoded (what Gmail sends)."""
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.lower().startswith("multipart/form-data"):
        try:
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                value = part.get_payload(decode=True)
                if name == ONE_CLICK[0] and isinstance(value, bytes) \
                        and value.strip() == ONE_CLICK[1].encode():
                    return True
        except Exception:  # a malformed multipart body is not a one-click request
            return False
        return False
    try:
        fields = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return False
    return ONE_CLICK in fields


def make_app(events_path: str | os.PathLike[str] = DEFAULT_EVENTS,
             secret_env: str = SECRET_ENV, newsletter: str = "",
             signup: Callable[[EventLog], SignupSite] | None = None) -> WSGIApp:
    """The endpoint as a WSGI application. The events file is created (0600, empty) now; the
    /events secret is read from `secret_env` now, once. With `signup` (signup_site.py's
    `SignupPages`), it serves the sign-up pages too."""
    log = EventLog(Path(events_path))
    log.create()
    site = signup(log) if signup is not None else None
    secret = os.environ.get(secret_env, "")
    if secret and len(secret) < MIN_SECRET:
        raise ValueError(f"${secret_env} is shorter than {MIN_SECRET} characters")
    name = newsletter or "this newsletter"
    ask = _page("Unsubscribe?", (
        f"<p>Press the button to stop receiving {html.escape(name)}.</p>\n"
        # No action attribute: the form posts to this very URL, whatever path a proxy
        # mounted the endpoint under. The body is exactly List-Unsubscribe=One-Click.
        "<form method=\"post\">\n<input type=\"hidden\" name=\"List-Unsubscribe\" "
        "value=\"One-Click\">\n<button type=\"submit\">Unsubscribe</button>\n</form>\n"))
    done = _page("Unsubscribed", (
        f"<p>You will not receive {html.escape(name)} any more. Your request is applied "
        "before the next issue is sent.</p>\n"))
    not_one_click = _page("Not an unsubscribe request", (
        "<p>This address takes one-click unsubscribe requests (RFC 8058) only.</p>\n"))
    failed = _page("Please try again later", (
        "<p>Your request could not be saved just now. Please try again in a few "
        "minutes.</p>\n"))

    def respond(start_response: StartResponse, status: str, body: bytes,
                content_type: str = "text/html; charset=utf-8", head: bool = False,
                extra: list[tuple[str, str]] | None = None) -> list[bytes]:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response(status, headers + _HEADERS + (extra or []))
        return [] if head else [body]

    def plain(start_response: StartResponse, status: str, text: str,
              extra: list[tuple[str, str]] | None = None) -> list[bytes]:
        return respond(start_response, status, (text + "\n").encode(),
                       "text/plain; charset=utf-8", extra=extra)

    def unsubscribe(environ: dict[str, Any], start_response: StartResponse,
                    token: str) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if method in ("GET", "HEAD"):
            return respond(start_response, "200 OK", ask, head=method == "HEAD")
        if method != "POST":
            return plain(start_response, "405 Method Not Allowed", "method not allowed",
                         [("Allow", "GET, HEAD, POST")])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return plain(start_response, "400 Bad Request", "bad Content-Length")
        if length > MAX_BODY or length < 0:
            return plain(start_response, "413 Content Too Large", "request body too large")
        body = environ["wsgi.input"].read(length) if length else b""
        if not _one_click(environ, body):
            return respond(start_response, "400 Bad Request", not_one_click)
        if well_formed(token):  # a malformed token cannot be anyone's: nothing to record
            try:
                log.record(token)
            except OSError as exc:
                print(f"briefing endpoint: cannot record an unsubscribe: {exc}",
                      file=environ.get("wsgi.errors", sys.stderr))
                return respond(start_response, "503 Service Unavailable", failed,
                               extra=[("Retry-After", "300")])
        return respond(start_response, "200 OK", done)

    def events(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if method not in ("GET", "HEAD"):
            return plain(start_response, "405 Method Not Allowed", "method not allowed",
                         [("Allow", "GET, HEAD")])
        given = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                credentials.strip().encode("utf-8", "replace"), secret.encode("utf-8")):
            return plain(start_response, "401 Unauthorized", "a bearer secret is needed",
                         [("WWW-Authenticate", 'Bearer realm="briefing events"')])
        return respond(start_response, "200 OK", log.read(),
                       "application/x-ndjson; charset=utf-8", head=method == "HEAD")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            path = environ.get("PATH_INFO", "") or "/"
            match = _TOKEN_PATH.fullmatch(path)
            if match:
                return unsubscribe(environ, start_response, match.group(1))
            if site is not None and site.handles(path):  # /s and /c/<token>
                return site(environ, start_response)
            if path == "/events" and secret:
                return events(environ, start_response)
            return plain(start_response, "404 Not Found", "not found")
        except Exception as exc:  # never let bad input take the server down
            print(f"briefing endpoint: internal error: {type(exc).__name__}: {exc}",
                  file=environ.get("wsgi.errors", sys.stderr))
            try:
                return plain(start_response, "500 Internal Server Error", "internal error")
            except Exception:  # start_response was already called: nothing more to say
                return []

    return app


def serve_project(project: Project, host: str, port: int, events: str | None,
                  on_ready: Callable[[list[str]], None],
                  make_sender: MakeSender | None = None) -> None:
    """`briefing subscribers serve`: the endpoint for this project under waitress, until
    Ctrl-C or SIGTERM. briefing.yaml is optional (an endpoint host may have only this); with
    its `signup:`, the sign-up pages too, mailing through `make_sender`'s transport."""
    from ..content.schema import check_state_path
    from ..content.validate import load_config
    from ..errors import BriefingError, Problem

    config = load_config(project) if project.config_path.is_file() else None
    secret_env = config.sync.events_secret_env if config else SECRET_ENV
    where = "--events"
    if events is None:
        configured = config.sync.events if config else ""
        events, where = ((configured, "briefing.yaml sync.events")
                         if configured and "://" not in configured else (DEFAULT_EVENTS, ""))
    if "://" in events:
        raise BriefingError(Problem(where, 0, 0, f"'{events}' is a URL; the endpoint writes "
                                    "its events to a file", f"for example {DEFAULT_EVENTS}"))
    try:  # private like the store: inside the project, never under the published out/
        check_state_path(events)
    except ValueError as exc:
        message, _, hint = str(exc).partition("|")
        raise BriefingError(Problem(where or events, 0, 0, f"the events file {message}",
                                    hint)) from None
    pages = None
    if config is not None and config.signup is not None:
        from .signup_site import SignupPages
        pages = SignupPages(project.root, config, make_sender)  # its keys and transport, now
    try:
        app = make_app(project.root / events, secret_env, config.name if config else "",
                       signup=pages)
    except ValueError as exc:
        raise BriefingError(Problem(f"${secret_env}", 0, 0, str(exc).split(" ", 1)[1],
                                    "use a long random value, e.g. from 'openssl rand -hex "
                                    "32'")) from None
    except OSError as exc:
        raise BriefingError(Problem(events, 0, 0, f"cannot create the events file: "
                                    f"{exc.strerror}")) from None
    secret_on = bool(os.environ.get(secret_env))

    def ready(bound_host: str, bound_port: int) -> None:
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        on_ready([
            f"one-click unsubscribe endpoint on http://{shown_host}:{bound_port}/u/<token> "
            "(waitress; publish it behind an https proxy)",
            f"events:  {events} (tokens and times only)",
            f"/events: on, for a caller with the bearer secret in ${secret_env}" if secret_on
            else f"/events: off (set ${secret_env} to let 'briefing subscribers sync' fetch "
                 "the events over https)",
            *([pages.describe(f"http://{shown_host}:{bound_port}")] if pages else []),
            "Ctrl-C stops it",
        ])

    try:
        serve(app, host, port, ready)
    except OSError as exc:
        raise BriefingError(Problem("serve", 0, 0, f"cannot listen on {host}:{port}: "
                                    f"{exc.strerror or exc}")) from None
    finally:
        if pages is not None:
            pages.close()  # the confirmation mails already promised go out first


def serve(app: WSGIApp, host: str, port: int,
          on_ready: Callable[[str, int], None]) -> None:
    """Run the app under waitress until Ctrl-C or SIGTERM. Imported only here: waitress
    costs nothing to commands that do not serve."""
    import signal

    from waitress import create_server

    server = create_server(
        app, host=host, port=port, threads=4, ident="briefing",
        # waitress refuses bodies past this itself (413), before the app reads a byte.
        max_request_body_size=MAX_BODY, max_request_header_size=16 * 1024,
        expose_tracebacks=False, channel_timeout=30, connection_limit=200,
        clear_untrusted_proxy_headers=True)

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        # One listening socket has effective_host/port; a name with several addresses
        # (localhost: 127.0.0.1 and ::1) gives a server listing them all.
        listen = getattr(server, "effective_listen", None) or [
            (server.effective_host, server.effective_port)]
        on_ready(str(listen[0][0]), int(listen[0][1]))
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
