"""The archive in out/: index.html, feed.xml and archive.txt from every built issue, and search."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Iterator
from urllib.parse import urljoin

from .errors import BriefingError, Problem
from .validate import ISSUE_ID, Project

ISSUE_JSON = "issue.json"
INDEX = "index.html"
FEED = "feed.xml"
TOC = "archive.txt"
ARCHIVE_FILES = (INDEX, FEED, TOC)
INDEX_TEMPLATE = "index.html.j2"
# What the index links to for each issue, in this order (issue.json is for tools, not readers).
LINKS = (("email.html", "Read the email"), ("digest.txt", "Plain text"),
         ("message.eml", "Message (.eml)"))
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters XML 1.0 forbids even when escaped (section 2.2); a feed containing one is not XML.


@cache
def _not_xml() -> re.Pattern:
    """Characters XML 1.0 cannot carry (compiled on first use: 5 ms, too slow for startup)."""
    return re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# ---------------------------------------------------------------------------------------------
# Reading issue.json: the archive trusts what was built, but checks it before relying on it.

@dataclass(frozen=True)
class ThemeEntry:
    id: str
    title: str
    headlines: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.headlines)


@dataclass(frozen=True)
class Entry:
    """One built issue as the index, feed and table of contents need it (from its issue.json)."""

    id: str
    title: str
    date: dt.date
    preheader: str
    newsletter: dict
    themes: tuple[ThemeEntry, ...]
    files: tuple[str, ...]  # which of LINKS exist next to issue.json

    @property
    def items(self) -> int:
        return sum(t.count for t in self.themes)

    @property
    def links(self) -> list[dict]:
        return [{"name": name, "label": label, "href": f"{self.id}/{name}"}
                for name, label in LINKS if name in self.files]


@dataclass(frozen=True)
class ArchiveResult:
    entries: list[Entry]
    paths: list[Path]
    warnings: list[Problem] = field(default_factory=list)
    unbuilt: list[str] = field(default_factory=list)  # issues in briefs/ with no issue.json


def _rebuild_hint(issue_id: str) -> str:
    return f"rebuild it with 'briefing build {issue_id}'"


class _Checker:
    """Type checks of issue.json with messages naming the file and the field."""

    def __init__(self, shown: str, issue_id: str) -> None:
        self.shown, self.issue_id = shown, issue_id

    def fail(self, message: str) -> BriefingError:
        return BriefingError(Problem(self.shown, 0, 0, message, hint=_rebuild_hint(self.issue_id)))

    def get(self, obj: dict, key: str, kind: type, where: str):
        value = obj.get(key) if isinstance(obj, dict) else None
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            name = {str: "text", list: "a list", dict: "an object", int: "a whole number"}[kind]
            raise self.fail(f"'{where}{key}' is missing or not {name}")
        return value


def check_issue_data(data: object, shown: str, issue_id: str) -> dict:
    """Check the parts of an issue.json the archive reads; return it unchanged."""
    from .render.json import SCHEMA_VERSION
    c = _Checker(shown, issue_id)
    if not isinstance(data, dict):
        raise c.fail("issue.json is not a JSON object")
    version = c.get(data, "schema_version", int, "")
    # Sent issues are frozen, so their issue.json is never rewritten: every version ever
    # written must stay readable here. Only version 1 exists so far.
    if version > SCHEMA_VERSION:
        raise c.fail(f"schema_version {version} was written by a newer briefing; this one "
                     f"reads versions up to {SCHEMA_VERSION}")
    if version < 1:
        raise c.fail(f"schema_version {version} is not a version (they start at 1)")
    if c.get(data, "id", str, "") != issue_id:
        raise c.fail(f"'id' is '{data['id']}' but the folder is out/{issue_id}")
    c.get(data, "title", str, "")
    try:
        dt.date.fromisoformat(c.get(data, "date", str, ""))
    except ValueError:
        raise c.fail(f"'date' is '{data['date']}', not a date (YYYY-MM-DD)") from None
    c.get(data, "preheader", str, "")
    newsletter = c.get(data, "newsletter", dict, "")
    for key in ("name", "tagline", "language", "archive_url"):
        c.get(newsletter, key, str, "newsletter.")
    for t, theme in enumerate(c.get(data, "themes", list, "")):
        where = f"themes[{t}]."
        c.get(theme, "id", str, where)
        c.get(theme, "title", str, where)
        for i, item in enumerate(c.get(theme, "items", list, where)):
            at = f"{where}items[{i}]."
            for key in ("headline", "summary_text", "why"):
                c.get(item, key, str, at)
            for n, tag in enumerate(c.get(item, "tags", list, at)):
                if not isinstance(tag, str):
                    raise c.fail(f"'{at}tags[{n}]' is not text")
            for s, source in enumerate(c.get(item, "sources", list, at)):
                for key in ("url", "title", "publisher"):
                    c.get(source, key, str, f"{at}sources[{s}].")
                if not isinstance(source.get("number"), int):
                    raise c.fail(f"'{at}sources[{s}].number' is missing or not a whole number")
    for r, ref in enumerate(c.get(data, "references", list, "")):
        c.get(ref, "url", str, f"references[{r}].")
    return data


def read_issue_json(path: Path, shown: str, issue_id: str) -> dict:
    """Load and check one out/<ISSUE>/issue.json, or fail naming it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BriefingError(Problem(shown, 0, 0, f"cannot read file: {exc.strerror}")) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BriefingError(Problem(shown, 0, 0, "file is not valid UTF-8",
                                    hint=_rebuild_hint(issue_id))) from None
    except json.JSONDecodeError as exc:
        raise BriefingError(Problem(shown, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}",
                                    hint=_rebuild_hint(issue_id))) from None
    return check_issue_data(data, shown, issue_id)


@dataclass(frozen=True)
class Built:
    id: str
    folder: Path
    files: frozenset[str]  # names in the folder (one directory listing, no stat per file)


def built_issues(project: Project) -> tuple[list[Built], list[Problem]]:
    """Issue folders in out/ that hold an issue.json, and warnings about those that do not.

    out/ may hold other things (a web server's files, temp files from a crash): only folders
    named like an issue id are considered. A folder that is a symbolic link is refused, as
    write.py refuses to write through one: the archive only describes what it wrote itself.
    """
    out = project.out
    if not out.is_dir():
        return [], []
    found: list[Built] = []
    warnings: list[Problem] = []
    with os.scandir(out) as entries:
        names = sorted((e.name, e.is_symlink(), e.is_dir()) for e in entries)
    for name, link, is_dir in names:
        if not is_dir or not ISSUE_ID.fullmatch(name):
            continue  # files: index.html itself (a linked one is refused when written), ...
        if link:
            raise BriefingError(Problem(f"out/{name}", 0, 0, "issue folder is a symbolic link; "
                                        "the archive only reads real folders in out/"))
        if name in ARCHIVE_FILES:
            raise BriefingError(Problem(f"out/{name}", 0, 0, f"an issue folder named '{name}' "
                                        "takes the place of the archive's own file",
                                        hint="rename the issue folder in briefs/ and out/"))
        files = frozenset(os.listdir(out / name))
        if ISSUE_JSON not in files:
            warnings.append(Problem(f"out/{name}", 0, 0, f"no {ISSUE_JSON}, so this folder is "
                                    "not in the archive", severity="warning",
                                    hint=_rebuild_hint(name)))
            continue
        found.append(Built(name, out / name, files))
    return found, warnings


def _entry(data: dict, built: Built) -> Entry:
    themes = tuple(ThemeEntry(t["id"], t["title"], tuple(i["headline"] for i in t["items"]))
                   for t in data["themes"])
    return Entry(id=data["id"], title=data["title"], date=dt.date.fromisoformat(data["date"]),
                 preheader=data["preheader"], newsletter=dict(data["newsletter"]), themes=themes,
                 files=tuple(name for name, _ in LINKS if name in built.files))


def load_entries(project: Project) -> tuple[list[Entry], list[Problem]]:
    """Every built issue, newest first (by date, then id), each read from its issue.json once."""
    built, warnings = built_issues(project)
    entries = [_entry(read_issue_json(b.folder / ISSUE_JSON, f"out/{b.id}/{ISSUE_JSON}", b.id), b)
               for b in built]
    entries.sort(key=lambda e: (e.date, e.id), reverse=True)
    return entries, warnings


# ---------------------------------------------------------------------------------------------
# Rendering: pure functions of the entries (and, for the feed, the files they point to).

def _base_url(entries: list[Entry]) -> str:
    """Where the archive is published now: the newest issue's archive_url (may be empty)."""
    url = entries[0].newsletter["archive_url"] if entries else ""
    return url if not url or url.endswith("/") else url + "/"


def render_index(entries: list[Entry], templates: Path | None) -> str:
    """out/index.html from templates/index.html.j2 (a project's templates/ may override it)."""
    from .templates import environment, render_template
    newsletter = entries[0].newsletter
    context = {"newsletter": newsletter, "issues": entries, "feed": FEED, "toc": TOC,
               "archive_url": _base_url(entries)}
    page = render_template(environment(templates), INDEX_TEMPLATE, context)
    return page if page.endswith("\n") else page + "\n"


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


def render_feed(entries: list[Entry], out: Path) -> bytes:
    """out/feed.xml: Atom 1.0 (RFC 4287), one entry per issue, the email HTML as content.

    Built with ElementTree, which escapes every text and attribute; characters XML cannot carry
    at all are dropped rather than producing a feed no reader can parse.
    """
    import xml.etree.ElementTree as ET

    newest = entries[0]
    base = _base_url(entries)
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
    sub(feed, "updated", _timestamp(newest.date))
    author = sub(feed, "author")
    sub(author, "name", newsletter["name"])
    sub(feed, "link", rel="alternate", type="text/html", href=base + INDEX)
    if base:  # a self link must be absolute to be useful (RFC 4287 4.2.7.2)
        sub(feed, "link", rel="self", type="application/atom+xml", href=base + FEED)
    sub(feed, "generator", "briefing")

    for entry in entries:
        node = sub(feed, "entry")
        sub(node, "id", entry_id(entry))
        sub(node, "title", entry.title, type="text")
        sub(node, "published", _timestamp(entry.date))
        sub(node, "updated", _timestamp(entry.date))
        sub(node, "link", rel="alternate", type="text/html", href=f"{base}{entry.id}/email.html")
        if "digest.txt" in entry.files:
            sub(node, "link", rel="alternate", type="text/plain",
                href=f"{base}{entry.id}/digest.txt")
        for theme in entry.themes:
            sub(node, "category", term=theme.id, label=theme.title)
        contents = ", ".join(f"{t.title} ({t.count})" for t in entry.themes)
        sub(node, "summary", entry.preheader or contents, type="text")
        if "email.html" in entry.files:
            html = (out / entry.id / "email.html").read_text(encoding="utf-8", errors="replace")
            sub(node, "content", html, type="html")
    ET.indent(feed, space="  ")
    return (b'<?xml version="1.0" encoding="utf-8"?>\n'
            + ET.tostring(feed, encoding="unicode").encode("utf-8") + b"\n")


def render_toc(entries: list[Entry]) -> str:
    """out/archive.txt: every issue's date, title and headlines, wrapped like the digest."""
    from .dates import long_date
    from .render.text import RULE, THIN_RULE, WIDTH
    from .render.wrap import wrap

    newsletter = entries[0].newsletter
    base = _base_url(entries)
    lines: list[str] = []
    lines.extend(wrap(newsletter["name"].upper(), WIDTH))
    if newsletter["tagline"]:
        lines.extend(wrap(newsletter["tagline"], WIDTH))
    lines += [RULE, ""]
    issues = f"{len(entries)} issue" + ("" if len(entries) == 1 else "s")
    lines.extend(wrap(f"Archive: {issues}, newest first.", WIDTH))
    for entry in entries:
        lines += ["", THIN_RULE]
        lines.append(f"{long_date(entry.date)} · {entry.id}")
        lines.extend(wrap(entry.title, WIDTH))
        if "digest.txt" in entry.files:
            lines.append(f"{base}{entry.id}/digest.txt")
        for theme in entry.themes:
            lines.append("")
            lines.extend(wrap(f"{theme.title} ({theme.count})", WIDTH))
            for headline in theme.headlines:
                lines.extend(wrap(headline, WIDTH, "  • ", "    "))
    lines += ["", RULE]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def unbuilt_issues(project: Project, built: set[str]) -> list[str]:
    from .validate import issue_ids
    return [i for i in issue_ids(project) if i not in built]


def refresh(project: Project) -> ArchiveResult:
    """Rewrite out/index.html, feed.xml and archive.txt from the issue.json files in out/.

    Nothing is re-rendered or re-validated: issue.json is what was built. The three files are
    written together through write_files, so a failure leaves the previous ones in place.
    """
    from .write import write_files

    entries, warnings = load_entries(project)
    if not entries:
        raise BriefingError(Problem("out", 0, 0, "no built issues to archive",
                                    hint="build one with 'briefing build'"))
    files = {
        INDEX: render_index(entries, project.root / "templates").encode("utf-8"),
        FEED: render_feed(entries, project.out),
        TOC: render_toc(entries).encode("utf-8"),
    }
    paths = write_files(project.out, files)
    unbuilt = unbuilt_issues(project, {e.id for e in entries})
    return ArchiveResult(entries, paths, warnings, unbuilt)


# ---------------------------------------------------------------------------------------------
# Every issue's data, built or not: for search and for the earlier-citation lint.

@dataclass(frozen=True)
class IssueData:
    id: str
    date: dt.date
    data: dict  # the issue.json structure (render/json.py), read from out/ or made just now
    built: bool  # False: validated from briefs/ just now, never written


Order = tuple[dt.date, str]


def all_issues(project: Project, drafts: bool = True,
               before: Order | None = None) -> Iterator[IssueData | Problem]:
    """Every issue, one at a time in folder-name order, so 500 issues are never all in memory.

    Built issues come from issue.json: what was built (and maybe sent), not the briefs as they
    are now. With `drafts`, issues in briefs/ with no issue.json are validated and included; one
    that does not validate yields a warning Problem instead (its own 'briefing check' reports
    the errors), so a broken draft neither hides the rest nor passes silently. With `before`,
    only issues ordered before that (date, id) are yielded, and later drafts are not validated.
    """
    from .validate import issue_date
    built, _ = built_issues(project)
    for b in built:
        data = read_issue_json(b.folder / ISSUE_JSON, f"out/{b.id}/{ISSUE_JSON}", b.id)
        date = dt.date.fromisoformat(data["date"])
        if before is None or (date, b.id) < before:
            yield IssueData(b.id, date, data, built=True)
    if not drafts:
        return
    for issue_id in unbuilt_issues(project, {b.id for b in built}):
        if before is not None and ((issue_date(project, issue_id) or dt.date.min),
                                   issue_id) >= before:
            continue
        try:
            yield _draft(project, issue_id)
        except BriefingError:
            yield Problem(f"briefs/{issue_id}", 0, 0, "not built and not valid, so it is left "
                          "out", severity="warning", hint=f"see 'briefing check {issue_id}'")


def _draft(project: Project, issue_id: str) -> IssueData:
    """An issue that has not been built, validated from its briefs (raises BriefingError)."""
    from .render.json import issue_data
    from .validate import load_issue
    issue = load_issue(project, issue_id)
    return IssueData(issue.id, issue.date, issue_data(issue), built=False)


def normalise(text: str) -> str:
    """Caseless matching form: NFKC, casefold, NFKC again (casefolding can denormalise).

    NFKC makes full-width Ａ and ａ, ligatures and compatibility CJK forms match their plain
    forms; casefold handles ß/ss and Greek final sigma, which lower() does not.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True)
class Match:
    issue: str
    date: dt.date
    built: bool
    theme: str  # the theme's title
    headline: str
    sources: tuple[dict, ...]  # the matching sources, or all of the item's when none matched


@dataclass(frozen=True)
class SearchResult:
    matches: list[Match]
    searched: int  # issues looked at
    warnings: list[Problem]


# A separator no search term can contain (command-line arguments cannot hold NUL), so a term
# never matches across two fields.
_SEP = "\x00"


def search(project: Project, terms: list[str]) -> SearchResult:
    """Items that contain every term (AND), case- and width-insensitively, newest issue first.

    Substring matching, so Chinese and Japanese text (no spaces between words) is found too.
    Searched: headline, summary text, why, tags, and each source's title, publisher and URL.
    """
    needles = [normalise(t).strip() for t in terms]
    if not needles or not all(needles):
        raise BriefingError(Problem("briefing", 0, 0, "search needs at least one non-empty term",
                                    hint="for example: briefing archive search seedance"))
    matches: list[Match] = []
    warnings: list[Problem] = []
    searched = 0
    for found in all_issues(project):
        if isinstance(found, Problem):
            warnings.append(found)
            continue
        searched += 1
        for theme in found.data["themes"]:
            for item in theme["items"]:
                source_text = [normalise(_SEP.join((s["title"], s["publisher"], s["url"])))
                               for s in item["sources"]]
                text = normalise(_SEP.join([item["headline"], item["summary_text"],
                                            item["why"], *item["tags"]])) + _SEP + \
                    _SEP.join(source_text)
                if not all(n in text for n in needles):
                    continue
                hits = tuple(s for s, hay in zip(item["sources"], source_text)
                             if any(n in hay for n in needles))
                matches.append(Match(found.id, found.date, found.built, theme["title"],
                                     item["headline"], hits or tuple(item["sources"])))
    # Newest issue first; within an issue, reading order (sort is stable).
    matches.sort(key=lambda m: (m.date, m.issue), reverse=True)
    return SearchResult(matches, searched, warnings)


def earlier_citations(project: Project, issue_id: str) -> dict[str, str]:
    """Every URL cited by an issue ordered before `issue_id`, mapped to the first issue citing it.

    "Before" is by (date, id). Built issues are read from issue.json; earlier issues that were
    never built are validated from briefs/, and left out if invalid. URLs are compared exactly
    as written. For the lint rule that warns when a source was already cited.
    """
    from .validate import check_issue_id, issue_date
    if not ISSUE_ID.fullmatch(issue_id):
        check_issue_id(project, issue_id)  # raises, with the message every command uses
    date = issue_date(project, issue_id)
    if date is None:
        return {}
    first: dict[str, tuple[Order, str]] = {}
    for found in all_issues(project, before=(date, issue_id)):
        if isinstance(found, Problem):
            continue
        order = (found.date, found.id)
        for ref in found.data["references"]:
            if ref["url"] not in first or order < first[ref["url"]][0]:
                first[ref["url"]] = (order, found.id)
    return {url: issue for url, (_, issue) in sorted(first.items())}
