"""The sign-up as a reader makes it: headless Chromium fills in the Subscribe form of the built web
edition (served over HTTP), the endpoint (waitress) mails the link (aiosmtpd), Chromium opens
it (nothing confirmed) and presses the button; sync, send and show do the rest. And the
endpoint's own form reads at 375 px, light and dark."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from briefing.editorial.browser import Browser, BrowserError, Page, find_chromium
from endpoint_helpers import add_issue
from signup_helpers import (
    confirmation_path,
    events,
    mails_to,
    signup_endpoint,
    signup_project,
    wait_for,
)
from smtp_server import Server

pytestmark = pytest.mark.skipif(find_chromium() is None,
                                reason="needs Chromium (installed by .ci/run)")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def web_edition(folder: Path) -> Iterator[str]:
    """out/ served by a real HTTP server on 127.0.0.1, as a web host would."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with Browser(offline=True, profile_parent=tmp_path) as browser:
        yield browser.new_page()


def press(page: Page, selector: str) -> None:
    """Click, and wait for the page the form's answer loads."""
    page.browser._events.clear()
    page.evaluate(f"document.querySelector({selector!r}).click()")
    assert page.browser.wait_for("Page.loadEventFired", page.session, 20) is not None


def heading(page: Page) -> str:
    deadline = time.monotonic() + 20
    while True:
        try:
            return str(page.evaluate("document.querySelector('h1').textContent"))
        except BrowserError:  # between two documents
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def fits(page: Page, width: int) -> bool:
    return int(page.evaluate("document.documentElement.scrollWidth")) <= width


def test_a_reader_signs_up_from_the_web_edition_in_chromium(factory, page: Page) -> None:
    project, port = signup_project(factory)
    with Server() as mail, signup_endpoint(project, port, mail), \
            web_edition(project.root / "out") as site:
        page.viewport(375, 800, mobile=True)
        page.open(f"{site}/2026-W07/")
        assert fits(page, 375)
        assert page.evaluate("document.querySelector('#subscribe-title').textContent") \
            == "Subscribe"
        page.evaluate("document.querySelector('#subscribe-address').value = "
                      "'browser.reader@example.org';"
                      "document.querySelector('#subscribe-name').value = 'Bea Browser'")
        press(page, "section[aria-labelledby=subscribe-title] button[type=submit]")
        assert heading(page) == "Check your inbox"

        wait_for(lambda: mails_to(mail, "browser.reader@example.org"), "the confirmation mail")
        path = confirmation_path(mails_to(mail, "browser.reader@example.org")[0])
        page.open(f"http://127.0.0.1:{port}{path}")  # the link in the mail: a GET
        assert heading(page) == "Confirm your subscription"
        assert fits(page, 375)
        assert [e["kind"] for e in events(project)] == ["signup"]  # nothing confirmed yet
        press(page, "button[type=submit]")
        assert heading(page) == "You are subscribed"
        assert [e["kind"] for e in events(project)] == ["signup", "confirm"]

    synced = project.cli("subscribers", "sync")
    assert "subscribed browser.reader@example.org" in synced.out, synced.out
    add_issue(project, "2026-W08", "2026-02-20")
    assert project.cli("build", "2026-W08").code == 0
    with Server() as mail:
        sent = project.cli("send", "2026-W08", "--no-dry-run", "--smtp", mail.url,
                           "--insecure", timeout=120)
        assert sent.code == 0, sent.err
        assert mails_to(mail, "browser.reader@example.org")
    shown = project.cli("subscribers", "show", "browser.reader@example.org").out
    assert "  name:        Bea Browser\n" in shown
    assert " on https://example.org/archive/2026-W07/\n" in shown
    assert "issues sent (1)\n  2026-W08  accepted " in shown


def test_the_endpoints_own_form_reads_at_375_px_light_and_dark(factory, page: Page) -> None:
    project, port = signup_project(factory, extra="  choose_themes: true\n", readers=())
    with Server() as mail, signup_endpoint(project, port, mail):
        for dark, background in ((False, "rgb(255, 255, 255)"), (True, "rgb(23, 25, 28)")):
            page.colour_scheme(dark)
            page.viewport(375, 800, mobile=True)
            page.open(f"http://127.0.0.1:{port}/s")
            assert heading(page) == "Subscribe to Test Briefing"
            assert fits(page, 375)
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
            assert page.evaluate("[...document.querySelectorAll('input[name=theme]')]"
                                 ".map(b => b.value + ':' + b.checked).join(' ')") \
                == "industry:true ethics:true"
            # The honeypot is off-screen and out of the tab order: a person never fills it.
            assert page.evaluate("document.querySelector('#website').getBoundingClientRect()"
                                 ".right") < 0
            assert page.evaluate("document.querySelector('#website').tabIndex") == -1
