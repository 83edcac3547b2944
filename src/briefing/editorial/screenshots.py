"""`build --screenshots`: the email, the issue's web page and the live preview, as PNGs kept in
private state (.briefing/screenshots/<ISSUE>/), never in the public out/."""

from __future__ import annotations

import contextlib
import shutil
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..errors import BriefingError, Problem

# Screenshots differ from machine to machine and run to megabytes: they are for the editor's
# eyes (and the docs), not for the web edition, so they live with the other private state.
SCREENSHOTS_DIR = ".briefing/screenshots"
# Besides the email's four views (browser.VIEWS): the issue's web page on a desktop and on a
# phone in dark mode, and the preview page at 1400 px, where its three panes sit side by side.
PAGES = (("web-light-1280", "web", 1280, False), ("web-dark-375", "web", 375, True),
         ("preview-1400", "preview", 1400, False))


@dataclass(frozen=True)
class Screenshots:
    paths: list[Path]
    warnings: list[Problem]
    shown: str  # the folder as messages name it: .briefing/screenshots/2026-W07


def take_screenshots(project, issue_id: str, draft: bool, title: str) -> Screenshots:
    """Open the built issue in headless Chromium and save what an editor checks by eye; warn
    about what a reader would see go wrong in the email (browser.preview_problems)."""
    from ..files import private_folder, write_files
    from ..publish.issues import output_root
    from .browser import Browser, BrowserError, capture_in, preview_problems

    root, shown = output_root(project, draft)
    built = root / issue_id
    where = f"{SCREENSHOTS_DIR}/{issue_id}"
    try:
        email = (built / "email.html").read_bytes()
        digest = (built / "digest.txt").read_bytes()
    except OSError as exc:
        raise BriefingError(Problem(f"{shown}/{issue_id}/email.html", 0, 0,
                                    f"cannot read the built email: {exc.strerror}")) from None
    shots: dict[str, bytes] = {}
    try:
        with Browser(timeout=60) as browser, _serve(_preview(issue_id, title, draft, email,
                                                             digest)) as preview_url:
            captures = capture_in(browser, email.decode("utf-8"))
            shots.update((c.view.name, c.png) for c in captures)
            page = browser.new_page()
            for name, what, width, dark in PAGES:
                page.viewport(width, 900, mobile=width < 600)
                page.colour_scheme(dark)
                page.open(preview_url if what == "preview" else (built / "index.html").as_uri())
                shots[name] = page.screenshot()
    except (BrowserError, TimeoutError) as exc:
        raise BriefingError(Problem(where, 0, 0, f"cannot take screenshots: {exc}")) from None
    private = private_folder(project.root / SCREENSHOTS_DIR)
    paths = write_files(private, {f"{issue_id}/{name}.png": png for name, png in shots.items()},
                        SCREENSHOTS_DIR)
    # Versions before this one wrote them into out/<ISSUE>/preview/, which is published.
    with contextlib.suppress(OSError):
        shutil.rmtree(built / "preview")
    return Screenshots(paths, preview_problems(captures, f"{shown}/{issue_id}/email.html"), where)


def _preview(issue_id: str, title: str, draft: bool, email: bytes,
             digest: bytes) -> dict[str, tuple[str, bytes]]:
    """The live preview's page as `briefing preview` serves it, for this build."""
    from .preview import Build, page
    build = Build(1, issue_id, title, email, digest, None, content=1, issues=(issue_id,),
                  draft=draft)
    return {"/": ("text/html; charset=utf-8", page(build).encode("utf-8")),
            "/email.html": ("text/html; charset=utf-8", email),
            "/digest.txt": ("text/plain; charset=utf-8", digest)}


@contextlib.contextmanager
def _serve(files: dict[str, tuple[str, bytes]]):
    """A server on 127.0.0.1 (a free port) for the pages: the preview loads its panes over
    HTTP, as in `briefing preview`. Anything else (its live update stream) gets 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            kind, body = files.get(self.path.split("?")[0], ("text/plain", b""))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # quiet: the build prints its own summary
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
