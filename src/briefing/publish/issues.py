"""Built issues as the archive reads them (out/<ISSUE>/issue.json, checked), and drafts too."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..content.validate import ISSUE_ID, Project
from ..errors import BriefingError, Problem

ISSUE_JSON = "issue.json"
INDEX = "index.html"
FEED = "feed.xml"
FEED_JSON = "feed.json"
TOC = "archive.txt"
SEARCH_DIR = "pagefind"  # the static search index (publish/pagefind.py)
THREADS_DIR = "threads"  # a page per story thread (publish/threads.py)
ARCHIVE_FILES = (INDEX, FEED, FEED_JSON, TOC)
INDEX_TEMPLATE = "index.html.j2"
PAGE = "index.html"  # an issue's web page, out/<ISSUE>/index.html
# What the index links to for each issue, in this order (issue.json is for tools, not readers).
LINKS = (("index.html", "Read on the web"), ("digest.txt", "Plain text"),
         ("message.eml", "Message (.eml)"))
# Private state: never under out/, kept out of git by the .gitignore `briefing init` writes.
PRIVATE_DIR = ".briefing"
DRAFTS_DIR = f"{PRIVATE_DIR}/drafts"


def output_root(project: Project, draft: bool) -> tuple[Path, str]:
    """Where built issues go, and how messages name it: out/ (public) or .briefing/drafts/."""
    return (project.root / DRAFTS_DIR, DRAFTS_DIR) if draft else (project.out, "out")


def issue_folder(project: Project, issue_id: str, draft: bool) -> Path:
    """The folder an issue's built files live in: out/<ISSUE>/ when published, else
    .briefing/drafts/<ISSUE>/. deliver/ and the screenshots read the built message there."""
    return output_root(project, draft)[0] / issue_id


def issue_folder_shown(issue_id: str, draft: bool) -> str:
    """The same folder as messages name it: 'out/2026-W07' or '.briefing/drafts/2026-W07'."""
    return f"{DRAFTS_DIR if draft else 'out'}/{issue_id}"


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
    files: tuple[str, ...]  # which of LINKS exist next to issue.json (the page always does)
    data: dict = field(default_factory=dict, compare=False, repr=False)  # the whole issue.json

    @property
    def items(self) -> int:
        return sum(t.count for t in self.themes)

    @property
    def links(self) -> list[dict]:
        return [{"name": name, "label": label,
                 "href": f"{self.id}/" if name == PAGE else f"{self.id}/{name}"}
                for name, label in LINKS if name in self.files]


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
    from ..render.json import SCHEMA_VERSION
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
    c.get(data, "intro", str, "")
    newsletter = c.get(data, "newsletter", dict, "")
    for key in ("name", "tagline", "language", "archive_url"):
        c.get(newsletter, key, str, "newsletter.")
    if newsletter["archive_url"]:  # it becomes links in the feeds and pages: checked like
        from ..content.schema import check_url  # briefing.yaml's (no javascript:, no data:)
        try:
            check_url(newsletter["archive_url"])
        except ValueError as exc:
            raise c.fail(f"'newsletter.archive_url' {str(exc).partition('|')[0]}") from None
    for t, theme in enumerate(c.get(data, "themes", list, "")):
        where = f"themes[{t}]."
        c.get(theme, "id", str, where)
        c.get(theme, "title", str, where)
        if not isinstance(theme.get("description", ""), str):
            raise c.fail(f"'{where}description' is not text")
        theme.setdefault("description", "")
        for i, item in enumerate(c.get(theme, "items", list, where)):
            at = f"{where}items[{i}]."
            for key in ("headline", "summary", "summary_text", "why"):
                c.get(item, key, str, at)
            for n, tag in enumerate(c.get(item, "tags", list, at)):
                if not isinstance(tag, str):
                    raise c.fail(f"'{at}tags[{n}]' is not text")
            for n, stat in enumerate(item.setdefault("stat", [])):
                sat = f"{at}stat[{n}]."
                c.get(stat, "label", str, sat)
                c.get(stat, "unit", str, sat)
                value = stat.get("value")
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                        0 <= value < 1e300):
                    raise c.fail(f"'{sat}value' is missing or not a number")
            for s, source in enumerate(c.get(item, "sources", list, at)):
                for key in ("url", "title", "publisher"):
                    c.get(source, key, str, f"{at}sources[{s}].")
                if not isinstance(source.get("number"), int):
                    raise c.fail(f"'{at}sources[{s}].number' is missing or not a whole number")
                date = source.setdefault("date", None)
                try:
                    if date is not None:
                        dt.date.fromisoformat(date)
                except (TypeError, ValueError):
                    raise c.fail(f"'{at}sources[{s}].date' is not a date (YYYY-MM-DD)") from None
    for r, ref in enumerate(c.get(data, "references", list, "")):
        c.get(ref, "url", str, f"references[{r}].")
    from .record import check_record_data  # corrections and threads (docs/record.md)
    check_record_data(c.fail, data)
    return data


def _text_problem(data: object) -> str | None:
    """A lone surrogate anywhere in the data (JSON's \\ud800 escapes allow one; no UTF-8 file
    can hold it, so every page and feed written from it would fail), found without recursion."""
    todo = [data]
    while todo:
        value = todo.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"text with a lone surrogate ({value[:40]!r})"
        elif isinstance(value, dict):
            todo.extend(value.keys())
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
    return None


def read_issue_json(path: Path, shown: str, issue_id: str) -> dict:
    """Load and check one out/<ISSUE>/issue.json, or fail naming it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BriefingError(Problem(shown, 0, 0, f"cannot read file: {exc.strerror}")) from None
    if len(raw) > MAX_ISSUE_JSON:
        raise BriefingError(Problem(shown, 0, 0, f"file is {len(raw):,} bytes, more than "
                                    f"{MAX_ISSUE_JSON:,}", hint=_rebuild_hint(issue_id)))
    depth = _nesting(raw)
    if depth > MAX_JSON_DEPTH:  # before parsing: json.loads recurses once per level
        raise BriefingError(Problem(shown, 0, 0, f"nested {depth} levels deep (issue.json "
                                    f"has at most {MAX_JSON_DEPTH})", hint=_rebuild_hint(issue_id)))
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BriefingError(Problem(shown, 0, 0, "file is not valid UTF-8",
                                    hint=_rebuild_hint(issue_id))) from None
    except json.JSONDecodeError as exc:
        raise BriefingError(Problem(shown, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}",
                                    hint=_rebuild_hint(issue_id))) from None
    except (ValueError, RecursionError) as exc:  # e.g. Python's limit of 4,300 digits per int
        message = str(exc).split(";")[0].split(":")[0]
        raise BriefingError(Problem(shown, 0, 0, f"not valid JSON: {message}",
                                    hint=_rebuild_hint(issue_id))) from None
    problem = _text_problem(data)
    if problem:
        raise BriefingError(Problem(shown, 0, 0, problem, hint=_rebuild_hint(issue_id)))
    return check_issue_data(data, shown, issue_id)


MAX_ISSUE_JSON = 50_000_000  # a 500-item issue at every documented maximum is about 15 MB
MAX_JSON_DEPTH = 16  # issue.json is 7 levels deep


def _nesting(raw: bytes) -> int:
    """How deep [ and { nest, outside strings: a linear scan, so no input can exhaust the stack."""
    import re
    depth = deepest = 0
    # Strings (with their escapes) are skipped whole; only brackets outside them count.
    for token in re.finditer(rb'"(?:[^"\\]+|\\.)*"|[\[{]|[\]}]', raw):
        first = token.group()[:1]
        if first in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif first in (b"]", b"}"):
            depth -= 1
    return deepest


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
        if not is_dir or not ISSUE_ID.fullmatch(name) or name in (SEARCH_DIR, THREADS_DIR):
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


def entry(data: dict, files: frozenset[str] | set[str]) -> Entry:
    """An Entry from checked issue.json data and the names of the files next to it."""
    themes = tuple(ThemeEntry(t["id"], t["title"], tuple(i["headline"] for i in t["items"]))
                   for t in data["themes"])
    return Entry(id=data["id"], title=data["title"], date=dt.date.fromisoformat(data["date"]),
                 preheader=data["preheader"], newsletter=dict(data["newsletter"]), themes=themes,
                 files=tuple(name for name, _ in LINKS if name in files or name == PAGE),
                 data=data)


def damaged_warning(exc: BriefingError, issue_id: str) -> Problem:
    """A damaged issue.json as a warning, for commands about other issues: it is left out."""
    first = exc.problems[0]
    return Problem(first.path, first.line, first.col,
                   f"{first.message}; this issue is left out until it is rebuilt",
                   severity="warning", hint=_rebuild_hint(issue_id))


def load_entries(project: Project, strict: bool = True,
                 fresh: dict[str, tuple[dict, set[str]]] | None = None
                 ) -> tuple[list[Entry], list[Problem]]:
    """Every built issue, newest first (by date, then id), each read from its issue.json once.

    A damaged issue.json is an error (`strict`, for `briefing archive`), or a warning that leaves
    that issue out (a build of another issue must not fail because of it). `fresh` holds issues
    about to be written, as (issue.json data, file names): they are used instead of the disk.
    """
    built, warnings = built_issues(project)
    fresh = fresh or {}
    entries: list[Entry] = []
    for b in built:
        if b.id in fresh:
            continue
        try:
            data = read_issue_json(b.folder / ISSUE_JSON, f"out/{b.id}/{ISSUE_JSON}", b.id)
        except BriefingError as exc:
            if strict:
                raise
            warnings.append(damaged_warning(exc, b.id))
            continue
        entries.append(entry(data, b.files))
    entries.extend(entry(data, files) for data, files in fresh.values())
    entries.sort(key=lambda e: (e.date, e.id), reverse=True)
    return entries, warnings


def base_url(entries: list[Entry]) -> str:
    """Where the archive is published now: the newest issue's archive_url (may be empty)."""
    url = entries[0].newsletter["archive_url"] if entries else ""
    return url if not url or url.endswith("/") else url + "/"


def unbuilt_issues(project: Project, built: set[str]) -> list[str]:
    """Issues in briefs/ that are not in out/ (drafts included)."""
    from ..content.validate import issue_ids
    return [i for i in issue_ids(project) if i not in built]


def drafts(project: Project, ids: list[str]) -> list[str]:
    """Those of `ids` whose issue.yaml says `draft: true`."""
    from ..content.validate import is_draft
    return [i for i in ids if is_draft(project, i)]


# Every issue's data, built or not: for search and for the earlier-citation lint.

@dataclass(frozen=True)
class IssueData:
    id: str
    date: dt.date
    data: dict  # the issue.json structure (render/json.py), read from out/ or made just now
    built: bool  # False: validated from briefs/ just now, never written
    draft: bool = False  # issue.yaml says draft: true (never published)


Order = tuple[dt.date, str]


def all_issues(project: Project, drafts: bool = True,
               before: Order | None = None) -> Iterator[IssueData | Problem]:
    """Every issue, one at a time in folder-name order, so 500 issues are never all in memory.

    Built issues come from issue.json: what was built (and maybe sent), not the briefs as they
    are now. With `drafts`, issues in briefs/ with no issue.json are validated and included; one
    that does not validate yields a warning Problem instead (its own 'briefing check' reports
    the errors), so a broken draft neither hides the rest nor passes silently. With `before`,
    only issues ordered before that (date, id) are yielded, and later drafts are not validated.
    A damaged issue.json yields a warning Problem too: one bad file never stops the others.
    """
    from ..content.validate import issue_date
    built, _ = built_issues(project)
    for b in built:
        try:
            data = read_issue_json(b.folder / ISSUE_JSON, f"out/{b.id}/{ISSUE_JSON}", b.id)
        except BriefingError as exc:
            yield damaged_warning(exc, b.id)
            continue
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
    from ..content.validate import load_issue
    from ..render.json import issue_data
    issue = load_issue(project, issue_id)
    return IssueData(issue.id, issue.date, issue_data(issue), built=False, draft=issue.draft)


def earlier_citations(project: Project, issue_id: str,
                      warnings: list[Problem] | None = None) -> dict[str, str]:
    """Every URL cited by an issue ordered before `issue_id`, mapped to the first issue citing it.

    "Before" is by (date, id). Built issues are read from issue.json; earlier issues that were
    never built are validated from briefs/, and left out if invalid. URLs are compared exactly
    as written. For the lint rule that warns when a source was already cited. Each issue left
    out (a damaged issue.json, a draft that does not validate) is added to `warnings`.
    """
    from ..content.validate import check_issue_id, issue_date
    if not ISSUE_ID.fullmatch(issue_id):
        check_issue_id(project, issue_id)  # raises, with the message every command uses
    date = issue_date(project, issue_id)
    if date is None:
        return {}
    first: dict[str, tuple[Order, str]] = {}
    for found in all_issues(project, before=(date, issue_id)):
        if isinstance(found, Problem):
            if warnings is not None:
                warnings.append(found)
            continue
        order = (found.date, found.id)
        for ref in found.data["references"]:
            if ref["url"] not in first or order < first[ref["url"]][0]:
                first[ref["url"]] = (order, found.id)
    return {url: issue for url, (_, issue) in sorted(first.items())}
