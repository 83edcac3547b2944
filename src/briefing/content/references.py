"""Numbering of source links, shared by the text digest and the HTML: one number per URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from .markdown import plain_text
from .model import Item, Link, Reference, Span


def inline_links(spans: tuple[Span, ...]):
    for span in spans:
        if isinstance(span, Link):
            yield span
        children = getattr(span, "children", None)
        if children:
            yield from inline_links(children)


def number_references(intro: tuple[Span, ...], items: tuple[Item, ...]) -> tuple[Reference, ...]:
    """Number every URL in reading order: intro links, then per item its summary links and sources.

    A URL cited twice keeps its first number. A link that is also an item's listed source takes
    the source's title and publisher, whichever comes first; a bare link uses its text and host.
    """
    known = {s.url: s for item in items for s in item.sources}
    order: dict[str, Reference] = {}

    def add(url: str, title: str, publisher: str, date=None) -> None:
        if url in order:
            return
        source = known.get(url)
        if source is not None:
            title, publisher, date = source.title, source.publisher, source.date
        order[url] = Reference(len(order) + 1, url, title, publisher, date)

    for link in inline_links(intro):
        add(link.url, plain_text(link.children), urlsplit(link.url).hostname or "")
    for item in items:
        for link in inline_links(item.summary):
            add(link.url, plain_text(link.children), urlsplit(link.url).hostname or "")
        for source in item.sources:
            add(source.url, source.title, source.publisher, source.date)
    return tuple(order.values())


def item_numbers(item: Item, numbers: dict[str, int]) -> list[int]:
    """The reference numbers an item cites after its summary: its sources, in order, once each."""
    seen: list[int] = []
    for source in item.sources:
        n = numbers[source.url]
        if n not in seen:
            seen.append(n)
    return seen
