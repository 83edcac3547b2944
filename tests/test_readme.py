"""The README stands on its own: its commands are the ones CI runs, and what it names exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The first line starting with 'python3 -m venv' in each ```sh block of the README."""
    blocks = re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    return [line for block in blocks for line in block.splitlines()
            if line.startswith("python3 -m venv")]


def test_ci_runs_the_readme_test_command() -> None:
    build, test = readme_commands()[:2]
    assert build.endswith("&& .venv/bin/briefing build")
    assert test.endswith("&& .venv/bin/python -m pytest -q -n auto")
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert test in ci


def test_readme_commands_install_from_the_lock() -> None:
    build, test = readme_commands()[:2]
    assert "-r requirements/main.lock" in build
    assert "-r requirements/dev.lock" in test
    for lock in ("main.lock", "dev.lock"):
        text = (REPO / "requirements" / lock).read_text()
        pins = re.findall(r"^([a-z0-9._-]+)==\S+ \\$", text, re.M)
        assert pins, lock
        assert text.count("--hash=sha256:") >= len(pins)


def test_the_readme_is_short_and_names_nothing_outside_the_repository() -> None:
    """What it is, one picture, the two commands, links into docs/: the rest is the site's."""
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    assert not re.search(r"https?://|mailto:|\.\./", text)
    assert text.count("![") == 1


def test_files_the_readme_names_exist() -> None:
    text = (REPO / "README.md").read_text()
    assert "../shared" not in text and "DESIGN.md" not in text
    for name in re.findall(r"\]\(([^)#]+)\)", text):
        if not name.startswith(("http://", "https://", "mailto:")):
            assert (REPO / name).exists(), name
    for name in ("briefs/SOURCES.md", "requirements/main.lock", "requirements/dev.lock",
                 "requirements/lock", "benchmarks/README.md"):
        assert name in text and (REPO / name).exists(), name
