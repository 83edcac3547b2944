"""The published record of earlier issues (out/*/issue.json): "Previously" lines for story
threads and the "Corrections" section of the next issue (docs/record.md).

Read here, at load time, so the Issue the renderers get already holds them: every copy made from
it (a reader's themes only, say) carries the same lines. What counts is what was published, not
the briefs as they are now: a "Previously" link must lead to a page that exists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .model import Correction, EarlierCorrection, Issue, Item, Previous, Span

MAX_RECORD_JSON = 50_000_000  # as publish/issues.py reads issue.json
_SKIP = frozenset({"pagefind", "threads"})  # folders of out/ that are not issues


@dataclass(frozen=True)
class RecordedItem:
    headline: str
    anchor: str
    thread: str  # '' for none


@dataclass(frozen=True)
class RecordedCorrection:
    date: dt.date
    headline: str
    text: str  # inline Markdown as written
    anchor: str


@dataclass(frozen=True)
class RecordedIssue:
    id: str
    title: str
    date: dt.date
    items: tuple[RecordedItem, ...]
    corrections: tuple[RecordedCorrection, ...] = ()

    @property
    def order(self) -> tuple[dt.date, str]:
        return (self.date, self.id)


@dataclass
class Record:
    """Published issues by id. `build --all` adds each issue as it is rendered, in date
    order, so later issues see it as a single `build` after it would."""

    issues: dict[str, RecordedIssue] = field(default_factory=dict)

    def add(self, data: dict) -> None:
        recorded = recorded_issue(data)
        if recorded is not None:
            self.issues[recorded.id] = recorded

    def before(self, date: dt.date, issue_id: str) -> list[RecordedIssue]:
        """Published issues ordered before (date, id), newest first."""
        return sorted((r for r in self.issues.values() if r.order < (date, issue_id)),
                      key=lambda r: r.order, reverse=True)


def recorded_issue(data: object) -> RecordedIssue | None:
    """The parts of an issue.json the record needs, or None when it does not hold them (a
    damaged file is the archive's to report, with its name)."""
    from .corrections import item_anchors
    try:
        assert isinstance(data, dict)
        themes = [(str(t["id"]), [str(i["headline"]) for i in t["items"]])
                  for t in data["themes"]]
        anchors = item_anchors(themes)
        items = []
        by_headline: dict[str, str] = {}
        for theme, theme_anchors in zip(data["themes"], anchors, strict=True):
            for item, anchor in zip(theme["items"], theme_anchors, strict=True):
                thread = item.get("thread") or {}
                items.append(RecordedItem(item["headline"], anchor,
                                          str(thread.get("id", "")) if isinstance(
                                              thread, dict) else ""))
                by_headline.setdefault(item["headline"], anchor)
        corrections = tuple(
            RecordedCorrection(dt.date.fromisoformat(c["date"]), str(c["item"]), str(c["text"]),
                               by_headline.get(c["item"], ""))
            for c in data.get("corrections") or ())
        return RecordedIssue(str(data["id"]), str(data["title"]),
                             dt.date.fromisoformat(data["date"]), tuple(items), corrections)
    except (AssertionError, KeyError, TypeError, ValueError, AttributeError):
        return None


# The last record read, by what its files were (names, sizes, modification times): `build` reads
# it for the issue and again for lint's quiet-thread rule; 500 issue.json files take ~0.3 s.
_LAST: dict[tuple, dict[str, RecordedIssue]] = {}


def load_record(out: Path, leave_out: str = "") -> Record:
    """Every published issue in out/ but `leave_out`, from its issue.json."""
    if not out.is_dir():
        return Record()
    files: list[tuple[str, int, int]] = []
    with os.scandir(out) as entries:
        names = sorted(e.name for e in entries
                       if e.is_dir(follow_symlinks=False) and e.name not in _SKIP)
    for name in names:
        if name == leave_out:  # left out of the key too: building it rewrites its file
            continue
        try:
            info = (out / name / "issue.json").lstat()
        except OSError:
            continue
        if info.st_size <= MAX_RECORD_JSON and not os.path.islink(out / name / "issue.json"):
            files.append((name, info.st_size, info.st_mtime_ns))
    key = (str(out), tuple(files))
    if key not in _LAST:
        record = Record()
        for name, _, _ in files:
            try:
                data = json.loads((out / name / "issue.json").read_bytes().decode("utf-8"))
            except (OSError, ValueError, RecursionError):
                continue
            if isinstance(data, dict) and data.get("id") == name:
                record.add(data)
        _LAST.clear()
        _LAST[key] = record.issues
    return Record(dict(_LAST[key]))


def web_link(archive_url: str, issue_id: str, anchor: str) -> str:
    """An item on the web edition: <archive_url><ISSUE>/#<anchor>, '' without archive_url."""
    if not archive_url:
        return ""
    base = archive_url if archive_url.endswith("/") else archive_url + "/"
    return f"{base}{issue_id}/#{quote(anchor, safe='-_.~')}"


def with_record(project, issue: Issue, corrections: tuple[Correction, ...],
                record: Record | None = None) -> Issue:
    """The issue with its own corrections, each threaded item's "Previously" and the earlier
    issues' corrections it announces (`record`: else read from the project's out/)."""
    if record is None:
        record = load_record(project.out, leave_out=issue.id)
    earlier = record.before(issue.date, issue.id)
    archive_url = issue.config.archive_url
    sections = issue.sections
    if any(item.thread for item in issue.items):
        sections = tuple(dataclasses.replace(section, items=tuple(
            _with_previous(item, earlier, archive_url) for item in section.items))
            for section in issue.sections)
    return dataclasses.replace(issue, sections=sections, corrections=corrections,
                               corrected=_announced(issue, earlier, archive_url))


def _with_previous(item: Item, earlier: list[RecordedIssue], archive_url: str) -> Item:
    if not item.thread:
        return item
    for recorded in earlier:  # newest first: the latest earlier issue with the thread
        found = next((i for i in recorded.items if i.thread == item.thread), None)
        if found is not None:
            return dataclasses.replace(item, previous=Previous(
                recorded.id, recorded.title, recorded.date, found.headline,
                web_link(archive_url, recorded.id, found.anchor)))
    return item


def _announced(issue: Issue, earlier: list[RecordedIssue],
               archive_url: str) -> tuple[EarlierCorrection, ...]:
    """Corrections of earlier issues that this issue is the first to follow: dated on or
    before it, and after the issue just before it (else that one announced them), unless that
    one is the corrected issue itself."""
    if not earlier:
        return ()
    previous = earlier[0]
    out: list[EarlierCorrection] = []
    for recorded in reversed(earlier):  # oldest corrected issue first
        for correction in recorded.corrections:
            if correction.date > issue.date:
                continue
            if recorded is not previous and correction.date <= previous.date:
                continue
            text = _spans(correction.text)
            if text is None:
                continue
            out.append(EarlierCorrection(
                recorded.id, recorded.title, recorded.date, correction.headline, correction.date,
                text, correction.text, correction.anchor,
                web_link(archive_url, recorded.id, correction.anchor) if correction.anchor
                else ""))
    return tuple(out)


def _spans(text: str) -> tuple[Span, ...] | None:
    """A recorded correction's Markdown, checked again like a brief's (issue.json may have
    been edited by hand); None when it holds a link that is not allowed."""
    from .markdown import LinkTargetError, parse_inline
    from .schema import check_link
    try:
        return parse_inline(text, check_link)
    except (LinkTargetError, ValueError):
        return None
