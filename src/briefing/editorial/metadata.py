"""What a fetched page says about itself: headline, publisher, date and canonical address.

What a page declares comes first, read by extruct (JSON-LD, Open Graph, microdata) and from its
meta tags (Twitter cards, citation_*, Dublin Core); then trafilatura's and htmldate's heuristics.
Every heavy import (lxml, extruct, trafilatura, htmldate, pypdf) is made here, inside functions,
so only the commands that read pages pay for them.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .pagedates import DateChoice, When, choose, parse_declared, text_date, url_date
from .urls import absolute, host_name, same_site

# schema.org types that are an article (NewsArticle, ReportageNewsArticle, ScholarlyArticle,
# BlogPosting, ...); a WebPage is read too, after them.
_ARTICLE_TYPES = re.compile(r"(?:\w*Article|BlogPosting|LiveBlogPosting|Report|"
                            r"SocialMediaPosting)$")
# Meta tags that declare the publication date, best first (citation_* is Google Scholar's,
# DC the Dublin Core's, parsely and sailthru those of two analytics tools newsrooms use).
_DATE_META = ("article:published_time", "og:article:published_time", "citation_publication_date",
              "citation_date", "citation_online_date", "dc.date.issued", "dcterms.issued",
              "dcterms.date", "dc.date", "parsely-pub-date", "sailthru.date", "pubdate",
              "publish-date", "publication_date", "date", "itemprop:datepublished")
_TITLE_META = ("og:title", "twitter:title", "citation_title", "dc.title", "dcterms.title")
_PUBLISHER_META = ("og:site_name", "citation_publisher", "citation_journal_title",
                   "dc.publisher", "dcterms.publisher", "application-name", "twitter:app:name")
# Where a byline's date is: <time>, or an element whose class or id says so.
_BYLINE = re.compile(r"byline|dateline|date|time|publish|posted|meta|timestamp", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|·|•|»|/)\s+")
_FILE_NAME = re.compile(r"\.(?:docx?|pdf|indd|pptx?|xlsx?|odt|tex|rtf)$|^Microsoft (?:Word|"
                        r"PowerPoint) - ", re.IGNORECASE)
MAX_TITLE = 200  # an item's headline holds at most 200 characters (content/schema.py)


@dataclass(frozen=True)
class PageInfo:
    """What `add` writes about a page, and where each value came from (for the editor)."""

    title: str = ""
    title_from: str = ""
    publisher: str = ""
    publisher_from: str = ""
    canonical: str = ""  # the page's own address for itself, when on the same site
    date: DateChoice = field(default_factory=lambda: DateChoice(None))
    notes: tuple[str, ...] = ()  # what was skipped on the way (a malformed JSON-LD block)


def clean(text: Any, limit: int = MAX_TITLE) -> str:
    """One line of visible text: no controls, whitespace collapsed, cut at `limit` with '…'."""
    if not isinstance(text, str):
        return ""
    text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def decode_html(body: bytes, content_type: str) -> str:
    """The page as text: the charset the server names, else a BOM, else a <meta charset> in
    its first 4 KB, else UTF-8, else windows-1252 (what browsers assume, WHATWG Encoding)."""
    names = re.findall(r"charset=[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    if body.startswith(codecs.BOM_UTF8):
        names.insert(0, "utf-8")
    head = body[:4096].decode("ascii", "replace")
    names += re.findall(r"<meta[^>]+charset=[\"']?([\w.:-]+)", head, re.IGNORECASE)
    for name in [*names, "utf-8"]:
        try:
            codecs.lookup(name)
            return body.decode(name).removeprefix("\ufeff")
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("windows-1252", "replace")


def _tree(html: str):  # -> lxml.html.HtmlElement | None
    import lxml.etree
    import lxml.html
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html)  # lxml refuses str with an XML declaration
    try:
        return lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None


# -- declared data ------------------------------------------------------------------------------

def _types(node: dict) -> list[str]:
    kinds = node.get("@type") or node.get("type") or []
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return [str(k).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for k in kinds if isinstance(k, str)]


def _walk(value: Any, found: list[dict], depth: int = 0) -> None:
    """Every typed object in a JSON-LD document (@graph, nested mainEntity, lists)."""
    if depth > 8 or len(found) > 500:
        return
    if isinstance(value, list):
        for entry in value[:200]:
            _walk(entry, found, depth + 1)
    elif isinstance(value, dict):
        if _types(value):
            found.append(value)
        for entry in value.values():
            if isinstance(entry, (list, dict)):
                _walk(entry, found, depth + 1)


def _json_ld(tree) -> tuple[list[dict], int]:
    """The typed objects of every JSON-LD block, and how many blocks were malformed: one bad
    block (common on real pages) is skipped, the others are still read."""
    from extruct.jsonld import JsonLdExtractor
    extractor = JsonLdExtractor()
    found: list[dict] = []
    broken = 0
    for script in tree.xpath("//script[@type]"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        script.set("type", "application/ld+json")  # extruct matches the exact type only
        try:
            items = extractor.extract_items(script)
        except (ValueError, TypeError, RecursionError):
            broken += 1
            continue
        _walk(items, found)
    return found, broken


def _microdata(tree) -> list[dict]:
    """Microdata items in JSON-LD's shape: {'@type': ..., property: value}."""
    from extruct.w3cmicrodata import MicrodataExtractor

    def shape(item: Any) -> Any:
        if isinstance(item, list):
            return [shape(i) for i in item]
        if not isinstance(item, dict) or "properties" not in item:
            return item.get("value", "") if isinstance(item, dict) else item
        return {"@type": item.get("type", ""),
                **{k: shape(v) for k, v in item["properties"].items()}}
    try:
        items = MicrodataExtractor().extract_items(tree, None)
    except (ValueError, TypeError, RecursionError):
        return []
    found: list[dict] = []
    _walk([shape(i) for i in items], found)
    return found


def _open_graph(tree) -> dict[str, str]:
    from extruct.opengraph import OpenGraphExtractor
    values: dict[str, str] = {}
    for block in OpenGraphExtractor().extract_items(tree):
        for name, value in block.get("properties", []):
            values.setdefault(name.lower(), value)
    return values


def _meta(tree) -> dict[str, str]:
    """<meta name|property|itemprop=... content=...>: the first value of each, by lower-case
    name (Twitter cards, citation_*, Dublin Core, and a loose itemprop)."""
    values: dict[str, str] = {}
    for meta in tree.xpath("//meta[@content]"):
        for attribute in ("name", "property", "itemprop"):
            name = (meta.get(attribute) or "").strip().lower()
            if name:
                key = f"itemprop:{name}" if attribute == "itemprop" else name
                values.setdefault(key, meta.get("content") or "")
    return values


def _text(value: Any) -> str:
    """A JSON-LD value as text: a string, an object's name, a list's first entry."""
    if isinstance(value, list):
        return next((t for t in map(_text, value[:20]) if t), "")
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value") or "")
    return clean(value, 300) if isinstance(value, str) else ""


@dataclass
class _Declared:
    """Everything the page declares, each value with where it came from, best first."""

    titles: list[tuple[str, str]] = field(default_factory=list)
    publishers: list[tuple[str, str]] = field(default_factory=list)
    dates: list[tuple[When, str]] = field(default_factory=list)
    canonical: list[tuple[str, str]] = field(default_factory=list)
    broken: int = 0

    def add_objects(self, objects: list[dict], syntax: str, pages: bool = False) -> None:
        """The articles among `objects` (with `pages`, the WebPages: read after everything
        else, since a page's name is often the section's or the site's)."""
        by_id = {o["@id"]: o for o in objects if isinstance(o.get("@id"), str)}
        chosen = [o for o in objects if ("WebPage" in _types(o) if pages else
                                         any(_ARTICLE_TYPES.match(t) for t in _types(o)))]
        for node in chosen:
            kind = next((t for t in _types(node)), "")
            title = _text(node.get("headline")) or _text(node.get("name"))
            if title:
                self.titles.append((title, f"{syntax} {kind} headline"))
            publisher = node.get("publisher")
            if isinstance(publisher, dict) and set(publisher) <= {"@id", "@type"}:
                publisher = by_id.get(publisher.get("@id") or "", publisher)
            name = _text(publisher)
            if name:
                self.publishers.append((name, f"{syntax} {kind} publisher"))
            when = parse_declared(_text(node.get("datePublished")))
            if when:
                self.dates.append((when, f"{syntax} {kind} datePublished"))
        for node in objects if not pages else []:
            if "WebSite" in _types(node) and _text(node.get("name")):
                self.publishers.append((_text(node.get("name")), f"{syntax} WebSite name"))

    def add_meta(self, values: dict[str, str]) -> None:
        for name in _TITLE_META:
            if clean(values.get(name)):
                self.titles.append((clean(values[name], 300), name))
        for name in _PUBLISHER_META:
            if clean(values.get(name)):
                self.publishers.append((clean(values[name], 300), name))
        for name in _DATE_META:
            when = parse_declared(values.get(name) or "")
            if when:
                self.dates.append((when, f"meta {name}"))
        if values.get("og:url"):
            self.canonical.append((values["og:url"], "og:url"))


def declared(tree) -> _Declared:
    found = _Declared()
    objects, found.broken = _json_ld(tree)
    found.add_objects(objects, "JSON-LD")
    values = {**_meta(tree), **_open_graph(tree)}
    found.add_meta(values)
    items = _microdata(tree)
    found.add_objects(items, "microdata")
    found.add_objects(objects, "JSON-LD", pages=True)
    found.add_objects(items, "microdata", pages=True)
    for link in tree.xpath("//link[@rel][@href]"):
        if "canonical" in (link.get("rel") or "").lower().split():
            found.canonical.insert(0, (link.get("href") or "", "link rel=canonical"))
    return found


# -- what readers see ---------------------------------------------------------------------------

def _article(tree):  # the element that holds the story, without the site's header and footer
    for path in ("//article", "//main", "//*[@role='main']"):
        found = tree.xpath(path)
        if found:
            return found[0]
    body = tree.find("body")
    return body if body is not None else tree


def shown_date(tree, html: str) -> tuple[When, str] | None:
    """The date the page shows readers: its byline's (<time>, an element called byline, date,
    ...), else the first one written in its text, else htmldate's reading of it."""
    story = _article(tree)
    for time_element in story.xpath(".//time")[:5]:
        date = text_date(time_element.text_content()[:200])
        if date:
            return When(date), "its byline"
        when = parse_declared(time_element.get("datetime") or "")
        if when and when.sure:
            return when, "its byline"
    for element in story.xpath(".//*[@class or @id]")[:400]:
        if _BYLINE.search(f"{element.get('class', '')} {element.get('id', '')}"):
            date = text_date(element.text_content()[:300])
            if date:
                return When(date), "its byline"
    date = text_date(story.text_content()[:2000])
    if date:
        return When(date), "its text"
    return _htmldate(html)


def _htmldate(html: str) -> tuple[When, str] | None:
    """htmldate on the page without what it declares (that is weighed on its own)."""
    from htmldate import find_date
    bare = re.sub(r"<head\b.*?</head>|<script\b.*?</script>", "", html,
                  flags=re.DOTALL | re.IGNORECASE)
    try:
        found = find_date(bare, original_date=True, extensive_search=True,
                          max_date=(dt.date.today() + dt.timedelta(days=1)).isoformat())
    except (ValueError, TypeError):
        return None
    when = parse_declared(found or "")
    return (when, "its text (htmldate)") if when else None


# -- the whole reading ---------------------------------------------------------------------------

def _same(one: str, other: str) -> bool:
    return " ".join(one.casefold().split()) == " ".join(other.casefold().split())


def _strip_site(title: str, names: list[str]) -> str:
    """'Headline | The Gazette' -> 'Headline' when 'The Gazette' is the site's name (and
    'The Gazette: Headline' likewise)."""
    cuts = list(_SEPARATORS.finditer(title))
    if not cuts:
        return title
    last, first = cuts[-1], cuts[0]
    for name in filter(None, names):
        if _same(title[last.end():], name) and title[:last.start()].strip():
            return title[:last.start()]
        if _same(title[:first.start()], name) and title[first.end():].strip():
            return title[first.end():]
    return title


def read_html(html: str, url: str) -> PageInfo:
    """Headline, publisher, date and canonical address of the HTML page at `url`."""
    tree = _tree(html)
    if tree is None:
        return PageInfo(publisher=host_name(url), publisher_from="the host",
                        date=choose([], url_date(url), None), notes=("the page is empty",))
    found = declared(tree)
    notes = [f"{found.broken} malformed JSON-LD block{'s' if found.broken > 1 else ''} "
             "skipped"] if found.broken else []
    publisher, publisher_from = found.publishers[0] if found.publishers else ("", "")
    title, title_from = found.titles[0] if found.titles else ("", "")
    if not publisher:
        publisher, publisher_from = _title_suffix(tree, title) or ("", "")
    if not title or not publisher:
        fallback_title, fallback_site = _trafilatura_metadata(html, url)
        if not title and fallback_title:
            title, title_from = fallback_title, "the page's title (trafilatura)"
        # trafilatura names the site after the host, or a Twitter handle, when nothing else
        # does: the host itself says that better.
        if not publisher and fallback_site and not re.fullmatch(r"[\w.-]+\.[\w-]+(?::\d+)?",
                                                                fallback_site):
            publisher, publisher_from = fallback_site, "the page (trafilatura)"
    if not publisher:
        publisher, publisher_from = host_name(url), "the host"
    title = clean(_strip_site(title, [publisher, host_name(url)]))
    canonical = ""
    for href, _ in found.canonical:
        address = absolute(url, href)
        if address and same_site(url, address):
            canonical = address
            break
    shown = shown_date(tree, html)
    if found.dates and shown is not None and shown[1] != "its byline":
        shown = None  # a date somewhere in the text is no reason to doubt a declared one
    date = choose(found.dates, url_date(urlsplit(canonical or url).path), shown)
    return PageInfo(title, title_from, clean(publisher, 300), publisher_from, canonical, date,
                    tuple(notes))


def _trafilatura_metadata(html: str, url: str) -> tuple[str, str]:
    from trafilatura.metadata import extract_metadata
    try:
        document = extract_metadata(html, default_url=url)
    except (ValueError, TypeError):
        return "", ""
    return clean(document.title or ""), clean(document.sitename or "", 300)


def _title_suffix(tree, headline: str) -> tuple[str, str] | None:
    """The site's name from '<title>Headline | Site</title>', when the rest is the headline."""
    titles = tree.xpath("//title")
    full = clean(titles[0].text_content(), 1000) if titles else ""
    h1 = tree.xpath("//h1")
    heading = clean(h1[0].text_content(), 1000) if h1 else headline
    if not heading or not full.casefold().startswith(heading.casefold()):
        return None
    rest = re.fullmatch(r"\s*(?:\||-|–|—|::|·|•|»|/|--)\s*(\S.*)", full[len(heading):])
    return (clean(rest.group(1), 300), "the page's title") if rest else None


def read_pdf(body: bytes, url: str) -> PageInfo:
    """Title, publisher and date from a PDF's document information or XMP metadata."""
    import io
    import logging

    from pypdf import PdfReader
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are not the editor's
    title = publisher = ""
    created: dt.datetime | None = None
    notes: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        info = reader.metadata
        if info is not None:
            title = clean(info.title or "")
            created = info.creation_date
        xmp = reader.xmp_metadata
        if xmp is not None:
            title = title or clean(_first(xmp.dc_title))
            publisher = clean(_first(xmp.dc_publisher), 300)
    except Exception:  # noqa: BLE001 - a broken PDF is a page without metadata, never a crash
        notes.append("the PDF could not be read")
    if _FILE_NAME.search(title):
        title = ""  # 'Microsoft Word - draft3.docx' names a file, not the document
    date = DateChoice(None, missing="the PDF's metadata gives none")
    if created is not None:
        date = DateChoice(created.date(), guess="from the PDF's metadata: the day the file "
                                                "was made, which may not be the day it was "
                                                "published")
    return PageInfo(title, "the PDF's metadata" if title else "", publisher or host_name(url),
                    "the PDF's metadata" if publisher else "the host", "", date, tuple(notes))


def _first(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("x-default") or next(iter(value.values()), "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def main_text(html: str) -> str:
    """The story's own text (no menus, footers or comments), by trafilatura; the whole
    visible text when it finds none."""
    import trafilatura
    text = trafilatura.extract(html, include_comments=False, include_tables=True,
                               favor_recall=True, deduplicate=False)
    if text:
        return text
    tree = _tree(html)
    if tree is None:
        return ""
    for junk in tree.xpath("//script|//style|//noscript"):
        junk.getparent().remove(junk)
    return " ".join(tree.text_content().split())


def pdf_text(body: bytes, max_pages: int = 200) -> str:
    import io
    import logging

    from pypdf import PdfReader
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        return "\n".join((page.extract_text() or "") for page in reader.pages[:max_pages])
    except Exception:  # noqa: BLE001 - a broken PDF has no text we can read
        return ""
