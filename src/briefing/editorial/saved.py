"""Private copies of every cited page: one WARC file per copy in .briefing/sources/, never twice.

Each copy is a standard WARC 1.1 file (ISO 28500, written by warcio): a warcinfo record and
the page's response record with the time, the status line and headers, and the body as it
came (cut at saved_sources.max_page_bytes, and then marked `WARC-Truncated: length`). Copies
of one address live in a folder named after a hash of it; a file's name is the UTC time it
was saved and the start of the body's SHA-256, so a page already saved and unchanged is seen
without opening anything. Next to each copy, a .txt file holds the story's main text
(trafilatura), which the quote check reads. The folder is private: pages belong to their
publishers, and `.briefing/` is never published.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..content.model import Issue
from ..errors import BriefingError, count
from .fetch import Page, fetch_page, to_uri
from .urls import url_key

PRIVATE = ".briefing"
SOURCES = "sources"
_NAME = re.compile(r"(\d{8}T\d{6}Z)-([0-9a-f]{16})\.warc\.gz")
# Headers that described the bytes on the wire, not the body kept: http.client has undone the
# chunking, and a gzip coding a server used anyway has been inflated (fetch.py).
_WIRE_HEADERS = {"transfer-encoding", "content-encoding"}


@dataclass(frozen=True)
class SavedCopy:
    """One saved copy of a cited address."""

    url: str
    path: Path
    saved: dt.datetime
    digest: str  # the first 16 hex digits of the body's SHA-256

    @property
    def day(self) -> str:
        return self.saved.date().isoformat()

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


def sources_folder(project) -> Path:
    return project.root / PRIVATE / SOURCES


def _folder(project, url: str) -> Path:
    return sources_folder(project) / hashlib.sha256(url_key(url).encode()).hexdigest()[:24]


def copies(project, url: str) -> list[SavedCopy]:
    """Every saved copy of `url`, oldest first."""
    folder = _folder(project, url)
    try:
        names = sorted(p.name for p in folder.iterdir())
    except OSError:
        return []
    found = []
    for name in names:
        match = _NAME.fullmatch(name)
        if match:
            when = dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            found.append(SavedCopy(url, folder / name, when, match.group(2)))
    return found


def latest(project, url: str) -> SavedCopy | None:
    found = copies(project, url)
    return found[-1] if found else None


def read_copy(copy: SavedCopy) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and body of a saved copy's response record."""
    from warcio.archiveiterator import ArchiveIterator
    with open(copy.path, "rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type == "response":
                status = int(record.http_headers.get_statuscode() or 0)
                return status, list(record.http_headers.headers), record.content_stream().read()
    return 0, [], b""


def _text_of(body: bytes, content_type: str) -> str:
    from .metadata import decode_html, main_text, pdf_text
    if content_type.split(";")[0].strip().lower() == "application/pdf" \
            or body.startswith(b"%PDF-"):
        return pdf_text(body)
    return main_text(decode_html(body, content_type))


def copy_text(project, copy: SavedCopy) -> str:
    """The saved page's main text (the story, not the menus): from the .txt kept next to the
    copy, or extracted again (and kept) when it is missing."""
    from ..files import write_private
    sidecar = copy.path.with_suffix("").with_suffix(".txt")
    try:
        return sidecar.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    _, headers, body = read_copy(copy)
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    text = _text_of(body, content_type)
    with contextlib.suppress(BriefingError):  # else it is extracted again next time
        write_private(sidecar, text.encode("utf-8"), project.show(sidecar), project.out)
    return text


def _warc(page: Page, cited: str) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
    writer.write_record(writer.create_warcinfo_record(
        "", {"software": "briefing (briefing sources --save)", "format": "WARC File Format 1.1",
             "description": f"a copy of a page cited as {to_uri(cited)}"}))
    headers = [(k, v) for k, v in page.headers if k.lower() not in _WIRE_HEADERS]
    extra = {"WARC-Date": page.fetched.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if page.cut:
        extra["WARC-Truncated"] = "length"  # WARC 1.1 section 5.13: cut at a size limit
    writer.write_record(writer.create_warc_record(
        to_uri(page.final or page.url), "response", payload=io.BytesIO(page.body),
        http_headers=StatusAndHeaders(f"{page.status} {page.reason}".strip(), headers,
                                      protocol="HTTP/1.1"),
        warc_headers_dict=extra))
    return buffer.getvalue()


@dataclass(frozen=True)
class Saved:
    """What saving one address did."""

    url: str
    state: str                      # "saved", "unchanged" or "failed"
    copy: SavedCopy | None = None
    why: str = ""                   # failed: why
    cut: bool = False


def keep(project, url: str, page: Page) -> Saved:
    """Save `page` (fetched for `url`) unless a copy with the same body is there already."""
    from ..files import private_folder, write_private
    if not page.ok:
        return Saved(url, "failed", latest(project, url), page.error)
    digest = hashlib.sha256(page.body).hexdigest()[:16]
    same = next((c for c in copies(project, url) if c.digest == digest), None)
    if same is not None:
        return Saved(url, "unchanged", same)
    folder = _folder(project, url)
    for each in (project.root / PRIVATE, sources_folder(project), folder):
        private_folder(each)
    name = f"{page.fetched.strftime('%Y%m%dT%H%M%SZ')}-{digest}.warc.gz"
    target = folder / name
    write_private(target, _warc(page, url), project.show(target), project.out,
                  what="a saved page")
    try:
        text = _text_of(page.body, page.header("Content-Type"))
    except Exception:  # noqa: BLE001 - the copy is kept; copy_text extracts again when asked
        return Saved(url, "saved", SavedCopy(url, target, page.fetched, digest), cut=page.cut)
    sidecar = target.with_suffix("").with_suffix(".txt")
    write_private(sidecar, text.encode("utf-8"), project.show(sidecar), project.out,
                  what="a saved page's text")
    return Saved(url, "saved", SavedCopy(url, target, page.fetched, digest), cut=page.cut)


@dataclass
class SaveReport:
    issue: Issue
    results: list[Saved] = field(default_factory=list)
    limit: int = 0

    def total(self, project) -> int:
        total = 0
        for path in sources_folder(project).rglob("*"):
            with contextlib.suppress(OSError):  # a file that went away meanwhile
                total += path.stat().st_size if path.is_file() else 0
        return total

    def lines(self, project) -> list[str]:
        out = []
        for result in self.results:
            if result.state == "failed":
                kept = f"; the copy of {result.copy.day} is kept" if result.copy else ""
                out.append(f"not saved: {result.url}: {result.why}{kept}")
            elif result.cut:
                out.append(f"saved cut at {self.limit:,} bytes (saved_sources.max_page_bytes): "
                           f"{result.url}")
        states = [r.state for r in self.results]
        out.append(f"saved copies of {self.issue.id}: {states.count('saved')} new, "
                   f"{states.count('unchanged')} unchanged, {states.count('failed')} not saved "
                   f"({count(len(states), 'page')}); {_size(self.total(project))} in "
                   f"{PRIVATE}/{SOURCES}/ (private)")
        return out


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n / 1000:.0f} KB"


# Names reserved for examples (RFC 2606, RFC 6761): no page there is anyone's source.
_RESERVED = re.compile(r"(?:^|\.)(?:example\.(?:org|com|net)|example|test|invalid|localhost)$")


def placeholder_address(url: str) -> bool:
    from urllib.parse import urlsplit
    return bool(_RESERVED.search((urlsplit(url).hostname or "").lower().rstrip(".")))


def save_copies(project, issue: Issue, timeout: float = 20.0,
                progress: Callable[[int], None] | None = None) -> SaveReport:
    """Fetch every page the issue cites (a few at a time, two per host) and keep each one
    that answers, unless its copy is there already. Example addresses (RFC 2606) are left
    out: there is nothing to keep."""
    from .links import _check_all
    limit = issue.config.saved_sources.max_page_bytes
    urls = [u for u in dict.fromkeys(r.url for r in issue.references)
            if not placeholder_address(u)]
    report = SaveReport(issue, limit=limit)
    pages: dict[str, Page] = {}
    for url, page in _check_all(urls, timeout, 2, 8,
                                lambda u, t, c: fetch_page(u, t, limit, c)):
        pages[url] = page
        if progress:
            progress(1)
    report.results = [keep(project, url, pages[url]) for url in urls]
    return report


def save_sources(project, issue: Issue) -> list[str]:
    """For a send to the list: save every cited page first, unless briefing.yaml says
    `saved_sources: {on_send: false}`. Lines for the send's notes; never stops the send."""
    if not issue.config.saved_sources.on_send or all(
            placeholder_address(r.url) for r in issue.references):
        return []
    try:
        return save_copies(project, issue).lines(project)
    except BriefingError as exc:
        return [f"sources not saved: {exc.problems[0].format()}"]


def saved_hint(project, url: str) -> str:
    copy = latest(project, url)
    return f"a copy saved on {copy.day} is in {PRIVATE}/{SOURCES}/" if copy else ""


def changed_pages(project, urls: list[str], timeout: float, per_host: int,
                  threshold: float = 0.25) -> list[tuple[str, str]]:
    """(url, message) for each page with a saved copy whose text is mostly gone now: less
    than `threshold` of the saved copy's runs of five words are still on the page."""
    from .links import _check_all
    from .quotes import Words, similarity
    saved = {u: c for u in urls if (c := latest(project, u)) is not None}
    out = []
    for url, page in _check_all(list(saved), timeout, per_host, 8,
                                lambda u, t, c: fetch_page(u, t, client=c)):
        if not page.ok:
            continue
        old = Words.of(copy_text(project, saved[url]))
        if len(old.words) < 30:
            continue  # too little text to tell
        share = similarity(old, Words.of(_text_of(page.body, page.header("Content-Type"))))
        if share < threshold:
            out.append((url, f"the page has changed beyond recognition since the copy saved "
                             f"on {saved[url].day} ({share:.0%} of that text is still there)"))
    return out


def listing(project, issue: Issue) -> list[tuple[str, str, list[SavedCopy]]]:
    """(url, title, copies) for every address the issue cites, in reference order."""
    return [(r.url, r.title, copies(project, r.url)) for r in issue.references]



def listing_lines(project, issue: Issue) -> list[str]:
    """`briefing sources ISSUE`: every address the issue cites, with its saved copy."""
    entries = listing(project, issue)
    lines = []
    for number, (url, title, found) in enumerate(entries, 1):
        lines.append(f"{number:>2}. {url} ({title})")
        if not found:
            lines.append("    no saved copy" + (" (an example address: nothing to save)"
                                                if placeholder_address(url) else ""))
            continue
        copy = found[-1]
        status, _, body = read_copy(copy)
        older = f"; {count(len(found) - 1, 'older copy')}" if len(found) > 1 else ""
        older = older.replace("copys", "copies")
        lines.append(f"    saved {copy.saved:%Y-%m-%d %H:%M} UTC ({status}, {_size(len(body))}): "
                     f"{project.show(copy.path)}{older}")
    with_copy = sum(1 for e in entries if e[2])
    lines.append(f"{issue.id}: {count(len(entries), 'source')}, {with_copy} with a saved copy"
                 + ("" if with_copy == len(entries) else
                    f" (save them with 'briefing sources {issue.id} --save')"))
    return lines
