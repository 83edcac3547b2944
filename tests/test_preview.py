"""`briefing preview`: a real server process, a real headless Chromium watching it update live,
errors in the page, and a clean stop on Ctrl-C."""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from briefing.editorial.browser import find_chromium
from conftest import BRIEF, ProjectFactory

CHROMIUM = find_chromium()


class Preview:
    """`briefing preview --port 0` as a child process; the URL comes from its first line."""

    def __init__(self, project: ProjectFactory, *args: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "briefing", "preview", "--port", "0", *args],
            cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        assert ready, "preview did not start"
        line = self.process.stdout.readline()
        assert line.startswith("preview at http://127.0.0.1:"), line
        self.url = line.split()[2]

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=10) as response:
            return response.read().decode("utf-8")

    def state(self) -> dict:
        return json.loads(self.get("/state"))

    def interrupt(self) -> tuple[int, str, str]:
        """Ctrl-C, as a terminal sends it."""
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=20)
        return self.process.returncode, out, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=10)


@pytest.fixture
def preview_of():
    started: list[Preview] = []

    def start(project: ProjectFactory, *args: str) -> Preview:
        started.append(Preview(project, *args))
        return started[-1]
    yield start
    for preview in started:
        preview.kill()


def wait_until(check, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def chromium(tmp_path: Path):
    """A page in a real headless Chromium (briefing.browser: DevTools over a pipe, fresh profile,
    and offline: nothing but 127.0.0.1 resolves)."""
    from briefing.editorial.browser import Browser
    with Browser(offline=True, profile_parent=tmp_path) as browser:
        yield browser.new_page()


def frame_text(frame: str) -> str:
    """JavaScript for the text shown in one of the page's frames ('' while it loads)."""
    return (f"(() => {{ const f = document.getElementById('{frame}');"
            " const d = f && f.contentDocument;"
            " return d && d.body ? d.body.innerText : ''; })()")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (installed by .ci/run)")
def test_the_page_follows_edits_without_a_reload(project, preview_of, chromium) -> None:
    preview = preview_of(project)
    chromium.open(preview.url)
    wait_until(lambda: "First headline" in chromium.evaluate(frame_text("desktop")), "the email")
    assert chromium.evaluate("document.getElementById('mobile').contentWindow.innerWidth") == 375
    assert "FIRST HEADLINE" in chromium.evaluate(frame_text("digest")).upper()
    chromium.evaluate("window.sameDocument = true")  # gone if the page itself were reloaded

    brief = project.root / "briefs/2026-W07/industry.yaml"
    brief.write_text(BRIEF.replace("First headline", "A headline written just now"))
    for frame in ("desktop", "mobile", "digest"):
        wait_until(lambda frame=frame: "A HEADLINE WRITTEN JUST NOW"
                   in chromium.evaluate(frame_text(frame)).upper(),
                   f"the new headline in the {frame} frame")
    assert chromium.evaluate("window.sameDocument") is True

    # A broken brief: its errors appear in the page, the server keeps going.
    brief.write_text("items: []\n")
    wait_until(lambda: not chromium.evaluate("document.getElementById('errors').hidden"), "errors")
    assert chromium.evaluate("document.getElementById('errors').textContent") == (
        "briefs/2026-W07/industry.yaml:1:8: error: 'items' needs at least one item\n1 error")
    brief.write_text(BRIEF.replace("First headline", "Fixed again"))
    wait_until(lambda: "Fixed again" in chromium.evaluate(frame_text("desktop")), "the fixed email")
    assert chromium.evaluate("document.getElementById('errors').hidden") is True
    assert chromium.evaluate("window.sameDocument") is True

    code, out, err = preview.interrupt()
    assert code == 0, err
    assert "Traceback" not in err
    assert out.splitlines()[-1] == "preview stopped"
    assert not (project.root / "out").exists()  # the preview renders in memory only


def test_a_broken_brief_shows_its_errors_in_the_page(factory, preview_of) -> None:
    project = factory(briefs={"industry.yaml": "items:\n  - headline: <b>Only</b>\n",
                              "ethics.yaml": BRIEF})
    preview = preview_of(project)
    page = preview.get("/")
    expected = ("briefs/2026-W07/industry.yaml:2:5: error: missing required key 'sources' in "
                "an item\nbriefs/2026-W07/industry.yaml:2:5: error: missing required key "
                "'summary' in an item\n2 errors in 1 file")
    escaped = expected.replace("'", "&#x27;")
    assert f'<pre id="errors" class="box">{escaped}</pre>' in page
    assert preview.state() == {"version": 1, "ok": False, "issue": "2026-W07", "title": "",
                               "errors": expected, "content": 0, "warnings": "",
                               "issues": ["2026-W07"], "draft": False}
    # Fixing it turns the page green without restarting the server.
    project.write("briefs/2026-W07/industry.yaml", BRIEF)
    state = wait_until(lambda: (s := preview.state())["ok"] and s, "the fixed build")
    assert state["issue"] == "2026-W07" and state["title"] == "A test issue"
    assert "First headline" in preview.get("/email.html")
    assert "First headline" in preview.get("/digest.txt")
    assert '<pre id="errors" class="box" hidden>' in preview.get("/")
    code, out, err = preview.interrupt()
    assert (code, out.splitlines()[-1]) == (0, "preview stopped")
    assert "Traceback" not in err


def test_ctrl_c_stops_cleanly_even_with_a_browser_listening(project, preview_of) -> None:
    preview = preview_of(project)
    events = urllib.request.urlopen(preview.url + "events", timeout=10)  # an open SSE stream
    assert events.readline() == b"retry: 1000\n"
    assert events.readline() == b"data: 1\n"
    code, out, err = preview.interrupt()
    events.close()
    assert code == 0
    assert err == ""
    assert out.splitlines()[-1] == "preview stopped"


def test_only_local_host_names(project, preview_of) -> None:
    preview = preview_of(project)
    port = int(preview.url.rsplit(":", 1)[1].strip("/"))
    for host, status in ((f"127.0.0.1:{port}", 200), (f"localhost:{port}", 200),
                         (f"attacker.example:{port}", 403)):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/state", headers={"Host": host})
        assert connection.getresponse().status == status, host
        connection.close()


def test_port_in_use(project) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = project.cli("preview", "--port", str(port), timeout=30)
    assert result.code == 1
    assert result.err == (f"preview: error: cannot listen on 127.0.0.1:{port}: Address already "
                          "in use (choose another port with --port, or --port 0 for a free one)\n")


def post(preview: Preview, path: str, body: str, headers: dict) -> tuple[int, str]:
    request = urllib.request.Request(preview.url + path.lstrip("/"), data=body.encode(),
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_warnings_beside_errors_and_the_issue_stays_put(factory, preview_of) -> None:
    project = factory(briefs={"industry.yaml": BRIEF.replace("https://example.org/a",
                                                             "http://example.org/a")})
    preview = preview_of(project)
    state = wait_until(lambda: (s := preview.state())["warnings"] and s, "the lint warnings")
    assert state["ok"] is True
    assert ("briefs/2026-W07/industry.yaml:8:14: warning: http:// link (use https:// if the "
            "site supports it) [insecure-url]") in state["warnings"].splitlines()
    assert '<pre id="warnings" class="box">' in preview.get("/")
    # A newer issue appears while the editor works: the page stays on 2026-W07 and lists both.
    project.write("briefs/2026-W09/issue.yaml", "title: Later\ndate: 2026-02-27\n")
    project.write("briefs/2026-W09/industry.yaml", BRIEF.replace("First headline", "Later one"))
    state = wait_until(lambda: (s := preview.state())["issues"] == ["2026-W07", "2026-W09"]
                       and s, "the new issue in the list")
    assert state["issue"] == "2026-W07"
    assert "First headline" in preview.get("/email.html")
    # The list in the page picks another one (a POST with the page's own header).
    assert post(preview, "/select", "2026-W09", {})[0] == 404
    status, body = post(preview, "/select", "2026-W09", {"X-Briefing": "select"})
    assert status == 200 and json.loads(body)["issue"] == "2026-W09"
    assert "Later one" in preview.get("/email.html")
    assert post(preview, "/select", "../x", {"X-Briefing": "select"})[0] == 400
    assert '<option value="2026-W09" selected>2026-W09</option>' in preview.get("/")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (installed by .ci/run)")
def test_three_panes_side_by_side_from_1200_px(project, preview_of, chromium) -> None:
    preview = preview_of(project)
    boxes = ("[...document.querySelectorAll('iframe')].map((f) => {"
             " const r = f.getBoundingClientRect(); return [r.left, r.right, r.top]; })")
    chromium.viewport(1200, 900)
    chromium.open(preview.url)
    wait_until(lambda: "First headline" in chromium.evaluate(frame_text("desktop")), "the email")
    (dl, dr, dt), (ml, mr, mt), (gl, gr, gt) = chromium.evaluate(boxes)
    assert dt == mt == gt  # one row
    assert dr <= ml and mr <= gl and gr <= 1200  # side by side, nothing off the page
    assert chromium.evaluate("document.getElementById('mobile').contentWindow.innerWidth") == 375
    assert chromium.evaluate("document.documentElement.scrollWidth") <= 1200
    chromium.viewport(1000, 900)
    chromium.open(preview.url)
    tops = {top for _, _, top in chromium.evaluate(boxes)}
    assert len(tops) > 1  # narrower: the panes wrap


def test_idle_connections_are_capped_and_closed(project, preview_of) -> None:
    """At the connection cap the least recently active idle connection makes room: the next
    request is answered; idle connections are closed after IDLE_SECONDS."""
    from briefing.editorial.preview_app import IDLE_SECONDS, connection_limit
    preview = preview_of(project)
    port = int(preview.url.rsplit(":", 1)[1].strip("/"))
    idle = [socket.create_connection(("127.0.0.1", port), timeout=30)
            for _ in range(connection_limit())]
    try:
        time.sleep(0.5)  # every idle connection is accepted by now
        with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
            extra.sendall(b"GET /state HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
            assert extra.recv(100).startswith(b"HTTP/1.1 200 ")
        assert idle[0].recv(10) == b""  # the oldest made room
        started = time.monotonic()
        for connection in idle[1:]:  # the others: closed by the server once idle too long
            assert connection.recv(10) == b""
        assert time.monotonic() - started < 2 * IDLE_SECONDS + 5
        assert preview.state()["ok"] is True
    finally:
        for connection in idle:
            connection.close()
    assert IDLE_SECONDS <= 10


def _preview_with_limit(project, files: int) -> tuple[subprocess.Popen, str]:
    """`briefing preview` with RLIMIT_NOFILE at `files`, and its URL."""
    import resource

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "briefing", "preview", "--port", "0"],
                               cwd=project.root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=low_limit)
    ready, _, _ = select.select([process.stdout], [], [], 30)
    assert ready
    return process, process.stdout.readline().split()[2]


def test_half_sent_requests_past_the_file_limit_do_not_keep_a_page_waiting(project) -> None:
    """64 files, 80 connections each holding half a request: a whole request still gets its
    answer (the oldest half-sent ones are closed to make room), and the preview goes on."""
    process, url = _preview_with_limit(project, 64)
    port = int(url.rsplit(":", 1)[1].strip("/"))
    held = []
    try:
        for _ in range(80):
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            connection.sendall(b"GET /state HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends
            held.append(connection)
        time.sleep(0.5)
        started = time.monotonic()
        with urllib.request.urlopen(url + "state", timeout=10) as response:
            assert json.loads(response.read())["ok"] is True
        assert time.monotonic() - started < 5
        project.write("briefs/2026-W07/industry.yaml",
                      BRIEF.replace("First headline", "Written past the limit"))

        def answered() -> bool:
            with urllib.request.urlopen(url + "email.html", timeout=10) as response:
                return "Written past the limit" in response.read().decode()
        wait_until(answered, "the edit")
        assert process.poll() is None
    finally:
        for connection in held:
            connection.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert err == ""


def test_at_the_file_descriptor_limit_it_keeps_answering(project) -> None:
    """RLIMIT_NOFILE set low on the child: connections beyond it fail, the watcher and the
    server do not; once they close, it answers and still follows edits."""
    process, url = _preview_with_limit(project, 40)
    try:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        flood = []
        for _ in range(60):  # more than the child can hold
            try:
                flood.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break
        time.sleep(1)
        for connection in flood:
            connection.close()
        project.write("briefs/2026-W07/industry.yaml",
                      BRIEF.replace("First headline", "Written at the limit"))

        def answered() -> bool:
            try:
                with urllib.request.urlopen(url + "email.html", timeout=5) as response:
                    return "Written at the limit" in response.read().decode()
            except OSError:
                return False
        wait_until(answered, "the edit, once the connections closed", timeout=30)
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err
