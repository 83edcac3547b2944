"""The preview's HTTP side: a WSGI app under waitress (the endpoint's server too) on 127.0.0.1.

Connections are bounded by the open-file limit: at most what it leaves after the descriptors a
build needs. At that bound the least recently active connection that has no request running
(an idle keep-alive, or a request that never finished arriving) is closed to let the next one
in, so clients holding connections open cannot keep a page from being answered. Event streams
are capped apart (each holds a thread while it waits for a rebuild).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import BriefingError, Problem

if TYPE_CHECKING:
    from .preview import Build, Previewer

KEEPALIVE_SECONDS = 15  # an SSE comment now and then, so proxies and browsers keep the stream
IDLE_SECONDS = 10  # a connection with no request running is closed after this long
MAX_CONNECTIONS = 64
MAX_STREAMS = 16
# Descriptors kept free for the rest: standard streams, the listening socket, waitress's and
# the watcher's wake-up pipes, inotify's, and the files a rebuild opens.
RESERVED_FILES = 24

StartResponse = Callable[..., Any]


def connection_limit() -> int:
    """Connections at once: MAX_CONNECTIONS, or fewer under a low open-file limit (past it
    accept() fails, and a server that cannot accept cannot answer even with a 503)."""
    import resource
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(4, min(MAX_CONNECTIONS, soft - RESERVED_FILES))


def application(previewer: Previewer, hosts: set[str],
                page: Callable[[Build], str]) -> Callable[[dict, StartResponse], Iterable[bytes]]:
    """The preview's pages: /, /email.html, /digest.txt, /state, /events, POST /select."""
    streams = threading.BoundedSemaphore(MAX_STREAMS)

    def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        def send(status: str, kind: str, body: bytes) -> list[bytes]:
            start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body))),
                                    ("Cache-Control", "no-store")])
            return [body]

        # Only the names the page was opened with: a page on another site that rebinds its
        # DNS name to 127.0.0.1 must not read the draft.
        if environ.get("HTTP_HOST", "") not in hosts:
            return send("403 Forbidden", "text/plain; charset=utf-8", b"forbidden host\n")
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method == "POST":
            return select(environ, send)
        build = previewer.build
        if method != "GET":
            return send("405 Method Not Allowed", "text/plain; charset=utf-8", b"GET only\n")
        if path == "/":
            return send("200 OK", "text/html; charset=utf-8", page(build).encode("utf-8"))
        if path == "/email.html":
            return send("200 OK", "text/html; charset=utf-8", build.email)
        if path == "/digest.txt":
            return send("200 OK", "text/plain; charset=utf-8", build.digest)
        if path == "/state":
            return send("200 OK", "application/json", json.dumps(build.state()).encode())
        if path == "/events":
            if not streams.acquire(blocking=False):
                return send("503 Service Unavailable", "text/plain; charset=utf-8",
                            b"too many event streams\n")
            start_response("200 OK", [("Content-Type", "text/event-stream"),
                                      ("Cache-Control", "no-store")])
            return events(build)
        return send("404 Not Found", "text/plain; charset=utf-8", b"not found\n")

    def select(environ: dict, send: Callable[[str, str, bytes], list[bytes]]) -> list[bytes]:
        """POST /select with the issue id as the body. The custom header is required so a page
        on another site cannot send it (a cross-site request with one needs a CORS preflight,
        which this server never grants)."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, 200)).decode("utf-8", "replace")
        if environ.get("PATH_INFO") != "/select" or environ.get("HTTP_X_BRIEFING") != "select":
            return send("404 Not Found", "text/plain; charset=utf-8", b"not found\n")
        if not previewer.select(body.strip()):
            return send("400 Bad Request", "text/plain; charset=utf-8", b"no such issue\n")
        return send("200 OK", "application/json",
                    json.dumps(previewer.build.state()).encode("utf-8"))

    def events(build: Build) -> Iterator[bytes]:
        """Server-Sent Events: the build version now, then each time it changes (the thread
        sleeps meanwhile; a comment every KEEPALIVE_SECONDS finds out a closed tab)."""
        try:
            version = build.version
            yield f"retry: 1000\ndata: {version}\n\n".encode()
            while not previewer.stopping.is_set():
                build = previewer.wait_for_change(version, KEEPALIVE_SECONDS)
                if previewer.stopping.is_set():
                    break
                if build.version == version:
                    yield b": keepalive\n\n"
                else:
                    version = build.version
                    yield f"data: {version}\n\n".encode()
        finally:
            streams.release()

    return app


def make_server(app: Callable, port: int) -> Any:
    """waitress on 127.0.0.1:port (0: a free one), not yet running."""
    import logging

    from waitress.adjustments import Adjustments
    from waitress.server import TcpWSGIServer
    from waitress.task import ThreadedTaskDispatcher

    class Server(TcpWSGIServer):
        def readable(self) -> bool:
            """At the connection limit, close the least recently active connection that has
            no request running, then accept again (waitress alone would stop accepting)."""
            if self.accepting and len(self._map) >= self.adj.connection_limit:
                idle = [c for c in self.active_channels.values()
                        if not c.requests and not c.will_close]
                if idle:
                    min(idle, key=lambda c: c.last_activity).will_close = True
                    self.pull_trigger()  # wake the loop, which closes it
            return bool(super().readable())

    # Its notices (the limit reached, a busy queue) would be printed among the rebuilds.
    logging.getLogger("waitress").setLevel(logging.ERROR)
    limit = connection_limit()
    adj = Adjustments(
        host="127.0.0.1", port=port, ident="briefing-preview",
        threads=MAX_STREAMS + 4, connection_limit=limit + 2,  # + the listener and its trigger
        channel_timeout=IDLE_SECONDS, cleanup_interval=IDLE_SECONDS,
        # The loop sleeps until a socket is ready; it wakes on its own only to close idle
        # connections, every IDLE_SECONDS.
        asyncore_loop_timeout=IDLE_SECONDS,
        max_request_body_size=4096, max_request_header_size=16 * 1024, expose_tracebacks=False)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    try:
        return Server(app, {}, True, None, dispatcher=dispatcher, adj=adj,
                      sockinfo=adj.listen[0])
    except OSError as exc:
        dispatcher.shutdown(timeout=1)
        raise BriefingError(Problem(
            "preview", 0, 0, f"cannot listen on 127.0.0.1:{port}: {exc.strerror}",
            hint="choose another port with --port, or --port 0 for a free one")) from None
