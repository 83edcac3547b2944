"""The endpoint's sign-up pages: GET/POST /s (the form) and GET/POST /c/<token> (confirm).

Double opt-in, the safe way round:

- POST /s answers the same "check your inbox" page whether the address is new, pending, on
  the list or suppressed (the endpoint cannot tell, and nor may the page): the form tells
  nobody who is on the list. At most one confirmation mail per address per 24 hours, at most
  `signup.hourly_cap` an hour (then 429, logged once), none for a filled-in honeypot.
- GET /c/<token> shows a button and never confirms: mail scanners and link previews fetch
  every URL in a message (RFC 8058 §1's reasoning); POST /c/<token> confirms.

Sign-ups and confirmations are recorded as events (signup.py says what they hold: keyed
hashes and sealed tokens, never an address), and `briefing subscribers sync` applies them.
The mail is made and recorded by one worker thread, so a request is answered at once and the
same way whatever the address.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any

from ..content.model import Config, consent_wording, wording_hash
from .csp import strict_csp
from .signup import (
    DAY,
    EndpointKeys,
    Joiner,
    Limits,
    check_token,
    endpoint_keys,
    make_token,
    new_signup_id,
    seconds_of,
    stamp,
)
from .signup_form import HONEYPOT, MAX_NAME, Form, read_form

if TYPE_CHECKING:
    from .identity import EndpointKey

MAX_BODY = 4096
CONFIRM_PATH = re.compile(r"/c/([^/]*)")
FORM_TYPE = "application/x-www-form-urlencoded"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Record = Callable[[dict[str, Any]], None]
Send = Callable[[str, bytes], None]

_STYLE = (":root{color-scheme:light dark}"
          "body{font:17px/1.5 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
          "max-width:32em;margin:2em auto;padding:0 1em;color:#1d232b;background:#fff}"
          "label{display:block;margin:1em 0 .25em;font-weight:600}"
          "input[type=email],input[type=text]{box-sizing:border-box;width:100%;font:inherit;"
          "padding:.5em;border:1px solid #8a939e;border-radius:4px}"
          "fieldset{border:0;margin:1em 0 0;padding:0}legend{font-weight:600;padding:0}"
          "fieldset label{font-weight:400;margin:.25em 0}"
          "button{font:inherit;margin-top:1.25em;padding:.6em 1.4em;border:0;border-radius:4px;"
          "color:#fff;background:#1f5fbf;cursor:pointer}"
          ".muted{color:#5b6470;font-size:.94em}.error{color:#b00020;font-weight:600}"
          ".hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}"
          "@media (prefers-color-scheme:dark){body{color:#e8eaed;background:#17191c}"
          "input[type=email],input[type=text]{color:#e8eaed;background:#24272b;"
          "border-color:#6b737c}.muted{color:#a9b0b8}.error{color:#ff8a80}"
          "button{background:#3b78d8}}")
# As strict as the unsubscribe pages: nothing loads or runs, the one style by its hash, forms
# post only back to this origin, no framing (a framed button could be clicked by a trick).
_CSP = strict_csp(_STYLE)
HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Robots-Tag", "noindex, nofollow"),
    ("Content-Security-Policy", _CSP),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
]


def page(title: str, body: str, lang: str = "en") -> bytes:
    e = html.escape
    return ("<!doctype html>\n"
            f"<html lang=\"{e(lang)}\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
            f"<title>{e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n<h1>{e(title)}</h1>\n{body}</main>\n</body>\n</html>\n").encode()


class Mailer:
    """One worker thread: records each sign-up, then sends its confirmation mail. A mail that
    cannot be sent is logged (without the address) and the address may try again."""

    def __init__(self, record: Record, send: Send, limits: Limits, errors: IO[str]) -> None:
        self.record, self.send, self.limits, self.errors = record, send, limits, errors
        self.jobs: queue.Queue[tuple[str, dict[str, Any], str, bytes]] = queue.Queue()
        self.thread = threading.Thread(target=self._work, daemon=True,
                                       name="briefing-confirmation-mail")
        self.thread.start()

    def put(self, address_hash: str, event: dict[str, Any], address: str, data: bytes) -> None:
        self.jobs.put((address_hash, event, address, data))

    def _work(self) -> None:
        while True:
            address_hash, event, address, data = self.jobs.get()
            try:
                try:
                    self.record(event)
                except OSError as exc:  # the mail still goes: the link works without it
                    self._log(f"cannot record a sign-up: {exc}")
                try:
                    self.send(address, data)
                except Exception as exc:  # any transport failure: log it, never die
                    self.limits.release(address_hash)
                    self._log(f"could not send a confirmation mail: {exc}")
            finally:
                self.jobs.task_done()

    def _log(self, line: str) -> None:
        print(f"briefing endpoint: {line}", file=self.errors, flush=True)

    def drain(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) for the mails already accepted to go out."""
        deadline = time.monotonic() + timeout
        while self.jobs.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)


class SignupSite:
    """The WSGI handler of /s and /c/<token> for one newsletter (its briefing.yaml)."""

    def __init__(self, config: Config, keys: EndpointKeys, record: Record, send: Send,
                 errors: IO[str] | None = None, clock: Callable[[], float] = time.time) -> None:
        assert config.signup is not None
        self.config, self.signup, self.keys = config, config.signup, keys
        self.record, self.clock = record, clock
        self.errors = errors or sys.stderr
        self.limits = Limits(int(self.signup.hourly_cap), clock)
        self.mailer = Mailer(record, send, self.limits, self.errors)
        self.wording = consent_wording(config.name)
        self.wording_hash = wording_hash(self.wording)
        self._confirmed: set[str] = set()  # a token confirmed twice is recorded once per run
        self._lock = threading.Lock()
        name = html.escape(config.name)
        again = f"<a href=\"{html.escape(self.signup.url)}\">sign up again</a>"
        self.pages = {
            "check": page("Check your inbox", (
                f"<p>If this address can receive {name}, a message is on its way to it. Open "
                "the link in that message to confirm; until then you will receive "
                "nothing.</p>\n<p class=\"muted\">Nothing after a few minutes? Look in the "
                "spam folder. One message is sent to an address per day.</p>\n")),
            "capped": page("Please try again later", (
                "<p>Too many people are signing up just now. Please try again in an "
                "hour.</p>\n")),
            "ask": page("Confirm your subscription", (
                f"<p>Press the button to start receiving {name}.</p>\n"
                # No action: the form posts to this very URL, whatever a proxy mounted it as.
                "<form method=\"post\">\n<button type=\"submit\" name=\"confirm\" "
                "value=\"yes\">Confirm</button>\n</form>\n")),
            "confirmed": page("You are subscribed", (
                f"<p>Thank you. You will receive the next issue of {name}. Every issue has a "
                "link to unsubscribe.</p>\n")),
            "invalid": page("This link does not work", (
                "<p>This confirmation link is incomplete or not valid. Copy the whole link "
                f"from the message, or {again}.</p>\n")),
            "expired": page("This link has expired", (
                f"<p>Confirmation links work for {self.signup.expire_days:g} days. Please "
                f"{again} and you will get a new one.</p>\n")),
            "failed": page("Please try again later", (
                "<p>Your confirmation could not be saved just now. Please try again in a few "
                "minutes.</p>\n")),
        }

    def handles(self, path: str) -> bool:
        return path == "/s" or CONFIRM_PATH.fullmatch(path) is not None

    def seed(self, events: bytes) -> None:
        """The limits remember the sign-ups the events file holds (a restart forgets none)."""
        import json
        for line in events.splitlines():
            if b'"signup"' not in line:
                continue
            try:
                entry = json.loads(line)
                at = seconds_of(entry["time"])
                if entry["kind"] == "signup" and at is not None:
                    self.limits.seed(str(entry["address"]), at)
            except (ValueError, KeyError, TypeError):
                continue  # sync reports a damaged line; the endpoint only counts

    def close(self, timeout: float = 10.0) -> None:
        self.mailer.drain(timeout)

    # -- answers -------------------------------------------------------------------------------

    def _answer(self, start_response: StartResponse, status: str, body: bytes,
                head: bool = False, extra: list[tuple[str, str]] | None = None,
                content_type: str = "text/html; charset=utf-8") -> list[bytes]:
        start_response(status, [("Content-Type", content_type),
                                ("Content-Length", str(len(body)))] + HEADERS + (extra or []))
        return [] if head else [body]

    def _plain(self, start_response: StartResponse, status: str, text: str,
               extra: list[tuple[str, str]] | None = None) -> list[bytes]:
        return self._answer(start_response, status, (text + "\n").encode(), extra=extra,
                            content_type="text/plain; charset=utf-8")

    def form_page(self, form: Form | None = None) -> bytes:
        e = html.escape
        form = form or Form()
        errors = form.errors
        parts = []
        if self.config.tagline:
            parts.append(f"<p class=\"muted\">{e(self.config.tagline)}</p>\n")
        if "form" in errors:
            parts.append(f"<p class=\"error\" role=\"alert\">{e(errors['form'])}</p>\n")
        parts.append("<form method=\"post\">\n")
        for field_name, label, kind, extra in (
                ("address", "Email address", "email",
                 " required autocomplete=\"email\" maxlength=\"254\""),
                ("name", "Name (optional)", "text",
                 f" autocomplete=\"name\" maxlength=\"{MAX_NAME}\"")):
            value = getattr(form, field_name)
            described = ""
            if field_name in errors:
                described = f" aria-invalid=\"true\" aria-describedby=\"{field_name}-error\""
            parts.append(f"<label for=\"{field_name}\">{label}</label>\n")
            if field_name in errors:
                parts.append(f"<p class=\"error\" id=\"{field_name}-error\">"
                             f"{e(errors[field_name])}</p>\n")
            parts.append(f"<input id=\"{field_name}\" name=\"{field_name}\" type=\"{kind}\""
                         f"{extra} value=\"{e(value)}\"{described}>\n")
        if self.signup.choose_themes:
            chosen = set(form.themes) if form.themes or errors else {
                t.id for t in self.config.themes}
            parts.append("<fieldset>\n<legend>Themes</legend>\n")
            if "themes" in errors:
                parts.append(f"<p class=\"error\" role=\"alert\">{e(errors['themes'])}</p>\n")
            for theme in self.config.themes:
                ticked = " checked" if theme.id in chosen else ""
                parts.append(f"<label><input type=\"checkbox\" name=\"theme\" "
                             f"value=\"{e(theme.id)}\"{ticked}> {e(theme.title)}</label>\n")
            parts.append("</fieldset>\n")
        parts.append(
            f"<div class=\"hp\" aria-hidden=\"true\"><label for=\"{HONEYPOT}\">Leave this "
            f"empty</label><input id=\"{HONEYPOT}\" name=\"{HONEYPOT}\" type=\"text\" "
            "tabindex=\"-1\" autocomplete=\"off\"></div>\n"
            f"<input type=\"hidden\" name=\"consent\" value=\"{self.wording_hash}\">\n"
            f"<input type=\"hidden\" name=\"page\" value=\"{e(self.signup.url)}\">\n"
            f"<p class=\"muted\">{e(self.wording)}</p>\n"
            "<button type=\"submit\">Subscribe</button>\n</form>\n")
        return page(f"Subscribe to {self.config.name}", "".join(parts), self.config.language)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "")
        if method not in ("GET", "HEAD", "POST"):
            return self._plain(start_response, "405 Method Not Allowed", "method not allowed",
                               [("Allow", "GET, HEAD, POST")])
        confirm = CONFIRM_PATH.fullmatch(path)
        if method != "POST":
            if confirm:
                return self._show_confirm(start_response, confirm.group(1), method == "HEAD")
            return self._answer(start_response, "200 OK", self.form_page(),
                                head=method == "HEAD")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._plain(start_response, "400 Bad Request", "bad Content-Length")
        if length > MAX_BODY or length < 0:
            return self._plain(start_response, "413 Content Too Large", "request body too large")
        body = environ["wsgi.input"].read(length) if length else b""
        if confirm:
            return self._confirm(environ, start_response, confirm.group(1))
        return self._sign_up(environ, start_response, body)

    def _sign_up(self, environ: dict[str, Any], start_response: StartResponse,
                 body: bytes) -> list[bytes]:
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type != FORM_TYPE:
            form = Form(errors={"form": "The form could not be read. Please fill it in "
                                        "again."})
            return self._answer(start_response, "415 Unsupported Media Type",
                                self.form_page(form))
        form = read_form(body, self.config)
        if form.honeypot:  # a bot: the page a person would get, and nothing else
            return self._answer(start_response, "200 OK", self.pages["check"])
        if form.errors:
            return self._answer(start_response, "400 Bad Request", self.form_page(form))
        address_hash = self.keys.address_hash(form.address)
        verdict, first = self.limits.admit(address_hash)
        if verdict == "capped":
            if first:
                print(f"briefing endpoint: sign-up cap reached: {self.limits.cap} confirmation "
                      "mails in the last hour; answering 429 until the hour has room",
                      file=environ.get("wsgi.errors", self.errors), flush=True)
            return self._answer(start_response, "429 Too Many Requests", self.pages["capped"],
                                extra=[("Retry-After", "3600")])
        if verdict == "send":
            self._enqueue(environ, form, address_hash)
        return self._answer(start_response, "200 OK", self.pages["check"])

    def _enqueue(self, environ: dict[str, Any], form: Form, address_hash: str) -> None:
        from ..render.confirmation import confirmation_message

        now = self.clock()
        issued = int(now)
        expires = issued + math.ceil(self.signup.expire_days * DAY)
        signup_id = new_signup_id()
        # With the themes the form offered, so sync knows a reader who ticked every one.
        offered = tuple(t.id for t in self.config.themes) if form.themes else ()
        token = make_token(self.keys, Joiner(form.address, form.name, form.themes, offered),
                           issued, expires, signup_id)
        event: dict[str, Any] = {"kind": "signup", "time": stamp(issued), "token": signup_id,
                                 "address": address_hash, "expires": stamp(expires),
                                 "page": form.page, "consent": form.consent}
        if form.consent == self.wording_hash:
            event["wording"] = self.wording  # so the words can be shown later (sync keeps them)
        if self.signup.record_ip:
            event["ip"] = self.keys.ip_hash(environ.get("REMOTE_ADDR", ""))
        data = confirmation_message(
            self.config, form.address, self.signup.confirm_url_for(token),
            dt.datetime.fromtimestamp(expires, dt.UTC), dt.datetime.fromtimestamp(now, dt.UTC),
            f"<{signup_id}.confirm@{self.config.sender.domain}>")
        self.mailer.put(address_hash, event, form.address, data)

    def _checked(self, token: str) -> str:
        """'ok', 'invalid' or 'expired'."""
        signed = check_token(self.keys, token)
        if signed is None:
            return "invalid"
        return "expired" if signed.expired(self.clock()) else "ok"

    def _show_confirm(self, start_response: StartResponse, token: str,
                      head: bool) -> list[bytes]:
        state = self._checked(token)
        status = {"ok": "200 OK", "invalid": "400 Bad Request", "expired": "410 Gone"}[state]
        return self._answer(start_response, status, self.pages["ask" if state == "ok" else state],
                            head=head)

    def _confirm(self, environ: dict[str, Any], start_response: StartResponse,
                 token: str) -> list[bytes]:
        state = self._checked(token)
        if state != "ok":
            status = "400 Bad Request" if state == "invalid" else "410 Gone"
            return self._answer(start_response, status, self.pages[state])
        with self._lock:
            if token not in self._confirmed:
                try:
                    self.record({"kind": "confirm", "time": stamp(self.clock()),
                                 "token": token})
                except OSError as exc:
                    print(f"briefing endpoint: cannot record a confirmation: {exc}",
                          file=environ.get("wsgi.errors", self.errors), flush=True)
                    return self._answer(start_response, "503 Service Unavailable",
                                        self.pages["failed"], extra=[("Retry-After", "300")])
                if len(self._confirmed) > 100_000:
                    self._confirmed.clear()
                self._confirmed.add(token)
        return self._answer(start_response, "200 OK", self.pages["confirmed"])


MakeSender = Callable[[Config], tuple[Send, str]]  # a transport's send, and its description


class SignupPages:
    """The sign-up pages of `serve`: the transport made (and checked) at start, the site made
    when make_app has the events file and the endpoint key."""

    def __init__(self, config: Config, make_sender: MakeSender | None) -> None:
        from ..errors import BriefingError, Problem
        if make_sender is None:
            raise BriefingError(Problem("briefing.yaml", 0, 0, "signup: is set, but the "
                                        "endpoint was given no way to send mail"))
        self.config = config
        self.send, self.transport = make_sender(config)
        self.site: SignupSite | None = None

    def __call__(self, log: Any, key: EndpointKey) -> SignupSite:
        from ..errors import BriefingError, Problem
        from .identity import ENDPOINT_KEY_FILE
        keys = endpoint_keys(key)
        if keys is None:
            raise BriefingError(Problem(
                ENDPOINT_KEY_FILE, 0, 0, "has no sign-up line (it was written before sign-up "
                                         "existed): the form cannot make confirmation links",
                "in the editor's project run 'briefing subscribers endpoint-key', and copy "
                f"{ENDPOINT_KEY_FILE} here again"))
        self.site = SignupSite(self.config, keys, log.append, self.send)
        self.site.seed(log.read())
        return self.site

    def describe(self, base: str) -> str:
        assert self.config.signup is not None
        return (f"sign-up: {base}/s and {base}/c/<token>, confirmation mail via "
                f"{self.transport} (at most {self.config.signup.hourly_cap:,} an hour)")

    def close(self) -> None:
        if self.site is not None:
            self.site.close()
