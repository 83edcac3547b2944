"""out/index.html: every built issue, newest first, from a template a project may override."""

from __future__ import annotations

from pathlib import Path

from .issues import FEED, FEED_JSON, INDEX_TEMPLATE, SEARCH_DIR, TOC, Entry, base_url


def render_index(entries: list[Entry], templates: Path | None, threads: list | None = None,
                 subscribe: dict | None = None) -> str:
    """out/index.html from templates/index.html.j2 (a project's templates/ may override it);
    `threads`: publish/threads.py's ThreadPage list, linked from the index; with `subscribe`
    (render/subscribe.py), the Subscribe form."""
    from ..render.templates import environment, render_template
    newsletter = entries[0].newsletter
    context = {"newsletter": newsletter, "issues": entries, "feed": FEED,
               "feed_json": FEED_JSON, "toc": TOC, "search": SEARCH_DIR,
               "archive_url": base_url(entries), "threads": threads or [],
               "subscribe": subscribe}
    page = render_template(environment(templates), INDEX_TEMPLATE, context)
    return page if page.endswith("\n") else page + "\n"
