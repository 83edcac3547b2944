"""The write path through the real CLI: a failure midway keeps old outputs; links are refused."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import BRIEF, ProjectFactory, Result, make_project

OUT = "out/2026-W07"
ISSUE_FILES = ("email.html", "digest.txt", "message.eml", "issue.json")
ARCHIVE_FILES = ("index.html", "feed.xml", "archive.txt")

# Runs the real CLI with one os function failing on its Nth call, as a full disk or a failing
# drive would. The patch lives only in this test's process: production code has no test hook.
FAILING_CLI = textwrap.dedent("""
    import os, sys
    name, nth = sys.argv[1], int(sys.argv[2])
    del sys.argv[1:3]
    sys.argv[0] = "briefing"
    real = getattr(os, name)
    calls = [0]
    def failing(*args, **kwargs):
        calls[0] += 1
        if calls[0] == nth:
            raise OSError(5, "simulated I/O error")
        return real(*args, **kwargs)
    setattr(os, name, failing)
    from briefing.cli import main
    main()
""")


def run_failing(project: ProjectFactory, function: str, nth: int, *args: str) -> Result:
    env = dict(os.environ)
    env.pop("BRIEFING_DEBUG", None)
    proc = subprocess.run([sys.executable, "-c", FAILING_CLI, function, str(nth), *args],
                          cwd=project.root, env=env, capture_output=True, text=True, timeout=60)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def snapshot(folder: Path, names) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names}


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".briefing-tmp-")]


def changed(project: ProjectFactory) -> None:
    """Edit a brief so that every output of the next build differs from the previous one."""
    project.write("briefs/2026-W07/industry.yaml", BRIEF.replace("First headline",
                                                                 "A rewritten headline"))


def test_fsync_failing_on_the_second_file_leaves_previous_outputs(project) -> None:
    assert project.cli("build").code == 0
    # twice: the second run finds the compiled templates in the user cache, so the failing
    # run counts only the writes of outputs
    assert project.cli("build").code == 0
    before = snapshot(project.root / OUT, ISSUE_FILES)
    archive_before = snapshot(project.root / "out", ARCHIVE_FILES)
    changed(project)

    result = run_failing(project, "fsync", 2, "build", "2026-W07")

    assert result.code == 1, result.err
    assert result.err == ("out/2026-W07/digest.txt: error: cannot write: simulated I/O error "
                          "(nothing was changed: the previous outputs are as they were)\n")
    assert snapshot(project.root / OUT, ISSUE_FILES) == before
    assert snapshot(project.root / "out", ARCHIVE_FILES) == archive_before
    assert temp_files(project.root) == []
    # and the next build, with a healthy disk, goes through
    assert project.cli("build").code == 0
    assert "A rewritten headline" in (project.root / OUT / "digest.txt").read_text()


def test_rename_failing_midway_puts_the_previous_outputs_back(tmp_path: Path) -> None:
    """A rename failing after others succeeded restores those from their hard-linked old copies."""
    project = make_project(tmp_path / "news")
    twin = make_project(tmp_path / "twin")  # the same edit built cleanly, to know the new bytes
    assert project.cli("build").code == 0
    # twice: the second run finds the compiled templates in the user cache, so the failing
    # run counts only the writes of outputs
    assert project.cli("build").code == 0
    old = snapshot(project.root / OUT, ISSUE_FILES)
    changed(project)
    changed(twin)
    assert twin.cli("build").code == 0
    new = snapshot(twin.root / OUT, ISSUE_FILES)
    assert all(old[name] != new[name] for name in ISSUE_FILES)

    result = run_failing(project, "replace", 2, "build", "2026-W07")

    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    # the first file had already been replaced: it is put back, so the set stays the old one
    assert snapshot(project.root / OUT, ISSUE_FILES) == old
    assert temp_files(project.root) == []


def test_archive_write_failing_keeps_previous_archive(project) -> None:
    project.write("briefs/2026-W09/issue.yaml", "title: Another issue\ndate: 2026-02-27\n")
    project.write("briefs/2026-W09/industry.yaml", BRIEF)
    assert project.cli("build", "--all").code == 0
    # twice: the second run finds the compiled templates in the user cache, so the failing
    # run counts only the writes of outputs
    assert project.cli("build", "--all").code == 0
    before = snapshot(project.root / "out", ARCHIVE_FILES)
    (project.root / "out/2026-W09/issue.json").unlink()  # the next archive lists one issue

    # `archive` writes three files: the second fsync is feed.xml's
    result = run_failing(project, "fsync", 2, "archive")

    assert result.code == 1, result.err
    assert snapshot(project.root / "out", ARCHIVE_FILES) == before
    assert temp_files(project.root) == []
    assert project.cli("archive").code == 0
    assert snapshot(project.root / "out", ARCHIVE_FILES) != before


def test_out_as_a_link_to_elsewhere_is_refused(project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project.root / "out").symlink_to(elsewhere)
    result = project.cli("build")
    assert result.code == 1
    assert result.err == ("out: error: out/ is a symbolic link; refusing to write through it "
                          "(make out/ a real folder)\n")
    assert list(elsewhere.iterdir()) == []
    result = project.cli("archive")
    assert result.code == 1 and "Traceback" not in result.err
    assert list(elsewhere.iterdir()) == []


def test_issue_folder_in_out_as_a_link_is_refused(project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project.root / "out").mkdir()
    (project.root / OUT).symlink_to(elsewhere, target_is_directory=True)
    result = project.cli("build")
    assert result.code == 1
    assert result.err == ("out/2026-W07/email.html: error: refusing to write through a "
                          "symbolic link\n")
    assert list(elsewhere.iterdir()) == []
    assert temp_files(project.root) == [] and temp_files(elsewhere) == []


def test_archive_file_as_a_link_is_refused(project, tmp_path: Path) -> None:
    outside = tmp_path / "outside.html"
    outside.write_text("precious\n")
    (project.root / "out").mkdir()
    (project.root / "out/index.html").symlink_to(outside)
    result = project.cli("build")
    assert result.code == 1
    assert result.err == "out/index.html: error: refusing to write through a symbolic link\n"
    assert outside.read_text() == "precious\n"
    assert temp_files(project.root) == []


def test_brief_folder_linking_outside_the_project_is_refused(tmp_path: Path) -> None:
    outside = make_project(tmp_path / "other")  # a valid issue, but not this project's
    project = make_project(tmp_path / "news", issue=None, briefs={})
    (project.root / "briefs").mkdir(exist_ok=True)
    (project.root / "briefs/2026-W07").symlink_to(outside.root / "briefs/2026-W07",
                                                   target_is_directory=True)
    result = project.cli("build", "2026-W07")
    assert result.code == 1
    assert result.err == ("briefs/2026-W07: error: issue folder is a link that leads outside "
                          "the project\n")
    assert not (project.root / "out").exists()
    result = project.cli("build", "--all")
    assert result.code == 1
    assert result.err == ("briefs/2026-W07: error: issue folder is a link that leads outside "
                          "the project\n")
    assert not (project.root / "out").exists()


@pytest.mark.parametrize("issue_id", ["../escape", "/tmp/escape", "..", "a/b", ".hidden"])
def test_issue_ids_that_could_leave_out_are_refused(project, issue_id: str) -> None:
    result = project.cli("build", issue_id)
    assert result.code == 1
    assert result.err == (f"briefs: error: '{issue_id}' is not a valid issue id (letters, digits, "
                          "'.', '_', '-'; it must not start with '.' and has no '/')\n")
    assert not (project.root / "out").exists()
    assert not (project.root.parent / "escape").exists()
