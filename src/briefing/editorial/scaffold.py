"""Start a project (`briefing init`) and a brief (`briefing new`): create-only, never overwrite."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..content.validate import (
    BRIEFS_DIR,
    CONFIG_FILE,
    ISSUE_ID,
    Project,
    _inside,
    date_from_id,
    load_config,
)
from ..errors import BriefingError, Problem

NEW_BRIEF_TEMPLATE = "new-brief.yaml.j2"
SCHEMA_DIR = "schema"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _today() -> dt.date:
    """Today; or the day of $SOURCE_DATE_EPOCH when it is set (reproducible-builds.org), so a
    script or the docs' test gets the same week every time it runs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.date.today()


def current_week(today: dt.date | None = None) -> str:
    """This ISO week as an issue id, e.g. 2026-W07 (ISO years can differ from calendar years)."""
    year, week, _ = (today or _today()).isocalendar()
    return f"{year}-W{week:02d}"


def create_file(path: Path, data: bytes) -> None:
    """Create a new file, failing if anything (a file, folder or link) is already there.

    O_CREAT|O_EXCL makes "does it exist?" and "create it" one step, so nothing can appear in
    between, and it refuses to follow a symbolic link at the path.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def schema_files(names: tuple[str, ...] = ("brief", "config", "issue")) -> dict[str, bytes]:
    """The JSON Schema files as committed under schema/: one per format, stable formatting."""
    from ..content.schema import json_schemas
    schemas = json_schemas()
    return {f"{name}.schema.json": (json.dumps(schemas[name], indent=2, ensure_ascii=False)
                                    + "\n").encode("utf-8") for name in names}


# -- briefing new ------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewBrief:
    path: Path
    shown: str
    theme: str
    issue_id: str
    draft: str = ""  # the issue.yaml written with `draft: true` when the folder was new


DRAFT_ISSUE_TEXT = """\
# yaml-language-server: $schema=../../schema/issue.schema.json
# A new issue starts as a draft: `briefing build` writes it into .briefing/drafts/{issue}/,
# never into out/, and `briefing send` sends it only with --to. Remove the next line to publish.
draft: true
# title: The issue's title
# preheader: The short line an inbox shows next to the subject.
# intro: The editor's note.
"""


def new_brief(project: Project, theme_id: str, issue_id: str | None = None,
              name: str | None = None, today: dt.date | None = None) -> NewBrief:
    """Create briefs/<ISSUE>/<name or theme>.yaml from the commented template."""
    config = load_config(project)
    assert config is not None
    ids = [t.id for t in config.themes]
    if theme_id not in ids:
        close = difflib.get_close_matches(theme_id, ids, n=1)
        raise BriefingError(Problem(
            CONFIG_FILE, 0, 0, f"unknown theme '{theme_id}'; themes in {CONFIG_FILE}: "
                               f"{', '.join(ids)}",
            hint=f"did you mean '{close[0]}'?" if close else ""))
    theme = config.theme(theme_id)
    issue_id = issue_id or current_week(today)
    if not ISSUE_ID.fullmatch(issue_id):
        raise BriefingError(Problem(
            BRIEFS_DIR, 0, 0, f"'{issue_id}' is not a valid issue id (letters, digits, '.', "
                              "'_', '-'; it must not start with '.' and has no '/')",
            hint="use the ISO week (2026-W07) or the date (2026-02-13)"))
    name = name or theme_id
    if not _NAME.fullmatch(name.removesuffix(".yaml")):
        raise BriefingError(Problem(BRIEFS_DIR, 0, 0, f"'{name}' is not a valid file name",
                                    hint="letters, digits, '-' and '_', e.g. ethics-2"))
    folder = project.briefs / issue_id
    path = folder / f"{name.removesuffix('.yaml')}.yaml"
    shown = project.show(path)
    if path.exists() or path.is_symlink():
        raise BriefingError(Problem(shown, 0, 0, "already exists; 'briefing new' never "
                                                 "overwrites a brief",
                                    hint=_free_name_hint(folder, theme_id, issue_id)))
    date = date_from_id(issue_id) or (today or _today())
    text = _render_brief(project, {"theme": theme, "issue_id": issue_id,
                                   "date": date.isoformat()})
    if not _inside(project, folder):  # before mkdir: never create anything outside
        raise BriefingError(Problem(project.show(folder), 0, 0,
                                    "issue folder is a link that leads outside the project"))
    new_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        create_file(path, text.encode("utf-8"))
    except FileExistsError:  # appeared since the check above
        raise BriefingError(Problem(shown, 0, 0, "already exists; 'briefing new' never "
                                                 "overwrites a brief")) from None
    draft = ""
    issue_file = folder / "issue.yaml"
    if new_folder and not issue_file.exists():  # a new issue is a draft until the editor says
        create_file(issue_file, DRAFT_ISSUE_TEXT.format(issue=issue_id).encode("utf-8"))
        draft = project.show(issue_file)
    return NewBrief(path, shown, theme_id, issue_id, draft)


def _free_name_hint(folder: Path, theme_id: str, issue_id: str) -> str:
    """Several files may share a theme: suggest the first free <theme>-N.yaml."""
    n = 2
    while (folder / f"{theme_id}-{n}.yaml").exists():
        n += 1
    return (f"several briefs may share a theme: 'briefing new {theme_id} --issue {issue_id} "
            f"--name {theme_id}-{n}' creates {theme_id}-{n}.yaml")


def _render_brief(project: Project, context: dict) -> str:
    """The packaged template, or the project's own templates/new-brief.yaml.j2 if it has one."""
    from ..render.templates import environment, render_template
    return render_template(environment(project.root / "templates", autoescape=False),
                           NEW_BRIEF_TEMPLATE, context)


# -- briefing init -----------------------------------------------------------------------------

CONFIG_TEXT = """\
# yaml-language-server: $schema=schema/config.schema.json
# The newsletter: who sends it, to whom, and the themes every issue is organised by.
# Every key is documented in schema/config.schema.json; an editor with the YAML extension
# completes and checks them as you type. `briefing check` reports anything wrong.
name: {q_name}
tagline: A weekly briefing  # one line under the name
language: en                # language of the text, for <html lang>
sender: {q_sender}
recipients:                 # besides the readers in the list ('briefing subscribers add')
  - Editors <editors@example.org>
# list_address: {q_readers}   # the To of every copy (else the sender)
# reply_to: The editors <editors@example.org>
unsubscribe:                  # each reader's copy gets their own token in place of {{token}}
  url: https://example.org/u/{{token}}   # one-click (RFC 8058): 'briefing subscribers serve'
  # mailto: mailto:unsubscribe+{{token}}@example.org
archive_url: https://example.org/archive/
address: {q_address}   # postal address for the footer
# subject: "{{name}}: {{title}}"   # also {{issue}} and {{date}}
themes:   # the sections of every issue, in this order; briefs name one by its id
  - id: news
    title: News
    description: What happened this week
  - id: ideas
    title: Ideas
    description: Research, essays and opinion
# brand:                    # colours, font and logo of the email
#   accent: "#1f5fbf"
#   logo_url: https://example.org/logo.png
#   logo_alt: {q_name}
# lint:                     # limits of the warnings of `briefing check`
#   headline_max_chars: 90
#   summary_max_words: 80
#   window_days: 14         # sources older than this (or than the previous issue) are stale
#   publisher_share: 0.5    # warn when one publisher supplies more than half the sources
#   words_per_minute: 230
#   disable: []             # rule ids to turn off, e.g. [duplicate-url]
"""

ISSUE_TEXT = """\
# yaml-language-server: $schema=../../schema/issue.schema.json
# The issue's title, date and editor's note. Every key is optional.
title: Our first issue
# date: {date}   # defaults to the Monday of the week in the folder name
preheader: The short line an inbox shows next to the subject.
intro: >-
  The editor's note opens the issue. Inline Markdown works here too:
  *emphasis*, **strong** and [links](https://example.org/about).
"""

NEWS_TEXT = """\
# yaml-language-server: $schema=../../schema/brief.schema.json
# An example brief: the items of one theme in one issue. Replace it with your own, or start a
# new one with `briefing new news`. The theme is this file's name unless `theme:` says otherwise.
theme: news
items:
  - headline: An example headline, short enough for a phone
    summary: >-
      Two or three sentences say what happened and what is new. Inline Markdown works:
      *emphasis*, **strong** and [a link to the story](https://example.org/news/first-story).
    why: One line on why it matters to readers.
    sources:
      - url: https://example.org/news/first-story
        title: The article this item is based on
        publisher: Example News
        date: {date}
    tags: [example]
  - headline: A second item, with a small chart
    summary: >-
      Items can carry a few numbers; the email draws them as a bar chart and the text
      digest as a list.
    sources:
      - url: https://example.net/report
        title: A report with numbers
        publisher: Example Research
        date: {date}
    stat:
      - label: Before
        value: 40
        unit: "%"
      - label: After
        value: 65
        unit: "%"
"""

IDEAS_TEXT = """\
# yaml-language-server: $schema=../../schema/brief.schema.json
# An example brief for the "ideas" theme. Several files may share a theme (ideas-2.yaml with
# `theme: ideas`); their items follow one another.
theme: ideas
items:
  - headline: An essay worth reading
    summary: >-
      A summary of the argument in the editor's words, with the source listed below.
    sources:
      - url: https://example.com/essays/worth-reading
        title: The essay's title
        publisher: Example Review
        date: {date}
"""

README_TEXT = """\
# {name}

A newsletter made with [briefing](https://pypi.org/project/briefing/).

- `briefing.yaml`: the newsletter's name, sender, recipients and themes.
- `briefs/<ISSUE>/`: one folder per issue (e.g. `{issue}`), with `issue.yaml` (title, date,
  editor's note) and one brief per theme (`news.yaml`, `ideas.yaml`).
- `templates/`: put a file here with the name of a packaged template to override it.
- `schema/`: JSON Schemas that let your editor complete and check the YAML files.
- `out/`: what `briefing build` writes.

Every week:

    briefing new news              # creates briefs/<this week>/news.yaml to fill in
    briefing preview               # the email in a browser, updated as you save
    briefing check                 # errors and editorial warnings
    briefing links                 # are all the links alive?
    briefing build                 # out/<ISSUE>/email.html, digest.txt, message.eml, issue.json
"""


GITIGNORE_TEXT = """\
# Private state of briefing: drafts, caches, screenshots, subscribers (never commit or
# publish it).
.briefing/
"""


def _within(path: Path, root: Path) -> bool:
    """True when the path, links resolved as far as they exist, stays inside root."""
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class Created:
    root: Path
    issue_id: str
    files: list[str]


def init_project(root: Path, name: str = "My Briefing", today: dt.date | None = None) -> Created:
    """Write a working project into `root`; refuse (writing nothing) if any file is there."""
    shown_root = os.fspath(root)
    # The name is also the sender's display name, which must not need RFC 5322 quoting.
    if name.strip() != name or not name or len(name) > 100 or re.search(
            r"[\x00-\x1f\x7f-\x9f<>\"@,;:\\]", name):
        raise BriefingError(Problem(shown_root, 0, 0, f"--name '{name}' is not a usable "
                                                      "newsletter name",
                                    hint="one line without < > \" @ , ; : or \\"))
    if root.exists() and not root.is_dir():
        raise BriefingError(Problem(shown_root, 0, 0, "exists and is not a folder"))
    issue_id = current_week(today)
    monday = date_from_id(issue_id)
    assert monday is not None
    source_date = (monday - dt.timedelta(days=3)).isoformat()  # inside the issue window
    def quoted(value: str) -> str:  # a JSON string is a valid YAML double-quoted scalar
        return json.dumps(value, ensure_ascii=False)
    files: dict[str, bytes] = {
        CONFIG_FILE: CONFIG_TEXT.format(
            q_name=quoted(name), q_sender=quoted(f"{name} <news@example.org>"),
            q_readers=quoted(f"{name} readers <readers@example.org>"),
            q_address=quoted(f"{name}, 1 Example Street, Example City")).encode("utf-8"),
        "README.md": README_TEXT.format(name=name, issue=issue_id).encode("utf-8"),
        f"{BRIEFS_DIR}/{issue_id}/issue.yaml": ISSUE_TEXT.format(
            date=monday.isoformat()).encode("utf-8"),
        f"{BRIEFS_DIR}/{issue_id}/news.yaml": NEWS_TEXT.format(date=source_date).encode("utf-8"),
        f"{BRIEFS_DIR}/{issue_id}/ideas.yaml": IDEAS_TEXT.format(
            date=source_date).encode("utf-8"),
    }
    files.update({f"{SCHEMA_DIR}/{n}": data for n, data in schema_files().items()})
    taken = [rel for rel in files if (root / rel).exists() or (root / rel).is_symlink()]
    outside = sorted({rel.split("/")[0] for rel in files
                      if not _within((root / rel).parent, root)})
    if outside:  # e.g. DIR/briefs is a link to another folder: init writes only inside DIR
        raise BriefingError([Problem(os.path.join(shown_root, name), 0, 0,
                                     "is a link that leads outside the folder; refusing to "
                                     "write through it") for name in outside])
    if taken:
        raise BriefingError([Problem(os.path.join(shown_root, rel), 0, 0,
                                     "already exists; 'briefing init' never overwrites a file",
                                     hint="choose a new or empty folder")
                             for rel in taken])
    created: list[Path] = []
    try:
        for rel, data in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            create_file(path, data)
            created.append(path)
        (root / "templates").mkdir(exist_ok=True)
        ignore = ensure_gitignore(root)
    except OSError as exc:
        for path in created:  # leave the folder as it was: all files or none
            path.unlink(missing_ok=True)
        where = exc.filename if isinstance(exc.filename, str) else shown_root
        reason = ("already exists; 'briefing init' never overwrites a file"
                  if isinstance(exc, FileExistsError) else f"cannot create: {exc.strerror}")
        raise BriefingError(Problem(os.fspath(where), 0, 0, reason)) from None
    return Created(root, issue_id, list(files) + ([ignore] if ignore else []))


def ensure_gitignore(root: Path) -> str:
    """Keep .briefing/ (drafts, private state) out of git: create .gitignore with it, or add the
    line to an existing one that lacks it (every other line is kept). Returns '.gitignore' when
    it was written, '' when it already had the line."""
    path = root / ".gitignore"
    if path.is_symlink():
        return ""  # never write through a link
    if not path.exists():
        create_file(path, GITIGNORE_TEXT.encode("utf-8"))
        return ".gitignore"
    text = path.read_text(encoding="utf-8", errors="replace")
    if any(line.strip() in (".briefing/", ".briefing", "/.briefing/", "/.briefing")
           for line in text.splitlines()):
        return ""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(("" if not text or text.endswith("\n") else "\n") + GITIGNORE_TEXT)
    return ".gitignore"


# -- briefing schema ---------------------------------------------------------------------------

SCHEMA_NAMES = ("brief", "config", "issue")


def schema_names(which: str) -> tuple[str, ...]:
    if which == "all":
        return SCHEMA_NAMES
    if which not in SCHEMA_NAMES:
        close = difflib.get_close_matches(which, SCHEMA_NAMES, n=1)
        raise BriefingError(Problem(
            "schema", 0, 0, f"'{which}' is not a format; formats: {', '.join(SCHEMA_NAMES)}, all",
            hint=f"did you mean '{close[0]}'?" if close else ""))
    return (which,)


def schema_text(which: str = "all") -> str:
    """One schema, or all three as {"brief": ..., "config": ..., "issue": ...}."""
    from ..content.schema import json_schemas
    schemas = json_schemas()
    names = schema_names(which)
    data = schemas[names[0]] if len(names) == 1 else {n: schemas[n] for n in names}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: Path, which: str = "all") -> list[Path]:
    """<name>.schema.json files in `folder`, replaced atomically (the one write path)."""
    from ..files import write_files
    return write_files(folder, schema_files(schema_names(which)))
