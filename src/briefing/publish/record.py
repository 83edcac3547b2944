"""The archive as a record (docs/record.md): corrections and threads in issue.json, checked when
read, and the one change a sent issue accepts (corrections; and tagging items with a thread).

A sent issue's email, digest and message stay what readers got. Its issue.json is the one
written when it was built, with only its `corrections` (and the items' `thread`) replaced; its
web page, the feeds, archive.txt and the search index are rebuilt from that.
"""

from __future__ import annotations

import datetime as dt
import re

from ..content.model import Issue
from ..content.validate import Project
from ..errors import BriefingError, Problem
from .issues import ISSUE_JSON, Entry, read_issue_json

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # schema.SLUG: a folder name under out/threads/


def check_record_data(fail, data: dict) -> None:
    """The record's fields of a checked issue.json: each item's `thread` (none, or an id that
    can name a folder and a title) and the `corrections`; `fail(message)` makes the error.
    Files written before these fields existed have neither: both are optional."""
    for t, theme in enumerate(data["themes"]):
        for i, item in enumerate(theme["items"]):
            thread = item.setdefault("thread", None)
            at = f"themes[{t}].items[{i}].thread"
            if thread is None:
                continue
            if not (isinstance(thread, dict) and isinstance(thread.get("id"), str)
                    and isinstance(thread.get("title"), str)):
                raise fail(f"'{at}' is not an object with an id and a title")
            if not _SLUG.fullmatch(thread["id"]) or len(thread["id"]) > 40:
                raise fail(f"'{at}.id' '{thread['id'][:50]}' is not a thread id")
    _check_announced(fail, data)
    corrections = data.setdefault("corrections", [])
    if not isinstance(corrections, list):
        raise fail("'corrections' is not a list")
    for n, correction in enumerate(corrections):
        at = f"corrections[{n}]."
        if not isinstance(correction, dict):
            raise fail(f"'corrections[{n}]' is not an object")
        for key in ("date", "item", "text"):
            if not isinstance(correction.get(key), str):
                raise fail(f"'{at}{key}' is missing or not text")
        correction.setdefault("text_plain", "")
        try:
            dt.date.fromisoformat(correction["date"])
        except ValueError:
            raise fail(f"'{at}date' is not a date (YYYY-MM-DD)") from None
        source = correction.setdefault("source", None)
        if source is None:
            continue
        if not (isinstance(source, dict) and all(
                isinstance(source.get(k), str) for k in ("url", "title", "publisher"))):
            raise fail(f"'{at}source' is not a source (url, title, publisher)")
        try:
            if source.setdefault("date", None) is not None:
                dt.date.fromisoformat(source["date"])
        except (TypeError, ValueError):
            raise fail(f"'{at}source.date' is not a date (YYYY-MM-DD)") from None


def _check_announced(fail, data: dict) -> None:
    """`earlier_corrections`: each names an issue by its id (it becomes a link) and the item."""
    from ..content.validate import ISSUE_ID
    announced = data.setdefault("earlier_corrections", [])
    if not isinstance(announced, list):
        raise fail("'earlier_corrections' is not a list")
    for n, entry in enumerate(announced):
        at = f"earlier_corrections[{n}]"
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in (
                "issue", "issue_title", "item", "anchor", "date", "text"))):
            raise fail(f"'{at}' is not an object with issue, issue_title, item, anchor, date "
                       "and text")
        if not ISSUE_ID.fullmatch(entry["issue"]):
            raise fail(f"'{at}.issue' is not an issue id")
        try:
            dt.date.fromisoformat(entry["date"])
        except ValueError:
            raise fail(f"'{at}.date' is not a date (YYYY-MM-DD)") from None


def updated(entry: Entry) -> dt.date:
    """When an issue last changed: its latest correction's date, else its own date."""
    dates = [dt.date.fromisoformat(c["date"]) for c in entry.data.get("corrections") or ()]
    return max([entry.date, *dates])


# -- a sent issue --------------------------------------------------------------------------

# What readers got, compared between the briefs now and the issue.json built when it was sent:
# the issue's own words and every item's. Theme titles and descriptions come from briefing.yaml
# (renaming a theme is not a change to a sent issue); a thread only files an item under a story.
_ISSUE_FIELDS = ("title", "date", "preheader", "intro")
_ITEM_FIELDS = ("headline", "summary", "why", "tags", "stat")


def _sources(item: dict) -> list:
    return [(s["url"], s["title"], s["publisher"], s["date"]) for s in item["sources"]]


def _items(data: dict) -> list[tuple[str, dict]]:
    return [(theme["id"], item) for theme in data["themes"] for item in theme["items"]]


def sent_issue_files(project: Project, issue: Issue) -> dict[str, bytes] | None:
    """The files a build of a sent issue may write (issue.json with its new corrections and
    threads, and nothing of the mail), None when there is nothing new to write; raises when
    anything else of it changed: "add a correction instead"."""
    import json

    from ..render.json import issue_data
    shown = f"out/{issue.id}/{ISSUE_JSON}"
    path = project.out / issue.id / ISSUE_JSON
    if not path.is_file():
        return None  # nothing to compare with: the old refusal (rebuild with --force) stands
    built = read_issue_json(path, shown, issue.id)
    fresh = issue_data(issue)
    changes = _changes(issue, built, fresh)
    if changes:
        raise BriefingError(changes)
    amended = dict(built, corrections=fresh["corrections"])
    amended["themes"] = [dict(theme, items=[dict(item, thread=new["thread"])
                                            for item, new in zip(theme["items"], fresh_theme[
                                                "items"], strict=True)])
                         for theme, fresh_theme in zip(built["themes"], fresh["themes"],
                                                       strict=True)]
    if amended == built:
        return None
    text = json.dumps(amended, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    return {ISSUE_JSON: text.encode("utf-8")}


def _changes(issue: Issue, built: dict, fresh: dict) -> list[Problem]:
    """Every difference between what was sent and the briefs now, as errors naming where."""
    hint = (f"add a correction instead: 'corrections:' in briefs/{issue.id}/issue.yaml "
            f"(docs/record.md); to replace what was sent anyway: 'briefing build {issue.id} "
            "--force'")
    what = f"issue {issue.id} has been sent"
    yaml_path = f"briefs/{issue.id}/issue.yaml"
    problems = [Problem(yaml_path, 0, 0, f"{what}, so its {name} cannot change (it was "
                                         f"{_short(built[name])})", hint)
                for name in _ISSUE_FIELDS if built[name] != fresh[name]]
    old, new = _items(built), _items(fresh)
    if len(old) != len(new) or [t for t, _ in old] != [t for t, _ in new]:
        problems.append(Problem(
            f"briefs/{issue.id}", 0, 0, f"{what} with {len(old)} items; the briefs now have "
                                        f"{len(new)}, or in other themes or another order",
            hint))
        return problems
    for item, (_, was), (_, now) in zip(issue.items, old, new, strict=True):
        fields = [name for name in _ITEM_FIELDS if was.get(name) != now[name]]
        if _sources(was) != _sources(now):
            fields.append("sources")
        if fields:
            where = item.mark(fields[0] if fields[0] != "sources" else "sources")
            problems.append(Problem(
                where.path, where.line, where.col,
                f"{what}, so this item cannot change (its {' and '.join(fields)} "
                f"{'differs' if len(fields) == 1 else 'differ'} from what was sent: "
                f"{_short(was['headline'])})", hint))
    return problems


def _short(value: object) -> str:
    text = str(value)
    return f"'{text[:60]}…'" if len(text) > 60 else f"'{text}'"
