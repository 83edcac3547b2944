"""out/feed.json: a JSON Feed 1.1 (https://jsonfeed.org/version/1.1/) of the newest issues."""

from __future__ import annotations

import json

from .feed import DEFAULT_LIMIT, entry_id
from .issues import FEED_JSON, Entry, base_url
from .record import updated

VERSION = "https://jsonfeed.org/version/1.1"


def render_json_feed(entries: list[Entry], contents: dict[str, str], summaries: dict[str, str],
                     limit: int = DEFAULT_LIMIT) -> bytes:
    """The same issues and content as feed.xml. URLs are only given when archive_url is set:
    JSON Feed's URL fields must be absolute, and ids stay those of the Atom feed."""
    newest = entries[0]
    newsletter = newest.newsletter
    base = base_url(entries)
    feed: dict = {"version": VERSION, "title": newsletter["name"]}
    if base:
        feed["home_page_url"] = base
        feed["feed_url"] = base + FEED_JSON
    if newsletter["tagline"]:
        feed["description"] = newsletter["tagline"]
    feed["authors"] = [{"name": newsletter["name"]}]
    if newsletter["language"]:
        feed["language"] = newsletter["language"]
    items = []
    for entry in entries[:limit]:
        item: dict = {"id": entry_id(entry)}
        if base:
            item["url"] = f"{base}{entry.id}/"
        item["title"] = entry.title
        item["content_html"] = contents[entry.id]
        item["summary"] = summaries[entry.id]
        item["date_published"] = f"{entry.date.isoformat()}T00:00:00Z"  # the issue's, no clock
        if updated(entry) != entry.date:  # corrected (docs/record.md)
            item["date_modified"] = f"{updated(entry).isoformat()}T00:00:00Z"
        item["tags"] = [t.title for t in entry.themes]
        items.append(item)
    feed["items"] = items
    # ensure_ascii=False keeps Chinese readable; json escapes U+2028/2029 only with ensure_ascii,
    # and JSON (RFC 8259) allows them raw, so the file stays valid for every JSON parser.
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
