"""`briefing links`: check every URL of an issue over HTTP, politely, with a cache in out/."""

from __future__ import annotations

import json
import queue
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPException
from urllib.parse import urlsplit

from ..content.model import Issue, Origin
from ..errors import Problem

CACHE_FILE = ".linkcache.json"
CACHE_VERSION = 1
USER_AGENT = "briefing-links/0.1 (newsletter link check)"
# 405 Method Not Allowed and 501 Not Implemented are how servers say "no HEAD here"; many
# others (CDNs, bot filters) answer a HEAD with 403, 404 or 5xx for a page a GET opens. So any
# error to a HEAD is confirmed with a GET before a link is called broken.
PERMANENT = (301, 308)


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
        cached = sum(1 for r in self.results if r.cached)
        moved = sum(1 for r in self.results if r.ok and r.moved_to)
        fine = len(self.results) - moved - self.broken
        return (f"checked {len(self.results)} links in {self.issue.id} ({cached} from cache): "
                f"{fine} ok, {moved} moved, {self.broken} broken")


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects like urllib does, but records each hop and keeps HEAD a HEAD."""

    def __init__(self) -> None:
        self.chain: list[tuple[int, str]] = []

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.method = req.get_method()  # Python 3.11 turns a redirected HEAD into a GET
            self.chain.append((code, new.full_url))
        return new


def _request(url: str, method: str, timeout: float) -> tuple[int, list[tuple[int, str]]]:
    """One request with redirects followed: the final status and the hops; raises on failure."""
    redirects = _Redirects()
    opener = urllib.request.build_opener(redirects)
    request = urllib.request.Request(url, method=method, headers={
        "User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, redirects.chain
    except urllib.error.HTTPError as exc:
        exc.close()
        exc.chain = redirects.chain  # type: ignore[attr-defined]
        raise


def check_url(url: str, timeout: float) -> LinkResult:
    """HEAD, then GET if HEAD gets an error; 4xx/5xx to the GET, timeouts and connection errors
    are broken."""
    chain: list[tuple[int, str]] = []
    try:
        try:
            status, chain = _request(url, "HEAD", timeout)
        except urllib.error.HTTPError:
            status, chain = _request(url, "GET", timeout)
    except urllib.error.HTTPError as exc:
        chain = getattr(exc, "chain", chain)
        reason = exc.reason if isinstance(exc.reason, str) else ""
        return _moved(LinkResult(url, exc.code, error=f"{exc.code} {reason}".strip()), chain)
    except TimeoutError:
        return LinkResult(url, error=f"no answer within {timeout:g} s", timed_out=True)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            return LinkResult(url, error=f"no answer within {timeout:g} s", timed_out=True)
        return LinkResult(url, error=f"cannot connect: {_reason(exc.reason)}")
    except (HTTPException, ssl.SSLError, OSError, ValueError) as exc:
        return LinkResult(url, error=f"cannot connect: {_reason(exc)}")
    return _moved(LinkResult(url, status), chain)


def _moved(result: LinkResult, chain: list[tuple[int, str]]) -> LinkResult:
    """A link whose first hop is a permanent redirect should be updated to where it ends."""
    if chain and chain[0][0] in PERMANENT:
        return LinkResult(result.url, result.status, chain[-1][1], chain[0][0], result.error,
                          result.timed_out)
    return result


def _reason(reason: object) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"certificate not valid ({reason.verify_message})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


# -- the cache: only working links are kept, so a broken one is always checked again ----------

def _load_cache(project, max_age: float, now: float) -> dict[str, dict]:
    try:
        data = json.loads((project.out / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    links = data.get("links")
    if not isinstance(links, dict):
        return {}
    return {url: entry for url, entry in links.items()
            if isinstance(entry, dict) and isinstance(entry.get("checked"), (int, float))
            and 0 <= now - entry["checked"] <= max_age}


def _save_cache(project, entries: dict[str, dict]) -> None:
    from ..publish.write import write_files
    data = {"version": CACHE_VERSION, "links": dict(sorted(entries.items()))}
    write_files(project.out, {CACHE_FILE: (json.dumps(data, indent=1) + "\n").encode("utf-8")})


def _from_cache(url: str, entry: dict) -> LinkResult:
    return LinkResult(url, entry.get("status"), entry.get("moved_to") or "",
                      entry.get("moved_status") or 0, cached=True)


# -- the run -------------------------------------------------------------------------------------

def check_links(project, issue_id: str | None = None, timeout: float = 10.0, per_host: int = 2,
                workers: int = 8, max_age_hours: float = 24.0, use_cache: bool = True,
                progress: Callable[[int], None] | None = None,
                started: Callable[[int], None] | None = None) -> LinkReport:
    """Check an issue's URLs: at most `per_host` requests at a time to any one host."""
    from ..content.validate import load_issue
    from .lint import url_places

    issue = load_issue(project, issue_id)
    places = url_places(project, issue)
    urls = [r.url for r in issue.references]
    now = time.time()
    cache = _load_cache(project, max_age_hours * 3600, now)
    results: dict[str, LinkResult] = {u: _from_cache(u, cache[u]) for u in urls
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
    if todo:
        _save_cache(project, {**kept, **fresh})
    ordered = tuple(results[u] for u in urls)
    return LinkReport(issue, ordered, tuple(_problems(ordered, places)))


def _check_all(urls: list[str], timeout: float, per_host: int, workers: int):
    """Yield (url, result) as checks finish: up to `per_host` loops per host, each taking that
    host's URLs one by one, so no worker ever sits waiting for a busy host's turn."""
    by_host: dict[str, deque[str]] = {}
    for url in urls:
        by_host.setdefault(_host(url), deque()).append(url)
    finished: queue.Queue = queue.Queue()
    stop = threading.Event()

    def loop(waiting: deque[str]) -> None:
        while not stop.is_set():
            try:
                url = waiting.popleft()  # deque.popleft is atomic: no lock needed
            except IndexError:
                return
            try:
                finished.put((url, check_url(url, timeout)))
            except Exception as exc:  # a bug: hand it to the main thread rather than hang
                finished.put((url, exc))

    if not urls:
        return
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


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"


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
