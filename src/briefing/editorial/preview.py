"""`briefing preview`: the email (desktop and 375 px) and the digest side by side on 127.0.0.1,
rebuilt in memory when a file changes and pushed to the browser with Server-Sent Events."""

from __future__ import annotations

import html
import json
import re
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import BriefingError, Problem

POLL_SECONDS = 0.3     # how often file times are compared: edits show up within about this
KEEPALIVE_SECONDS = 15  # an SSE comment now and then, so proxies and browsers keep the stream


@dataclass(frozen=True)
class Build:
    """One rebuild: the last good email and digest, and the errors of this attempt if any."""

    version: int
    issue_id: str | None
    title: str
    email: bytes
    digest: bytes
    errors: str | None

    def state(self) -> dict:
        return {"version": self.version, "ok": self.errors is None, "issue": self.issue_id,
                "title": self.title, "errors": self.errors}


EMPTY_EMAIL = (b"<!doctype html><meta charset=utf-8><p style='font:14px sans-serif;color:#555'>"
               b"No email yet: fix the errors shown above.</p>")


class Previewer:
    """Watches the project's files and keeps the latest build; HTTP handlers read from it."""

    def __init__(self, project, issue_id: str | None) -> None:
        self.project = project
        self.issue_id = issue_id
        self.changed = threading.Condition()
        self.stopping = False
        self.build = Build(0, issue_id, "", EMPTY_EMAIL, b"", None)
        self.snapshot: dict[str, tuple[int, int]] = {}

    def files(self) -> dict[str, tuple[int, int]]:
        """(mtime, size) of every file a build reads: config, briefs and templates."""
        root = self.project.root
        found: dict[str, tuple[int, int]] = {}
        candidates = [root / "briefing.yaml"]
        for folder in (root / "briefs", root / "templates"):
            if folder.is_dir():
                candidates.extend(folder.rglob("*"))
        for path in candidates:
            try:
                stat = path.stat()
            except OSError:
                continue
            if path.is_file():
                found[str(path)] = (stat.st_mtime_ns, stat.st_size)
        return found

    def poll(self) -> bool:
        """Rebuild if anything changed since the last look; True when it did."""
        current = self.files()
        if current == self.snapshot:
            return False
        self.snapshot = current
        self.rebuild()
        return True

    def rebuild(self) -> Build:
        from ..content.validate import load_issue
        from ..render.issue import render_issue
        old = self.build
        try:
            issue = load_issue(self.project, self.issue_id)
            rendered = render_issue(self.project, issue)
            new = Build(old.version + 1, issue.id, issue.title, rendered.files["email.html"],
                        rendered.files["digest.txt"], None)
        except BriefingError as exc:
            new = Build(old.version + 1, old.issue_id, old.title, old.email, old.digest,
                        exc.report())
        except Exception as exc:  # a bug must not stop the preview; show it like an error
            new = Build(old.version + 1, old.issue_id, old.title, old.email, old.digest,
                        f"internal error while building: {type(exc).__name__}: {exc}")
        with self.changed:
            self.build = new
            self.changed.notify_all()
        return new

    def wait_for_change(self, version: int, timeout: float) -> Build:
        with self.changed:
            self.changed.wait_for(lambda: self.build.version != version or self.stopping,
                                  timeout)
            return self.build

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()


def _handler(previewer: Previewer, allowed_hosts: set[str]):
    class Handler(BaseHTTPRequestHandler):
        server_version = "briefing-preview"

        def log_message(self, *args) -> None:  # the terminal shows rebuilds, not every request
            pass

        def do_GET(self) -> None:
            # Only the names the page was opened with: a page on another site that rebinds
            # its DNS name to 127.0.0.1 must not read the draft.
            if self.headers.get("Host", "") not in allowed_hosts:
                return self.send(403, "text/plain; charset=utf-8", b"forbidden host\n")
            path = self.path.split("?", 1)[0]
            build = previewer.build
            if path == "/":
                self.send(200, "text/html; charset=utf-8", page(build).encode("utf-8"))
            elif path == "/email.html":
                self.send(200, "text/html; charset=utf-8", build.email)
            elif path == "/digest.txt":
                self.send(200, "text/plain; charset=utf-8", build.digest)
            elif path == "/state":
                self.send(200, "application/json", json.dumps(build.state()).encode("utf-8"))
            elif path == "/events":
                self.events(build)
            else:
                self.send(404, "text/plain; charset=utf-8", b"not found\n")

        def send(self, code: int, kind: str, body: bytes) -> None:
            try:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the browser went away mid-answer
                pass

        def events(self, build: Build) -> None:
            """Server-Sent Events: the build version now, then each time it changes."""
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(f"retry: 1000\ndata: {build.version}\n\n".encode())
                self.wfile.flush()
                version = build.version
                while not previewer.stopping:
                    build = previewer.wait_for_change(version, KEEPALIVE_SECONDS)
                    if previewer.stopping:
                        break
                    if build.version == version:
                        self.wfile.write(b": keepalive\n\n")
                    else:
                        version = build.version
                        self.wfile.write(f"data: {version}\n\n".encode())
                    self.wfile.flush()
            except OSError:  # the tab was closed or reloaded
                pass

    return Handler


def serve(project, issue_id: str | None = None, port: int = 8000,
          on_ready: Callable[[str, Build], None] | None = None,
          on_rebuild: Callable[[Build], None] | None = None) -> None:
    """Serve until Ctrl-C (or SIGTERM), then stop cleanly and return."""
    previewer = Previewer(project, issue_id)
    previewer.poll()
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), None)  # type: ignore[arg-type]
    except OSError as exc:
        raise BriefingError(Problem(
            "preview", 0, 0, f"cannot listen on 127.0.0.1:{port}: {exc.strerror}",
            hint="choose another port with --port, or --port 0 for a free one")) from None
    bound = server.server_address[1]
    server.RequestHandlerClass = _handler(previewer, {f"127.0.0.1:{bound}", f"localhost:{bound}"})
    server.daemon_threads = True  # open event streams must not keep the process alive
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True,
                              name="preview-http")
    thread.start()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if on_ready:
            on_ready(f"http://127.0.0.1:{bound}/", previewer.build)
        while True:
            thread.join(POLL_SECONDS)  # sleeps, yet wakes for Ctrl-C
            if previewer.poll() and on_rebuild:
                on_rebuild(previewer.build)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        previewer.stop()
        server.shutdown()
        server.server_close()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: #eceff3; color: #1d232b; }
  header { padding: 8px 16px; background: #1d232b; color: #fff; display: flex; gap: 16px;
           align-items: baseline; }
  header .status { color: #a9b0b8; }
  #errors { margin: 12px 16px; padding: 12px 16px; background: #fff1f0; color: #8a1c12;
            border: 1px solid #f2b8b5; border-radius: 6px; white-space: pre-wrap;
            font: 13px/1.5 ui-monospace, monospace; }
  #errors[hidden] { display: none; }
  main { display: flex; gap: 16px; padding: 12px 16px; align-items: flex-start;
         flex-wrap: wrap; }
  figure { margin: 0; }
  figcaption { color: #5b6470; margin-bottom: 4px; }
  iframe { border: 1px solid #c9ced6; background: #fff; height: calc(100vh - 110px); }
  #desktop { width: 680px; }
  #mobile { width: 375px; }
  #digest { width: 620px; }
  main.stale iframe { opacity: .45; }
</style>
</head>
<body>
<header><strong>briefing preview</strong> <span id="issue">__ISSUE__</span>
<span class="status" id="status">__STATUS__</span></header>
<pre id="errors"__HIDDEN__>__ERRORS__</pre>
<main id="panes" class="__STALE__">
  <figure><figcaption>Desktop</figcaption>
    <iframe id="desktop" src="/email.html?v=__VERSION__" title="Email at desktop width">
    </iframe></figure>
  <figure><figcaption>Phone, 375 px</figcaption>
    <iframe id="mobile" src="/email.html?v=__VERSION__" title="Email at 375 px"></iframe></figure>
  <figure><figcaption>Text digest</figcaption>
    <iframe id="digest" src="/digest.txt?v=__VERSION__" title="Text digest"></iframe></figure>
</main>
<script>
// Rebuilds arrive as Server-Sent Events; each reloads the frames in place, keeping the scroll.
let shown = __VERSION__;
function reload(frame, url) {
  let y = 0;
  try { y = frame.contentWindow.scrollY; } catch (e) {}
  frame.onload = () => { try { frame.contentWindow.scrollTo(0, y); } catch (e) {} };
  frame.src = url;
}
async function refresh() {
  const state = await (await fetch("/state", {cache: "no-store"})).json();
  if (state.version === shown) return;
  shown = state.version;
  const errors = document.getElementById("errors");
  errors.hidden = state.ok;
  errors.textContent = state.errors || "";
  document.getElementById("panes").className = state.ok ? "" : "stale";
  document.getElementById("issue").textContent =
    state.issue ? state.issue + ": " + state.title : "";
  document.getElementById("status").textContent = (state.ok ? "updated " :
    "errors (showing the last good build), ") + new Date().toLocaleTimeString();
  document.title = (state.ok ? "" : "errors: ") + "preview " + (state.issue || "");
  if (state.ok) {
    for (const id of ["desktop", "mobile"]) {
      reload(document.getElementById(id), "/email.html?v=" + shown);
    }
    reload(document.getElementById("digest"), "/digest.txt?v=" + shown);
  }
}
const events = new EventSource("/events");
events.onmessage = (event) => { if (Number(event.data) !== shown) refresh(); };
</script>
</body>
</html>
"""


def page(build: Build) -> str:
    """The preview page with the current build's state filled in (escaped)."""
    ok = build.errors is None
    replacements = {
        "__TITLE__": html.escape(("" if ok else "errors: ") + f"preview {build.issue_id or ''}"),
        "__ISSUE__": html.escape(f"{build.issue_id}: {build.title}" if build.issue_id else ""),
        "__STATUS__": "" if ok else "errors (showing the last good build)",
        "__HIDDEN__": " hidden" if ok else "",
        "__ERRORS__": html.escape(build.errors or ""),
        "__STALE__": "" if ok else "stale",
        "__VERSION__": str(build.version),
    }
    # One pass, so text from a brief that happens to contain __VERSION__ is left alone.
    return re.sub(r"__[A-Z]+__", lambda m: replacements.get(m.group(), m.group()), PAGE)
