"""The documentation site: it builds with --strict, its reference pages are made from the code,
and every shell example in it is run here, its output compared with what the page shows.

A page's ```console blocks are its shell examples: `$ command` lines, each followed by the
output it prints (stdout and stderr as a terminal shows them). They run in order, in one folder
per page: a copy of the sample project, or an empty folder for a page that says
`<!-- docs-test: fresh -->` (Getting started). `<!-- docs-test: written on YYYY-MM-DD -->` is
the day `init` and `new` take for today (SOURCE_DATE_EPOCH), so "this week" is the page's. In
the output shown, a line `...` stands for any lines and `...` inside a line for any text; `^C`
means Ctrl-C is pressed once the lines before it are printed. A command that must fail says so
in a comment: `$ briefing check  # exits 1`. A fenced block right after `<!-- file: PATH -->`
is written to PATH before the commands after it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SAMPLE = ("briefing.yaml", "briefs", "out", "schema", "templates")
FENCE = re.compile(r"^```(\S*)\n(.*?)^```$", re.S | re.M)
EXIT = re.compile(r"\s+#\s*exits\s+(\d+)\s*$")


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


# -- the site ----------------------------------------------------------------------------------

def test_docs_site_builds_strict(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "-f", str(REPO / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1",
                                                              "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    # The reference pages were filled in from the code: every command, every key, every cap.
    commands = (tmp_path / "site/reference/commands/index.html").read_text(encoding="utf-8")
    for command in ("briefing check", "briefing subscribers import", "briefing archive search"):
        assert f"<code>{command}</code>" in commands, command
    assert "--screenshots" in commands and "generated:" not in commands
    files = (tmp_path / "site/reference/files/index.html").read_text(encoding="utf-8")
    for key in ("unsubscribe.url", "themes[].id", "items[].sources[].url", "draft"):
        assert f"<code>{key}</code>" in files, key
    limits = (tmp_path / "site/reference/limits/index.html").read_text(encoding="utf-8")
    assert "1,000,000 bytes" in limits and "102 KB" in limits


def test_help_ends_with_the_docs_path() -> None:
    done = subprocess.run([sys.executable, "-m", "briefing", "--help"], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0
    assert done.stdout.rstrip().endswith("docs/getting-started.md).")
    assert (REPO / "docs/index.md").is_file() and (REPO / "docs/getting-started.md").is_file()


def test_images_are_made_by_build_screenshots() -> None:
    """Every picture in the docs is one `briefing build --screenshots` writes (the command is
    on the home page, run by test_shell_examples), never one made by hand."""
    from briefing.editorial.browser import VIEWS
    from briefing.editorial.screenshots import PAGES
    made = {f"{v.name}.png" for v in VIEWS} | {f"{name}.png" for name, *_ in PAGES}
    used = {name for page in pages() for name in
            re.findall(r"\]\((?:\.\./)*images/([^)]+)\)", page.read_text(encoding="utf-8"))}
    assert used and used <= made, used - made
    for name in used:
        assert (DOCS / "images" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert "$ briefing build 2026-W10 --screenshots" in index


def test_every_shell_example_is_a_console_block() -> None:
    """A command shown anywhere else would not be run, and could drift: the set-up commands
    (```sh) are the README's, which CI runs."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for page in pages():
        for language, body in FENCE.findall(page.read_text(encoding="utf-8")):
            if language == "console":
                continue
            looks_like_commands = any(line.startswith(("briefing ", "$ "))
                                      for line in body.splitlines())
            assert language or not looks_like_commands, (page.name, body[:80])
            if language in ("sh", "bash", "shell"):
                for line in body.splitlines():
                    assert line.startswith("#") or line in readme, (page.name, line)


# -- running the examples ----------------------------------------------------------------------

@dataclass
class Step:
    line: int                  # where it is in the page
    command: str = ""
    expected: list[str] = field(default_factory=list)
    status: int = 0
    path: str = ""             # a file to write instead of a command
    content: str = ""


def steps(text: str) -> list[Step]:
    out: list[Step] = []
    for match in FENCE.finditer(text):
        language, body = match.group(1), match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        wanted = re.fullmatch(r"<!-- file: (\S+) -->", before)
        if wanted:
            out.append(Step(line, path=wanted.group(1), content=body))
        elif language == "console":
            out.extend(_session(body, line))
    return out


def _session(body: str, line: int) -> list[Step]:
    out: list[Step] = []
    lines = body.rstrip("\n").split("\n")
    index = 0
    while index < len(lines):
        current = lines[index]
        assert current.startswith("$ "), f"line {line + 1 + index}: expected '$ command'"
        command = current[2:]
        while command.endswith("\\") or "<<'EOF'" in command and not command.endswith("\nEOF"):
            index += 1
            command += "\n" + lines[index]
        status = EXIT.search(command)
        step = Step(line + 1 + index, command, status=int(status.group(1)) if status else 0)
        index += 1
        while index < len(lines) and not lines[index].startswith("$ "):
            step.expected.append(lines[index])
            index += 1
        out.append(step)
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; `...` alone stands for any lines, inside a line for any text."""
    if not expected:
        return not actual
    first, rest = expected[0], expected[1:]
    if first == "...":
        return any(matches(rest, actual[n:]) for n in range(len(actual) + 1))
    pattern = ".*".join(re.escape(part) for part in first.split("..."))
    return bool(actual) and re.fullmatch(pattern, actual[0]) is not None \
        and matches(rest, actual[1:])


def environment(home: Path, today: str) -> dict[str, str]:
    """What the commands run with. A page run in a fresh folder shows the week it was written
    in: `init` and `new` take "this week" from SOURCE_DATE_EPOCH when it is set."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home),
           "LANG": "C.UTF-8", "TZ": "UTC", "COLUMNS": "80", "PYTHONUNBUFFERED": "1",
           "BRIEFING_TOKEN_KEY": "docs-example-key-0123456789abcdefghijklmnop"}
    if today:
        day = dt.date.fromisoformat(today)
        env["SOURCE_DATE_EPOCH"] = str(int(dt.datetime(day.year, day.month, day.day, 12,
                                                       tzinfo=dt.UTC).timestamp()))
    return env


def run_page(page: Path, folder: Path) -> None:
    text = page.read_text(encoding="utf-8")
    fresh = "<!-- docs-test: fresh" in text
    folder.mkdir()
    if not fresh:
        for name in SAMPLE:
            source = REPO / name
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, folder / name)
    written = re.search(r"<!-- docs-test: (?:fresh, )?written on (\d{4}-\d{2}-\d{2}) -->", text)
    today = written.group(1) if written else ""
    home = folder.parent / "home"
    home.mkdir(exist_ok=True)
    cwd = folder
    for step in steps(text):
        where = f"{page.relative_to(REPO)}:{step.line}"
        if step.path:
            target = cwd / step.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.content, encoding="utf-8")
            continue
        cwd, status, output = _run(step.command, cwd, home, today, step.expected)
        shown = output.rstrip("\n").split("\n") if output else []
        if status != step.status:
            pytest.fail(f"{where}: {step.command} exited {status}:\n{output}", pytrace=False)
        if not matches(step.expected, shown):
            pytest.fail(f"{where}: {step.command}\n--- the page shows:\n"
                        + "\n".join(step.expected) + "\n--- it prints:\n" + "\n".join(shown),
                        pytrace=False)


def _run(command: str, cwd: Path, home: Path, today: str,
         expected: list[str]) -> tuple[Path, int, str]:
    """Run one command with bash in `cwd`; a `cd` or an `export` carries over to the next."""
    marker, exported = home / ".cwd", home / ".exported"
    script = (f"[ -f {exported} ] && . {exported}\n{command}\nstatus=$?\npwd > {marker}\n"
              f"export -p > {exported}\nexit $status\n")
    process = subprocess.Popen(["bash", "-c", script], cwd=cwd, env=environment(home, today),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    if "^C" in expected:
        before = expected[: expected.index("^C")]
        seen = _read_until(process, len(before))
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        output = seen + "^C\n" + rest.decode("utf-8")
    else:
        data, _ = process.communicate(timeout=300)
        output = data.decode("utf-8")
    status = process.wait()
    if status < 0 or status == 130:  # stopped by the Ctrl-C it was shown with
        status = 0
    moved = Path(marker.read_text().strip()) if marker.exists() else cwd
    return moved, status, output


def _read_until(process: subprocess.Popen, lines: int, timeout: float = 60) -> str:
    """The first `lines` lines a long-running command prints (a server saying where it is)."""
    assert process.stdout is not None
    out = b""
    deadline = time.monotonic() + timeout
    while out.count(b"\n") < lines and time.monotonic() < deadline:
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:
            break
        out += chunk
    time.sleep(0.2)  # let it settle into serving before it is stopped
    return out.decode("utf-8")


GETTING_STARTED = DOCS / "getting-started.md"
EXAMPLES = [p for p in pages() if "```console" in p.read_text(encoding="utf-8")
            and p != GETTING_STARTED]


@pytest.mark.parametrize("page", EXAMPLES, ids=[str(p.relative_to(DOCS)) for p in EXAMPLES])
def test_shell_examples(page: Path, tmp_path: Path) -> None:
    """Every ```console block of the page, run in order in a copy of the sample (or, for
    Getting started, a fresh folder), prints what the page shows."""
    run_page(page, tmp_path / "project")


def test_getting_started_walks_in_a_fresh_folder(tmp_path: Path) -> None:
    """The tutorial's path, from `briefing init` to a built issue, in an empty folder: every
    command succeeds and prints what the page shows."""
    text = GETTING_STARTED.read_text(encoding="utf-8")
    assert "<!-- docs-test: fresh" in text
    commands = [s.command for s in steps(text) if s.command]
    for needed in ("briefing init", "briefing check", "briefing preview", "briefing build"):
        assert any(c.startswith(needed) for c in commands), needed
    assert all(s.status == 0 for s in steps(text) if s.command)
    run_page(GETTING_STARTED, tmp_path / "project")
