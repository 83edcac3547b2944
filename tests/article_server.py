"""A real HTTP server on 127.0.0.1 serving the saved article pages of tests/data/articles.

Each page was saved from its site (https://gazette.example.org/...); the server stands in for
every site at once, so it serves a page at its path and writes the page's own site address as
its own (as a copy saved with `wget --convert-links` would). Special routes come from
pages.json: a redirect with tracking parameters, a 403, a PDF. Pages can be replaced while it
runs (`edit`), to make a saved copy differ from the live page.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ARTICLES = Path(__file__).resolve().parent / "data" / "articles"


def pages() -> list[dict]:
    return json.loads((ARTICLES / "pages.json").read_text(encoding="utf-8"))


class ArticleServer:
    def __init__(self) -> None:
        self.routes: dict[str, dict] = {}
        self.edits: dict[str, bytes] = {}
        self.log: list[str] = []
        self.stop = threading.Event()
        for page in pages():
            self.routes[urlsplit(page["path"]).path] = page
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.log.append(self.path)
                path = urlsplit(self.path).path
                if path == "/slow":
                    server.stop.wait(10)
                    return self.send(200, b"too late", "text/html")
                if path == "/image.png":
                    return self.send(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")
                page = server.routes.get(path)
                if page is None:
                    return self.send(404, b"<h1>Not found</h1>", "text/html")
                if "redirect" in page:
                    return self.send(301, b"", "text/html", {"Location": page["redirect"]})
                if page.get("status"):
                    return self.send(page["status"], b"<html><body><h1>Access denied</h1>"
                                     b"<p>Subscribe to read.</p></body></html>", "text/html")
                body = server.edits.get(path) or (ARTICLES / page["file"]).read_bytes()
                kind = page.get("content_type", "text/html; charset=utf-8")
                if kind.startswith("text/html"):
                    body = body.replace(page["origin"].encode(), server.base.encode())
                self.send(200, body, kind)

            def send(self, code: int, body: bytes, kind: str,
                     headers: dict | None = None) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (a timeout test)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def edit(self, path: str, old: str, new: str) -> None:
        """Serve the page at `path` with `old` replaced by `new` from now on."""
        page = self.routes[urlsplit(path).path]
        text = (ARTICLES / page["file"]).read_text(encoding="utf-8")
        assert old in text, old
        self.edits[urlsplit(path).path] = text.replace(old, new).encode("utf-8")

    def replace(self, path: str, body: str) -> None:
        self.edits[urlsplit(path).path] = body.encode("utf-8")

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
