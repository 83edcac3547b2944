"""The web edition of one issue (out/<ISSUE>/index.html) and its content for feeds (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..content.model import Stat

PAGE_TEMPLATE = "issue.html.j2"
CONTENT_TEMPLATE = "issue-content.html.j2"
PAGE = "index.html"  # an issue's page: out/<ISSUE>/index.html, served as out/<ISSUE>/
DESCRIPTION_CHARS = 200


class DamagedData(ValueError):
    """issue.json holds something the page cannot show (a link that is not http(s), say)."""


@dataclass(frozen=True)
class Neighbour:
    """The previous or next issue, for the page's links."""

    id: str
    title: str
    date: dt.date


def _spans(text: str, where: str):
    """Inline Markdown from issue.json, parsed again: every text escaped, every link checked,
    so a hand-edited or planted issue.json cannot put markup or a javascript: link on the page."""
    from ..content.markdown import LinkTargetError, parse_inline
    from ..content.schema import check_url
    try:
        return parse_inline(text, check_url)
    except LinkTargetError as exc:
        raise DamagedData(f"'{where}' has a link that is not allowed: "
                          f"{str(exc).partition('|')[0]}") from None


def description(data: dict) -> str:
    """One line for search engines and link previews: the preheader, else the intro's start,
    else what the issue holds."""
    from ..content.markdown import plain_text
    text = data["preheader"] or " ".join(plain_text(_spans(data["intro"], "intro")).split())
    if not text:
        text = ", ".join(f"{t['title']} ({len(t['items'])})" for t in data["themes"])
    if len(text) > DESCRIPTION_CHARS:
        text = text[:DESCRIPTION_CHARS].rsplit(" ", 1)[0] + "…"
    return text


def view(data: dict) -> dict:
    """issue.json's structure as the web templates read it: dates as dates, Markdown as
    escaped HTML, stats as chart rows."""
    from .templates import spans_to_html, split_paragraphs

    def html(text: str, where: str) -> list[str]:
        return [spans_to_html(p) for p in split_paragraphs(_spans(text, where))]

    from ..content.corrections import item_anchors
    anchors = item_anchors([(t["id"], [i["headline"] for i in t["items"]])
                            for t in data["themes"]])
    corrections = _corrections(data, html)
    themes = []
    for t, theme in enumerate(data["themes"]):
        items = []
        for i, item in enumerate(theme["items"]):
            where = f"themes[{t}].items[{i}]"
            items.append({
                "anchor": anchors[t][i],
                "thread": item.get("thread"),
                "corrections": [c for c in corrections if c["item"] == item["headline"]],
                "headline": item["headline"],
                "summary": html(item["summary"], f"{where}.summary"),
                "why": item["why"],
                "tags": item["tags"],
                "stat": tuple(Stat(s["label"], s["value"], s["unit"]) for s in item["stat"]),
                "sources": [dict(s, date=dt.date.fromisoformat(s["date"]) if s["date"] else None)
                            for s in item["sources"]],
            })
        themes.append({"id": theme["id"], "title": theme["title"],
                       "description": theme["description"], "items": items})
    by_headline = {item["headline"]: item["anchor"] for theme in themes
                   for item in theme["items"]}
    return {"id": data["id"], "title": data["title"],
            "date": dt.date.fromisoformat(data["date"]), "preheader": data["preheader"],
            "intro": html(data["intro"], "intro"), "themes": themes,
            "corrections": [dict(c, anchor=by_headline.get(c["item"], ""))
                            for c in corrections],
            "earlier_corrections": [
                dict(c, date=dt.date.fromisoformat(c["date"]),
                     text=html(c["text"], f"earlier_corrections[{n}].text"))
                for n, c in enumerate(data.get("earlier_corrections") or ())]}


def _corrections(data: dict, html) -> list[dict]:
    """issue.json's corrections (docs/record.md) as the templates show them: dated, their text
    as escaped HTML, their source's link checked again."""
    from ..content.schema import check_url
    out = []
    for index, correction in enumerate(data.get("corrections") or ()):
        where = f"corrections[{index}]"
        source = correction.get("source")
        if source is not None:
            try:
                check_url(source["url"])
            except ValueError as exc:
                raise DamagedData(f"'{where}.source.url' {str(exc).partition('|')[0]}") from None
            source = dict(source, date=dt.date.fromisoformat(source["date"])
                          if source.get("date") else None)
        out.append({"date": dt.date.fromisoformat(correction["date"]),
                    "item": correction["item"],
                    "text": html(correction["text"], f"{where}.text"), "source": source})
    return out


def base(archive_url: str) -> str:
    return archive_url if not archive_url or archive_url.endswith("/") else archive_url + "/"


def render_content(data: dict, templates: Path | None) -> str:
    """The issue's content alone (intro, themes, items, sources), for feed entries: none of the
    email's chrome (no preheader filler, no unsubscribe footer, no title block)."""
    from .templates import environment, render_template
    root = base(data["newsletter"]["archive_url"])
    return render_template(environment(templates), CONTENT_TEMPLATE,
                           {"issue": view(data), "heading": 2, "root": root,
                            "here": f"{root}{data['id']}/" if root else "",
                            "threads": False}).strip() + "\n"


def render_page(data: dict, older: Neighbour | None, newer: Neighbour | None,
                templates: Path | None, feeds: tuple[str, str] = ("feed.xml", "feed.json"),
                draft: bool = False, subscribe: dict | None = None) -> str:
    """out/<ISSUE>/index.html: the issue as a web page, with share tags and links to the
    previous and next issues and to the archive (all relative, so out/ can be served anywhere;
    the canonical and Open Graph URLs are absolute when archive_url is set)."""
    from .templates import environment, render_template
    newsletter = data["newsletter"]
    root = base(newsletter["archive_url"])
    context = {
        "newsletter": newsletter,
        "issue": view(data),
        "description": description(data),
        "canonical": f"{root}{data['id']}/" if root else "",
        "archive_url": root,
        "older": older,
        "newer": newer,
        "feeds": feeds,
        "draft": draft,
        "heading": 2,
        "subscribe": subscribe,  # render/subscribe.py: the Subscribe form, or None
        "root": "../",  # where out/ is, from the page: thread pages are out/threads/<ID>/
        "here": "",  # the page itself, for the links to its own items
        "threads": True,  # link each item to its thread's page (feeds stay as they were)
    }
    page = render_template(environment(templates), PAGE_TEMPLATE, context)
    return page if page.endswith("\n") else page + "\n"
