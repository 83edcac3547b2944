"""`briefing preview`: the email (desktop and 375 px) and the digest side by side on 127.0.0.1,
rebuilt in memory when a file is saved and pushed to the browser with Server-Sent Events."""

from __future__ import annotations

import contextlib
import html
import json
import re
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..errors import BriefingError, Problem

POLL_SECONDS = 0.3     # only when the OS's file notifications are unavailable (fallback)
KEEPALIVE_SECONDS = 15  # an SSE comment now and then, so proxies and browsers keep the stream
# watchfiles groups the events of one save (editors write, rename and chmod in a burst): it waits
# STEP_MS after the last event, at most DEBOUNCE_MS in all, then the rebuild starts.
STEP_MS, DEBOUNCE_MS = 8, 60
# Connections: each has a thread; an idle one is closed after IDLE_SECONDS, and past
# MAX_CONNECTIONS (or MAX_STREAMS event streams) a new one gets 503 at once, so no client can
# hold the server's threads or file descriptors.
IDLE_SECONDS = 10
MAX_CONNECTIONS = 64
MAX_STREAMS = 16
LINT_DELAY_SECONDS = 0.25


@dataclass(frozen=True)
class Build:
    """One rebuild: the last good email and digest, the errors of this attempt if any, and the
    lint warnings of the issue shown (computed just after the panes, so they never wait)."""

    version: int
    issue_id: str | None
    title: str
    email: bytes
    digest: bytes
    errors: str | None
    content: int = 0  # bumped when email/digest change: the page reloads its frames only then
    warnings: str = ""
    issues: tuple[str, ...] = ()
    draft: bool = False

    def state(self) -> dict:
        return {"version": self.version, "ok": self.errors is None, "issue": self.issue_id,
                "title": self.title, "errors": self.errors, "content": self.content,
                "warnings": self.warnings, "issues": list(self.issues), "draft": self.draft}


EMPTY_EMAIL = (b"<!doctype html><meta charset=utf-8><p style='font:14px sans-serif;color:#555'>"
               b"No email yet: fix the errors shown above.</p>")


class Previewer:
    """Watches the project's files and keeps the latest build; HTTP handlers read from it.

    The issue is fixed when the preview starts (the one named, else the latest then), so a new
    issue folder created while the editor works never takes the page away; the page's list
    switches to another issue on request.
    """

    def __init__(self, project, issue_id: str | None) -> None:
        self.project = project
        self.issue_id = issue_id
        self.changed = threading.Condition()
        self.lock = threading.Lock()  # one rebuild at a time (file events and issue picks)
        self.stopping = threading.Event()
        self.build = Build(0, issue_id, "", EMPTY_EMAIL, b"", None)
        self.snapshot: dict[str, tuple[int, int]] = {}
        self.watching = ""  # how changes are seen: "notifications" or "polling"

    def pin(self) -> None:
        """Settle the issue at start: the named one, else the latest by date right now."""
        if self.issue_id is None:
            from ..content.validate import latest_issue
            # no issue yet: the build shows why, and the next save tries again
            with contextlib.suppress(BriefingError):
                self.issue_id = latest_issue(self.project)

    def select(self, issue_id: str) -> bool:
        from ..content.validate import issue_ids
        if issue_id not in issue_ids(self.project):
            return False
        self.issue_id = issue_id
        self.rebuild()
        return True

    def files(self) -> dict[str, tuple[int, int]]:
        """(mtime, size) of every file a build reads (only for the polling fallback)."""
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

    def _publish(self, new: Build) -> None:
        with self.changed:
            self.build = new
            self.changed.notify_all()

    def rebuild(self) -> Build:
        """Render the email and digest in memory and publish them at once; then lint and publish
        the warnings (lint renders the email again, so it comes second and never delays it)."""
        with self.lock:
            return self._rebuild()

    def _rebuild(self) -> Build:
        from ..content.validate import issue_ids, load_issue
        from ..render.html import render_html
        from ..render.text import render_text
        self.pin()
        old = self.build
        issues = tuple(issue_ids(self.project))
        try:
            issue = load_issue(self.project, self.issue_id)
            email = render_html(issue, self.project.root / "templates").encode("utf-8")
            digest = render_text(issue).encode("utf-8")
        except BriefingError as exc:
            new = replace(old, version=old.version + 1, errors=exc.report(), issues=issues,
                          issue_id=self.issue_id)
            self._publish(new)
            return new
        except Exception as exc:  # a bug must not stop the preview; show it like an error
            new = replace(old, version=old.version + 1, issues=issues,
                          errors=f"internal error while building: {type(exc).__name__}: {exc}")
            self._publish(new)
            return new
        new = Build(old.version + 1, issue.id, issue.title, email, digest, None,
                    old.content + 1, old.warnings if old.issue_id == issue.id else "", issues,
                    issue.draft)
        self._publish(new)
        # Lint a moment later, in its own thread: it renders the email again, and run at once it
        # would hold the interpreter while the browser fetches the new panes (about 40 ms).
        timer = threading.Timer(LINT_DELAY_SECONDS, self._lint, (issue, new.content))
        timer.daemon = True
        timer.start()
        return new

    def _lint(self, issue, content: int) -> None:
        """The warnings of the build with this content, unless a newer one replaced it."""
        if self.build.content != content or self.stopping.is_set():
            return
        try:
            from ..editorial.lint import lint_issue
            warnings = "\n".join(p.format() for p in lint_issue(self.project, issue).problems)
        except Exception as exc:  # noqa: BLE001 - lint trouble must not stop the preview
            warnings = f"lint failed: {type(exc).__name__}: {exc}"
        with self.changed:
            current = self.build
            if current.content == content and warnings != current.warnings:
                self.build = replace(current, version=current.version + 1, warnings=warnings)
                self.changed.notify_all()

    def wait_for_change(self, version: int, timeout: float) -> Build:
        with self.changed:
            self.changed.wait_for(lambda: self.build.version != version or
                                  self.stopping.is_set(), timeout)
            return self.build

    def stop(self) -> None:
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()

    def watch_paths(self) -> list[Path]:
        """What a build reads: briefing.yaml, briefs/ and templates/ (not .venv, out/, .git)."""
        root = self.project.root
        found = [p for p in (root / "briefing.yaml", root / "briefs", root / "templates")
                 if p.exists()]
        return found or [root]

    def start_watching(self) -> None:
        """Ask the OS for notifications (inotify, FSEvents, ...) on what a build reads, before
        the first build, so no save between that build and the first wait goes unseen. If they
        cannot be had (no inotify watches or file descriptors left), fall back to comparing file
        times every 0.3 s, and say so."""
        self.notify = None
        try:
            from watchfiles._rust_notify import RustNotify  # the API watchfiles.watch() uses
            self.notify = RustNotify([str(p) for p in self.watch_paths()], False, False, 300,
                                     True, True)
            self.watching = "notifications"
        except Exception as exc:  # noqa: BLE001 - e.g. EMFILE/ENOSPC from inotify
            self.watching = f"polling ({type(exc).__name__}: {exc})"
            self.snapshot = self.files()

    def watch(self, on_rebuild: Callable[[Build], None] | None) -> None:
        """Rebuild on every save until stopped: no polling, so an idle preview uses no CPU
        beyond watchfiles' wake-up every STEP_MS to look at the events its thread collected."""
        notify = self.notify
        try:
            while notify is not None and not self.stopping.is_set():
                try:
                    changes = notify.watch(DEBOUNCE_MS, STEP_MS, 0, self.stopping)
                except Exception as exc:  # noqa: BLE001 - the watcher failed: poll instead
                    self.watching = f"polling ({type(exc).__name__}: {exc})"
                    self.snapshot = self.files()
                    break
                if changes == "signal":
                    raise KeyboardInterrupt
                if changes in ("stop", "timeout"):
                    continue
                build = self.rebuild()
                if on_rebuild:
                    on_rebuild(build)
            else:
                if notify is not None:
                    return
        finally:
            if notify is not None:
                with contextlib.suppress(Exception):
                    notify.close()
        while not self.stopping.wait(POLL_SECONDS):
            if self.poll() and on_rebuild:
                on_rebuild(self.build)


def _handler(previewer: Previewer, allowed_hosts: set[str], slots: threading.BoundedSemaphore,
             streams: threading.BoundedSemaphore):
    class Handler(BaseHTTPRequestHandler):
        server_version = "briefing-preview"
        timeout = IDLE_SECONDS  # socket timeout: an idle or slow client is let go
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # the terminal shows rebuilds, not every request
            pass

        def handle(self) -> None:
            if not slots.acquire(blocking=False):
                self.close_connection = True
                with contextlib.suppress(OSError):  # over the cap: answer and hang up at once
                    self.connection.sendall(b"HTTP/1.1 503 Service Unavailable\r\n"
                                            b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                return
            try:
                super().handle()
            except OSError:  # a timed-out or reset connection
                pass
            finally:
                slots.release()

        def allowed(self) -> bool:
            # Only the names the page was opened with: a page on another site that rebinds
            # its DNS name to 127.0.0.1 must not read the draft.
            if self.headers.get("Host", "") not in allowed_hosts:
                self.send(403, "text/plain; charset=utf-8", b"forbidden host\n")
                return False
            return True

        def do_GET(self) -> None:
            if not self.allowed():
                return
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

        def do_POST(self) -> None:
            """POST /select with the issue id as the body. The custom header is required so a
            page on another site cannot send it (a cross-site request with one needs a CORS
            preflight, which this server never grants)."""
            if not self.allowed():
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 200)).decode("utf-8", "replace")
            if self.path != "/select" or self.headers.get("X-Briefing") != "select":
                return self.send(404, "text/plain; charset=utf-8", b"not found\n")
            if not previewer.select(body.strip()):
                return self.send(400, "text/plain; charset=utf-8", b"no such issue\n")
            self.send(200, "application/json",
                      json.dumps(previewer.build.state()).encode("utf-8"))

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
            if not streams.acquire(blocking=False):
                return self.send(503, "text/plain; charset=utf-8", b"too many event streams\n")
            self.close_connection = True
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(f"retry: 1000\ndata: {build.version}\n\n".encode())
                self.wfile.flush()
                version = build.version
                while not previewer.stopping.is_set():
                    build = previewer.wait_for_change(version, KEEPALIVE_SECONDS)
                    if previewer.stopping.is_set():
                        break
                    if build.version == version:
                        self.wfile.write(b": keepalive\n\n")
                    else:
                        version = build.version
                        self.wfile.write(f"data: {version}\n\n".encode())
                    self.wfile.flush()
            except OSError:  # the tab was closed or reloaded
                pass
            finally:
                streams.release()

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # open event streams must not keep the process alive
    request_queue_size = 64

    def handle_error(self, request, client_address) -> None:
        """A failed connection (reset, timed out, no thread or descriptor left) is that client's
        problem: drop it quietly and keep serving the others."""

    def process_request(self, request, client_address) -> None:
        try:
            super().process_request(request, client_address)
        except (RuntimeError, OSError):  # no thread could be started (out of resources)
            self.shutdown_request(request)


def serve(project, issue_id: str | None = None, port: int = 8000,
          on_ready: Callable[[str, Build], None] | None = None,
          on_rebuild: Callable[[Build], None] | None = None) -> None:
    """Serve until Ctrl-C (or SIGTERM), then stop cleanly and return."""
    previewer = Previewer(project, issue_id)
    previewer.start_watching()
    previewer.rebuild()
    try:
        server = _Server(("127.0.0.1", port), None)  # type: ignore[arg-type]
    except OSError as exc:
        raise BriefingError(Problem(
            "preview", 0, 0, f"cannot listen on 127.0.0.1:{port}: {exc.strerror}",
            hint="choose another port with --port, or --port 0 for a free one")) from None
    bound = server.server_address[1]
    server.RequestHandlerClass = _handler(
        previewer, {f"127.0.0.1:{bound}", f"localhost:{bound}"},
        threading.BoundedSemaphore(MAX_CONNECTIONS), threading.BoundedSemaphore(MAX_STREAMS))
    thread = threading.Thread(target=server.serve_forever, args=(0.5,), daemon=True,
                              name="preview-http")
    thread.start()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if on_ready:
            on_ready(f"http://127.0.0.1:{bound}/", previewer.build)
        if previewer.watching != "notifications":
            print(f"preview: warning: file notifications unavailable, {previewer.watching}",
                  file=sys.stderr, flush=True)
        previewer.watch(on_rebuild)
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
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: #eceff3; color: #1d232b; }
  header { padding: 8px 16px; background: #1d232b; color: #fff; display: flex; gap: 16px;
           align-items: baseline; flex-wrap: wrap; }
  header .status { color: #a9b0b8; }
  header select { font: inherit; }
  .box { margin: 12px 16px 0; padding: 10px 14px; border-radius: 6px; white-space: pre-wrap;
         font: 13px/1.5 ui-monospace, monospace; max-height: 30vh; overflow: auto; }
  #errors { background: #fff1f0; color: #8a1c12; border: 1px solid #f2b8b5; }
  #warnings { background: #fff8e1; color: #5c4300; border: 1px solid #f0d98c; }
  .box[hidden] { display: none; }
  main { display: flex; gap: 16px; padding: 12px 16px; align-items: flex-start;
         flex-wrap: wrap; }
  figure { margin: 0; min-width: 0; }
  figcaption { color: #5b6470; margin-bottom: 4px; }
  iframe { border: 1px solid #c9ced6; background: #fff; height: calc(100vh - 110px);
           display: block; }
  #desktop { width: 680px; }
  #mobile { width: 375px; }
  #digest { width: 620px; }
  main.stale iframe { opacity: .45; }
  /* From 1200 px the three panes sit side by side: the phone keeps its 375 px, the digest
     at least the 600 px its 72 columns need in a 13 px monospace font (narrower, the browser
     would wrap it again), and the desktop email is drawn at 680 px and scaled to the rest. */
  @media (min-width: 1200px) {
    main { display: grid; grid-template-columns: minmax(0, 1.15fr) 377px minmax(600px, 1fr);
           flex-wrap: nowrap; }
    #desktop-box { overflow: hidden; }
    #desktop { transform-origin: 0 0; }
    #digest { width: 100%; }
  }
</style>
</head>
<body>
<header><strong>briefing preview</strong>
<label>Issue <select id="pick" aria-label="Issue">__OPTIONS__</select></label>
<span id="issue">__ISSUE__</span>
<span class="status" id="status">__STATUS__</span></header>
<pre id="errors" class="box"__HIDDEN__>__ERRORS__</pre>
<pre id="warnings" class="box"__WHIDDEN__>__WARNINGS__</pre>
<main id="panes" class="__STALE__">
  <figure><figcaption>Desktop</figcaption><div id="desktop-box">
    <iframe id="desktop" src="/email.html?v=__CONTENT__" title="Email at desktop width">
    </iframe></div></figure>
  <figure><figcaption>Phone, 375 px</figcaption>
    <iframe id="mobile" src="/email.html?v=__CONTENT__" title="Email at 375 px"></iframe></figure>
  <figure><figcaption>Text digest</figcaption>
    <iframe id="digest" src="/digest.txt?v=__CONTENT__" title="Text digest"></iframe></figure>
</main>
<script>
// Rebuilds arrive as Server-Sent Events; each reloads the frames in place, keeping the scroll.
let shown = __VERSION__, content = __CONTENT__;
function fit() {  // scale the desktop email into its column when the panes sit side by side
  const box = document.getElementById("desktop-box"), frame = document.getElementById("desktop");
  const wide = matchMedia("(min-width: 1200px)").matches;
  const scale = wide ? Math.min(1, box.clientWidth / 680) : 1;
  frame.style.transform = wide ? "scale(" + scale + ")" : "";
  frame.style.height = wide ? ((innerHeight - 110) / scale) + "px" : "";
  box.style.height = wide ? (innerHeight - 110) + "px" : "";
}
addEventListener("resize", fit);
fit();
function reload(frame, url) {
  let y = 0;
  try { y = frame.contentWindow.scrollY; } catch (e) {}
  frame.onload = () => { try { frame.contentWindow.scrollTo(0, y); } catch (e) {} };
  frame.src = url;
}
function list(element, text) {
  element.hidden = !text;
  element.textContent = text || "";
}
async function refresh() {
  const state = await (await fetch("/state", {cache: "no-store"})).json();
  if (state.version === shown) return;
  shown = state.version;
  list(document.getElementById("errors"), state.errors);
  list(document.getElementById("warnings"), state.warnings);
  document.getElementById("panes").className = state.ok ? "" : "stale";
  document.getElementById("issue").textContent =
    state.issue ? (state.draft ? "draft · " : "") + state.title : "";
  const pick = document.getElementById("pick");
  if ([...pick.options].map((o) => o.value).join() !== state.issues.join()) {
    pick.replaceChildren(...state.issues.map((id) => new Option(id, id)));
  }
  pick.value = state.issue || "";
  document.getElementById("status").textContent = (state.ok ? "updated " :
    "errors (showing the last good build), ") + new Date().toLocaleTimeString();
  document.title = (state.ok ? "" : "errors: ") + "preview " + (state.issue || "");
  if (state.ok && state.content !== content) {
    content = state.content;
    for (const id of ["desktop", "mobile"]) {
      reload(document.getElementById(id), "/email.html?v=" + content);
    }
    reload(document.getElementById("digest"), "/digest.txt?v=" + content);
  }
}
document.getElementById("pick").onchange = async (event) => {
  await fetch("/select", {method: "POST", body: event.target.value,
                          headers: {"X-Briefing": "select"}});
  refresh();
};
const events = new EventSource("/events");
events.onmessage = (event) => { if (Number(event.data) !== shown) refresh(); };
</script>
</body>
</html>
"""


def page(build: Build) -> str:
    """The preview page with the current build's state filled in (escaped)."""
    ok = build.errors is None
    options = "".join(
        f'<option value="{html.escape(i)}"{" selected" if i == build.issue_id else ""}>'
        f"{html.escape(i)}</option>" for i in build.issues)
    issue = ("draft · " if build.draft else "") + build.title if build.issue_id else ""
    replacements = {
        "__TITLE__": html.escape(("" if ok else "errors: ") + f"preview {build.issue_id or ''}"),
        "__ISSUE__": html.escape(issue),
        "__OPTIONS__": options,
        "__STATUS__": "" if ok else "errors (showing the last good build)",
        "__HIDDEN__": " hidden" if ok else "",
        "__ERRORS__": html.escape(build.errors or ""),
        "__WHIDDEN__": "" if build.warnings else " hidden",
        "__WARNINGS__": html.escape(build.warnings),
        "__STALE__": "" if ok else "stale",
        "__VERSION__": str(build.version),
        "__CONTENT__": str(build.content),
    }
    # One pass, so text from a brief that happens to contain __VERSION__ is left alone.
    return re.sub(r"__[A-Z]+__", lambda m: replacements.get(m.group(), m.group()), PAGE)
