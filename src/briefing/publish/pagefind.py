"""out/pagefind/: the static search index of the issue pages, built by Pagefind's PyPI binary."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..content.validate import Project
from ..errors import BriefingError, Problem
from .issues import PAGE, PRIVATE_DIR, SEARCH_DIR

TIMEOUT = 300  # seconds; indexing the 2 sample issues takes about 0.1 s, 500 issues about 3 s
STAMP = "search-index.sha256"  # in .briefing/: the digest of the pages the index was made from
ENTRY = "pagefind-entry.json"  # the file every complete Pagefind bundle has
HINT = "the issue pages and the archive were written; run 'briefing archive' to try again"


def executable() -> str:
    """The Pagefind binary shipped in the pagefind[extended] wheel ($BRIEFING_PAGEFIND for
    another): installed with briefing, so nothing is downloaded when a site is built. The
    extended build is the one that segments Chinese and Japanese into words."""
    chosen = os.environ.get("BRIEFING_PAGEFIND")
    if chosen:
        return chosen
    # Found, not imported: the package's get_executable() imports logging and platform, start-up
    # every build would pay for one path.
    from importlib.util import find_spec
    spec = find_spec("pagefind_bin_extended")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "pagefind_extended"
        if binary.is_file():
            return str(binary)
    raise BriefingError(Problem(f"out/{SEARCH_DIR}", 0, 0, "cannot build the search index: "
                                "the pagefind[extended] package is not installed",
                                hint="pip install 'pagefind[extended]'"))


def _pages_digest(project: Project, ids: list[str], binary: str) -> str | None:
    """What the index is made from: the indexer and every page's bytes, in order (None when
    a page cannot be read: then the index is rebuilt, and Pagefind says what is wrong)."""
    import hashlib
    digest = hashlib.sha256()
    try:
        info = os.stat(binary)
        digest.update(f"{binary}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
        for issue_id in ids:
            digest.update(f"{issue_id}\0".encode())
            digest.update((project.out / issue_id / PAGE).read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


def update_search_index(project: Project, ids: list[str], reuse: bool = False) -> str:
    """Index out/<ISSUE>/index.html of the listed (published) issues into out/pagefind/.

    Pagefind writes into a private folder under .briefing/; the bundle then goes into out/
    through write_files like every other output, and files of the previous bundle that the
    new one no longer has are removed after it is in place. Only the pages' <main
    data-pagefind-body> is indexed, never drafts (they are not in out/). With `reuse` (a
    build), an index made from the very same pages is kept as it is: the digest of what it was
    made from is in .briefing/ (`briefing archive` always indexes again).
    """
    from ..files import private_folder, write_files, write_private

    private = project.root / PRIVATE_DIR
    binary = executable()
    digest = _pages_digest(project, ids, binary)
    stamp = private / STAMP
    if reuse and digest is not None and (project.out / SEARCH_DIR / ENTRY).is_file():
        try:
            if stamp.read_text(encoding="ascii") == digest:
                return f"search index of {len(ids)} page{'s' if len(ids) != 1 else ''} " \
                       "(unchanged)"
        except (OSError, UnicodeDecodeError):
            pass
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
        command = [binary, "--site", str(project.out), "--glob", pattern,
                   "--output-path", str(bundle), "--silent"]
        try:
            run = subprocess.run(command, cwd=work, capture_output=True, timeout=TIMEOUT,
                                 stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise BriefingError(Problem(problem, 0, 0, f"cannot build the search index: "
                                        f"{reason}", hint=HINT)) from None
        if run.returncode != 0 or not (bundle / ENTRY).is_file():
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
    if digest is not None:  # the next build with the same pages keeps this index
        with contextlib.suppress(BriefingError):
            write_private(stamp, digest.encode("ascii"), f"{PRIVATE_DIR}/{STAMP}", project.out)
    size = sum(len(d) for d in files.values())
    return f"search index of {len(ids)} page{'s' if len(ids) != 1 else ''} ({size / 1024:.0f} KB)"
