"""Editorial warnings for `briefing check`: mistakes a validator allows but readers would notice."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..content.markdown import plain_text
from ..content.model import Issue, Item, Origin
from ..content.references import inline_links
from ..content.rules import RULES  # noqa: F401 - re-exported: lint.RULES
from ..errors import BriefingError, Problem, count
from .lintjson import report_json  # noqa: F401 - `check --format json`, kept apart for size

# Click identifiers added by ad and mail platforms: they tell the publisher where readers came
# from and make the same article look like different URLs.
_TRACKING = re.compile(r"utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|"
                       r"mc_eid|igshid|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id",
                       re.IGNORECASE)
# Shorteners hide where a link goes, break when the service dies and often track clicks.
SHORTENERS = frozenset([
    "bit.ly", "bitly.com", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "buff.ly", "is.gd",
    "v.gd", "lnkd.in", "trib.al", "dlvr.it", "shorturl.at", "rebrand.ly", "cutt.ly",
    "tiny.cc", "t.ly", "rb.gy", "s.id", "bl.ink", "soo.gd", "qr.ae", "po.st", "su.pr",
    "fb.me", "youtu.be", "amzn.to", "amzn.eu", "wp.me", "ift.tt", "mailchi.mp", "hubs.ly",
    "hubs.la", "spr.ly",
])
# Newsroom placeholders: TK ("to come") is the print convention, TODO/FIXME the programmers' one.
_PLACEHOLDER = re.compile(r"(?<![A-Za-z0-9])(TODO|TKTK|TK|FIXME)(?![A-Za-z0-9])")
# East Asian scripts are written without spaces: count each character as a word, as word
# processors do, so reading times of Chinese or Japanese text are not near zero.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
# Below this many sources a share means little (one source is always 100%).
PUBLISHER_MIN_SOURCES = 4


@dataclass(frozen=True)
class LintResult:
    """The warnings of one issue and the numbers of its summary line."""

    issue: Issue
    problems: tuple[Problem, ...]
    words: int
    minutes: int

    def summary(self) -> str:
        issue = self.issue
        text = (f"{issue.id}: {count(len(issue.items), 'item')} in "
                f"{count(len(issue.sections), 'theme')}, {count(len(issue.references), 'source')}, "
                f"{self.words:,} words, about {self.minutes} min to read "
                f"({issue.config.lint.words_per_minute:g} words a minute)")
        warnings = sum(1 for p in self.problems if p.severity == "warning")
        return text + (f"; {count(warnings, 'warning')}" if warnings else "")


def count_words(text: str) -> int:
    return len(_CJK.sub(" x ", text).split())


def reading_words(issue: Issue) -> int:
    """The words a reader reads: the intro, and every headline, summary and why."""
    total = count_words(plain_text(issue.intro))
    for item in issue.items:
        total += count_words(item.headline) + count_words(plain_text(item.summary))
        total += count_words(item.why)
    return total


class _Files:
    """The project's files as text, to find a value's exact line and column inside a field."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.texts: dict[str, list[str]] = {}

    def lines(self, path: str) -> list[str]:
        if path not in self.texts:
            try:
                self.texts[path] = (self.root / path).read_text(encoding="utf-8").split("\n")
            except (OSError, UnicodeDecodeError):
                self.texts[path] = []
        return self.texts[path]

    def find(self, path: str, needle: str, start: tuple[int, int] = (1, 1),
             end: tuple[int, int] | None = None) -> tuple[int, int] | None:
        """1-based (line, col) of the first `needle` at or after `start` and before `end`."""
        lines = self.lines(path)
        for number in range(start[0], len(lines) + 1):
            if end and number > end[0]:
                return None
            line = lines[number - 1]
            col = line.find(needle, start[1] - 1 if number == start[0] else 0)
            if col >= 0 and not (end and (number, col + 1) >= end):
                return number, col + 1
        return None


@dataclass(frozen=True)
class _Use:
    """One place a URL is written: as an item's source, or as a link in a summary or the intro."""

    url: str
    where: Origin
    item: Item | None


class _Linter:
    def __init__(self, project, issue: Issue) -> None:
        self.project = project
        self.issue = issue
        self.settings = issue.config.lint
        self.files = _Files(project.root)
        self.problems: list[Problem] = []

    def warn(self, where: Origin, rule: str, message: str, hint: str = "") -> None:
        if rule not in self.settings.disable:
            self.problems.append(Problem(where.path, where.line, where.col, message, hint=hint,
                                         severity="warning", rule=rule))

    # -- where things are written ----------------------------------------------------------
    def _field_end(self, item: Item, name: str) -> tuple[int, int] | None:
        """The start of the next value after a field, to bound a search inside the field."""
        here = item.mark(name)
        later = sorted((line, col) for _, line, col in item.marks
                       if (line, col) > (here.line, here.col) and line > here.line)
        return later[0] if later else None

    def locate(self, item: Item | None, name: str, needle: str) -> Origin:
        """The exact place of `needle` inside a field of an item (or issue.yaml for None)."""
        if item is None:
            path = self.project.show(self.project.briefs / self.issue.id / "issue.yaml")
            key = self.files.find(path, f"{name}:") or (1, 1)  # top-level keys start a line
            found = self.files.find(path, needle, key)
            return Origin(path, *found) if found else Origin(path, 0, 0)
        base = item.mark(name)
        found = self.files.find(base.path, needle, (base.line, base.col),
                                self._field_end(item, name))
        return Origin(base.path, *found) if found else base

    def uses(self) -> list[_Use]:
        """Every URL as written, in reading order."""
        out: list[_Use] = []
        for link in inline_links(self.issue.intro):
            out.append(_Use(link.url, self.locate(None, "intro", link.url), None))
        for item in self.issue.items:
            for link in inline_links(item.summary):
                out.append(_Use(link.url, self.locate(item, "summary", link.url), item))
            for index, source in enumerate(item.sources):
                out.append(_Use(source.url, item.mark(f"sources[{index}].url"), item))
        return out

    # -- the rules ---------------------------------------------------------------------------
    def run(self) -> list[Problem]:
        uses = self.uses()
        self.lengths()
        self.dates()
        self.duplicates(uses)
        self.earlier(uses)
        for use in uses:
            self.url_shape(use)
        self.placeholders()
        self.empty_themes()
        self.unread_files()
        self.twin_briefs()
        self.recipients()
        self.publishers()
        self.email()
        from .thread_rule import quiet_threads  # story threads (docs/record.md)
        self.problems += [p for p in quiet_threads(self.project, self.issue)
                          if p.rule not in self.settings.disable]
        from .sourcelint import source_warnings  # guessed dates, quotations (saved copies)
        self.problems.extend(source_warnings(self.project, self.issue, self.settings.disable))
        return sorted(set(self.problems), key=lambda p: (p.path, p.line, p.col, p.rule))

    def email(self) -> None:
        """What only the rendered email shows: brand contrast and Gmail's clip limit. Rendering
        here also surfaces template errors in `check`, before anyone builds."""
        from ..render.colours import brand_warnings
        from ..render.html import render_html, size_warning

        html = render_html(self.issue, self.project.root / "templates")
        size = size_warning(self.issue.id, len(html.encode("utf-8")))
        for problem in [*brand_warnings(self.issue.config, self.project.root),
                        *([size] if size else [])]:
            if problem.rule not in self.settings.disable:
                self.problems.append(problem)

    def lengths(self) -> None:
        limit_chars = self.settings.headline_max_chars
        limit_words = self.settings.summary_max_words
        for item in self.issue.items:
            if len(item.headline) > limit_chars:
                self.warn(item.mark("headline"), "headline-length",
                          f"headline is {len(item.headline)} characters (limit {limit_chars:g})")
            words = count_words(plain_text(item.summary))
            if words > limit_words:
                self.warn(item.mark("summary"), "summary-length",
                          f"summary is {words} words (limit {limit_words:g}); briefs are short")

    def window(self) -> tuple[dt.date, dt.date, str]:
        """First and last fair source date, and how the first was chosen (for the message)."""
        from ..content.validate import _ISO_WEEK, date_from_id
        issue = self.issue
        last = issue.date
        # A week folder without a date in issue.yaml is dated its Monday, but covers its week.
        if _ISO_WEEK.fullmatch(issue.id) and date_from_id(issue.id) == issue.date:
            last = issue.date + dt.timedelta(days=6)
        first = issue.date - dt.timedelta(days=self.settings.window_days)
        why = f"{self.settings.window_days:g} days before {issue.date}"
        previous = self.previous_date()
        # After a break (W07, then W10) news since the previous issue is still news.
        if previous is not None and previous < first:
            first, why = previous, f"since the previous issue, {previous}"
        return first, last, why

    def previous_date(self) -> dt.date | None:
        from ..content.validate import issue_date, issue_ids
        dates = [d for d in (issue_date(self.project, i) for i in issue_ids(self.project)
                             if i != self.issue.id) if d is not None and d < self.issue.date]
        return max(dates, default=None)

    def dates(self) -> None:
        first, last, why = self.window()
        for item in self.issue.items:
            for index, source in enumerate(item.sources):
                if source.date is None:
                    continue
                where = item.mark(f"sources[{index}].date")
                if source.date > last:
                    self.warn(where, "source-future", f"source date {source.date} is after the "
                                                      f"issue date {self.issue.date}")
                elif source.date < first:
                    self.warn(where, "source-stale", f"source date {source.date} is older than "
                                                     f"the issue window ({why})")

    def duplicates(self, uses: list[_Use]) -> None:
        """Once per URL: cited by two items, or listed twice among one item's sources."""
        for item in self.issue.items:
            seen: set[str] = set()
            for index, source in enumerate(item.sources):
                if source.url in seen:
                    self.warn(item.mark(f"sources[{index}].url"), "duplicate-url",
                              "this source is listed twice in the same item")
                seen.add(source.url)
        citing: dict[str, list[_Use]] = {}
        for use in uses:
            if use.item is None:
                continue  # the editor's note pointing at a story is not a duplicate
            firsts = citing.setdefault(use.url, [])
            if not any(u.item is use.item for u in firsts):
                firsts.append(use)
        for firsts in citing.values():
            if len(firsts) < 2:
                continue
            first, second = firsts[0], firsts[1]
            if first.item is None:  # never: uses without an item were left out above
                continue
            more = f"; {len(firsts)} items cite it" if len(firsts) > 2 else ""
            self.warn(second.where, "duplicate-url",
                      f"link already cited in this issue by '{first.item.headline}' "
                      f"({first.where.path}:{first.where.line}){more}")

    def earlier(self, uses: list[_Use]) -> None:
        """Once per URL: cited by an issue dated before this one (the first such issue)."""
        from ..publish.issues import earlier_citations
        left_out: list[Problem] = []
        cited = earlier_citations(self.project, self.issue.id, left_out)
        # A built issue whose issue.json could not be read is said, not silently missing from
        # the check; a draft that does not validate has its own errors in its own check.
        self.problems.extend(p for p in left_out if p.path.startswith("out/"))
        reported: set[str] = set()
        for use in uses:
            if self.settings.recurring(use.url):
                continue
            if use.url in cited and use.url not in reported:
                reported.add(use.url)
                self.warn(use.where, "earlier-url", f"link already cited in issue {cited[use.url]}")

    def url_shape(self, use: _Use) -> None:
        parts = urlsplit(use.url)
        params = parse_qsl(parts.query, keep_blank_values=True)
        tracking = [k for k, _ in params if _TRACKING.fullmatch(k)]
        if tracking:
            clean = urlunsplit(parts._replace(query=urlencode(
                [(k, v) for k, v in params if not _TRACKING.fullmatch(k)])))
            self.warn(use.where, "tracking-params",
                      f"URL has tracking parameters ({', '.join(dict.fromkeys(tracking))})",
                      f"link to {clean}")
        host = (parts.hostname or "").lower().removeprefix("www.")
        if host in SHORTENERS:
            self.warn(use.where, "url-shortener", f"URL goes through the shortener {host}",
                      "link to the address it leads to")
        if parts.scheme.lower() == "http":
            self.warn(use.where, "insecure-url", "http:// link",
                      "use https:// if the site supports it")
        fixed = unpasted(use.url)
        if fixed != use.url:
            self.warn(use.where, "url-paren",
                      f"URL ends in '{use.url[len(fixed):]}' with no '(' to match, so the link "
                      "most likely leads nowhere", f"link to {fixed}")

    def placeholders(self) -> None:
        issue = self.issue
        for name, text in (("title", issue.title), ("preheader", issue.preheader),
                           ("intro", issue.intro_source)):
            for match in _PLACEHOLDER.finditer(text or ""):
                self._placeholder(None, name, match.group())
        for item in issue.items:
            fields = [("headline", item.headline), ("summary", item.summary_source),
                      ("why", item.why)]
            for index, source in enumerate(item.sources):
                fields += [(f"sources[{index}].{key}", getattr(source, key))
                           for key in ("url", "title", "publisher")]
            fields += [(f"stat[{i}].label", s.label) for i, s in enumerate(item.stat)]
            for name, text in fields:
                for match in _PLACEHOLDER.finditer(text):
                    self._placeholder(item, name, match.group())

    def _placeholder(self, item: Item | None, name: str, word: str) -> None:
        where = self.locate(item, name, word)
        self.warn(where, "placeholder", f"placeholder '{word}' left in the {_field_name(name)}")

    def empty_themes(self) -> None:
        used = {section.theme.id for section in self.issue.sections}
        config_path = self.project.show(self.project.config_path)
        for theme in self.issue.config.themes:
            if theme.id not in used:
                where = theme.origin or Origin(config_path, 0, 0)
                self.warn(where, "empty-theme",
                          f"theme '{theme.id}' has no items in {self.issue.id}",
                          f"add a brief with 'briefing new {theme.id} --issue {self.issue.id}'")

    def unread_files(self) -> None:
        from ..content.validate import unread_files
        for path in unread_files(self.project, self.issue.id):
            kind = "folder" if path.is_dir() else "file"
            self.warn(Origin(self.project.show(path), 0, 0), "unread-file",
                      f"this {kind} is not read: only *.yaml and *.yml files in "
                      f"briefs/{self.issue.id}/ are briefs",
                      "rename it to .yaml if it is a brief")

    def twin_briefs(self) -> None:
        """ethics.yaml next to ethics.yml (or Ethics.YAML): both are read, so a copy saved
        under the other extension doubles every item."""
        from ..content.validate import brief_files
        by_stem: dict[str, list[Path]] = {}
        for path in brief_files(self.project, self.issue.id):
            by_stem.setdefault(path.stem.casefold(), []).append(path)
        for paths in by_stem.values():
            for later in paths[1:]:
                self.warn(Origin(self.project.show(later), 0, 0), "duplicate-brief",
                          f"{paths[0].name} and {later.name} are both read as briefs, so "
                          "their items appear twice if one is a copy of the other",
                          "keep one of them, or rename one to say what it adds")

    def recipients(self) -> None:
        """The same address twice in recipients: mail goes once per address, so the second
        is not another reader (the send plan merges them)."""
        config_path = self.project.show(self.project.config_path)
        lines = [line.casefold() for line in self.files.lines(config_path)]
        seen: dict[str, str] = {}
        for mailbox in self.issue.config.recipients:
            key = mailbox.address.casefold()
            if key not in seen:
                seen[key] = str(mailbox)
                continue
            found = [n for n, line in enumerate(lines, 1) if key in line]
            line = found[1] if len(found) > 1 else 0
            col = (lines[line - 1].find("-") + 3) if line else 0
            self.warn(Origin(config_path, line, col), "duplicate-recipient",
                      f"recipient {mailbox} is the same address as {seen[key]} (line "
                      f"{found[0] if found else '?'}); it gets one copy",
                      "remove one of them")

    def publishers(self) -> None:
        """Citations per publisher (each item counts a source once), against the share limit."""
        counts: dict[str, int] = {}
        first: dict[str, tuple[str, Origin]] = {}
        for item in self.issue.items:
            seen: set[str] = set()
            for index, source in enumerate(item.sources):
                if source.url in seen:
                    continue
                seen.add(source.url)
                key = " ".join(source.publisher.casefold().split())
                counts[key] = counts.get(key, 0) + 1
                first.setdefault(key, (source.publisher,
                                       item.mark(f"sources[{index}].publisher")))
        total = sum(counts.values())
        limit = self.settings.publisher_share
        if total < PUBLISHER_MIN_SOURCES:
            return
        for key, n in counts.items():
            if n / total > limit:
                name, where = first[key]
                self.warn(where, "publisher-share",
                          f"'{name}' supplies {n} of the issue's {total} sources "
                          f"({n / total:.0%}; limit {limit:.0%})",
                          "look for other reporting on the same stories")


def unpasted(url: str) -> str:
    """The URL without a ')' or ').' that closes nothing in it: what is left when a link is
    copied out of Markdown or out of a sentence in brackets (Wikipedia's `Film_(1999)` keeps
    its balanced brackets)."""
    fixed = url
    while True:
        trimmed = fixed[:-1] if fixed.endswith(").") else fixed
        if trimmed.endswith(")") and trimmed.count(")") > trimmed.count("("):
            fixed = trimmed[:-1]
        else:
            return fixed


def _field_name(name: str) -> str:
    """'sources[0].title' -> 'source title'."""
    parts = re.sub(r"\[\d+\]", "", name).split(".")
    if parts[0] in ("sources", "stat"):
        parts[0] = parts[0].removesuffix("s")
    return " ".join(parts)


def url_places(project, issue: Issue) -> dict[str, Origin]:
    """Each URL of the issue and the first place it is written (for link-check messages)."""
    places: dict[str, Origin] = {}
    for use in _Linter(project, issue).uses():
        places.setdefault(use.url, use.where)
    return places


def lint_issue(project, issue: Issue) -> LintResult:
    """Every editorial warning of a validated issue, sorted by place."""
    words = reading_words(issue)
    minutes = max(1, math.ceil(words / issue.config.lint.words_per_minute))
    return LintResult(issue, tuple(_Linter(project, issue).run()), words, minutes)


class CheckFailed(BriefingError):
    """`check` found errors: every problem, then a count line, even for a single error (CI
    logs under --strict look for the count). `issue` names the issue checked, when known."""

    def __init__(self, problems: list[Problem], issue: str | None) -> None:
        self.issue = issue
        super().__init__(problems)

    def report(self) -> str:
        lines = [p.format() for p in self.problems]
        errors = [p for p in self.problems if p.severity == "error"]
        files = len({p.path for p in errors})
        lines.append(f"{count(len(errors), 'error')} in {count(files, 'file')}")
        return "\n".join(lines)


def check(project, issue_id: str | None = None, strict: bool = False) -> LintResult:
    """Validate (raising on errors), then lint; with `strict`, warnings are raised as errors.

    Without an issue, the latest is checked, and every folder under briefs/ that would never
    be built (not an issue id, or no date it can have) is an error too: otherwise the newest
    issue might be the one silently skipped."""
    from dataclasses import replace

    from ..content.validate import invalid_issue_folders, latest_issue, load_issue
    folders = invalid_issue_folders(project) if issue_id is None else []
    try:
        chosen = issue_id or latest_issue(project)
    except BriefingError:
        chosen = None
    try:
        result = lint_issue(project, load_issue(project, issue_id))
    except BriefingError as exc:
        problems = list(dict.fromkeys([*exc.problems, *folders]))
        if strict:
            raise CheckFailed(problems, chosen) from None
        raise CheckFailed(problems, chosen) if folders else _named(exc, chosen) from None
    from .configcheck import with_config_warnings
    result = with_config_warnings(project, result)
    warnings = list(result.problems)
    if strict:
        warnings = [replace(p, severity="error") for p in warnings]
    if folders or (strict and warnings):
        raise CheckFailed([*folders, *warnings], result.issue.id)
    return result


def _named(error: BriefingError, issue: str | None) -> BriefingError:
    error.issue = issue  # for --format json
    return error
