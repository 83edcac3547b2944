"""out/pagefind/: the static search index of the issue pages, built by Pagefind's PyPI binary."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..content.validate import Project
from ..errors import BriefingError, Problem
from .issues import PAGE, PRIVATE_DIR, SEARCH_DIR

TIMEOUT = 300  # seconds; indexing the 2 sample issues takes about 0.1 s, 500 issues about 3 s
HINT = "the issue pages and the archive were written; run 'briefing archive' to try again"


def executable() -> str:
    """The Pagefind binary shipped in the pagefind[extended] wheel ($BRIEFING_PAGEFIND for
    another): installed with briefing, so nothing is downloaded when a site is built. The
    extended build is the one that segments Chinese and Japanese into words."""
    chosen = os.environ.get("BRIEFING_PAGEFIND")
    if chosen:
        return chosen
    try:
        from pagefind_bin_extended import get_executable  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a dependency of briefing
        raise BriefingError(Problem(f"out/{SEARCH_DIR}", 0, 0, "cannot build the search index: "
                                    "the pagefind[extended] package is not installed",
                                    hint="pip install 'pagefind[extended]'")) from None
    return str(get_executable())


def update_search_index(project: Project, ids: list[str]) -> str:
    """Index out/<ISSUE>/index.html of the listed (published) issues into out/pagefind/.

    Pagefind writes into a private folder under .briefing/; the bundle then goes into out/
    through write_files like every other output, and files of the previous bundle that the
    new one no longer has are removed after it is in place. Only the pages' <main
    data-pagefind-body> is indexed, never drafts (they are not in out/).
    """
    from ..files import private_folder, write_files

    private = project.root / PRIVATE_DIR
    problem = f"out/{SEARCH_DIR}"
    try:
        private_folder(private, project.out)
        work = Path(tempfile.mkdtemp(prefix="pagefind-", dir=private))
    except OSError as exc:
        raise BriefingError(Problem(problem, 0, 0, "cannot build the search index: cannot "
                                    f"create a folder in {PRIVATE_DIR}/: {exc.strerror}",
                                    hint=HINT)) from None
    try:
        bundle = work / SEARCH_DIR
        # Only the listed issues' pages: a stray folder in out/ is not part of the site.
        pattern = "{" + ",".join(ids) + "}/" + PAGE if len(ids) > 1 else f"{ids[0]}/{PAGE}"
        command = [executable(), "--site", str(project.out), "--glob", pattern,
                   "--output-path", str(bundle), "--silent"]
        try:
            run = subprocess.run(command, cwd=work, capture_output=True, timeout=TIMEOUT,
                                 stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise BriefingError(Problem(problem, 0, 0, f"cannot build the search index: "
                                        f"{reason}", hint=HINT)) from None
        if run.returncode != 0 or not (bundle / "pagefind-entry.json").is_file():
            said = (run.stdout + run.stderr).decode("utf-8", "replace").strip().splitlines()
            raise BriefingError(Problem(problem, 0, 0, "cannot build the search index: Pagefind "
                                        f"exited with {run.returncode}"
                                        + (f": {said[-1][:200]}" if said else ""), hint=HINT))
        files = {f"{SEARCH_DIR}/{p.relative_to(bundle).as_posix()}": p.read_bytes()
                 for p in sorted(bundle.rglob("*")) if p.is_file()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    old = project.out / SEARCH_DIR
    stale = tuple(p.relative_to(project.out).as_posix() for p in sorted(old.rglob("*"))
                  if p.is_file() and not p.is_symlink()) if old.is_dir() else ()
    try:
        write_files(project.out, files, remove=stale)
    except BriefingError as exc:
        first = exc.problems[0]
        raise BriefingError(Problem(first.path, first.line, first.col,
                                    f"{first.message}; the search index was not updated",
                                    hint=HINT)) from None
    size = sum(len(d) for d in files.values())
    return f"search index of {len(ids)} page{'s' if len(ids) != 1 else ''} ({size / 1024:.0f} KB)"
