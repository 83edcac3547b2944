"""Helpers for the sign-up tests: a project with `signup:`, the endpoint serving it under waitress
(`briefing subscribers serve`) with its confirmation mail going to a real SMTP server (aiosmtpd),
form posts as a browser makes them, and the link taken from the delivered mail."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy
from urllib.parse import urlencode, urlsplit

from conftest import CONFIG, ProjectFactory
from endpoint_helpers import Answer, request
from smtp_server import Server, free_port

EVENTS = ".briefing/events.jsonl"
WORDING = ("Send me Test Briefing by email. I can unsubscribe at any time with the link in "
           "every issue.")
CONSENT = hashlib.sha256(WORDING.encode()).hexdigest()
FORM = "application/x-www-form-urlencoded"


def signup_config(port: int, extra: str = "") -> str:
    return CONFIG + (f"signup:\n  url: http://127.0.0.1:{port}/s\n"
                     f"  confirm_url: http://127.0.0.1:{port}/c/{{token}}\n{extra}")


def signup_project(factory: Callable[..., ProjectFactory], extra: str = "",
                   readers: tuple[str, ...] = ("two@example.org",)) -> tuple[ProjectFactory, int]:
    """A built project whose briefing.yaml has signup: on a port chosen now, and readers."""
    port = free_port()
    project = factory(config=signup_config(port, extra))
    for address in readers:
        assert project.cli("subscribers", "add", address).code == 0
    built = project.cli("build")
    assert built.code == 0, built.err
    keyed = project.cli("subscribers", "endpoint-key")  # as the first send would
    assert keyed.code == 0, keyed.err
    return project, port


@dataclass
class Served:
    port: int
    banner: list[str]
    process: subprocess.Popen[str]
    stderr: str = ""  # what it said on stderr, once stopped


@contextmanager
def signup_endpoint(project: ProjectFactory, port: int, server: Server, *args: str,
                    env: dict[str, str] | None = None) -> Iterator[Served]:
    """`briefing subscribers serve` on `port`, mailing through `server`, until the block ends
    (SIGTERM); it must stop cleanly, with no traceback on its stderr."""
    full_env = dict(os.environ)
    for name in ("BRIEFING_EVENTS_SECRET", "BRIEFING_TOKEN_KEY"):
        full_env.pop(name, None)
    full_env.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "briefing", "subscribers", "serve", "--port", str(port),
         "--smtp", server.url, "--insecure", *args],
        cwd=project.root, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    served = None
    try:
        assert process.stdout is not None
        banner: list[str] = []
        while not banner or banner[-1] != "Ctrl-C stops it":
            line = process.stdout.readline()
            if not line:
                raise AssertionError("\n".join(banner) + process.communicate(timeout=30)[1])
            banner.append(line.rstrip("\n"))
        served = Served(port, banner, process)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        if served is not None:
            served.stderr = err
        assert process.returncode == 0, err
        assert out == "endpoint stopped\n", out
        assert "Traceback" not in err, err


def post_form(port: int, fields: dict[str, str] | list[tuple[str, str]],
              path: str = "/s") -> Answer:
    """The POST a browser makes for the form: form-encoded fields."""
    return request(port, "POST", path, urlencode(fields).encode(), {"Content-Type": FORM})


def sign_up(port: int, address: str, **more: str) -> Answer:
    fields = {"address": address, "name": "", "website": "", "consent": CONSENT,
              "page": "https://example.org/archive/2026-W07/"}
    fields.update(more)
    return post_form(port, fields)


def wait_for(condition: Callable[[], object], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def mails_to(server: Server, address: str) -> list[bytes]:
    return [m.data for m in server.received if m.rcpt_tos == [address]]


def confirmation_path(data: bytes) -> str:
    """/c/<token> from a delivered confirmation mail (its only link)."""
    body = message_from_bytes(data, policy=default_policy).get_body(("plain",))
    assert body is not None
    (link,) = re.findall(r"http://\S+", body.get_content())
    return urlsplit(link).path


def events(project: ProjectFactory) -> list[dict]:
    path = project.root / EVENTS
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def confirm(port: int, path: str) -> Answer:
    """The button on the confirmation page: a POST with its one field."""
    return request(port, "POST", path, b"confirm=yes", {"Content-Type": FORM})
