"""`briefing links` against a real HTTP server on 127.0.0.1: statuses, redirects, HEAD refused,
timeouts, politeness per host, and the private cache in .briefing/."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import make_project

PATHS = ["/ok", "/old", "/chain", "/temp", "/nohead", "/missing", "/error", "/slow"]


class Site:
    """A tiny site with one path per case; it logs every request it answers."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.active = 0
        self.most_active = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output clean
                pass

            def do_HEAD(self) -> None:
                self.answer(body=False)

            def do_GET(self) -> None:
                self.answer(body=True)

            def answer(self, body: bool) -> None:
                with site.lock:
                    site.log.append((self.command, self.path))
                    site.active += 1
                    site.most_active = max(site.most_active, site.active)
                self.counted = True
                try:
                    self.route(body)
                finally:
                    self.done()

            def done(self) -> None:
                # Before the answer goes out: once the client has it, it may send its next
                # request while this thread is still unwinding, which is not a third at once.
                if getattr(self, "counted", False):
                    self.counted = False
                    with site.lock:
                        site.active -= 1

            def route(self, body: bool) -> None:
                path = self.path
                if path == "/slow":
                    site.stop.wait(5)  # far longer than the test's --timeout
                if path.startswith("/busy"):
                    site.stop.wait(0.2)  # long enough for requests to overlap
                if path == "/nohead" and self.command == "HEAD":
                    return self.send(405)
                if path == "/bot" and self.command == "HEAD":  # a bot filter that hates HEAD
                    return self.send(403)
                redirects = {"/old": (301, "/ok"), "/chain": (308, "/temp"),
                             "/temp": (302, "/ok")}
                if path in redirects:
                    code, target = redirects[path]
                    return self.send(code, {"Location": target})
                code = {"/missing": 404, "/error": 500}.get(path, 200)
                self.send(code, body=b"hello\n" if body else b"")

            def send(self, code: int, headers: dict | None = None, body: bytes = b"") -> None:
                self.done()
                try:
                    self.send_response(code)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the checker gave up (timeout) and closed the connection
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def brief(urls: list[str]) -> str:
    """One item citing every URL; the n-th URL is on line 5 + 3n, column 14."""
    sources = "".join(f"      - url: {url}\n        title: Page {n}\n        publisher: Site {n}\n"
                      for n, url in enumerate(urls))
    return f"items:\n  - headline: Links\n    summary: Checking links.\n    sources:\n{sources}"


def local_issue(base: str) -> str:
    """issue.yaml whose intro links to the local site (the factory's links to example.org)."""
    return ("title: Links\ndate: 2026-02-13\nintro: >-\n  See [the site]"
            f"({base}/ok).\n")


def local_project(tmp_path: Path, site: Site, urls: list[str]):
    return make_project(tmp_path / "news", issue=local_issue(site.base),
                        briefs={"industry.yaml": brief(urls)})


def test_statuses_redirects_and_timeouts(tmp_path: Path, site: Site) -> None:
    project = local_project(tmp_path, site, [site.base + p for p in PATHS])
    result = project.cli("links", "--timeout", "0.5")
    assert result.code == 1, result
    p = "briefs/2026-W07/industry.yaml"
    b = site.base
    assert result.err.splitlines() == [
        f"{p}:8:14: warning: moved permanently (301): {b}/old (link to {b}/ok) [link-moved]",
        f"{p}:11:14: warning: moved permanently (308): {b}/chain (link to {b}/ok) [link-moved]",
        f"{p}:20:14: error: 404 Not Found: {b}/missing [link-broken]",
        f"{p}:23:14: error: 500 Internal Server Error: {b}/error [link-broken]",
        f"{p}:26:14: error: no answer within 0.5 s: {b}/slow [link-timeout]",
    ]
    assert result.out == ("checked 8 links in 2026-W07 (0 from cache): 3 ok, 2 moved, "
                          "3 broken\n")
    assert "Traceback" not in result.err
    # HEAD first; a GET confirms any error to a HEAD before a link is called broken; a HEAD
    # stays a HEAD through redirects.
    assert sorted(site.log) == sorted(
        [("HEAD", p) for p in PATHS] + [("GET", "/nohead"), ("GET", "/missing"),
                                        ("GET", "/error"), ("HEAD", "/ok"), ("HEAD", "/ok"),
                                        ("HEAD", "/temp"), ("HEAD", "/ok")])


def test_a_head_refused_with_403_is_confirmed_by_get(tmp_path: Path, site: Site) -> None:
    project = local_project(tmp_path, site, [site.base + "/bot"])
    result = project.cli("links", "--timeout", "5")
    assert (result.code, result.err) == (0, "")
    assert result.out == "checked 2 links in 2026-W07 (0 from cache): 2 ok, 0 moved, 0 broken\n"
    assert [r for r in site.log if r[1] == "/bot"] == [("HEAD", "/bot"), ("GET", "/bot")]


def test_rerun_uses_the_cache_for_working_links(tmp_path: Path, site: Site) -> None:
    urls = [site.base + p for p in ("/ok", "/old", "/nohead", "/missing")]
    project = local_project(tmp_path, site, urls)
    first = project.cli("links", "--timeout", "5")
    assert first.code == 1
    assert first.out == "checked 4 links in 2026-W07 (0 from cache): 2 ok, 1 moved, 1 broken\n"
    cache = json.loads((project.root / ".briefing/cache/links.json").read_text())
    assert sorted(cache["links"]) == sorted(site.base + p for p in ("/ok", "/old", "/nohead"))
    site.log.clear()
    second = project.cli("links", "--timeout", "5")
    assert second.code == 1
    assert second.out == "checked 4 links in 2026-W07 (3 from cache): 2 ok, 1 moved, 1 broken\n"
    assert second.err == first.err  # the moved link is still reported, from the cache
    # a broken link is always checked again
    assert site.log == [("HEAD", "/missing"), ("GET", "/missing")]
    site.log.clear()
    assert project.cli("links", "--no-cache", "--timeout", "5").code == 1
    assert len(site.log) == 7  # ok, old -> ok, nohead (HEAD, GET), missing (HEAD, GET)
    site.log.clear()
    assert project.cli("links", "--cache-hours", "0", "--timeout", "5").code == 1
    assert len(site.log) == 7  # every entry is too old


def test_all_links_working(tmp_path: Path, site: Site) -> None:
    project = local_project(tmp_path, site, [site.base + "/ok", site.base + "/temp"])
    result = project.cli("links")
    assert (result.code, result.err) == (0, "")
    assert result.out == "checked 2 links in 2026-W07 (0 from cache): 2 ok, 0 moved, 0 broken\n"


def test_a_few_requests_per_host(tmp_path: Path, site: Site) -> None:
    urls = [f"{site.base}/busy/{n}" for n in range(8)]
    project = local_project(tmp_path, site, urls)
    result = project.cli("links", "--per-host", "2", "--no-cache")
    assert result.code == 0, result
    assert len(site.log) == 9
    assert site.most_active <= 2


def test_connection_refused(tmp_path: Path, site: Site) -> None:
    closed = Site()  # a port that nothing listens on any more
    dead = closed.base
    closed.close()
    project = local_project(tmp_path, site, [dead + "/x"])
    result = project.cli("links")
    assert result.code == 1
    assert result.err == (f"briefs/2026-W07/industry.yaml:5:14: error: cannot connect: "
                          f"Connection refused: {dead}/x [link-broken]\n")


def test_invalid_issue_is_an_error_not_a_link_check(tmp_path: Path, site: Site) -> None:
    project = make_project(tmp_path / "news", briefs={"industry.yaml": "items: []\n"})
    result = project.cli("links")
    assert result.code == 1
    assert result.err == ("briefs/2026-W07/industry.yaml:1:8: error: 'items' needs at least one "
                          "item\n1 error\n")
    assert site.log == []
