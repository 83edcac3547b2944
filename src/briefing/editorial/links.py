"""`briefing links`: check every URL of an issue over HTTP, politely, with a private cache."""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..content.model import Issue, Origin
from ..errors import BriefingError, Problem
from .fetch import (  # the bounded client is shared with `add` and saved copies
    _Client,
    _Deadlines,
    _follow,
    _Outcome,
    _reason,
    _TimedOut,
)

# The cache is private state: out/ is published as it is, so it lives in .briefing/.
PRIVATE_DIR = ".briefing"
CACHE_FILE = "cache/links.json"
OLD_CACHE_FILE = ".linkcache.json"  # in out/, where versions before 0.2 kept it
CACHE_VERSION = 1
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
        from ..errors import count
        cached = sum(1 for r in self.results if r.cached)
        moved = sum(1 for r in self.results if r.ok and r.moved_to)
        fine = len(self.results) - moved - self.broken
        return (f"checked {count(len(self.results), 'link')} in {self.issue.id} ({cached} from "
                f"cache): {fine} ok, {moved} moved, {self.broken} broken")


# -- one URL -------------------------------------------------------------------------------------

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


# -- the cache: only working links are kept, so a broken one is always checked again ----------

def _load_cache(project, max_age: float, now: float) -> dict[str, dict]:
    try:
        data = json.loads((project.root / PRIVATE_DIR / CACHE_FILE).read_text(encoding="utf-8"))
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


def _save_cache(project, entries: dict[str, dict]) -> Problem | None:
    """Write the cache; a warning (never an exception) when it cannot be written, because the
    results of the check matter more than the cache."""
    from ..files import write_files
    private = project.root / PRIVATE_DIR
    data = {"version": CACHE_VERSION, "links": dict(sorted(entries.items()))}
    try:
        if private.is_symlink():
            raise OSError(f"{PRIVATE_DIR}/ is a symbolic link")
        private.mkdir(mode=0o700, exist_ok=True)  # private state: only its owner reads it
        write_files(private, {CACHE_FILE: (json.dumps(data, indent=1) + "\n").encode("utf-8")})
    except (OSError, BriefingError) as exc:
        why = (exc.problems[0].message.removeprefix("cannot write: ")
               if isinstance(exc, BriefingError) else exc.strerror or str(exc))
        return Problem(f"{PRIVATE_DIR}/{CACHE_FILE}", 0, 0, f"cannot save the link cache: {why}",
                       "the results above are complete; the next run checks every link again",
                       severity="warning", rule="link-cache")
    # An older version kept the cache in out/, which is published: take it away from there.
    with contextlib.suppress(OSError):
        (project.out / OLD_CACHE_FILE).unlink()
    return None


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
    ordered = tuple(results[u] for u in urls)
    problems = sorted(_problems(ordered, places, project) + _changed(
        project, [u for u in todo if results[u].ok], places, timeout, per_host),
        key=lambda p: (p.path, p.line, p.col))
    if todo:
        unsaved = _save_cache(project, {**kept, **fresh})
        if unsaved is not None:
            problems.append(unsaved)
    return LinkReport(issue, ordered, tuple(problems))


def _check_all(urls: list[str], timeout: float, per_host: int, workers: int,
               check: Callable[[str, float, _Client], Any] = check_url
               ) -> Iterator[tuple[str, Any]]:
    """Yield (url, check's result) as checks finish: up to `per_host` loops per host, each
    taking that host's URLs one by one over its own kept-alive connection, so no worker ever
    sits waiting for a busy host's turn. (Saved copies fetch whole pages the same way.)"""
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
                    finished.put((url, check(url, timeout, client)))
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


def _problems(results: tuple[LinkResult, ...], places: dict[str, Origin],
              project) -> list[Problem]:
    from .saved import saved_hint
    out = []
    for result in results:
        where = places.get(result.url) or Origin("briefs", 0, 0)
        if not result.ok:
            rule = "link-timeout" if result.timed_out else "link-broken"
            out.append(Problem(where.path, where.line, where.col,
                               f"{result.error}: {result.url}",
                               hint=saved_hint(project, result.url), rule=rule))
        elif result.moved_to:
            out.append(Problem(where.path, where.line, where.col,
                               f"moved permanently ({result.moved_status}): {result.url}",
                               hint=f"link to {result.moved_to}", severity="warning",
                               rule="link-moved"))
    return sorted(out, key=lambda p: (p.path, p.line, p.col))


def _changed(project, urls: list[str], places: dict[str, Origin], timeout: float,
             per_host: int) -> list[Problem]:
    """[link-changed]: a working link whose page is no longer the one saved when it was cited."""
    from .saved import changed_pages
    return [Problem(places[u].path, places[u].line, places[u].col, f"{message}: {u}",
                    severity="warning", rule="link-changed")
            for u, message in changed_pages(project, urls, timeout, per_host)]
