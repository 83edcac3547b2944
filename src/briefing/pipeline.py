"""The pipeline end to end: load -> validate -> model -> render -> write (-> archive)."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .content.model import Issue
from .content.validate import Project, load_issue
from .errors import BriefingError, Problem, Problems
from .render.issue import Rendered, render_issue

if TYPE_CHECKING:  # only for annotations: the archive is imported when it is used
    from .editorial.check import CheckAll
    from .editorial.history import History
    from .editorial.lint import LintResult
    from .publish.archive import ArchiveResult


@dataclass(frozen=True)
class BuildResult:
    issue: Issue
    paths: list[Path]
    sizes: dict[str, int]
    archive: ArchiveResult | None = None  # the refreshed site (None for a draft)
    folder: str = ""  # where the files went, as messages name it: out/2026-W07/
    warnings: int = 0  # lint warnings (`briefing check` lists them)
    corrected: bool = False  # a sent issue: only its record (issue.json, page) was rewritten


@dataclass(frozen=True)
class BuildAllResult:
    built: list[BuildResult]
    frozen: list[str]  # sent issues left alone
    archive: ArchiveResult | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # folders that are no issue


def frozen_by(project: Project, issue_id: str, state: str) -> str | None:
    """Where the record of an issue's deliveries is, if it has any: an issue that has gone
    out is frozen, its outputs are what readers got."""
    legacy = project.out / issue_id / "sent.jsonl"  # store.LEGACY_LEDGER
    if not legacy.exists() and not (project.root / state).is_file():
        return None  # nothing to read: the store (and sqlite3) is not even imported
    from .subscribers.store import LEGACY_LEDGER, has_deliveries
    if (project.out / issue_id / LEGACY_LEDGER).exists():
        return f"out/{issue_id}/{LEGACY_LEDGER}"
    if has_deliveries(project.root / state, issue_id):
        return state
    return None


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector for one batch: a build allocates ~25 objects per value
    and almost none form cycles (reference counting frees them), yet generation-0 passes ran
    hundreds of times; a 4000-item build took 0.3 s less without them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build(project: Project, issue_id: str | None = None, force: bool = False) -> BuildResult:
    with _no_cycle_collection():
        return _build(project, issue_id, force)


def _check_draft(project: Project, issue: Issue) -> None:
    """A draft is never written to out/; one that is already published there stays as it is
    until the editor removes it (build will not unpublish, and a sent issue cannot be)."""
    if issue.draft and (project.out / issue.id).exists():
        raise BriefingError(Problem(
            f"briefs/{issue.id}/issue.yaml", 0, 0,
            f"issue {issue.id} says 'draft: true' but is published in out/{issue.id}/",
            f"remove the draft line to rebuild it there, or remove out/{issue.id}/ and run "
            "'briefing archive' to unpublish it"))


def _draft_files(rendered: Rendered) -> dict[str, bytes]:
    """A draft's files, with its web page (no neighbours: it is in no archive)."""
    from .render.json import issue_data
    from .render.web import render_page
    issue = rendered.issue
    page = render_page(issue_data(issue), None, None, None, draft=True)
    return {f"{issue.id}/{name}": data for name, data in
            {**rendered.files, "index.html": page.encode("utf-8")}.items()}


def _lint_count(project: Project, rendered: Rendered | Issue,
                history: History | None = None) -> int:
    """How many warnings `briefing check` shows, so an editor who only builds hears of them
    (the email just rendered is linted, not rendered again; a sent issue's is rendered by lint)."""
    from .editorial.lint import lint_issue
    if isinstance(rendered, Issue):
        problems = lint_issue(project, rendered, history).problems
    else:
        html = rendered.files["email.html"].decode("utf-8")
        problems = lint_issue(project, rendered.issue, history, html).problems
    return sum(1 for p in problems if p.severity == "warning")


def _record(project: Project, written: list[Rendered]) -> None:
    """What each message.eml was made from, so `send` knows it is current without a render."""
    from .publish.stamp import record
    for rendered in written:
        record(project, rendered.issue.id, rendered.files["message.eml"])


def _remove_stale_draft(project: Project, issue_id: str) -> None:
    """Once an issue is published, its private draft build is out of date: remove it."""
    import shutil

    from .publish.issues import issue_folder
    folder = issue_folder(project, issue_id, draft=True)
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)


def _build(project: Project, issue_id: str | None, force: bool) -> BuildResult:
    from .files import private_folder, write_files
    from .publish.issues import issue_folder_shown, output_root

    issue = load_issue(project, issue_id)
    _check_draft(project, issue)
    where = frozen_by(project, issue.id, issue.config.state)
    if where and not force:
        return _build_sent(project, issue, where)
    rendered = render_issue(project, issue)
    sizes = {n: len(d) for n, d in rendered.files.items()}
    folder = issue_folder_shown(issue.id, issue.draft) + "/"
    if issue.draft:
        root, shown = output_root(project, draft=True)
        private_folder(root.parent, project.out)
        private_folder(root, project.out)  # drafts are private: .briefing/drafts/ is 0700 too
        paths = write_files(root, _draft_files(rendered), shown)
        _record(project, [rendered])
        return BuildResult(issue, paths, sizes, None, folder, _lint_count(project, rendered))
    from .files import confined_path
    from .publish.archive import finish, plan_site
    from .render.json import issue_data
    confined_path(project.out, f"{issue.id}/email.html")  # a linked folder: the write's message
    fresh = {issue.id: (issue_data(issue), set(rendered.files))}
    site = plan_site(project, strict=False, fresh=fresh, around=issue.id)
    # One set: the issue's files and the site around them are written together or not at all.
    files = {f"{issue.id}/{name}": data for name, data in rendered.files.items()}
    paths = write_files(project.out, {**files, **site.files}, remove=site.remove)
    _record(project, [rendered])
    _remove_stale_draft(project, issue.id)
    issue_paths = [p for p in paths if p.parent.name == issue.id]
    archive = finish(project, site, [p for p in paths if p not in issue_paths], reuse=True)
    return BuildResult(issue, issue_paths, sizes, archive, folder,
                       _lint_count(project, rendered))


def _lint_all(project: Project, rendered: list[Rendered]) -> dict[str, int]:
    """Each issue's warning count, linted in date order against one History of the set."""
    from .editorial.history import for_all
    history, _ = for_all(project, [r.issue for r in rendered], as_built=False)
    ordered = sorted(rendered, key=lambda r: (r.issue.date, r.issue.id))
    return {r.issue.id: _lint_count(project, r, history) for r in ordered}


def _sent_record(project: Project, issue: Issue, where: str) -> dict[str, bytes]:
    """A sent issue's new issue.json (its corrections and threads), or the refusal: an
    unchanged one is frozen, a changed one can only be corrected (docs/record.md)."""
    from .publish.record import sent_issue_files
    files = sent_issue_files(project, issue)
    if files is None:
        raise BriefingError(Problem(
            where, 0, 0, f"issue {issue.id} has been sent, so its outputs are frozen",
            f"rebuild anyway with 'briefing build {issue.id} --force'"))
    return files


def _build_sent(project: Project, issue: Issue, where: str) -> BuildResult:
    """Write a sent issue's corrected record and the site around it; its mail stays as sent."""
    from .files import write_files
    from .publish.archive import finish, plan_site
    files = _sent_record(project, issue, where)
    data = json.loads(files["issue.json"])
    names = {p.name for p in (project.out / issue.id).iterdir()}
    site = plan_site(project, strict=False, fresh={issue.id: (data, names)}, around=issue.id)
    written = write_files(project.out, {**{f"{issue.id}/{n}": d for n, d in files.items()},
                                        **site.files}, remove=site.remove)
    issue_paths = [p for p in written if p.parent.name == issue.id]
    archive = finish(project, site, [p for p in written if p not in issue_paths])
    return BuildResult(issue, issue_paths, {n: len(d) for n, d in files.items()}, archive,
                       f"out/{issue.id}/", _lint_count(project, issue), corrected=True)


def _changed_since_sent(project: Project, issue: Issue) -> list[Problem]:
    """What a sent issue's briefs changed beyond its corrections (nothing for an unsent one)."""
    if not frozen_by(project, issue.id, issue.config.state):
        return []
    from .publish.record import sent_issue_files
    try:
        sent_issue_files(project, issue)
    except BriefingError as exc:
        return list(exc.problems)
    return []


def check(project: Project, issue_id: str | None = None, strict: bool = False) -> LintResult:
    """`briefing check`: validate and lint (editorial/lint.py); a sent issue's briefs must
    still say what was sent, but for its corrections (docs/record.md)."""
    from .editorial.check import CheckFailed
    from .editorial.check import check as lint_check
    result = lint_check(project, issue_id, strict)
    changed = _changed_since_sent(project, result.issue)
    if changed:
        raise CheckFailed([*changed, *result.problems], result.issue.id)
    return result


def check_all(project: Project, strict: bool = False) -> CheckAll:
    """`briefing check --all`: every issue validated and linted (editorial/check.py), and each
    sent one held to what was sent, but for its corrections, as `check ISSUE` holds it."""
    from .editorial.check import CheckFailed
    from .editorial.check import check_all as lint_all
    result = lint_all(project, strict)
    changed = [p for linted in result.results
               for p in _changed_since_sent(project, linted.issue)]
    if changed:
        raise CheckFailed([*changed, *result.all_problems()], None)
    return result


def build_all(project: Project, force: bool = False) -> BuildAllResult:
    with _no_cycle_collection():
        return _build_all(project, force)


def _build_all(project: Project, force: bool = False) -> BuildAllResult:
    """Rebuild every issue under briefs/ that has not been sent (with `force`, those too).

    Every issue is validated and rendered in memory first, collecting the problems of all of
    them; only when none has any is anything written: the drafts into .briefing/drafts/, then
    the published issues and the whole site in one write_files call, then the search index.
    So an invalid issue never leaves half the set rebuilt. Then each issue is linted, in date
    order with one History (every issue read once), for the warning count of its summary.
    """
    from .content.model import Config
    from .content.record import load_record
    from .content.validate import issue_date, issue_ids, load_config, skipped_folders
    from .files import private_folder, write_files
    from .publish.issues import built_issues, issue_folder_shown, output_root

    ids = issue_ids(project)
    skipped = skipped_folders(project)
    config = load_config(project, Problems())  # a broken one is reported by each issue below
    state = config.state if config is not None else Config.state
    if not ids:
        raise BriefingError([Problem(f"briefs/{name}", 0, 0, f"not built: {reason}")
                             for name, reason in skipped] + [Problem(
            "briefs", 0, 0, "no issues yet; create briefs/<ISSUE>/ with 'briefing new THEME'")])
    frozen: list[str] = []
    rendered: list[Rendered] = []
    corrected: dict[str, tuple[Issue, dict[str, bytes]]] = {}  # sent issues with corrections
    problems: list[Problem] = []
    # In date order, each issue added to the record once rendered: every issue sees those before
    # it as a build of it alone would (a thread's "Previously", the corrections it announces).
    record = load_record(project.out)
    from .render.json import issue_data
    for issue_id in sorted(ids, key=lambda i: (issue_date(project, i) or dt.date.min, i)):
        where = frozen_by(project, issue_id, state)
        if where and not force:
            try:  # a sent issue is skipped, unless it has new corrections to publish
                issue = load_issue(project, issue_id, record)
                corrected[issue_id] = (issue, _sent_record(project, issue, where))
                record.add(json.loads(corrected[issue_id][1]["issue.json"]))
            except BriefingError:
                frozen.append(issue_id)
            continue
        try:
            issue = load_issue(project, issue_id, record)
            _check_draft(project, issue)
            rendered.append(render_issue(project, issue))
            if not issue.draft:
                record.add(issue_data(issue))
        except BriefingError as exc:
            problems.extend(exc.problems)
    frozen.sort()
    if problems:  # a broken briefing.yaml is reported by every issue: say it once
        raise BriefingError(list(dict.fromkeys(problems)))
    warnings = _lint_all(project, rendered)
    drafts = [r for r in rendered if r.issue.draft]
    public = [r for r in rendered if not r.issue.draft]
    built: list[BuildResult] = []
    if drafts:
        root, shown = output_root(project, draft=True)
        private_folder(root.parent, project.out)
        private_folder(root, project.out)  # drafts are private: .briefing/drafts/ is 0700 too
        files = {k: v for r in drafts for k, v in _draft_files(r).items()}
        paths = write_files(root, files, shown)
        _record(project, drafts)
        built += [BuildResult(r.issue, [p for p in paths if p.parent.name == r.issue.id],
                              {n: len(d) for n, d in r.files.items()}, None,
                              issue_folder_shown(r.issue.id, True) + "/",
                              warnings[r.issue.id]) for r in drafts]
    archive = None
    if public or built_issues(project)[0]:  # else: all drafts or frozen, nothing in out/
        from .publish.archive import finish, plan_site
        fresh = {r.issue.id: (issue_data(r.issue), set(r.files)) for r in public}
        fresh.update({i: (json.loads(f["issue.json"]), {p.name for p in (
            project.out / i).iterdir()}) for i, (_, f) in corrected.items()})
        site = plan_site(project, strict=False, fresh=fresh)
        files = {f"{r.issue.id}/{name}": data for r in public for name, data in r.files.items()}
        files.update({f"{i}/{n}": d for i, (_, f) in corrected.items() for n, d in f.items()})
        paths = write_files(project.out, {**files, **site.files}, remove=site.remove)
        _record(project, public)
        for r in public:
            _remove_stale_draft(project, r.issue.id)
        ours = {f"{r.issue.id}/{name}" for r in public for name in r.files}
        issue_paths = [p for p in paths if p.relative_to(project.out).as_posix() in ours]
        built += [BuildResult(r.issue, [p for p in issue_paths if p.parent.name == r.issue.id],
                              {n: len(d) for n, d in r.files.items()}, None,
                              issue_folder_shown(r.issue.id, False) + "/",
                              warnings[r.issue.id]) for r in public]
        built += [BuildResult(issue, [p for p in paths if p.parent.name == i],
                              {n: len(d) for n, d in f.items()}, None, f"out/{i}/",
                              corrected=True) for i, (issue, f) in corrected.items()]
        archive = finish(project, site, [p for p in paths if p not in issue_paths], reuse=True)
    built.sort(key=lambda b: b.issue.id)
    return BuildAllResult(built, frozen, archive, skipped)
