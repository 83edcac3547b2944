"""out/feed.xml: an Atom 1.0 feed (RFC 4287) of the newest built issues, content only."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from urllib.parse import urljoin

from .issues import FEED, INDEX, Entry, base_url

DEFAULT_LIMIT = 20

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters XML 1.0 forbids even when escaped (section 2.2); a feed containing one is not XML.


@cache
def _not_xml() -> re.Pattern:
    """Characters XML 1.0 cannot carry (compiled on first use: 5 ms, too slow for startup)."""
    return re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _timestamp(date: dt.date) -> str:
    """RFC 3339 date-time (RFC 4287 3.3) at midnight UTC: derived from the date, never the clock."""
    return f"{date.isoformat()}T00:00:00Z"


def entry_id(entry: Entry) -> str:
    """A stable Atom id: under the issue's own archive_url, else a name-based UUID (RFC 4122 v5).

    Each entry uses the archive_url it was built with, so moving the archive later does not make
    readers see every past issue again.
    """
    base = entry.newsletter["archive_url"]
    if base:
        return urljoin(base if base.endswith("/") else base + "/", f"{entry.id}/")
    name = f"briefing:{entry.newsletter['name']}:{entry.id}"
    import uuid  # only the feed needs it, and it is slow to import
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _xml_text(text: str) -> str:
    return _not_xml().sub("", text)


def render_feed(entries: list[Entry], contents: dict[str, str],
                limit: int = DEFAULT_LIMIT) -> bytes:
    """out/feed.xml: Atom 1.0 (RFC 4287), one entry per issue for the newest `limit` issues,
    each with the issue's content (render/web.py: intro, themes, items, sources; none of the
    email's chrome) from `contents` (issue id -> HTML).

    Built with ElementTree, which escapes every text and attribute; characters XML cannot carry
    at all are dropped rather than producing a feed no reader can parse.
    """
    import xml.etree.ElementTree as ET

    newest = entries[0]
    base = base_url(entries)
    newsletter = newest.newsletter

    def sub(parent, tag: str, text: str | None = None, **attrs: str):
        element = ET.SubElement(parent, tag, {k: _xml_text(v) for k, v in attrs.items()})
        if text is not None:
            element.text = _xml_text(text)
        return element

    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    if newsletter["language"]:
        feed.set(XML_LANG, newsletter["language"])
    import uuid  # only the feed needs it, and it is slow to import
    feed_id = base or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'briefing:' + newsletter['name'])}"
    sub(feed, "id", feed_id)
    sub(feed, "title", newsletter["name"], type="text")
    if newsletter["tagline"]:
        sub(feed, "subtitle", newsletter["tagline"], type="text")
    from .record import updated  # a corrected issue is updated on its correction's date
    sub(feed, "updated", _timestamp(max(updated(e) for e in entries[:limit])))
    author = sub(feed, "author")
    sub(author, "name", newsletter["name"])
    sub(feed, "link", rel="alternate", type="text/html", href=base + INDEX)
    if base:  # a self link must be absolute to be useful (RFC 4287 4.2.7.2)
        sub(feed, "link", rel="self", type="application/atom+xml", href=base + FEED)
    sub(feed, "generator", "briefing")

    for entry in entries[:limit]:
        node = sub(feed, "entry")
        sub(node, "id", entry_id(entry))
        sub(node, "title", entry.title, type="text")
        sub(node, "published", _timestamp(entry.date))
        sub(node, "updated", _timestamp(updated(entry)))
        sub(node, "link", rel="alternate", type="text/html", href=f"{base}{entry.id}/")
        if "digest.txt" in entry.files:
            sub(node, "link", rel="alternate", type="text/plain",
                href=f"{base}{entry.id}/digest.txt")
        for theme in entry.themes:
            sub(node, "category", term=theme.id, label=theme.title)
        listing = ", ".join(f"{t.title} ({t.count})" for t in entry.themes)
        sub(node, "summary", entry.preheader or listing, type="text")
        sub(node, "content", contents[entry.id], type="html")
    ET.indent(feed, space="  ")
    return (b'<?xml version="1.0" encoding="utf-8"?>\n'
            + ET.tostring(feed, encoding="unicode").encode("utf-8") + b"\n")
