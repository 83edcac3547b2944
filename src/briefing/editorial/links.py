"""`briefing links`: check every URL of an issue over HTTP, politely, with a private cache."""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import queue
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from ..content.model import Issue, Origin
from ..errors import Problem

USER_AGENT = "briefing-links/0.1 (newsletter link check)"
# 405 Method Not Allowed and 501 Not Implemented are how servers say "no HEAD here"; many
# others (CDNs, bot filters) answer a HEAD with 403, 404 or 5xx for a page a GET opens. So any
# error to a HEAD is confirmed with a GET before a link is called broken.
PERMANENT = (301, 308)
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 10  # as browsers and urllib allow
# A status line and headers are all a check needs. At most this much of a body is ever read
# (only to keep the connection open for the next URL); a 5 GB body is never read into memory.
BODY_PREFIX = 64 * 1024


@dataclass(frozen=True)
class LinkResult:
    url: str
    status: int | None = None  # the final HTTP status, None when there was no answer
    moved_to: str = ""         # where a permanent redirect leads (the end of the chain)
    moved_status: int = 0      # 301 or 308
    error: str = ""            # why the link is broken; empty when it works
    timed_out: bool = False
    cached: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class LinkReport:
    issue: Issue
    results: tuple[LinkResult, ...]
    problems: tuple[Problem, ...]

    @property
    def broken(self) -> int:
        return sum(1 for r in self.results if not r.ok)

    def summary(self) -> str:
        from ..errors import count
        cached = sum(1 for r in self.results if r.cached)
        moved = sum(1 for r in self.results if r.ok and r.moved_to)
        fine = len(self.results) - moved - self.broken
        return (f"checked {count(len(self.results), 'link')} in {self.issue.id} ({cached} from "
                f"cache): {fine} ok, {moved} moved, {self.broken} broken") + self._offline()

    def _offline(self) -> str:
        """When no server answered at all (two hosts or more, or none found), the links are
        rarely what is broken: say so."""
        fresh = [r for r in self.results if not r.cached]
        hosts = {urlsplit(r.url).hostname for r in fresh}
        if fresh and all(r.status is None and not r.ok for r in fresh) and (
                len(hosts) > 1 or all("host not found" in r.error for r in fresh)):
            return f"; no answer from any of the {len(hosts)} hosts: is this machine offline?"
        return ""


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

    def request(self, method: str, url: str, deadline: float) -> _Answer:
        """One request, no redirects followed; raises _TimedOut, OSError or HTTPException."""
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
                connection.request(method, target, headers={"User-Agent": USER_AGENT,
                                                            "Accept": "*/*"})
                response = connection.getresponse()
                answer = _Answer(response.status, _one_line(response.reason or ""),
                                 response.getheader("Location") or "")
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


def _follow(client: _Client, url: str, method: str, deadline: float) -> _Outcome | str:
    """Follow redirects from `url`: the final answer, or why it could not get one."""
    current = url
    seen = {url}
    hops: list[tuple[int, str]] = []
    while True:
        answer = client.request(method, to_uri(current), deadline)
        if answer.status not in REDIRECTS:
            return _Outcome(answer.status, answer.reason, tuple(hops), current)
        if not answer.location:
            return _Outcome(answer.status, f"{answer.reason} (a redirect without a Location)",
                            tuple(hops), current)
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


def check_url(url: str, timeout: float, client: _Client | None = None) -> LinkResult:
    """HEAD, then GET if HEAD gets an error; an error to the GET, running out of time (the
    whole check of one URL, redirects included, gets `timeout` seconds) and connection
    errors make a link broken."""
    own = client is None
    if client is None:
        client = _Client(_Deadlines())
    deadline = time.monotonic() + timeout
    try:
        outcome = _follow(client, url, "HEAD", deadline)
        if isinstance(outcome, _Outcome) and outcome.status >= 400:
            outcome = _follow(client, url, "GET", deadline)
    except _TimedOut:
        return LinkResult(url, error=f"no answer within {timeout:g} s", timed_out=True)
    except (http.client.HTTPException, ssl.SSLError, OSError, ValueError) as exc:
        return LinkResult(url, error=f"cannot connect: {_reason(exc)}")
    finally:
        if own:
            client.close()
            client.deadlines.stop()
    if isinstance(outcome, str):
        return LinkResult(url, error=outcome)
    moved_to, moved_status = "", 0
    if outcome.hops and outcome.hops[0][0] in PERMANENT:
        moved_to, moved_status = outcome.final, outcome.hops[0][0]
    if outcome.status >= 400:
        error = f"{outcome.status} {outcome.reason}".strip()
        if outcome.hops:  # say where it went: the address that failed is not the one written
            error = f"redirected to {outcome.final}, which answered {error}"
        return LinkResult(url, outcome.status, moved_to, moved_status, error)
    return LinkResult(url, outcome.status, moved_to, moved_status)


def _reason(reason: BaseException) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"certificate not valid ({reason.verify_message})"
    if isinstance(reason, socket.gaierror):
        return f"host not found ({reason.strerror})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return _one_line(str(reason)) or type(reason).__name__


# -- the run -------------------------------------------------------------------------------------

def check_links(project, issue_id: str | None = None, timeout: float = 10.0, per_host: int = 2,
                workers: int = 8, max_age_hours: float = 24.0, use_cache: bool = True,
                progress: Callable[[int], None] | None = None,
                started: Callable[[int], None] | None = None) -> LinkReport:
    """Check an issue's URLs: at most `per_host` requests at a time to any one host."""
    from ..content.validate import load_issue
    from .linkcache import from_cache, load_cache, save_cache
    from .lint import url_places

    issue = load_issue(project, issue_id)
    places = url_places(project, issue)
    urls = [r.url for r in issue.references]
    now = time.time()
    cache = load_cache(project, max_age_hours * 3600, now)
    results: dict[str, LinkResult] = {u: from_cache(u, cache[u]) for u in urls
                                      if use_cache and u in cache}
    todo = [u for u in urls if u not in results]
    if started:
        started(len(urls))
    if progress and results:
        progress(len(results))
    for url, result in _check_all(todo, timeout, per_host, workers):
        results[url] = result
        if progress:
            progress(1)
    # Other issues' links stay in the cache; a link checked now replaces its entry, and is
    # dropped from it if it is broken now.
    fresh = {u: {"checked": now, "status": r.status, "moved_to": r.moved_to or None,
                 "moved_status": r.moved_status or None}
             for u, r in results.items() if r.ok and not r.cached}
    checked = set(todo)
    kept = {u: e for u, e in cache.items() if u not in checked}
    ordered = tuple(results[u] for u in urls)
    problems = _problems(ordered, places)
    if todo:
        unsaved = save_cache(project, {**kept, **fresh})
        if unsaved is not None:
            problems.append(unsaved)
    return LinkReport(issue, ordered, tuple(problems))


def _check_all(urls: list[str], timeout: float, per_host: int, workers: int
               ) -> Iterator[tuple[str, LinkResult]]:
    """Yield (url, result) as checks finish: up to `per_host` loops per host, each taking that
    host's URLs one by one over its own kept-alive connection, so no worker ever sits waiting
    for a busy host's turn."""
    by_host: dict[str, deque[str]] = {}
    for url in urls:
        by_host.setdefault(_host(url), deque()).append(url)
    finished: queue.Queue = queue.Queue()
    stop = threading.Event()
    if not urls:
        return
    deadlines = _Deadlines()
    tls = ssl.create_default_context() if any(
        urlsplit(u).scheme.lower() == "https" for u in urls) else None

    def loop(waiting: deque[str]) -> None:
        client = _Client(deadlines, tls)
        try:
            while not stop.is_set():
                try:
                    url = waiting.popleft()  # deque.popleft is atomic: no lock needed
                except IndexError:
                    return
                try:
                    finished.put((url, check_url(url, timeout, client)))
                except Exception as exc:  # a bug: hand it to the main thread rather than hang
                    finished.put((url, exc))
        finally:
            client.close()

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="links")
    try:
        for waiting in by_host.values():
            for _ in range(min(per_host, len(waiting))):
                pool.submit(loop, waiting)
        for _ in urls:
            url, result = finished.get()
            if isinstance(result, Exception):
                raise result
            yield url, result
    finally:
        stop.set()  # on Ctrl-C, loops finish their current request and take no more
        pool.shutdown(wait=True, cancel_futures=True)
        deadlines.stop()


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{parts.port or ''}"


def _problems(results: tuple[LinkResult, ...], places: dict[str, Origin]) -> list[Problem]:
    out = []
    for result in results:
        where = places.get(result.url) or Origin("briefs", 0, 0)
        if not result.ok:
            rule = "link-timeout" if result.timed_out else "link-broken"
            out.append(Problem(where.path, where.line, where.col,
                               f"{result.error}: {result.url}", rule=rule))
        elif result.moved_to:
            out.append(Problem(where.path, where.line, where.col,
                               f"moved permanently ({result.moved_status}): {result.url}",
                               hint=f"link to {result.moved_to}", severity="warning",
                               rule="link-moved"))
    return sorted(out, key=lambda p: (p.path, p.line, p.col))
