"""The bounded HTTP client of `links` and `add`: total deadlines, kept-alive connections, caps."""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import http.client
import itertools
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

USER_AGENT = "briefing-links/0.1 (newsletter link check)"
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 10  # as browsers and urllib allow
# A status line and headers are all a link check needs. At most this much of a body is ever
# read (only to keep the connection open for the next URL); a 5 GB body is never read into
# memory.
BODY_PREFIX = 64 * 1024
# What `add` reads of an article: large pages with inline scripts and styles run to a few MB
# (a long read with its comments, a PDF report); anything beyond this is cut, and said.
ARTICLE_BYTES = 5 * 1024 * 1024


# -- addresses ---------------------------------------------------------------------------------

# RFC 3986's reserved and unreserved characters, and '%' so existing escapes stay as they are;
# everything else (non-ASCII letters, spaces, '|', '"') is percent-encoded as UTF-8 (RFC 3987
# section 3.1: how an IRI becomes a URI).
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~-._"


def to_uri(iri: str) -> str:
    """An IRI (https://example.org/café, /新闻?q=视频, a non-ASCII host) as the ASCII URI that
    goes on the wire: host in IDNA (punycode), the rest percent-encoded UTF-8."""
    if iri.isascii():
        return iri
    parts = urlsplit(iri)
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        host = quote(host, safe="")  # not a valid IDN: the request will fail and say why
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe=_URI_SAFE),
                       quote(parts.query, safe=_URI_SAFE), quote(parts.fragment, safe=_URI_SAFE)))


def _one_line(text: str, limit: int = 200) -> str:
    """Anything a server says, as one short line of printable text (a reason phrase is the
    server's to choose: it may hold control characters or run on for kilobytes)."""
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(cleaned.split())[:limit]


# -- deadlines ---------------------------------------------------------------------------------

class _Deadlines:
    """One thread that ends requests whose URL has used up its time.

    A socket timeout bounds each wait, not the total: a server that drips one byte every 0.2 s
    never trips a 10 s timeout. So each request is registered with its URL's deadline, and when
    the deadline passes its socket is shut down, which wakes the worker blocked reading it."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, list]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="links-deadlines", daemon=True)
        self._thread.start()

    def arm(self, deadline: float, connection: http.client.HTTPConnection) -> list:
        entry = [connection, True]  # [connection, still armed]
        with self._wake:
            heapq.heappush(self._heap, (deadline, next(self._order), entry))
            self._wake.notify()
        return entry

    def disarm(self, entry: list) -> None:
        with self._wake:
            entry[1] = False

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with self._wake:
            while not self._stopped:
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, _, entry = self._heap[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                heapq.heappop(self._heap)
                if entry[1]:
                    entry[1] = False
                    _shut(entry[0])


def _shut(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _TimedOut(Exception):
    """The URL's total time ran out."""


# -- one worker's connections ------------------------------------------------------------------

@dataclass
class _Answer:
    status: int
    reason: str
    location: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""   # read only when asked for (`read`), and at most that much
    cut: bool = False   # the body went on beyond what was read


@dataclass
class _Client:
    """The connections of one worker, one per origin, kept open between URLs (HTTP/1.1
    keep-alive): a worker takes one host's URLs one after another, so each reuses the last."""

    deadlines: _Deadlines
    tls: ssl.SSLContext | None = None
    connections: dict[tuple[str, str, int], http.client.HTTPConnection] = field(
        default_factory=dict)

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()

    def _connection(self, scheme: str, host: str, port: int, left: float
                    ) -> tuple[http.client.HTTPConnection, bool]:
        key = (scheme, host, port)
        connection = self.connections.get(key)
        if connection is not None and connection.sock is not None:
            connection.sock.settimeout(left)
            return connection, True
        if scheme == "https":
            if self.tls is None:
                self.tls = ssl.create_default_context()
            connection = http.client.HTTPSConnection(host, port, timeout=left, context=self.tls)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=left)
        self.connections[key] = connection
        return connection, False

    def request(self, method: str, url: str, deadline: float, read: int = 0,
                accept: str = "*/*") -> _Answer:
        """One request, no redirects followed; raises _TimedOut, OSError or HTTPException.
        With `read`, up to that many bytes of the body of a final answer are read too."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        host = parts.hostname or ""
        target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        for attempt in (1, 2):
            left = deadline - time.monotonic()
            if left <= 0:
                raise _TimedOut
            connection, reused = self._connection(scheme, host, port, left)
            armed = self.deadlines.arm(deadline, connection)
            try:
                # identity: a body is read up to a cap, which a compressed one could pass
                # many times over once inflated (RFC 9110 12.5.3: no header means any coding).
                connection.request(method, target, headers={
                    "User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "identity"})
                response = connection.getresponse()
                body = b""
                if read and method == "GET" and response.status not in REDIRECTS:
                    body = response.read(read + 1)  # inside the deadline, like the headers
                answer = _Answer(response.status, _one_line(response.reason or ""),
                                 response.getheader("Location") or "",
                                 tuple(response.getheaders()), body[:read], len(body) > read)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.deadlines.disarm(armed)
                self._drop((scheme, host, port))
                if time.monotonic() >= deadline:
                    raise _TimedOut from None
                # A kept-alive connection the server has since closed: retry once on a new
                # one, as browsers do; a fresh connection that fails is a real failure.
                if not reused or attempt == 2:
                    raise
                continue
            except (OSError, http.client.HTTPException):
                self.deadlines.disarm(armed)
                self._drop((scheme, host, port))
                if time.monotonic() >= deadline:
                    raise _TimedOut from None
                raise
            try:
                self._finish(response, method, (scheme, host, port))
            except (OSError, http.client.HTTPException):  # the answer is in; the rest is not
                self._drop((scheme, host, port))          # needed, only the connection is lost
            finally:
                self.deadlines.disarm(armed)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _finish(self, response: http.client.HTTPResponse, method: str, key: tuple) -> None:
        """Keep the connection for the next URL when the body is small and complete; else
        close it without reading the body."""
        length = response.length
        if method == "HEAD" or response.status in (204, 304):
            response.read()
        elif length is not None and length <= BODY_PREFIX:
            response.read(length)
        if not response.isclosed() or response.will_close:
            response.close()
            self._drop(key)

    def _drop(self, key: tuple) -> None:
        connection = self.connections.pop(key, None)
        if connection is not None:
            connection.close()


# -- one URL -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Outcome:
    status: int
    reason: str
    hops: tuple[tuple[int, str], ...]  # (status, where it led) for each redirect followed
    final: str
    answer: _Answer | None = None  # the last answer in full (headers, and a body if read)


def _follow(client: _Client, url: str, method: str, deadline: float, read: int = 0,
            accept: str = "*/*") -> _Outcome | str:
    """Follow redirects from `url`: the final answer, or why it could not get one."""
    current = url
    seen = {url}
    hops: list[tuple[int, str]] = []
    while True:
        answer = client.request(method, to_uri(current), deadline, read, accept)
        if answer.status not in REDIRECTS:
            return _Outcome(answer.status, answer.reason, tuple(hops), current, answer)
        if not answer.location:
            return _Outcome(answer.status, f"{answer.reason} (a redirect without a Location)",
                            tuple(hops), current, answer)
        target = urljoin(current, _one_line(answer.location, 2000))
        scheme = urlsplit(target).scheme.lower()
        if scheme not in ("http", "https"):
            return f"redirects to {target}, which is not an http(s) address"
        hops.append((answer.status, target))
        if target in seen:
            return f"redirects in a loop ({' -> '.join([url, *(h[1] for h in hops)])})"
        if len(hops) > MAX_REDIRECTS:
            return f"more than {MAX_REDIRECTS} redirects (the last to {target})"
        seen.add(target)
        current = target


def _reason(reason: BaseException) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"certificate not valid ({reason.verify_message})"
    if isinstance(reason, socket.gaierror):
        return f"host not found ({reason.strerror})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return _one_line(str(reason)) or type(reason).__name__




# -- a whole page, for `add` and saved copies ---------------------------------------------------

PAGE_ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.8"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Page:
    """One GET, redirects followed: the final answer with its headers and (capped) body."""

    url: str                                  # as asked for
    final: str = ""                           # where the redirects ended ('' without an answer)
    status: int | None = None
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    cut: bool = False                         # longer than the cap: this is its first part
    error: str = ""                           # why there is no page; '' when there is one
    timed_out: bool = False
    fetched: dt.datetime = field(default_factory=_now)

    @property
    def ok(self) -> bool:
        return not self.error

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    @property
    def media_type(self) -> str:
        """'text/html', 'application/pdf'... ('' when the server does not say)."""
        return self.header("Content-Type").split(";")[0].strip().lower()


def fetch_page(url: str, timeout: float = 20.0, max_bytes: int = ARTICLE_BYTES,
               client: _Client | None = None) -> Page:
    """GET `url` within `timeout` seconds in all (redirects included), reading at most
    `max_bytes` of the body; never raises for what a server does."""
    own = client is None
    if client is None:
        client = _Client(_Deadlines())
    deadline = time.monotonic() + timeout
    try:
        outcome = _follow(client, url, "GET", deadline, max_bytes, PAGE_ACCEPT)
    except _TimedOut:
        return Page(url, error=f"no answer within {timeout:g} s", timed_out=True)
    except (http.client.HTTPException, ssl.SSLError, OSError, ValueError) as exc:
        return Page(url, error=f"cannot connect: {_reason(exc)}")
    finally:
        if own:
            client.close()
            client.deadlines.stop()
    if isinstance(outcome, str):
        return Page(url, error=outcome)
    answer = outcome.answer
    assert answer is not None  # _follow returns the answer with every _Outcome
    body, cut, problem = _inflate(answer, max_bytes)
    error = problem
    if outcome.status >= 400 or outcome.status in REDIRECTS:
        error = f"{outcome.status} {outcome.reason}".strip()
    return Page(url, outcome.final, outcome.status, outcome.reason, answer.headers, body, cut,
                error)


def _inflate(answer: _Answer, max_bytes: int) -> tuple[bytes, bool, str]:
    """The body without a gzip or deflate coding a server used although asked for identity,
    still within the cap (a small gzip body can inflate to gigabytes)."""
    coding = next((v for k, v in answer.headers if k.lower() == "content-encoding"), "")
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        return answer.body, answer.cut, ""
    if coding not in ("gzip", "x-gzip", "deflate"):
        return b"", answer.cut, f"the page is compressed as {_one_line(coding, 40)}, " \
                                "which briefing does not read"
    inflater = zlib.decompressobj(wbits=47 if coding != "deflate" else 15)  # 47: gzip or zlib
    try:
        body = inflater.decompress(answer.body, max_bytes + 1)
    except zlib.error:
        return b"", answer.cut, f"the page's {coding} coding is broken"
    return body[:max_bytes], answer.cut or len(body) > max_bytes, ""
