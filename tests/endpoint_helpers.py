"""Helpers for the one-click tests: a project whose copies carry tokens, the endpoint started
under its real WSGI server (waitress) by `briefing subscribers serve`, and raw HTTP requests."""

from __future__ import annotations

import http.client
import mailbox
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import urlsplit

from conftest import BRIEF, CONFIG, ISSUE, ProjectFactory

DATA = Path(__file__).resolve().parent / "data" / "mail"

TOKEN_CONFIG = CONFIG.replace(
    "  url: https://example.org/u/{token}\n",
    "  url: https://example.org/u/{token}\n"
    "  mailto: mailto:unsubscribe+{token}@example.org\n")
assert TOKEN_CONFIG != CONFIG

# What the endpoint answers (the newsletter's name comes from briefing.yaml).
STYLE = ("body{font:16px/1.5 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
         "max-width:32em;margin:3em auto;padding:0 1em;color:#1d232b;background:#fff}"
         "button{font:inherit;padding:.5em 1.2em;border:0;border-radius:4px;color:#fff;"
         "background:#1f5fbf;cursor:pointer}"
         "@media (prefers-color-scheme:dark){body{color:#e8eaed;background:#17191c}}")


def page(title: str, body: str) -> str:
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
            f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n<h1>{title}</h1>\n{body}</main>\n</body>\n</html>\n")


ASK_PAGE = page("Unsubscribe?", (
    "<p>Press the button to stop receiving Test Briefing.</p>\n"
    "<form method=\"post\">\n<input type=\"hidden\" name=\"List-Unsubscribe\" "
    "value=\"One-Click\">\n<button type=\"submit\">Unsubscribe</button>\n</form>\n"))
DONE_PAGE = page("Unsubscribed", (
    "<p>You will not receive Test Briefing any more. Your request is applied before the next "
    "issue is sent.</p>\n"))
HOW = ("use the unsubscribe link at the bottom of an issue in your own inbox, or your mail "
       "program's Unsubscribe button")
ARCHIVE_PAGE = page("This is the public copy", (
    "<p>This link is in the public copy of Test Briefing (its web archive, or a copy forwarded "
    "to you), which belongs to no reader, so it cannot unsubscribe anyone. Nothing was "
    f"changed.</p>\n<p>To stop receiving Test Briefing, {HOW}.</p>\n"))
INVALID_PAGE = page("This link is not valid", (
    "<p>This unsubscribe link is not one this newsletter made: it may have been cut short or "
    "changed on the way. Nothing was changed.</p>\n"
    f"<p>To stop receiving Test Briefing, {HOW}.</p>\n"))


def keyed(project: ProjectFactory) -> ProjectFactory:
    """A dry-run send makes the token key and .briefing/endpoint.key, as in a real project."""
    result = project.cli("send", "--smtp", "smtp://127.0.0.1:2525", "--insecure")
    assert result.code == 0, result.err
    assert (project.root / ".briefing" / "endpoint.key").is_file()
    return project


def minted(project: ProjectFactory, address: str) -> str:
    """The token the list makes for an address (docs/subscribers.md's definition, computed in
    tests/test_copies.py independently of briefing's code)."""
    from test_copies import token_for
    return token_for(project, address)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> Answer:
    """One HTTP/1.1 request on a fresh connection, headers exactly as given (plus Host,
    Accept-Encoding and Content-Length, which http.client always sends)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                      response.read())
    finally:
        connection.close()


def gmail_one_click(port: int, path: str) -> Answer:
    """The POST Gmail makes for a List-Unsubscribe-Post header: form-encoded
    List-Unsubscribe=One-Click, no cookies, no authorisation (RFC 8058 §3.2)."""
    return request(port, "POST", path, b"List-Unsubscribe=One-Click",
                   {"Content-Type": "application/x-www-form-urlencoded"})


@dataclass
class Endpoint:
    port: int
    banner: list[str]
    process: subprocess.Popen[str]
    stderr: str = ""  # what it said on stderr, once stopped

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def endpoint(project: ProjectFactory, *args: str, env: dict[str, str] | None = None
             ) -> Iterator[Endpoint]:
    """`briefing subscribers serve --port 0` in the project, until the block ends (SIGTERM)."""
    full_env = dict(os.environ)
    full_env.pop("BRIEFING_EVENTS_SECRET", None)
    full_env.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "briefing", "subscribers", "serve", "--port", "0", *args],
        cwd=project.root, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed once the socket listens
        match = re.search(r"http://127\.0\.0\.1:(\d+)/u/<token>", first)
        if not match:
            process.kill()
            raise AssertionError(first + process.communicate(timeout=30)[1])
        banner = [first.rstrip("\n")]
        while banner[-1] != "Ctrl-C stops it" and len(banner) < 10:
            banner.append(process.stdout.readline().rstrip("\n"))
        served = Endpoint(int(match.group(1)), banner, process)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
        if "served" in locals():
            served.stderr = err
        assert process.returncode == 0, err
        assert out == "endpoint stopped\n", out
        assert "Traceback" not in err, err


def add_issue(project: ProjectFactory, issue_id: str, date: str) -> None:
    """Another issue's briefs, e.g. the next week's."""
    project.write(f"briefs/{issue_id}/issue.yaml",
                  ISSUE.replace("2026-02-13", date).replace("A test issue", f"Issue {issue_id}"))
    project.write(f"briefs/{issue_id}/industry.yaml",
                  BRIEF.replace("example.org/a", f"example.org/{issue_id.lower()}"))


def header(data: bytes, name: str) -> str:
    return str(message_from_bytes(data, policy=default_policy)[name])


def one_click_path(data: bytes) -> str:
    """/u/<token> from a delivered copy's List-Unsubscribe (its https URL)."""
    value = header(data, "List-Unsubscribe")
    url = re.search(r"<(https://[^>]+)>", value)
    assert url, value
    return urlsplit(url.group(1)).path


def mailto_address(data: bytes) -> str:
    value = header(data, "List-Unsubscribe")
    found = re.search(r"<mailto:([^>]+)>", value)
    assert found, value
    return found.group(1)


def maildir(path: Path, *messages: bytes) -> Path:
    box = mailbox.Maildir(path, create=True)
    for data in messages:
        box.add(data)
    box.close()
    return path


def mbox(path: Path, *messages: bytes) -> Path:
    """An mbox file with the messages in this order."""
    box = mailbox.mbox(path, create=True)
    for data in messages:
        box.add(data)
    box.close()
    return path
