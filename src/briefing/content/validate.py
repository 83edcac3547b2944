"""Turn the project's YAML into the frozen Issue model, reporting every problem at once."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import BriefingError, Problem, Problems
from . import schema
from .dates import day_month_year
from .load import MAX_FILE_BYTES, Map, Node, Scalar, Seq, load_yaml
from .markdown import LinkTargetError, parse_inline
from .model import Config, Issue, Item, Origin, Section, Span, subject_problem
from .project import (  # noqa: F401  (re-exported: commands import them from here)
    _ISO_WEEK,
    BRIEFS_DIR,
    CONFIG_FILE,
    ISSUE_FILE,
    ISSUE_ID,
    RESERVED_IDS,
    Project,
    _inside,
    check_issue_id,
    date_from_id,
    id_date_problem,
    id_problem,
    issue_ids,
    skipped_folders,
)
from .references import number_references
from .spec import ENCODED_WORD, INVALID, List, Object

# Caps per issue (README, Security and limits): five files at the per-file cap, and more items
# than any email can carry (Gmail clips one at about 100 items).
MAX_ISSUE_BYTES = 5_000_000
MAX_ISSUE_ITEMS = 5_000


def _load(project: Project, path: Path, problems: Problems) -> Node | None:
    """Load one file, turning its load error into a problem so other files still get checked."""
    try:
        return load_yaml(path, project.show(path), problems.items, _field_names())
    except BriefingError as exc:
        problems.extend(exc.problems)
        return None


@lru_cache(maxsize=1)
def _field_names() -> frozenset[str]:
    """Every key of every format: a line that starts with one at the wrong indentation is an
    indentation mistake, never text that needs quotes."""
    names: set[str] = set()
    todo: list = [schema.CONFIG, schema.ISSUE, schema.BRIEF]
    while todo:
        spec = todo.pop()
        if isinstance(spec, Object):
            names.update(spec.keys)
            todo.extend(key.spec for key in spec.keys.values())
        elif isinstance(spec, List):
            todo.append(spec.of)
    return frozenset(names)


def load_config(project: Project, problems: Problems | None = None) -> Config | None:
    """Validate briefing.yaml; with `problems`, collect into it instead of raising."""
    collected = Problems() if problems is None else problems
    config = _check_config(project, collected)
    if problems is None:
        collected.raise_if_any()
    return config


def _check_config(project: Project, problems: Problems) -> Config | None:
    path = project.config_path
    shown = project.show(path)
    if not path.is_file():
        problems.add(shown, 0, 0, f"no {CONFIG_FILE} in this folder or any folder above it",
                     "start a project with 'briefing init DIR', run briefing inside one, or "
                     "name it with -C DIR")
        return None
    node = _load(project, path, problems)
    if node is None:
        if not problems:
            problems.add(shown, 1, 1, "the file is empty")
        return None
    checked = schema.CONFIG.check(node, problems, CONFIG_FILE)
    if checked is INVALID or not _config_is_consistent(checked, node, shown, problems):
        return None
    return checked


def _config_is_consistent(config: Config, node: Node, shown: str, problems: Problems) -> bool:
    """What the keys cannot say one by one: theme ids are unique, the subject's placeholders
    exist."""
    ok = True
    seen: set[str] = set()
    for theme in config.themes:
        if theme.id in seen and theme.origin is not None:
            problems.add(shown, theme.origin.line, theme.origin.col,
                         f"theme id '{theme.id}' is listed twice")
            ok = False
        seen.add(theme.id)
    from .corrections import check_threads_declared
    ok = check_threads_declared(config, shown, problems) and ok
    wrong = subject_problem(config.subject)
    if wrong:
        subject = node.get("subject") if isinstance(node, Map) else None
        mark = subject.mark if subject is not None else node.mark
        problems.add(shown, mark.line, mark.col, f"'subject' {wrong}",
                     "its fields are {name}, {title}, {issue} and {date}, each written just so; "
                     "write {{ or }} for a brace itself")
        ok = False
    signup = config.signup
    if signup is not None and _origin(signup.url) != _origin(signup.confirm_url):
        # One endpoint serves both /s and /c/<token>, under one origin (briefing.yaml docs).
        block = node.get("signup") if isinstance(node, Map) else None
        place = block.get("confirm_url") if isinstance(block, Map) else None
        mark = (place or node).mark
        problems.add(shown, mark.line, mark.col,
                     f"'confirm_url' is on {_origin(signup.confirm_url)}, but the form posts to "
                     f"{_origin(signup.url)}", "the endpoint serves both /s and /c/<token>: "
                                               "put them on the same scheme, host and port")
        ok = False
    return ok


def _origin(url: str) -> str:
    from urllib.parse import urlsplit
    parts = urlsplit(url.replace("{token}", "t"))
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def invalid_issue_folders(project: Project) -> list[Problem]:
    """Folders under briefs/ that no command would ever build, each with the reason: a name
    that is not an issue id ('week 49'), or no date to give the issue (2026-02-30, 2026-w49).
    Hidden folders are the editor's own business."""
    if not project.briefs.is_dir():
        return []
    out: list[Problem] = []
    for folder in sorted(project.briefs.iterdir()):
        name = folder.name
        if not folder.is_dir() or name.startswith("."):
            continue
        if not ISSUE_ID.fullmatch(name):
            out.append(Problem(f"{BRIEFS_DIR}/{name}", 0, 0,
                               "not an issue folder: an issue id has only letters, digits, "
                               "'.', '_' and '-' (at most 64), so this folder is never built",
                               "rename it, e.g. 2026-W49 or 2026-12-04"))
            continue
        found = Problems()
        _issue_meta(project, name, found)
        out.extend(p for p in found.items if p.message.startswith(
            ("the folder name", "the issue has no date")))
    return out


@dataclass
class IssueMeta:
    """issue.yaml's values, or their defaults, with the date resolved (None: it has none)."""

    title: str
    date: dt.date | None
    preheader: str = ""
    intro: str = ""
    node: Map | None = None  # issue.yaml itself, for messages about its values
    draft: bool = False
    corrections: tuple[dict, ...] = ()  # as checked by schema.CORRECTION (docs/record.md)


def _issue_meta(project: Project, issue_id: str, problems: Problems) -> IssueMeta:
    path = project.briefs / issue_id / ISSUE_FILE
    shown = project.show(path)
    values: dict = {}
    node = None
    if path.exists():
        loaded = _load(project, path, problems)
        if loaded is not None:
            checked = schema.ISSUE.check(loaded, problems, ISSUE_FILE)
            if checked is not INVALID and isinstance(loaded, Map):
                values, node = checked, loaded
    date = values.get("date") or date_from_id(issue_id)
    named = id_date_problem(issue_id)
    if date is None and named and not (node is not None and node.get("date")):
        problems.add(f"{BRIEFS_DIR}/{issue_id}", 0, 0,
                     f"the folder name is not a date the issue can have: {named}",
                     f"rename the folder, or add 'date: YYYY-MM-DD' to {ISSUE_FILE}")
    elif date is None and not (node is not None and node.get("date")):
        problems.add(shown if path.exists() else f"{BRIEFS_DIR}/{issue_id}", 0, 0,
                     "the issue has no date",
                     f"add 'date: YYYY-MM-DD' to {ISSUE_FILE}, or name the folder "
                     "YYYY-MM-DD or YYYY-Www")
    return IssueMeta(title=values.get("title") or _default_title(issue_id, date), date=date,
                     preheader=values.get("preheader") or "", intro=values.get("intro") or "",
                     node=node, draft=bool(values.get("draft")),
                     corrections=tuple(values.get("corrections") or ()))


def _default_title(issue_id: str, date: dt.date | None) -> str:
    week = _ISO_WEEK.fullmatch(issue_id)
    if week:
        return f"Week {int(week.group(2))}, {week.group(1)}"
    if date is not None:
        return day_month_year(date)
    return issue_id


def issue_date(project: Project, issue_id: str) -> dt.date | None:
    """The date of an issue without validating its briefs (for picking the latest one)."""
    return _issue_meta(project, issue_id, Problems()).date


def is_draft(project: Project, issue_id: str) -> bool:
    """Whether issue.yaml says `draft: true`, without validating the briefs."""
    return _issue_meta(project, issue_id, Problems()).draft


def latest_issue(project: Project) -> str:
    ids = issue_ids(project)
    if not ids:
        raise BriefingError(Problem(BRIEFS_DIR, 0, 0, "no issues yet; create "
                                    "briefs/<ISSUE>/ with 'briefing new THEME'"))
    dated = [(issue_date(project, i) or dt.date.min, i) for i in ids]
    return max(dated)[1]


def is_brief(path: Path) -> bool:
    """A brief is any visible *.yaml or *.yml file (any case) other than issue.yaml."""
    return (path.suffix.lower() in (".yaml", ".yml") and path.name.lower() != ISSUE_FILE
            and not path.name.startswith(".") and not path.is_dir())


def brief_files(project: Project, issue_id: str) -> list[Path]:
    folder = project.briefs / issue_id
    return sorted(p for p in folder.iterdir() if is_brief(p))


def unread_files(project: Project, issue_id: str) -> list[Path]:
    """Visible files and folders in an issue folder that are neither briefs nor issue.yaml:
    `check` warns about them, so a brief saved as ethics.yaml.txt is not silently left out."""
    folder = project.briefs / issue_id
    return sorted(p for p in folder.iterdir()
                  if not p.name.startswith(".") and not is_brief(p) and p.name != ISSUE_FILE)


def load_issue(project: Project, issue_id: str | None = None, record=None) -> Issue:
    """Validate config, issue.yaml and every brief of one issue; raise once with all problems.
    `record`: the published issues before it (content/record.py), else read from out/."""
    problems = Problems()
    config = load_config(project, problems)
    if issue_id is None:
        try:
            issue_id = latest_issue(project)
        except BriefingError as exc:  # report a missing or broken briefing.yaml as well
            problems.extend(exc.problems)
            problems.raise_if_any()
            raise
    check_issue_id(project, issue_id)
    meta = _issue_meta(project, issue_id, problems)
    intro: tuple[Span, ...] = ()
    if meta.intro and meta.node is not None:
        intro = _inline(meta.intro, meta.node.get("intro") or meta.node, problems)

    by_theme: dict[str, list[Item]] = {}
    files = brief_files(project, issue_id)
    if not files:
        problems.add(f"{BRIEFS_DIR}/{issue_id}", 0, 0, "the issue has no briefs",
                     "add one with 'briefing new THEME'")
    issue_bytes = _size(project.briefs / issue_id / ISSUE_FILE)
    issue_items = 0
    for index, path in enumerate(files):
        shown = project.show(path)
        if path.is_symlink() and not _inside(project, path):
            problems.add(shown, 0, 0, "brief is a link that leads outside the project")
            continue
        # Caps per issue, checked before the file that would pass them is parsed: each file
        # is capped, but a pile of capped files could still exhaust memory (README, Security).
        size = _size(path)
        issue_bytes += size if size <= MAX_FILE_BYTES else 0  # else refused on its own
        if issue_bytes > MAX_ISSUE_BYTES:
            problems.add(shown, 0, 0, f"with this file the issue comes to {issue_bytes:,} bytes "
                                      f"of YAML; the limit per issue is {MAX_ISSUE_BYTES:,}"
                                      + _unread(files, index),
                         "move some items to another issue")
            break
        node = _load(project, path, problems)
        listed = node.get("items") if isinstance(node, Map) else None
        issue_items += len(listed.items) if isinstance(listed, Seq) else 0
        if issue_items > MAX_ISSUE_ITEMS and listed is not None:
            problems.add(shown, listed.mark.line, listed.mark.col,
                         f"with this file the issue has {issue_items:,} items; the limit per "
                         f"issue is {MAX_ISSUE_ITEMS:,}" + _unread(files, index),
                         "move some items to another issue")
            break
        if node is None:
            if not any(p.path == shown for p in problems.items):
                problems.add(shown, 1, 1, "the brief is empty", "it needs 'items'")
            continue
        theme_node = node.get("theme") if isinstance(node, Map) else None
        theme_unknown = False
        if (config is not None and isinstance(node, Map) and isinstance(theme_node, Scalar)
                and theme_node.kind == "text"
                and not re.fullmatch(schema.SLUG, theme_node.text)):
            # 'Culture' or 'Public opinion': a theme's title, or its id in another case. Say
            # which theme is meant rather than that the id has capitals in it.
            meant = _theme_meant(theme_node.text, config, near=False)
            if meant:
                problems.add(shown, theme_node.mark.line, theme_node.mark.col,
                             f"unknown theme '{theme_node.text}'; themes in {CONFIG_FILE}: "
                             f"{', '.join(t.id for t in config.themes)}",
                             f"did you mean '{meant}'? A brief names its theme by its id")
                node = Map([(k, v) for k, v in node.pairs if k.text != "theme"], node.mark)
                theme_unknown = True
        values = schema.BRIEF.check(node, problems, "brief")
        if values is INVALID or not isinstance(node, Map) or theme_unknown:
            continue
        theme_id = values["theme"] or path.stem
        if config is not None and theme_id not in {t.id for t in config.themes}:
            known = ", ".join(t.id for t in config.themes)
            meant = _theme_meant(theme_id, config)
            where = node.get("theme") or node
            if values["theme"]:
                problems.add(shown, where.mark.line, where.mark.col,
                             f"unknown theme '{theme_id}'; themes in {CONFIG_FILE}: {known}",
                             f"did you mean '{meant}'?" if meant else "")
            else:
                problems.add(shown, where.mark.line, where.mark.col,
                             f"no 'theme:' here, so the theme comes from the file name, and "
                             f"'{theme_id}' is not a theme; themes in {CONFIG_FILE}: {known}",
                             f"add 'theme: {meant}' at the top, or rename the file "
                             f"{meant}{path.suffix}" if meant else
                             "add 'theme:' and one of those ids at the top, or rename the file "
                             "after one")
            continue
        items_node = node.get("items")
        assert isinstance(items_node, Seq)  # BRIEF checked it is a list
        for raw, item_node in zip(values["items"], items_node.items, strict=True):
            assert isinstance(item_node, Map)  # ITEM checked it is a mapping
            item = _make_item(raw, item_node, shown, problems)
            if item is not None:
                by_theme.setdefault(theme_id, []).append(item)

    from .corrections import check_annotations  # corrections, story threads (docs/record.md)
    corrections = check_annotations(project, issue_id, config, meta, by_theme, problems)
    problems.raise_if_any()
    assert config is not None and meta.date is not None  # else a problem was raised just now
    sections = tuple(Section(t, tuple(by_theme[t.id])) for t in config.themes if t.id in by_theme)
    items = tuple(i for s in sections for i in s.items)
    references = number_references(intro, items)
    issue = Issue(id=issue_id, config=config, title=meta.title, date=meta.date,
                  sections=sections, references=references, preheader=meta.preheader,
                  intro=intro, intro_source=meta.intro, draft=meta.draft)
    _check_subject(issue)
    from .record import with_record
    return with_record(project, issue, corrections, record)


def _theme_meant(written: str, config: Config, near: bool = True) -> str:
    """The theme id an editor most likely meant: the same id or title in any case, the id
    behind a title, else a near spelling of an id; '' when none is close."""
    folded = " ".join(written.casefold().replace("-", " ").replace("_", " ").split())
    for theme in config.themes:
        if folded in (theme.id.casefold().replace("-", " "), theme.title.casefold()):
            return theme.id
    if not near:
        return ""
    ids = [t.id for t in config.themes]
    close = difflib.get_close_matches(written.casefold(), ids, n=1)
    if close:
        return close[0]
    titles = {t.title.casefold(): t.id for t in config.themes}
    by_title = difflib.get_close_matches(folded, list(titles), n=1)
    return titles[by_title[0]] if by_title else ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # a missing or unreadable file is reported when it is read


def _unread(files: list[Path], index: int) -> str:
    left = len(files) - index - 1
    return f" ({left} more brief{'' if left == 1 else 's'} not read)" if left else ""


def _check_subject(issue: Issue) -> None:
    """Each part was checked, but '{name}{title}' can still join two halves of an encoded word
    that decodes to a line break in the Subject header (CVE-2024-6923)."""
    word = ENCODED_WORD.search(issue.subject)
    if word:
        raise BriefingError(Problem(
            CONFIG_FILE, 0, 0, f"the subject '{issue.subject}' contains an encoded word "
                               f"('{word.group()}') once its placeholders are filled in",
            "write the characters themselves"))


def _inline(text: str, node: Node, problems: Problems) -> tuple[Span, ...]:
    try:
        return parse_inline(text, schema.check_link)
    except LinkTargetError as exc:
        message, _, hint = str(exc).partition("|")
        problems.add(node.mark.path, node.mark.line, node.mark.col, message, hint)
        return ()


def _make_item(raw: dict, node: Map, shown: str, problems: Problems) -> Item | None:
    before = len(problems.items)
    summary = _inline(raw["summary"], node.get("summary") or node, problems)
    if len(problems.items) > before:
        return None
    return Item(headline=raw["headline"], summary=summary, sources=raw["sources"],
                origin=Origin(shown, node.mark.line, node.mark.col), why=raw["why"],
                tags=tuple(raw["tags"]), stat=raw["stat"], summary_source=raw["summary"],
                thread=raw["thread"], marks=tuple(_marks(node)))


def _marks(node: Node) -> list[tuple[str, int, int]]:
    """(field, line, col) of every value under a node: 'headline', 'sources[0].url', ...

    Iterative, children before their parent as lint expects: this runs once per item."""
    out: list[tuple[str, int, int]] = []
    todo: list[tuple[Node, str, bool]] = [(node, "", False)]
    while todo:
        current, name, expanded = todo.pop()
        if expanded or type(current) is Scalar:
            if name:
                out.append((name, current.mark.line, current.mark.col))
            continue
        todo.append((current, name, True))
        if isinstance(current, Map):
            children = [(v, f"{name}.{k.text}" if name else k.text, False)
                        for k, v in current.pairs]
        elif isinstance(current, Seq):
            children = [(v, f"{name}[{i}]", False) for i, v in enumerate(current.items)]
        todo.extend(reversed(children))
    return out
