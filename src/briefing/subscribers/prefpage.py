"""The preference page of the endpoint: /p/<token>, where a reader chooses their themes.

- GET /p/<token>?themes=CODE&sig=SIG (the "Choose what you get" link of a copy): the
  newsletter's themes as checkboxes, the reader's current choice ticked when the link's
  signature holds (subscribers/themelink.py); nothing is recorded. Mail scanners and link
  previews fetch every URL in a message, so a GET never changes a preference.
- POST /p/<token> (the page's form, `themes=ID` once per ticked box): records the token, the
  choice and the themes the page offered as one event; `sync` applies it. Every theme ticked is
  recorded as every theme (new ones too). Nothing ticked is not an unsubscribe: nothing is
  recorded, and the page says so and offers the unsubscribe button (a POST to this endpoint's
  /u/<token>).
- The public copy's placeholder token, and tokens that fail the check, get a page and change
  nothing, as at /u/.

The page needs no JavaScript, reads at 375 px, and follows the reader's colour scheme.
"""

from __future__ import annotations

import html
import re
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl

from ..content.model import SIGNATURE_LENGTH, Theme
from ..content.variants import EVERY_THEME, parse_code, themes_code
from .csp import strict_csp
from .tokens import is_placeholder

if TYPE_CHECKING:
    from .endpoint import Endpoint, StartResponse

MAX_BODY = 4096
_CODE = re.compile(r"\*|[a-z0-9-]+(?:\.[a-z0-9-]+)*")
_SIGNATURE = re.compile(rf"[A-Za-z0-9_-]{{{SIGNATURE_LENGTH}}}")

_STYLE = ("body{font:16px/1.5 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
          "max-width:32em;margin:3em auto;padding:0 1em;color:#1d232b;background:#fff}"
          "button{font:inherit;padding:.5em 1.2em;border:0;border-radius:4px;color:#fff;"
          "background:#1f5fbf;cursor:pointer}"
          "fieldset{border:0;margin:1em 0;padding:0}legend{font-weight:700;padding:0}"
          "label{display:flex;gap:.6em;align-items:flex-start;padding:.45em 0;cursor:pointer}"
          "input{width:1.3em;height:1.3em;margin:.15em 0 0;flex:none;accent-color:#1f5fbf}"
          ".d{display:block;color:#5b6470;font-size:.9em}"
          "@media (prefers-color-scheme:dark){body{color:#e8eaed;background:#17191c}"
          ".d{color:#a9b0b8}input{accent-color:#8ab4f8}"
          "button{background:#8ab4f8;color:#17191c}}")
# As strict as the unsubscribe pages: only this style (by its hash), forms post back here.
CSP = strict_csp(_STYLE)


def _page(title: str, body: str) -> bytes:
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"color-scheme\" content=\"light dark\">\n"
            "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n<h1>{html.escape(title)}</h1>\n{body}</main>\n</body>\n"
            "</html>\n").encode()


def _form(themes: tuple[Theme, ...], ticked: set[str]) -> str:
    boxes = "".join(
        f"<label><input type=\"checkbox\" name=\"themes\" value=\"{html.escape(t.id)}\""
        + (" checked" if t.id in ticked else "") + f"><span>{html.escape(t.title)}"
        + (f"<span class=\"d\">{html.escape(t.description)}</span>" if t.description else "")
        + "</span></label>\n" for t in themes)
    # No action attribute: the form posts to this very URL, whatever path a proxy mounted
    # the endpoint under.
    return ("<form method=\"post\">\n<fieldset>\n<legend>Themes</legend>\n" + boxes
            + "</fieldset>\n<p class=\"d\">Tick every theme to get new themes too, as they "
              "are added.</p>\n<button type=\"submit\">Save my choice</button>\n</form>\n")


def _titles(themes: tuple[Theme, ...], chosen: tuple[str, ...] | None) -> str:
    if chosen is None:
        return "every theme, and new themes as they are added"
    return ", ".join(html.escape(t.title) for t in themes if t.id in chosen)


def _name(ep: Endpoint) -> str:
    return html.escape(ep.newsletter or "this newsletter")


def _shown_choice(ep: Endpoint, token: str, query: str) -> set[str] | None:
    """The ids the link says the reader gets, or None when the link does not say (no
    signature, or one that does not hold)."""
    fields = parse_qs(query, keep_blank_values=True)
    code = (fields.get("themes") or [""])[0]
    signature = (fields.get("sig") or [""])[0]
    if not (_CODE.fullmatch(code) and _SIGNATURE.fullmatch(signature)
            and ep.signer.verify(token, code, signature)):
        return None
    chosen = parse_code(code)
    return {t.id for t in ep.themes} if chosen is None else set(chosen)


def preferences(ep: Endpoint, environ: dict[str, Any], start_response: StartResponse,
                match: re.Match[str]) -> list[bytes]:
    token = match.group(1)
    method = environ.get("REQUEST_METHOD", "")
    if method not in ("GET", "HEAD", "POST"):
        return ep.plain(start_response, "405 Method Not Allowed", "method not allowed",
                        [("Allow", "GET, HEAD, POST")])
    head = method == "HEAD"
    name = _name(ep)
    own = ("use the \u201cChoose what you get\u201d link at the bottom of an issue in your own "
           "inbox")
    if is_placeholder(token):
        return _respond(ep, start_response, "200 OK", _page("This is the public copy", (
            f"<p>This link is in the public copy of {name} (its web archive, or a copy "
            "forwarded to you), which belongs to no reader, so it cannot change anyone's "
            "themes. Nothing was changed.</p>\n"
            f"<p>To choose your themes, {own}.</p>\n")), head)
    if not ep.genuine(token):
        return _respond(ep, start_response, "404 Not Found", _page("This link is not valid", (
            "<p>This link is not one this newsletter made: it may have been cut short or "
            "changed on the way. Nothing was changed.</p>\n"
            f"<p>To choose your themes, {own}.</p>\n")), head)
    if method != "POST":
        shown = _shown_choice(ep, token, environ.get("QUERY_STRING", ""))
        unknown = "" if shown is not None else (
            "<p>This link does not carry your current choice (it may have been changed on "
            "the way), so nothing is ticked: tick what you want.</p>\n")
        return _respond(ep, start_response, "200 OK", _page("Choose what you get", (
            f"<p>Tick the themes you want in {name}: each issue then brings you only "
            "those.</p>\n" + unknown + _form(ep.themes, shown or set()))), head)
    return _save(ep, environ, start_response, token)


def _save(ep: Endpoint, environ: dict[str, Any], start_response: StartResponse,
          token: str) -> list[bytes]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return ep.plain(start_response, "400 Bad Request", "bad Content-Length")
    if length > MAX_BODY or length < 0:
        return ep.plain(start_response, "413 Content Too Large", "request body too large")
    body = environ["wsgi.input"].read(length) if length else b""
    content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if body and content_type != "application/x-www-form-urlencoded":
        return ep.plain(start_response, "400 Bad Request", "not a form of this page")
    try:
        fields = parse_qsl(body.decode("ascii"), keep_blank_values=True)
    except UnicodeDecodeError:
        return ep.plain(start_response, "400 Bad Request", "not a form of this page")
    ticked = {value for key, value in fields if key == "themes"}
    # Ids the page did not offer (a page from before a theme was removed) are left out.
    chosen = tuple(t.id for t in ep.themes if t.id in ticked)
    name = _name(ep)
    if not chosen:
        return _respond(ep, start_response, "200 OK", _page("Nothing ticked", (
            "<p>Unticking every theme does not unsubscribe you: you would stay on the list "
            "with nothing to read. Your choice was not saved.</p>\n"
            f"<p>To stop receiving {name}, unsubscribe:</p>\n"
            # This endpoint's own one-click route, relative to /p/<token>, so it works under
            # any path a proxy mounts the endpoint at.
            f"<form method=\"post\" action=\"../u/{html.escape(token)}\">\n"
            "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n"
            "<button type=\"submit\">Unsubscribe</button>\n</form>\n"
            "<p>Or tick the themes you want:</p>\n" + _form(ep.themes, set()))))
    every = len(chosen) == len(ep.themes)
    code = EVERY_THEME if every else themes_code(chosen)
    try:
        saved = ep.log.record_choice(token, code, themes_code(tuple(t.id for t in ep.themes)))
    except OSError as exc:
        print(f"briefing endpoint: cannot record a theme choice: {exc}",
              file=environ.get("wsgi.errors", sys.stderr))
        return _respond(ep, start_response, "503 Service Unavailable", _page(
            "Please try again later", "<p>Your choice could not be saved just now. Please try "
                                      "again in a few minutes.</p>\n"),
            extra=[("Retry-After", "300")])
    if not saved:
        return _respond(ep, start_response, "429 Too Many Requests", _page(
            "Too many changes today", "<p>Your themes were changed many times today, so this "
                                      "choice was not saved. Please try again tomorrow.</p>\n"),
            extra=[("Retry-After", "3600")])
    return _respond(ep, start_response, "200 OK", _page("Saved", (
        f"<p>From the next issue, {name} brings you: "
        f"{_titles(ep.themes, None if every else chosen)}. Your choice is applied before the "
        "next issue is sent.</p>\n" + _form(ep.themes, set(chosen)))))


def _respond(ep: Endpoint, start_response: StartResponse, status: str, body: bytes,
             head: bool = False, extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    return ep.respond(start_response, status, body, head=head, extra=extra, csp=CSP)
