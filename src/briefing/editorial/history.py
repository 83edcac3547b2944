"""What came before an issue: the URLs earlier issues cited and the previous issue's date."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable

from ..content.model import Issue
from ..content.validate import Project
from ..errors import Problem

Order = tuple[dt.date, str]  # issues are ordered by (date, id)


class History:
    """The other issues, as the [earlier-url] and [source-stale] rules need them.

    `check ISSUE` makes one for its issue, reading every other issue once. `check --all` and
    `build --all` make one for the whole set and lint the issues in date order: each issue's
    citations are added once, when the sweep passes it. (Asking each issue for its own history
    read every earlier issue again: quadratic, 6 min 17 s at 500 issues against 11 s.)
    """

    def __init__(self, cited: Iterable[tuple[Order, Iterable[str]]], dates: Iterable[dt.date],
                 problems: Iterable[Problem] = ()) -> None:
        self._cited = sorted(((order, tuple(urls)) for order, urls in cited),
                             key=lambda entry: entry[0])
        self._dates = sorted(set(dates))
        self._first: dict[str, str] = {}  # URL -> the first issue citing it, so far
        self._passed = 0  # how many of _cited are in _first
        self._ids: set[str] = set()  # the issues they came from
        self._at: Order | None = None
        self.problems = list(problems)  # issues left out (a damaged issue.json)

    def earlier(self, issue: Issue) -> dict[str, str]:
        """Every URL cited by an issue ordered before this one, with the first issue citing it.

        The mapping is live: ask for the issues of one History in (date, id) order, and read
        the answer before asking for the next issue."""
        order = (issue.date, issue.id)
        if self._at is not None and order < self._at:
            raise ValueError(f"{issue.id} asked for after {self._at[1]}: sweep in date order")
        self._at = order
        while self._passed < len(self._cited) and self._cited[self._passed][0] < order:
            (_, cited_by), urls = self._cited[self._passed]
            for url in urls:
                self._first.setdefault(url, cited_by)
            self._ids.add(cited_by)
            self._passed += 1
        if issue.id in self._ids:  # its old issue.json is dated before its briefs: not earlier
            return {url: by for url, by in self._first.items() if by != issue.id}
        return self._first

    def previous_date(self, issue: Issue) -> dt.date | None:
        """The latest date of another issue before this issue's date (None for the first)."""
        index = bisect.bisect_left(self._dates, issue.date)
        return self._dates[index - 1] if index else None


def for_issue(project: Project, issue: Issue) -> History:
    """The history one issue's lint reads: every other issue's date, and the citations of
    those before it (built ones from out/<ISSUE>/issue.json, others validated from briefs/)."""
    from ..content.validate import issue_date, issue_ids
    from ..publish.issues import all_issues
    dates = [d for d in (issue_date(project, i) for i in issue_ids(project) if i != issue.id)
             if d is not None]
    cited: list[tuple[Order, list[str]]] = []
    problems: list[Problem] = []
    for found in all_issues(project, before=(issue.date, issue.id)):
        if isinstance(found, Problem):
            problems.append(found)
        elif found.id != issue.id:
            cited.append(((found.date, found.id), [r["url"] for r in found.data["references"]]))
    return History(cited, dates, problems)


def for_all(project: Project, issues: list[Issue], as_built: bool) -> tuple[History, list[Problem]]:
    """One history for a set of issues linted together in date order, and the warnings about
    issues it had to leave out (a damaged issue.json), to report once.

    With `as_built` (check --all), a built issue's citations come from its issue.json, as for
    `check ISSUE`. Without it (build --all), `issues` are about to be written, so their own
    citations count, and out/ is read only for the others (sent issues left as they are)."""
    from ..content.validate import issue_date, issue_ids
    from ..errors import BriefingError
    from ..publish.issues import ISSUE_JSON, built_issues, damaged_warning, read_issue_json
    given = {issue.id: issue for issue in issues}
    cited: list[tuple[Order, list[str]]] = []
    problems: list[Problem] = []
    for built in built_issues(project)[0]:
        if built.id in given and not as_built:
            continue
        try:
            data = read_issue_json(built.folder / ISSUE_JSON, f"out/{built.id}/{ISSUE_JSON}",
                                   built.id)
        except BriefingError as exc:
            problems.append(damaged_warning(exc, built.id))
            given.pop(built.id, None)  # read from out/, or from nowhere: never from briefs/
            continue
        given.pop(built.id, None)
        cited.append(((dt.date.fromisoformat(data["date"]), built.id),
                      [r["url"] for r in data["references"]]))
    cited.extend(((i.date, i.id), [r.url for r in i.references]) for i in given.values())
    known = {issue.id: issue.date for issue in issues}
    dates = [known[i] if i in known else issue_date(project, i) for i in issue_ids(project)]
    return History(cited, [d for d in dates if d is not None]), problems
