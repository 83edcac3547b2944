"""The project folder: where briefing.yaml is (found upward), issue ids and their folders."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BriefingError, Problem
from .dates import date_problem
from .load import relative

CONFIG_FILE = "briefing.yaml"
BRIEFS_DIR = "briefs"
ISSUE_FILE = "issue.yaml"
ISSUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# What the web edition writes at the top of out/ next to the issue folders: an issue folder of
# one of these names would take its place (out/index.html/ breaks every later build).
WRITTEN_AT_TOP = frozenset({"index.html", "feed.xml", "feed.json", "archive.txt", "pagefind",
                            "threads"})
# What web servers and crawlers look for at the top of a site: never written, but an issue
# folder of one of these names would answer for it.
LOOKED_FOR_AT_TOP = frozenset({"robots.txt", "favicon.ico", "sitemap.xml"})
RESERVED_IDS = WRITTEN_AT_TOP | LOOKED_FOR_AT_TOP
_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True)
class Project:
    """The folder an editor works in."""

    root: Path

    @classmethod
    def find(cls, start: Path) -> Project:
        """The project that holds `start`: the nearest folder, from `start` upward, with a
        briefing.yaml (as git finds .git), so commands work from inside briefs/2026-W49/.
        With none, `start` itself: its missing briefing.yaml is then reported."""
        start = start.absolute()
        for folder in (start, *start.parents):
            if (folder / CONFIG_FILE).is_file():
                return cls(folder)
        return cls(start)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def briefs(self) -> Path:
        return self.root / BRIEFS_DIR

    @property
    def out(self) -> Path:
        return self.root / "out"

    def show(self, path: Path) -> str:
        return relative(path, self.root)


def _inside(project: Project, path: Path) -> bool:
    """True when the path, symlinks resolved, stays inside the project (no links that lead out)."""
    try:
        path.resolve().relative_to(project.root.resolve())
        return True
    except ValueError:
        return False


def issue_ids(project: Project) -> list[str]:
    """Every issue folder under briefs/, sorted by name."""
    if not project.briefs.is_dir():
        return []
    return sorted(p.name for p in project.briefs.iterdir()
                  if p.is_dir() and id_problem(p.name) is None)


def id_problem(name: str) -> str | None:
    """Why a folder name cannot be an issue id, or None when it can."""
    if name in RESERVED_IDS:
        return f"'{name}' {_reserved_why(name)}, so it cannot be an issue id"
    if not ISSUE_ID.fullmatch(name) or name in (".", ".."):
        if len(name) > 64:
            return f"the name is {len(name)} characters long; an issue id has at most 64"
        if not name.isascii():
            return ("the name has characters other than ASCII letters, digits, '.', '_' "
                    "and '-'")
        return ("not a valid issue id (letters, digits, '.', '_', '-'; it must not start "
                "with '.' and has no '/')")
    return None


def _reserved_why(name: str) -> str:
    if name in WRITTEN_AT_TOP:
        return "is a name the web edition writes at the top of out/"
    return "is a name web servers and crawlers look for at the top of a site"


def skipped_folders(project: Project) -> list[tuple[str, str]]:
    """Folders under briefs/ that are not issues, each with the reason (for `build --all`).
    Hidden folders (.git, editor state) are left out of this list: nobody means them."""
    if not project.briefs.is_dir():
        return []
    return sorted((p.name, reason) for p in project.briefs.iterdir()
                  if p.is_dir() and not p.name.startswith(".")
                  and (reason := id_problem(p.name)) is not None)


def check_issue_id(project: Project, issue_id: str) -> None:
    """Refuse ids that could leave the project, and ids with no folder (listing those there are)."""
    if not ISSUE_ID.fullmatch(issue_id) or issue_id in (".", ".."):
        raise BriefingError(Problem(
            BRIEFS_DIR, 0, 0,
            f"'{issue_id}' is not a valid issue id (letters, digits, '.', '_', '-'; "
            "it must not start with '.' and has no '/')"))
    if issue_id in RESERVED_IDS:
        raise BriefingError(Problem(
            f"{BRIEFS_DIR}/{issue_id}", 0, 0, f"'{issue_id}' {_reserved_why(issue_id)}, so it "
            "cannot be an issue id", "rename the folder"))
    folder = project.briefs / issue_id
    if not folder.is_dir():
        known = issue_ids(project)
        close = difflib.get_close_matches(issue_id, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else ""
        listing = ", ".join(known) if known else "none yet"
        raise BriefingError(Problem(
            f"{BRIEFS_DIR}/{issue_id}", 0, 0,
            f"issue folder does not exist; issues: {listing}", hint))
    if not _inside(project, folder):
        raise BriefingError(Problem(f"{BRIEFS_DIR}/{issue_id}", 0, 0,
                                    "issue folder is a link that leads outside the project"))


def id_date_problem(issue_id: str) -> str:
    """Why a folder named like a date or an ISO week has no date ('' when it is not named so,
    or is fine): 2026-02-30 does not exist, 2026-W54 neither, 2026-w49 wants a capital W."""
    parts = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", issue_id)
    if parts:
        return date_problem(*(int(x) for x in parts.groups()))
    week = re.fullmatch(r"(\d{4})-([Ww])(\d{2})", issue_id)
    if week:
        year, number = int(week.group(1)), int(week.group(3))
        weeks = dt.date(year, 12, 28).isocalendar()[1]  # 28 December is always in the last week
        if not 1 <= number <= weeks:
            return f"there is no week {number} in {year}: it has {weeks} ISO weeks"
        if week.group(2) == "w":
            return f"an ISO week is written with a capital W: {year}-W{number:02}"
    return ""


def date_from_id(issue_id: str) -> dt.date | None:
    """An ISO date folder gives its date; an ISO week folder gives that week's Monday."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", issue_id):
            return dt.date.fromisoformat(issue_id)
        week = _ISO_WEEK.fullmatch(issue_id)
        if week:
            return dt.date.fromisocalendar(int(week.group(1)), int(week.group(2)), 1)
    except ValueError:
        return None
    return None
