"""The web edition in out/: index.html, the issue pages, feed.xml, feed.json and archive.txt,
rendered from every built issue (and written with the search index by refresh)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..content.validate import Project
from ..errors import BriefingError, Problem
from .feed import DEFAULT_LIMIT, render_feed
from .index import render_index
from .issues import (
    ARCHIVE_FILES,
    FEED,
    FEED_JSON,
    INDEX,
    PAGE,
    TOC,
    Entry,
    base_url,
    load_entries,
    unbuilt_issues,
)
from .jsonfeed import render_json_feed
from .toc import render_toc

__all__ = ["ARCHIVE_FILES", "ArchiveResult", "Site", "plan_site", "refresh"]


@dataclass(frozen=True)
class Site:
    """What the archive writes at the top of out/ and into the issue folders, in memory."""

    entries: list[Entry]
    files: dict[str, bytes]
    warnings: list[Problem] = field(default_factory=list)
    remove: tuple[str, ...] = ()  # pages of threads no issue has any more (out/threads/)


@dataclass(frozen=True)
class ArchiveResult:
    entries: list[Entry]
    paths: list[Path]
    warnings: list[Problem] = field(default_factory=list)
    unbuilt: list[str] = field(default_factory=list)  # issues in briefs/ with no issue.json
    drafts: list[str] = field(default_factory=list)  # of those, the ones marked draft: true
    search: str = ""  # what the search index step did, for the summary line


def settings(project: Project) -> tuple[int, dict | None]:
    """What the archive takes from briefing.yaml (it reads issue.json for everything else): the
    feeds' feed_limit, and the Subscribe form of `signup:`."""
    from ..content.validate import load_config
    from ..render.subscribe import subscribe_form
    config = load_config(project)
    return (int(config.feed_limit) if config is not None else DEFAULT_LIMIT,
            subscribe_form(config))


def _summary(entry: Entry) -> str:
    return entry.preheader or ", ".join(f"{t.title} ({t.count})" for t in entry.themes)


def damaged(entry: Entry, exc: ValueError) -> BriefingError:
    return BriefingError(Problem(f"out/{entry.id}/issue.json", 0, 0, str(exc),
                                 hint=f"rebuild it with 'briefing build {entry.id}'"))


def plan_site(project: Project, strict: bool = True,
              fresh: dict[str, tuple[dict, set[str]]] | None = None,
              pages: set[str] | None = None, limit: int | None = None,
              around: str | None = None) -> Site:
    """Render the archive files, and the pages of the issues in `pages` (all when None) with
    their previous/next links, from out/*/issue.json plus the `fresh` issues about to be
    written. With `around`, the pages of that issue and of its two neighbours (whose previous
    and next links it may change). Nothing is written here."""
    from ..render.subscribe import on_page
    from ..render.web import Neighbour, render_content, render_page

    entries, warnings = load_entries(project, strict=strict, fresh=fresh)
    if not entries:
        raise BriefingError(Problem("out", 0, 0, "no built issues to archive",
                                    hint="build one with 'briefing build'"))
    if around is not None:
        at = next(i for i, e in enumerate(entries) if e.id == around)
        pages = {e.id for e in entries[max(0, at - 1):at + 2]}
    templates = project.root / "templates"
    configured_limit, form = settings(project)
    limit = configured_limit if limit is None else limit
    contents: dict[str, str] = {}
    page_files: dict[str, bytes] = {}
    for index, entry in enumerate(entries):
        want_page = pages is None or entry.id in pages
        if index >= limit and not want_page:
            continue
        try:
            if index < limit:
                contents[entry.id] = render_content(entry.data, templates)
            if want_page:
                older = newer = None
                if index + 1 < len(entries):
                    e = entries[index + 1]
                    older = Neighbour(e.id, e.title, e.date)
                if index > 0:
                    e = entries[index - 1]
                    newer = Neighbour(e.id, e.title, e.date)
                page = render_page(entry.data, older, newer, templates, feeds=(FEED, FEED_JSON),
                                   subscribe=on_page(form, _page_url(entry)))
                page_files[f"{entry.id}/{PAGE}"] = page.encode("utf-8")
        except ValueError as exc:  # render.web.DamagedData: a link issue.json should not hold
            raise damaged(entry, exc) from None
    summaries = {e.id: _summary(e) for e in entries[:limit]}
    from .threads import collect_threads, render_thread_pages, stale_thread_pages
    threads = collect_threads(entries)  # story threads (docs/record.md)
    files = {
        **render_thread_pages(threads, entries, templates),
        INDEX: render_index(entries, templates, threads,
                            on_page(form, base_url(entries) or INDEX)).encode("utf-8"),
        FEED: render_feed(entries, contents, limit),
        FEED_JSON: render_json_feed(entries, contents, summaries, limit),
        TOC: render_toc(entries).encode("utf-8"),
        **page_files,
    }
    return Site(entries, files, warnings, stale_thread_pages(project.out, threads))


def _page_url(entry: Entry) -> str:
    """An issue page's address as the consent record keeps it: absolute with archive_url."""
    from ..render.web import base
    return f"{base(entry.newsletter['archive_url'])}{entry.id}/"


def refresh(project: Project) -> ArchiveResult:
    """`briefing archive`: rewrite the archive files and every issue page from the issue.json
    files in out/, then the search index.

    Nothing is re-rendered from briefs or re-validated: issue.json is what was built. A damaged
    issue.json is an error naming it. The files are written together through write_files, so a
    failure leaves the previous ones in place.
    """
    from ..files import write_files

    site = plan_site(project)
    paths = write_files(project.out, site.files, remove=site.remove)
    return finish(project, site, paths)


def finish(project: Project, site: Site, paths: list[Path], reuse: bool = False) -> ArchiveResult:
    """After the site's files are written: the search index (kept when made from the same
    pages and `reuse`), and what to tell the editor."""
    from dataclasses import replace

    from .issues import drafts
    from .pagefind import update_search_index
    # The pages are on disk now and Pagefind reads them there: their bytes and each issue's
    # data are let go first, so briefing does not hold them while Pagefind runs (10,000
    # issues: several hundred MB beside Pagefind's own).
    site.files.clear()
    site.entries[:] = [replace(e, data={}) for e in site.entries]
    search = update_search_index(project, [e.id for e in site.entries], reuse)
    unbuilt = unbuilt_issues(project, {e.id for e in site.entries})
    return ArchiveResult(site.entries, paths, site.warnings, unbuilt, drafts(project, unbuilt),
                         search)
