"""out/threads/<ID>/index.html: a page per story thread, every item of it across the issues,
newest first (docs/record.md). Rendered from the issue.json files, like the rest of the site."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .issues import FEED, FEED_JSON, THREADS_DIR, Entry, base_url

TEMPLATE = "thread.html.j2"


@dataclass(frozen=True)
class ThreadItem:
    issue: str
    issue_title: str
    date: dt.date
    theme: str  # the theme's title
    headline: str
    anchor: str
    summary: str  # plain text
    href: str  # relative to out/: 2026-W07/#anchor


@dataclass(frozen=True)
class ThreadPage:
    id: str
    title: str  # as the newest issue that has it names it
    items: tuple[ThreadItem, ...]  # newest issue first, reading order within an issue

    @property
    def href(self) -> str:
        """The page, relative to out/."""
        return f"{THREADS_DIR}/{self.id}/"

    @property
    def latest(self) -> dt.date:
        return self.items[0].date


def collect_threads(entries: list[Entry]) -> list[ThreadPage]:
    """Every thread that has an item in a built issue (entries newest first), by title."""
    from ..content.corrections import item_anchors
    found: dict[str, tuple[str, list[ThreadItem]]] = {}
    for entry in entries:
        themes = entry.data["themes"]
        anchors = item_anchors([(t["id"], [i["headline"] for i in t["items"]]) for t in themes])
        for theme, theme_anchors in zip(themes, anchors, strict=True):
            for item, anchor in zip(theme["items"], theme_anchors, strict=True):
                thread = item.get("thread")
                if not thread:
                    continue
                title, items = found.setdefault(thread["id"], (thread["title"], []))
                items.append(ThreadItem(entry.id, entry.title, entry.date, theme["title"],
                                        item["headline"], anchor, item["summary_text"],
                                        f"{entry.id}/#{_fragment(anchor)}"))
    pages = [ThreadPage(key, title, tuple(items)) for key, (title, items) in found.items()]
    return sorted(pages, key=lambda p: (p.title.casefold(), p.id))


def _fragment(anchor: str) -> str:
    from urllib.parse import quote
    return quote(anchor, safe="-_.~")


def render_thread_pages(threads: list[ThreadPage], entries: list[Entry],
                        templates: Path | None) -> dict[str, bytes]:
    """out/threads/<ID>/index.html for every thread (paths relative to out/)."""
    from ..render.templates import environment, render_template
    if not threads:
        return {}
    newsletter = entries[0].newsletter
    root = base_url(entries)
    env = environment(templates)
    files = {}
    for thread in threads:
        page = render_template(env, TEMPLATE, {
            "newsletter": newsletter, "thread": thread, "archive_url": root,
            "canonical": f"{root}{thread.href}" if root else "", "feeds": (FEED, FEED_JSON)})
        files[f"{thread.href}index.html"] = (page if page.endswith("\n") else page + "\n") \
            .encode("utf-8")
    return files


def stale_thread_pages(out: Path, threads: list[ThreadPage]) -> tuple[str, ...]:
    """Thread pages in out/ of threads no built issue has any more (to remove)."""
    folder = out / THREADS_DIR
    if not folder.is_dir() or folder.is_symlink():
        return ()
    keep = {t.id for t in threads}
    return tuple(f"{THREADS_DIR}/{p.parent.name}/index.html"
                 for p in sorted(folder.glob("*/index.html"))
                 if p.parent.name not in keep and p.is_file() and not p.is_symlink())
