"""The archive in out/: index.html, feed.xml and archive.txt rewritten from every built issue."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..content.validate import Project
from ..errors import BriefingError, Problem
from .feed import render_feed
from .index import render_index
from .issues import ARCHIVE_FILES, FEED, INDEX, TOC, Entry, load_entries, unbuilt_issues
from .toc import render_toc

__all__ = ["ARCHIVE_FILES", "ArchiveResult", "refresh"]


@dataclass(frozen=True)
class ArchiveResult:
    entries: list[Entry]
    paths: list[Path]
    warnings: list[Problem] = field(default_factory=list)
    unbuilt: list[str] = field(default_factory=list)  # issues in briefs/ with no issue.json


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
