"""`briefing add URL`: a page becomes an item with its source cited, appended to a theme's brief."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..content.model import Issue, Origin, Theme
from ..errors import BriefingError, Problem
from .briefedit import NewItem, append_items, check_brief, new_brief_text
from .fetch import ARTICLE_BYTES, Page, fetch_page
from .metadata import PageInfo, decode_html, read_html, read_pdf
from .urls import host_name, readable, url_key, without_tracking

_HTML_TYPES = ("text/html", "application/xhtml+xml", "")


@dataclass(frozen=True)
class Intake:
    """One URL read: the item to write, and what the editor should know about it."""

    asked: str
    item: NewItem
    notes: tuple[str, ...] = ()      # how values were found or changed
    missing: tuple[str, ...] = ()    # what the page did not give, and why


@dataclass
class AddResult:
    issue_id: str
    theme: str
    shown: str                       # the brief written (or that would be)
    line: int                        # where the first new item starts
    intakes: list[Intake]
    text: str                        # the new items as YAML (what --dry-run prints)
    written: bool = False
    created: list[str] = field(default_factory=list)  # files that did not exist before
    warnings: list[Problem] = field(default_factory=list)


def _placeholder(what: str, why: str) -> str:
    return f"TODO {what} (the page could not be read: {why})"


def read_page(url: str, timeout: float, max_bytes: int = ARTICLE_BYTES) -> tuple[Page, Intake]:
    """Fetch one URL and make its item: from what the page declares, else its heuristics,
    else from the URL alone, with every gap said."""
    page = fetch_page(url, timeout, max_bytes)
    notes: list[str] = []
    missing: list[str] = []
    info: PageInfo | None = None
    why = page.error
    if page.ok:
        kind = page.media_type
        if kind == "application/pdf" or page.body.startswith(b"%PDF-"):
            info = read_pdf(page.body, page.final)
        elif kind in _HTML_TYPES or kind.endswith("+xml"):
            info = read_html(decode_html(page.body, page.header("Content-Type")), page.final)
        else:
            why = f"it is {kind}, not a web page"
        if page.cut:
            notes.append(f"the page is longer than {max_bytes:,} bytes: only the start was read")
    address = info.canonical if info and info.canonical else (page.final or url)
    written = readable(without_tracking(address))
    if url_key(written) != url_key(url):
        notes.append(f"address written as {written}" + (
            " (the page's canonical address)" if info and info.canonical else
            " (where the link leads)" if page.final and page.final != url else ""))
    elif without_tracking(url) != url.split("#")[0]:
        notes.append(f"address written as {written} (without its tracking parameters)")
    if info is None:
        item = NewItem(_placeholder("headline", why), written, _placeholder("the title", why),
                       host_name(written), None, f"the page could not be read ({why})")
        missing.append(f"headline, title and date: the page could not be read ({why}); the "
                       "publisher is the host")
        return page, Intake(url, item, tuple(notes), tuple(missing))
    notes.extend(info.notes)
    headline = info.title or "TODO headline (the page names none)"
    if not info.title:
        missing.append("headline and title: the page names none")
    if info.publisher_from == "the host":
        missing.append("publisher: the page names none, so the host is written")
    date = info.date
    if date.date is None:
        missing.append(f"date: {date.missing}")
    elif date.guess:
        notes.append(f"date {date.date} guessed: {date.guess}")
    item = NewItem(headline, written, info.title or "TODO the article's title (the page "
                   "names none)", info.publisher, date.date,
                   date.guess if date.date else date.missing)
    return page, Intake(url, item, tuple(notes), tuple(missing))


def _cited(issue: Issue | None) -> dict[str, tuple[str, Origin]]:
    """url_key -> (headline, place) of every URL the issue cites (sources, summary links)."""
    from ..content.references import inline_links
    found: dict[str, tuple[str, Origin]] = {}
    if issue is None:
        return found
    for item in issue.items:
        places = [(s.url, item.mark(f"sources[{i}].url")) for i, s in enumerate(item.sources)]
        places += [(link.url, item.mark("summary")) for link in inline_links(item.summary)]
        for url, where in places:
            found.setdefault(url_key(url), (item.headline, where))
    return found


def _theme(themes: tuple[Theme, ...], theme: str | None,
           choose: Callable[[tuple[Theme, ...]], str] | None) -> str:
    import difflib
    ids = [t.id for t in themes]
    if theme is None and choose is not None:
        theme = choose(themes)
    if theme is None:
        raise BriefingError(Problem("briefing.yaml", 0, 0, "which theme? give --theme "
                                    f"(themes: {', '.join(ids)})"))
    if theme not in ids:
        close = difflib.get_close_matches(theme, ids, n=1)
        raise BriefingError(Problem("briefing.yaml", 0, 0, f"unknown theme '{theme}'; themes "
                                    f"in briefing.yaml: {', '.join(ids)}",
                                    f"did you mean '{close[0]}'?" if close else ""))
    return theme


def _target(project, issue: Issue | None, issue_id: str, theme: str) -> tuple[Path, bool]:
    """The brief that gets the items: the theme's last brief in the issue, else a new
    <theme>.yaml (or <theme>-N.yaml if that name is taken)."""
    if issue is not None:
        paths = [i.origin.path for s in issue.sections if s.theme.id == theme for i in s.items]
        if paths:
            return project.root / paths[-1], False
    folder = project.briefs / issue_id
    name, n = f"{theme}.yaml", 2
    while (folder / name).exists():
        name, n = f"{theme}-{n}.yaml", n + 1
    return folder / name, True


def add_items(project, urls: list[str], theme: str | None = None, issue_id: str | None = None,
              dry_run: bool = False, timeout: float = 20.0,
              choose: Callable[[tuple[Theme, ...]], str] | None = None) -> AddResult:
    """Read each URL and add one item per URL to the theme's brief of the issue. Nothing is
    written if any URL is refused (already cited in the issue, not an http(s) address)."""
    from ..content.schema import check_link
    from ..content.validate import ISSUE_ID, latest_issue, load_config, load_issue

    config = load_config(project)
    assert config is not None
    issue_id = issue_id or latest_issue(project)
    if not ISSUE_ID.fullmatch(issue_id):
        from ..content.validate import check_issue_id
        check_issue_id(project, issue_id)  # raises, with the message every command uses
    theme = _theme(config.themes, theme, choose)
    exists = (project.briefs / issue_id).is_dir()
    try:
        issue = load_issue(project, issue_id) if exists else None
    except BriefingError as exc:  # its URLs cannot be known for sure, nor the result checked
        raise BriefingError([*exc.problems, Problem(
            f"briefs/{issue_id}", 0, 0, "the issue has errors, so nothing was added",
            "fix them, then add again")]) from None
    problems: list[Problem] = []
    for url in urls:
        try:
            check_link(url)
        except ValueError as exc:
            message, _, hint = str(exc).partition("|")
            problems.append(Problem(url, 0, 0, f"the address {message}", hint))
    if problems:
        raise BriefingError(problems)
    cited = _cited(issue)
    _refuse_cited(urls, cited, problems)
    if problems:  # before any page is fetched
        raise BriefingError(problems)
    intakes = []
    for url in urls:
        intakes.append(read_page(url, timeout)[1])
    _refuse_cited([i.item.url for i in intakes], cited, problems, asked=urls)
    seen: dict[str, str] = {}
    for intake in intakes:
        key = url_key(intake.item.url)
        if key in seen:
            problems.append(Problem(intake.asked, 0, 0, f"leads to the same page as "
                                                        f"{seen[key]}: {intake.item.url}"))
        seen.setdefault(key, intake.asked)
    if problems:
        raise BriefingError(problems)
    return _write(project, issue, issue_id, theme, intakes, dry_run,
                  _earlier(project, issue_id, intakes, config.lint))


def _refuse_cited(urls: list[str], cited: dict[str, tuple[str, Origin]],
                  problems: list[Problem], asked: list[str] | None = None) -> None:
    """A URL the issue cites already is refused at the place that cites it."""
    for index, url in enumerate(urls):
        found = cited.get(url_key(url))
        first = (asked or urls)[index]
        if found and not any(first in p.message for p in problems):
            headline, where = found
            subject = f"{url} (where {first} leads)" if url_key(first) != url_key(url) \
                else first
            problems.append(Problem(where.path, where.line, where.col,
                                    f"{subject} is already cited in this issue, here, by "
                                    f"'{headline}'",
                                    "one item per story: add to that item's sources instead"))


def _earlier(project, issue_id: str, intakes: list[Intake], lint) -> list[Problem]:
    """[earlier-url]: an address an earlier issue cited, unless it recurs on purpose."""
    from ..publish.issues import earlier_citations
    if not (project.briefs / issue_id).is_dir():
        return []
    before = {url_key(u): i for u, i in earlier_citations(project, issue_id).items()}
    return [Problem(i.asked, 0, 0, f"{i.item.url}: link already cited in issue "
                                   f"{before[url_key(i.item.url)]}", severity="warning",
                    rule="earlier-url")
            for i in intakes if url_key(i.item.url) in before and not lint.recurring(i.item.url)
            and "earlier-url" not in lint.disable]


def _write(project, issue: Issue | None, issue_id: str, theme: str, intakes: list[Intake],
           dry_run: bool, warnings: list[Problem]) -> AddResult:
    from ..editorial.scaffold import DRAFT_ISSUE_TEXT, create_file
    from ..files import write_files
    path, new = _target(project, issue, issue_id, theme)
    shown = project.show(path)
    items = [i.item for i in intakes]
    if new:
        text, line = new_brief_text(theme, items), 4
        before: tuple = ()
    else:
        old = path.read_bytes().decode("utf-8")  # as it is: CRLF line ends stay CRLF
        before = check_brief(old, shown)
        text, line = append_items(old, items, shown)
    after = check_brief(text, shown)  # a bug here must never leave a broken brief behind
    if after[:len(before)] != before or len(after) != len(before) + len(items):
        raise AssertionError(f"adding to {shown} would change its other items")
    lines = text.split("\n")
    added = "\n".join(lines[line - 1:line - 1 + sum(_count(i) for i in items)]) + "\n"
    result = AddResult(issue_id, theme, shown, line, intakes, added, warnings=warnings)
    if dry_run:
        return result
    folder = project.briefs / issue_id
    if not folder.is_dir():
        folder.mkdir(parents=True)
        create_file(folder / "issue.yaml", DRAFT_ISSUE_TEXT.format(issue=issue_id).encode())
        result.created.append(project.show(folder / "issue.yaml"))
    if new:
        result.created.append(shown)
    write_files(folder, {path.name: text.encode("utf-8")}, shown=project.show(folder))
    result.written = True
    return result


def _count(item: NewItem) -> int:
    from .briefedit import item_lines
    return len(item_lines(item))
