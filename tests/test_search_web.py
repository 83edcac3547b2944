"""Search on the web: out/ served over HTTP on 127.0.0.1, Pagefind's search box in Chromium."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path

import pytest

from briefing.editorial.browser import find_chromium
from conftest import BRIEF, ISSUE, ProjectFactory

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (installed by .ci/run)")


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def site(project: ProjectFactory):
    """Two published issues; the earlier one holds the words searched for. Yields the URL."""
    project.write("briefs/2026-W07/industry.yaml", BRIEF.replace(
        "First headline", "Kubrick retrospective opens in Venice").replace(
        "It matters.", "Jia Zhangke (贾樟柯) talks about his digital double."))
    project.write("briefs/2026-W09/issue.yaml", ISSUE.replace("A test issue", "The later issue")
                  .replace("2026-02-13", "2026-02-27"))
    project.write("briefs/2026-W09/industry.yaml", BRIEF.replace("First headline",
                                                                 "Studios sign a new deal"))
    result = project.cli("build", "--all")
    assert result.code == 0, result.err
    handler = functools.partial(Quiet, directory=str(project.root / "out"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def search(page, query: str) -> list[str]:
    """Type into Pagefind's box and return the result links once they appear."""
    page.evaluate(f"""(() => {{
        const box = document.querySelector('.pagefind-ui__search-input');
        box.value = {query!r};
        box.dispatchEvent(new Event('input', {{bubbles: true}}));
    }})()""")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        links = page.evaluate("[...document.querySelectorAll('.pagefind-ui__result-link')]"
                              ".map((a) => a.getAttribute('href'))")
        if links:
            return links
        time.sleep(0.1)
    return []


def test_search_finds_an_earlier_issue(site: str, tmp_path: Path) -> None:
    from briefing.editorial.browser import Browser
    with Browser(offline=True, profile_parent=tmp_path) as browser:
        page = browser.new_page()
        page.viewport(375, mobile=True)
        page.open(site)
        deadline = time.monotonic() + 20
        while not page.evaluate("!!document.querySelector('.pagefind-ui__search-input')"):
            assert time.monotonic() < deadline, "the search box did not appear"
            time.sleep(0.1)
        assert search(page, "Kubrick") == ["/2026-W07/"]
        titles = page.evaluate("[...document.querySelectorAll('.pagefind-ui__result-title')]"
                               ".map((e) => e.textContent.trim())")
        assert titles == ["A test issue"]
        page.open(site)  # a fresh box
        while not page.evaluate("!!document.querySelector('.pagefind-ui__search-input')"):
            time.sleep(0.1)
        assert search(page, "贾樟柯") == ["/2026-W07/"]
        page.open(site)
        while not page.evaluate("!!document.querySelector('.pagefind-ui__search-input')"):
            time.sleep(0.1)
        assert search(page, "studios") == ["/2026-W09/"]


def test_chinese_newsletter_finds_a_name_inside_a_sentence(factory, tmp_path: Path) -> None:
    """With `language: zh` Pagefind's extended build segments Chinese text into words, so a
    name inside a sentence with no spaces is found."""
    from conftest import CONFIG
    project = factory(config=CONFIG.replace("language: en", "language: zh"), briefs={
        "industry.yaml": BRIEF.replace("First headline", "导演贾樟柯谈他的数字替身")})
    result = project.cli("build")
    assert result.code == 0, result.err
    handler = functools.partial(Quiet, directory=str(project.root / "out"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from briefing.editorial.browser import Browser
    try:
        with Browser(offline=True, profile_parent=tmp_path) as browser:
            page = browser.new_page()
            page.open(f"http://127.0.0.1:{server.server_address[1]}/")
            deadline = time.monotonic() + 20
            while not page.evaluate("!!document.querySelector('.pagefind-ui__search-input')"):
                assert time.monotonic() < deadline, "the search box did not appear"
                time.sleep(0.1)
            assert search(page, "贾樟柯") == ["/2026-W07/"]
    finally:
        server.shutdown()
        server.server_close()
