"""`briefing links` against servers that misbehave on purpose, on 127.0.0.1: a drip that never
ends, a 301 with an endless body under a memory cap, redirects to ftp:// and in a loop, IRIs,
connection reuse, and a cache that cannot be saved. Every fault is real; no test is timed (the
subprocess timeout only stops a hang from stalling the suite)."""

from __future__ import annotations

import json
import resource
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import make_project, run_cli

P = "briefs/2026-W07/industry.yaml"


class Hostile:
    """HTTP/1.1 with keep-alive; each path is one kind of trouble. Logs raw request targets."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.connections = 0
        self.sent_body = 0
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                server.connections += 1

            def log_message(self, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                self.route()

            def do_GET(self) -> None:
                self.route()

            def route(self) -> None:
                server.log.append((self.command, self.path))
                path = self.path
                try:
                    if path == "/drip":  # a status line that never ends, one byte at a time
                        for byte in iter(lambda: b"H", None):
                            if server.stop.wait(0.2):
                                return
                            self.wfile.write(byte)
                            self.wfile.flush()
                    if path == "/huge-301":  # says 5 GB, and sends it as long as anyone reads
                        self.send_response(301)
                        self.send_header("Location", "/ok")
                        self.send_header("Content-Length", str(5 * 1024 ** 3))
                        self.end_headers()
                        if self.command == "GET":
                            chunk = b"x" * 65536
                            while not server.stop.is_set():
                                self.wfile.write(chunk)
                                server.sent_body += len(chunk)
                        return
                    redirects = {"/to-ftp": "ftp://127.0.0.1/file", "/loop-a": "/loop-b",
                                 "/loop-b": "/loop-a", "/moved-away": "/gone"}
                    if path in redirects:
                        return self.send(301, {"Location": redirects[path]})
                    if path == "/gone":
                        return self.send(404)
                    if path in ("/ok", "/caf%C3%A9", "/%E6%96%B0%E9%97%BB?q=%E8%A7%86%E9%A2%91") \
                            or path.startswith("/page/"):
                        return self.send(200, body=b"hello\n")
                    self.send(404)
                except OSError:  # the checker gave up and closed the connection
                    pass

            def send(self, code: int, headers: dict | None = None, body: bytes = b"") -> None:
                self.send_response(code)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def hostile():
    server = Hostile()
    yield server
    server.close()


def project_with(tmp_path: Path, urls: list[str]):
    """One item citing every URL; the n-th URL is on line 5 + 3n, column 14."""
    sources = "".join(f"      - url: '{url}'\n        title: Page {n}\n        publisher: Site\n"
                      for n, url in enumerate(urls))
    return make_project(tmp_path / "news", issue="title: Links\ndate: 2026-02-13\n",
                        briefs={"industry.yaml": "items:\n  - headline: Links\n    summary: "
                                                 f"Checking links.\n    sources:\n{sources}"})


def test_a_dripping_server_gets_the_timeout_in_total(tmp_path: Path, hostile: Hostile) -> None:
    project = project_with(tmp_path, [hostile.base + "/drip"])
    result = project.cli("links", "--timeout", "1", timeout=60)
    assert result.code == 1
    assert result.err == (f"{P}:5:14: error: no answer within 1 s: {hostile.base}/drip "
                          "[link-timeout]\n")
    assert result.out == "checked 1 link in 2026-W07 (0 from cache): 0 ok, 0 moved, 1 broken\n"


def test_an_endless_redirect_body_is_never_read(tmp_path: Path, hostile: Hostile) -> None:
    """Under a 1 GiB address-space cap: a checker that read the body would die of MemoryError
    long before the server stops sending."""
    project = project_with(tmp_path, [hostile.base + "/huge-301"])

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1024 ** 3, 1024 ** 3))

    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "briefing", "links", "--timeout", "5"],
                          cwd=project.root, capture_output=True, text=True, timeout=120,
                          preexec_fn=cap, env={"PATH": "/usr/bin:/bin",
                                               "MALLOC_ARENA_MAX": "2"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (f"{P}:5:14: warning: moved permanently (301): {hostile.base}/huge-301 "
                           f"(link to {hostile.base}/ok) [link-moved]\n")
    assert hostile.sent_body < 64 * 1024 ** 2  # the HEAD answered: no body was asked for


def test_an_endless_body_to_a_get_is_not_read_either(tmp_path: Path, hostile: Hostile) -> None:
    from briefing.editorial.links import _Client, _Deadlines
    client = _Client(_Deadlines())
    try:
        start = time.monotonic()
        answer = client.request("GET", hostile.base + "/huge-301", time.monotonic() + 30)
        assert (answer.status, answer.location) == (301, "/ok")
        assert not client.connections  # closed, not drained: the body is 5 GB
        assert time.monotonic() - start < 30
    finally:
        client.close()
        client.deadlines.stop()


def test_redirects_only_to_http_and_never_in_circles(tmp_path: Path, hostile: Hostile) -> None:
    b = hostile.base
    project = project_with(tmp_path, [b + "/to-ftp", b + "/loop-a", b + "/moved-away"])
    result = project.cli("links", "--timeout", "5")
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{P}:5:14: error: redirects to ftp://127.0.0.1/file, which is not an http(s) "
        f"address: {b}/to-ftp [link-broken]",
        f"{P}:8:14: error: redirects in a loop ({b}/loop-a -> {b}/loop-b -> {b}/loop-a): "
        f"{b}/loop-a [link-broken]",
        f"{P}:11:14: error: redirected to {b}/gone, which answered 404 Not Found: "
        f"{b}/moved-away [link-broken]",
    ]
    assert not any(path.startswith("ftp") for _, path in hostile.log)


def test_non_ascii_addresses_are_encoded_not_refused(tmp_path: Path, hostile: Hostile) -> None:
    b = hostile.base
    project = project_with(tmp_path, [b + "/café", b + "/新闻?q=视频"])
    result = project.cli("links", "--timeout", "5")
    assert (result.code, result.err) == (0, "")
    assert result.out == "checked 2 links in 2026-W07 (0 from cache): 2 ok, 0 moved, 0 broken\n"
    assert ("HEAD", "/caf%C3%A9") in hostile.log
    assert ("HEAD", "/%E6%96%B0%E9%97%BB?q=%E8%A7%86%E9%A2%91") in hostile.log


def test_one_connection_per_host_is_reused(tmp_path: Path, hostile: Hostile) -> None:
    urls = [f"{hostile.base}/page/{n}" for n in range(40)]
    project = project_with(tmp_path, urls)
    result = project.cli("links", "--per-host", "1", "--timeout", "5")
    assert (result.code, result.err) == (0, "")
    assert hostile.connections == 1


def test_results_are_reported_when_the_cache_cannot_be_saved(tmp_path: Path,
                                                             hostile: Hostile) -> None:
    project = project_with(tmp_path, [hostile.base + "/ok", hostile.base + "/gone"])
    (project.root / ".briefing").mkdir()
    (project.root / ".briefing/cache").write_text("a file where the folder should be\n")
    result = project.cli("links", "--timeout", "5")
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{P}:8:14: error: 404 Not Found: {hostile.base}/gone [link-broken]",
        ".briefing/cache/links.json: warning: cannot save the link cache: File exists "
        "(the results above are complete; the next run checks every link again) [link-cache]",
    ]
    assert result.out == "checked 2 links in 2026-W07 (0 from cache): 1 ok, 0 moved, 1 broken\n"


def test_the_cache_is_private_and_leaves_out_alone(tmp_path: Path, hostile: Hostile) -> None:
    project = project_with(tmp_path, [hostile.base + "/ok"])
    (project.root / "out").mkdir()
    (project.root / "out/.linkcache.json").write_text('{"version": 1, "links": {}}\n')
    assert project.cli("links", "--timeout", "5").code == 0
    cache = project.root / ".briefing/cache/links.json"
    assert list(json.loads(cache.read_text())["links"]) == [hostile.base + "/ok"]
    assert (project.root / ".briefing").stat().st_mode & 0o777 == 0o700
    assert not (project.root / "out/.linkcache.json").exists()  # out/ is published as is
    assert [p.name for p in (project.root / ".briefing").iterdir()] == ["cache"]


def test_a_refused_connection_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    project = project_with(tmp_path, [f"http://127.0.0.1:{port}/x"])
    result = run_cli(project.root, "links", "--timeout", "5")
    assert result.code == 1
    assert result.err == (f"{P}:5:14: error: cannot connect: Connection refused: "
                          f"http://127.0.0.1:{port}/x [link-broken]\n")
