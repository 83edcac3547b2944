"""Faults around the web edition, made real: damaged issue.json files, names that collide, a
killed build's litter, a read-only and a full filesystem (tmpfs), through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import BRIEF, ISSUE, ProjectFactory, Result

HINT = "(rebuild it with 'briefing build 2026-W07')"


def two(project: ProjectFactory) -> ProjectFactory:
    project.write("briefs/2026-W09/issue.yaml", ISSUE.replace("A test issue", "Later")
                  .replace("2026-02-13", "2026-02-27"))
    project.write("briefs/2026-W09/industry.yaml", BRIEF.replace("First headline", "Later one")
                  .replace("example.org/a", "example.org/c"))
    assert project.cli("build", "--all").code == 0
    return project


def damage(project: ProjectFactory, kind: str) -> None:
    path = project.root / "out/2026-W07/issue.json"
    if kind == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif kind == "digits":
        path.write_text('{"schema_version": ' + "1" * 5000 + "}")
    elif kind == "surrogate":
        data = json.loads(path.read_text())
        data["title"] = "broken \ud800 title"
        path.write_text(json.dumps(data))  # ensure_ascii: the file holds \ud800, valid JSON
    elif kind == "javascript":
        data = json.loads(path.read_text())
        data["newsletter"]["archive_url"] = "javascript:alert(1)//"
        path.write_text(json.dumps(data))


MESSAGES = {
    "deep": "nested 100000 levels deep (issue.json has at most 16)",
    "digits": "not valid JSON: Exceeds the limit (4300 digits) for integer string conversion",
    "surrogate": "text with a lone surrogate ('broken \\ud800 title')",
    "javascript": "'newsletter.archive_url' must be an http(s) URL, not 'javascript:'",
}


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_a_damaged_issue_json_is_one_line_for_archive_and_a_warning_elsewhere(
        project, kind: str) -> None:
    two(project)
    damage(project, kind)
    before = (project.root / "out/index.html").read_bytes()
    result = project.cli("archive")
    assert result.code == 1
    assert result.err == f"out/2026-W07/issue.json: error: {MESSAGES[kind]} {HINT}\n"
    assert (project.root / "out/index.html").read_bytes() == before

    warning = (f"out/2026-W07/issue.json: warning: {MESSAGES[kind]}; this issue is left out "
               f"until it is rebuilt {HINT}\n")
    built = project.cli("build", "2026-W09")  # another issue: it builds, 2026-W07 left out
    assert built.code == 0, built.err
    assert built.err == warning
    assert "A test issue" not in (project.root / "out/index.html").read_text()
    for args in (("check", "2026-W09"), ("archive", "search", "later")):
        other = project.cli(*args)
        assert other.code == 0, other.err
        assert "Traceback" not in other.err and "internal error" not in other.err
    assert project.cli("archive", "search", "later").err == warning
    # said, not silently skipped
    assert warning.rstrip("\n") in project.cli("check", "2026-W09").err.splitlines()
    # Rebuilding the damaged issue repairs it.
    assert project.cli("build", "2026-W07").code == 0
    assert project.cli("archive").code == 0


@pytest.mark.parametrize("name", ["index.html", "feed.xml", "feed.json", "archive.txt",
                                  "pagefind", "threads"])
def test_issue_folders_named_like_site_files_are_refused(project, name: str) -> None:
    project.write(f"briefs/{name}/issue.yaml", "date: 2026-03-06\n")
    project.write(f"briefs/{name}/industry.yaml", BRIEF)
    result = project.cli("check", name)
    assert result.code == 1
    assert result.err == (f"briefs/{name}: error: '{name}' is a name the web edition writes at "
                          "the top of out/, so it cannot be an issue id (rename the folder)\n"
                          "1 error\n")
    built = project.cli("build", "--all")
    assert built.code == 0, built.err
    assert (f"skipped briefs/{name}/: '{name}' is a name the web edition writes at the top of "
            "out/, so it cannot be an issue id") in built.out.splitlines()
    assert (project.root / "out/index.html").is_file()


def test_build_all_names_every_folder_it_does_not_build(project) -> None:
    long_name = "2026-" + "x" * 70
    for name in ("2026-週07", long_name, "draft notes"):
        project.write(f"briefs/{name}/industry.yaml", BRIEF)
    result = project.cli("build", "--all")
    assert result.code == 0, result.err
    assert [line for line in result.out.splitlines() if line.startswith("skipped")] == [
        f"skipped briefs/{long_name}/: the name is 75 characters long; an issue id has at "
        "most 64",
        "skipped briefs/2026-週07/: the name has characters other than ASCII letters, digits, "
        "'.', '_' and '-'",
        "skipped briefs/draft notes/: not a valid issue id (letters, digits, '.', '_', '-'; it "
        "must not start with '.' and has no '/')",
    ]


KILLING_CLI = textwrap.dedent("""
    import os, signal, sys
    nth = int(sys.argv[1])
    del sys.argv[1]
    sys.argv[0] = "briefing"
    real = os.replace
    calls = [0]
    def replace(*args, **kwargs):
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer or `kill -9` would
        return real(*args, **kwargs)
    os.replace = replace
    from briefing.cli import main
    main()
""")


def test_litter_of_a_killed_build_is_cleaned_by_the_next(project) -> None:
    assert project.cli("build").code == 0
    assert project.cli("build").code == 0  # templates cached: only output writes remain
    project.write("briefs/2026-W07/industry.yaml", BRIEF.replace("First headline", "New"))
    killed = subprocess.run([sys.executable, "-c", KILLING_CLI, "3", "build"],
                            cwd=project.root, capture_output=True, timeout=60)
    assert killed.returncode == -9
    litter = [p for p in (project.root / "out").rglob(".briefing-tmp-*")]
    assert litter, "the killed build left its temporary files"
    result = project.cli("build")
    assert result.code == 0, result.err
    assert [p for p in (project.root / "out").rglob(".briefing-tmp-*")] == []


def test_litter_of_a_killed_build_not_yet_reaped_is_cleaned(project) -> None:
    """A build killed while its parent has not waited for it yet is a zombie: its pid is still
    taken, but it will never write again, so its temporary files are litter."""
    assert project.cli("build").code == 0
    project.write("briefs/2026-W07/industry.yaml", BRIEF.replace("First headline", "New"))
    killed = subprocess.Popen([sys.executable, "-c", KILLING_CLI, "3", "build"],
                              cwd=project.root, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        stat = Path(f"/proc/{killed.pid}/stat")
        deadline = time.monotonic() + 60
        while stat.read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z":  # not reaped: no wait()
            assert time.monotonic() < deadline, "the build was not killed"
            time.sleep(0.05)
        assert list((project.root / "out").rglob(f".briefing-tmp-{killed.pid}-*"))
        result = project.cli("build")
        assert result.code == 0, result.err
        assert list((project.root / "out").rglob(".briefing-tmp-*")) == []
    finally:
        killed.wait()


def test_litter_under_a_reused_pid_is_cleaned_and_a_live_writers_files_kept(project) -> None:
    """Pids are reused: a temp file whose pid now belongs to another process (one that started
    later) is litter; one whose pid and start time match a running process is not."""
    assert project.cli("build").code == 0
    out = project.root / "out"
    me = os.getpid()
    start = Path(f"/proc/{me}/stat").read_bytes().rsplit(b")", 1)[1].split()[19].decode()
    reused = out / f".briefing-tmp-{me}-{int(start) - 1}-abc123"
    running = out / f".briefing-tmp-{me}-{start}-def456"
    reused.write_bytes(b"left by a killed build whose pid was given to this process")
    running.write_bytes(b"being written by this process right now")
    assert project.cli("build").code == 0
    assert not reused.exists()
    assert running.exists()


def _mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True)
    return done.returncode == 0


@pytest.fixture
def tmpfs_out(project):
    """out/ on its own small tmpfs (needs root: CI and this machine run as root)."""
    out = project.root / "out"
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        if os.geteuid() != 0 or not _mount_tmpfs(out, size):
            pytest.skip("cannot mount a tmpfs here")
        mounted.append(out)
        return out
    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_read_only_out(project, tmpfs_out) -> None:
    out = tmpfs_out("4m")
    assert project.cli("build").code == 0
    before = snapshot(out)
    subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
    project.write("briefs/2026-W07/industry.yaml", BRIEF.replace("First headline", "New"))
    result = project.cli("build")
    assert result.code == 1
    assert result.err == ("out/2026-W07/email.html: error: cannot write: Read-only file system "
                          "(nothing was changed: the previous outputs are as they were)\n")
    assert snapshot(out) == before


def test_full_disk_says_what_was_written(project, tmpfs_out) -> None:
    """Room for the issue and the site, not for the search index: the message says which."""
    out = tmpfs_out("160k")
    result = project.cli("build")
    assert result.code == 1
    lines = result.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("out/pagefind/")
    assert lines[0].endswith(": error: cannot write: No space left on device; the search "
                             "index was not updated (the issue pages and the archive were "
                             "written; run 'briefing archive' to try again)")
    assert (out / "2026-W07/email.html").is_file() and (out / "index.html").is_file()
    assert not (out / "pagefind").exists() or not any((out / "pagefind").rglob("*.js"))
    assert [p for p in out.rglob(".briefing-tmp-*")] == []


def test_full_disk_before_anything_is_written(project, tmpfs_out) -> None:
    out = tmpfs_out("12k")
    result: Result = project.cli("build")
    assert result.code == 1
    assert result.err.endswith(": error: cannot write: No space left on device (nothing was "
                               "changed: the previous outputs are as they were)\n")
    assert snapshot(out) == {}
