"""`check`'s rules about sources: dates `add` guessed, and quotations against the saved copies."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..content.markdown import plain_text
from ..content.model import Issue, Item, Origin
from ..content.references import inline_links
from ..errors import Problem
from .briefedit import GUESSED
from .quotes import Match, Words, find, quotations

_GUESS = re.compile(r"\s#\s*" + re.escape(GUESSED.removeprefix("#").strip()))
SHOWN = 80  # characters of a quotation or passage in a message


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[:SHOWN - 1].rstrip() + "…"


class _Lines:
    def __init__(self, root) -> None:
        self.root = root
        self.files: dict[str, list[str]] = {}

    def __call__(self, path: str) -> list[str]:
        if path not in self.files:
            try:
                self.files[path] = (self.root / path).read_text(encoding="utf-8").split("\n")
            except (OSError, UnicodeDecodeError):
                self.files[path] = []
        return self.files[path]


def guessed_dates(issue: Issue, lines: _Lines) -> list[Problem]:
    """[date-guessed]: a source date still followed by the '# guessed:' comment `add` wrote."""
    out = []
    for item in issue.items:
        for index, source in enumerate(item.sources):
            where = item.mark(f"sources[{index}].date")
            text = lines(where.path)
            if source.date is None or not 0 < where.line <= len(text):
                continue
            if _GUESS.search(text[where.line - 1][where.col - 1:]):
                out.append(Problem(where.path, where.line, where.col,
                                   f"source date {source.date} was guessed by 'briefing add'",
                                   "check it against the page, then delete the '# guessed' "
                                   "comment", severity="warning", rule="date-guessed"))
    return out


@dataclass(frozen=True)
class _Quote:
    text: str
    where: Origin
    urls: tuple[str, ...]  # the sources it may come from


def _quotes(item: Item, lines: _Lines) -> list[_Quote]:
    found = []
    summary_urls = tuple(dict.fromkeys([*(s.url for s in item.sources),
                                        *(link.url for link in inline_links(item.summary))]))
    base = item.mark("summary")
    for quote in quotations(plain_text(item.summary)):
        found.append(_Quote(quote, _place(lines, base, quote), summary_urls))
    for index, source in enumerate(item.sources):
        if source.quote:
            found.append(_Quote(source.quote, item.mark(f"sources[{index}].quote"),
                                (source.url,)))
    return found


def _place(lines: _Lines, base: Origin, quote: str) -> Origin:
    """Where a quotation starts in the summary as written (its first words), else the summary."""
    text = lines(base.path)
    needle = quote.split()[0] if quote.split() else quote
    opening = re.compile(r"[\"“„«「『]\s*" + re.escape(needle))
    for number in range(base.line, min(len(text), base.line + 60) + 1):
        found = opening.search(text[number - 1], base.col - 1 if number == base.line else 0)
        if found:
            return Origin(base.path, number, found.start() + 1)
    return base


def quote_problems(project, issue: Issue, lines: _Lines) -> list[Problem]:
    """[quote-not-found], [quote-near-match], [quote-unchecked] for every quotation."""
    from .saved import copy_text, latest
    wanted = [q for item in issue.items for q in _quotes(item, lines)]
    if not wanted:
        return []
    saved = {u: c for u in {u for q in wanted for u in q.urls} if (c := latest(project, u))}
    texts: dict[str, Words] = {}
    out = []
    for quote in wanted:
        have = [u for u in quote.urls if u in saved]
        results: list[tuple[Match, str]] = []
        for url in have:
            if url not in texts:
                texts[url] = Words.of(copy_text(project, saved[url]))
            results.append((find(quote.text, texts[url]), url))
        shown = f"“{_short(quote.text)}”"
        found = [r for r in results if r[0].kind == "found"]
        near = [r for r in results if r[0].kind == "near"]
        if found:
            continue
        if near:
            match, url = near[0]
            words = ", ".join(f"“{w}” for “{q}”" for q, w in match.differs)
            out.append(_problem(quote.where, "quote-near-match",
                                f"quotation {shown} matches {url} (saved {saved[url].day}) "
                                f"only nearly: the page has {words}",
                                "quote the page as it is"))
            continue
        missing = [u for u in quote.urls if u not in saved]
        if missing:
            out.append(_problem(quote.where, "quote-unchecked",
                                f"quotation {shown} cannot be checked: no saved copy of "
                                f"{missing[0]}" + (f" (and {len(missing) - 1} more)"
                                                   if len(missing) > 1 else ""),
                                f"save it with 'briefing sources {issue.id} --save'"))
            continue
        match, url = max(results, key=lambda r: r[0].alike)
        closest = (f"; the closest passage ({match.alike:.0%} alike) is “{_short(match.passage)}”"
                   if match.passage else "")
        out.append(_problem(quote.where, "quote-not-found",
                            f"quotation {shown} is not in {url} (saved {saved[url].day})"
                            f"{closest}", "quote the page as it is, or cite where it was said"))
    return out


def _problem(where: Origin, rule: str, message: str, hint: str) -> Problem:
    return Problem(where.path, where.line, where.col, message, hint, "warning", rule)


def source_warnings(project, issue: Issue, disabled: tuple[str, ...] = ()) -> list[Problem]:
    """Every warning of these rules, less the rules briefing.yaml's lint.disable turns off."""
    lines = _Lines(project.root)
    found = guessed_dates(issue, lines) + quote_problems(project, issue, lines)
    return [p for p in found if p.rule not in disabled]
