"""The one-click unsubscribe endpoint (RFC 8058): a WSGI app that records tokens and times only.

Deploy it your own way with any WSGI server:

    from briefing.subscribers.endpoint import make_app
    app = make_app("/srv/news/.briefing/events.jsonl",      # secret from $BRIEFING_EVENTS_SECRET
                   key="/srv/news/.briefing/endpoint.key")

or run `briefing subscribers serve`, which runs it under waitress (subscribers/serve.py). It
knows no reader. The endpoint key (subscribers/identity.py) lets it check that a token is one
this list made (subscribers/tokens.py), without being able to make one or say whose it is:

- POST /u/<token> with the body `List-Unsubscribe=One-Click`: records the token and the time
  (one JSON line, appended and fsynced; a token at most once a day) and answers 200 with a short
  page, never a redirect (RFC 8058 §3.2: the POST carries no cookies and no authorisation).
- GET /u/<token>: a page whose button makes that same POST. A GET never records anything: mail
  scanners and link previews fetch every URL in a message (RFC 8058 §1).
- /u/ARCHIVE-COPY-NOT-A-TOKEN, the link in the public copy: a page saying so and how to
  unsubscribe; nothing recorded.
- A token that fails the check (made up, or cut short on the way): 404 with a page saying the
  link is not valid; nothing recorded. So forged requests can neither fill the disk nor crowd
  out real clicks.
- GET /events: the recorded events, to a caller with `Authorization: Bearer <secret>` only; the
  secret comes from an environment variable, and without it /events does not exist.
- /s and /c/<token>: with `signup:` in briefing.yaml, the sign-up form and its confirmation
  links (signup_site.py), which record sign-ups and confirmations as events too.
- /p/<token>: the preference page, where a reader chooses their themes
  (subscribers/prefpage.py), served when the newsletter's themes are given.

Routes are a table (ROUTES): a new page joins it as a pattern and a handler.
"""

from __future__ import annotations

import hmac
import html
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ..content.model import Theme
from .csp import strict_csp
from .identity import EndpointKey, read_endpoint_key
from .prefpage import preferences
from .store import now
from .themelink import LinkSigner
from .tokens import checks, is_placeholder, legacy_hash, well_formed

SECRET_ENV = "BRIEFING_EVENTS_SECRET"
DEFAULT_EVENTS = ".briefing/events.jsonl"
MAX_BODY = 4096        # a one-click body is 26 bytes; a multipart one a few hundred
# Only checked tokens are written, each at most once a day: a real list stays far below this.
MAX_EVENTS_FILE = 64 * 1024 * 1024
MIN_SECRET = 16
CHOICES_PER_DAY = 20   # theme choices recorded per token and day (subscribers/prefpage.py)
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
_CSP = strict_csp(_STYLE)
_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Robots-Tag", "noindex, nofollow"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
]


class EventLog:
    """The append-only events file: one JSON line per recorded event (a click, a theme choice,
    a sign-up, a confirmation), written whole and fsynced before the answer goes out, one
    writer at a time (threads of this process by a lock, other processes by flock). A token's
    click is written at most once a day (UTC), also across restarts (the file is read at
    start): a click repeated, or replayed, adds nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._recorded: dict[str, str] = {}  # token -> the last day it was written
        # token -> (day, theme choices written that day, the last one): subscribers/prefpage.py
        self._choices: dict[str, tuple[str, int, str]] = {}

    def create(self) -> None:
        """Make the (empty) file now, so a sync finds it before the first click and a folder
        that cannot be written shows at start, not at a reader's click."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW,
                         0o600))
        for line in self.read().splitlines():
            try:
                entry = json.loads(line)
                token, day = str(entry["token"]), str(entry["time"])[:10]
                if entry.get("kind", "unsubscribe") == "unsubscribe":
                    self._recorded[token] = day
                elif entry.get("kind") == "themes":
                    seen_day, written, _ = self._choices.get(token, ("", 0, ""))
                    written = written + 1 if seen_day == day else 1
                    self._choices[token] = (day, written, str(entry.get("themes")))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # sync reports such a line

    def record(self, token: str) -> None:
        with self._lock:
            time = now()
            if self._recorded.get(token) == time[:10]:
                return
            self._write({"time": time, "token": token})
            self._recorded[token] = time[:10]

    def record_choice(self, token: str, themes: str, offered: str) -> bool:
        """A theme choice from the preference page; False (nothing written) past
        CHOICES_PER_DAY for the token today. The same choice again the same day adds nothing."""
        with self._lock:
            time = now()
            day, written, last = self._choices.get(token, ("", 0, ""))
            if day != time[:10]:
                written, last = 0, ""
            if last == themes:
                return True
            if written >= CHOICES_PER_DAY:
                return False
            self._write({"kind": "themes", "offered": offered, "themes": themes,
                         "time": time, "token": token})
            self._choices[token] = (time[:10], written + 1, themes)
            return True

    def append(self, entry: dict[str, Any]) -> None:
        """Record an event of another kind (the sign-up pages'), whole and fsynced."""
        with self._lock:
            self._write(entry)

    def _write(self, entry: dict[str, Any]) -> None:
        """One JSON line, written whole and fsynced, or nothing; hold self._lock."""
        import fcntl
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            start = os.fstat(fd).st_size
            if start > MAX_EVENTS_FILE:
                raise OSError(f"{self.path} is over {MAX_EVENTS_FILE} bytes: sync and rotate it")
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


@dataclass
class Endpoint:
    """What the routes share: the log, the key, the secret, the pages; for the preference
    page (subscribers/prefpage.py) the newsletter's themes and the link signer."""

    log: EventLog
    key: EndpointKey
    secret: str
    pages: dict[str, bytes]
    newsletter: str = ""
    themes: tuple[Theme, ...] = ()
    signup: Any = None  # signup_site.SignupSite, with signup: in briefing.yaml
    signer: LinkSigner = field(init=False)

    def __post_init__(self) -> None:
        self.signer = LinkSigner(self.key.check)

    def genuine(self, token: str) -> bool:
        """A token this list made: its check holds, or it is one sent before the check."""
        return well_formed(token) and (checks(self.key.check, token)
                                       or legacy_hash(token) in self.key.legacy)

    def respond(self, start_response: StartResponse, status: str, body: bytes,
                content_type: str = "text/html; charset=utf-8", head: bool = False,
                extra: list[tuple[str, str]] | None = None, csp: str = _CSP) -> list[bytes]:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response(status, headers + _HEADERS + [("Content-Security-Policy", csp)]
                       + (extra or []))
        return [] if head else [body]

    def plain(self, start_response: StartResponse, status: str, text: str,
              extra: list[tuple[str, str]] | None = None) -> list[bytes]:
        return self.respond(start_response, status, (text + "\n").encode(),
                            "text/plain; charset=utf-8", extra=extra)


def _pages(newsletter: str) -> dict[str, bytes]:
    name = html.escape(newsletter or "this newsletter")
    how = ("use the unsubscribe link at the bottom of an issue in your own inbox, or your mail "
           "program's Unsubscribe button")
    return {
        "ask": _page("Unsubscribe?", (
            f"<p>Press the button to stop receiving {name}.</p>\n"
            # No action attribute: the form posts to this very URL, whatever path a proxy
            # mounted the endpoint under. The body is exactly List-Unsubscribe=One-Click.
            "<form method=\"post\">\n<input type=\"hidden\" name=\"List-Unsubscribe\" "
            "value=\"One-Click\">\n<button type=\"submit\">Unsubscribe</button>\n</form>\n")),
        "done": _page("Unsubscribed", (
            f"<p>You will not receive {name} any more. Your request is applied before the next "
            "issue is sent.</p>\n")),
        "archive": _page("This is the public copy", (
            f"<p>This link is in the public copy of {name} (its web archive, or a copy "
            "forwarded to you), which belongs to no reader, so it cannot unsubscribe anyone. "
            "Nothing was changed.</p>\n"
            f"<p>To stop receiving {name}, {how}.</p>\n")),
        "invalid": _page("This link is not valid", (
            "<p>This unsubscribe link is not one this newsletter made: it may have been cut "
            "short or changed on the way. Nothing was changed.</p>\n"
            f"<p>To stop receiving {name}, {how}.</p>\n")),
        "not one-click": _page("Not an unsubscribe request", (
            "<p>This address takes one-click unsubscribe requests (RFC 8058) only.</p>\n")),
        "failed": _page("Please try again later", (
            "<p>Your request could not be saved just now. Please try again in a few "
            "minutes.</p>\n")),
    }


def _unsubscribe(ep: Endpoint, environ: dict[str, Any], start_response: StartResponse,
                 match: re.Match[str]) -> list[bytes]:
    token = match.group(1)
    method = environ.get("REQUEST_METHOD", "")
    if method not in ("GET", "HEAD", "POST"):
        return ep.plain(start_response, "405 Method Not Allowed", "method not allowed",
                        [("Allow", "GET, HEAD, POST")])
    head = method == "HEAD"
    if is_placeholder(token):
        return ep.respond(start_response, "200 OK", ep.pages["archive"], head=head)
    genuine = ep.genuine(token)
    if method != "POST":
        return ep.respond(start_response, "200 OK" if genuine else "404 Not Found",
                          ep.pages["ask" if genuine else "invalid"], head=head)
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return ep.plain(start_response, "400 Bad Request", "bad Content-Length")
    if length > MAX_BODY or length < 0:
        return ep.plain(start_response, "413 Content Too Large", "request body too large")
    body = environ["wsgi.input"].read(length) if length else b""
    if not _one_click(environ, body):
        return ep.respond(start_response, "400 Bad Request", ep.pages["not one-click"])
    if not genuine:  # made up: nothing to record, and nothing to fill the disk with
        return ep.respond(start_response, "404 Not Found", ep.pages["invalid"])
    try:
        ep.log.record(token)
    except OSError as exc:
        print(f"briefing endpoint: cannot record an unsubscribe: {exc}",
              file=environ.get("wsgi.errors", sys.stderr))
        return ep.respond(start_response, "503 Service Unavailable", ep.pages["failed"],
                          extra=[("Retry-After", "300")])
    return ep.respond(start_response, "200 OK", ep.pages["done"])


def _events(ep: Endpoint, environ: dict[str, Any], start_response: StartResponse,
            match: re.Match[str]) -> list[bytes]:
    if not ep.secret:  # without a secret there is no /events
        return ep.plain(start_response, "404 Not Found", "not found")
    method = environ.get("REQUEST_METHOD", "")
    if method not in ("GET", "HEAD"):
        return ep.plain(start_response, "405 Method Not Allowed", "method not allowed",
                        [("Allow", "GET, HEAD")])
    given = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            credentials.strip().encode("utf-8", "replace"), ep.secret.encode("utf-8")):
        return ep.plain(start_response, "401 Unauthorized", "a bearer secret is needed",
                        [("WWW-Authenticate", 'Bearer realm="briefing events"')])
    return ep.respond(start_response, "200 OK", ep.log.read(),
                      "application/x-ndjson; charset=utf-8", head=method == "HEAD")


def _signup(ep: Endpoint, environ: dict[str, Any], start_response: StartResponse,
            match: re.Match[str]) -> list[bytes]:
    if ep.signup is None:  # no signup: in briefing.yaml, no such pages
        return ep.plain(start_response, "404 Not Found", "not found")
    return list(ep.signup(environ, start_response))


Handler = Callable[[Endpoint, dict[str, Any], StartResponse, re.Match[str]], list[bytes]]
ROUTES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(r"/u/([^/]*)"), _unsubscribe),
    (re.compile(r"/events"), _events),
    (re.compile(r"/s|/c/[^/]*"), _signup),  # the sign-up form and its confirmations
]
PREFERENCES_ROUTE = (re.compile(r"/p/([^/]*)"), preferences)  # with themes given only


def make_app(events_path: str | os.PathLike[str] = DEFAULT_EVENTS,
             key: str | os.PathLike[str] | EndpointKey | None = None,
             secret_env: str = SECRET_ENV, newsletter: str = "",
             themes: tuple[Theme, ...] = (),
             signup: Callable[[EventLog, EndpointKey], Any] | None = None) -> WSGIApp:
    """The endpoint as a WSGI application. `key`: the endpoint key, or the path of its file
    (default: endpoint.key beside the events file). The events file is created (0600, empty)
    now; the /events secret is read from `secret_env` now, once. With `themes` (briefing.yaml's,
    when it sets `preferences:`) it also serves the preference page at /p/<token>; with
    `signup` (signup_site.SignupPages), the sign-up pages too."""
    events = Path(events_path)
    if not isinstance(key, EndpointKey):
        path = Path(key) if key is not None else events.parent / "endpoint.key"
        key = read_endpoint_key(path, str(path))
    secret = os.environ.get(secret_env, "")
    if secret and len(secret) < MIN_SECRET:
        raise ValueError(f"${secret_env} is shorter than {MIN_SECRET} characters")
    log = EventLog(events)
    log.create()
    ep = Endpoint(log, key, secret, _pages(newsletter), newsletter, tuple(themes),
                  signup(log, key) if signup is not None else None)
    routes = ROUTES + ([PREFERENCES_ROUTE] if themes else [])

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            path = environ.get("PATH_INFO", "") or "/"
            for pattern, handler in routes:
                match = pattern.fullmatch(path)
                if match:
                    return handler(ep, environ, start_response, match)
            return ep.plain(start_response, "404 Not Found", "not found")
        except Exception as exc:  # never let bad input take the server down
            print(f"briefing endpoint: internal error: {type(exc).__name__}: {exc}",
                  file=environ.get("wsgi.errors", sys.stderr))
            try:
                return ep.plain(start_response, "500 Internal Server Error", "internal error")
            except Exception:  # start_response was already called: nothing more to say
                return []

    return app
