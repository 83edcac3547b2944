"""`briefing archive search`: items of every issue that contain all the terms."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from ..content.validate import Project
from ..errors import BriefingError, Problem
from .issues import all_issues


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
    draft: bool = False  # issue.yaml says draft: true (the editor's own search shows drafts)
    corrections: tuple[tuple[str, str], ...] = ()  # (date, text) of the item's corrections


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
    Searched: headline, summary text, why, tags, the item's corrections (docs/record.md), and
    each source's title, publisher and URL.
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
                corrected = tuple((c["date"], c["text_plain"] or c["text"]) for c in
                                  found.data.get("corrections") or ()
                                  if c["item"] == item["headline"])
                text = normalise(_SEP.join([item["headline"], item["summary_text"],
                                            item["why"], *item["tags"],
                                            *(t for _, t in corrected)])) + _SEP + \
                    _SEP.join(source_text)
                if not all(n in text for n in needles):
                    continue
                hits = tuple(s for s, hay in zip(item["sources"], source_text, strict=True)
                             if any(n in hay for n in needles))
                matches.append(Match(found.id, found.date, found.built, theme["title"],
                                     item["headline"], hits or tuple(item["sources"]),
                                     found.draft, corrected))
    # Newest issue first; within an issue, reading order (sort is stable).
    matches.sort(key=lambda m: (m.date, m.issue), reverse=True)
    return SearchResult(matches, searched, warnings)
