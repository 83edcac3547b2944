"""Shared test helpers: one factory for a valid project, and the real CLI run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CONFIG = """\
name: Test Briefing
tagline: A test newsletter
language: en
sender: Test Briefing <news@example.org>
recipients:
  - Reader One <one@example.org>
unsubscribe:
  url: https://example.org/u/{token}
archive_url: https://example.org/archive/
address: 1 Test Street, Testville
themes:
  - id: industry
    title: Industry
  - id: ethics
    title: Ethics
"""

ISSUE = """\
title: A test issue
date: 2026-02-13
preheader: Short preview text
intro: >-
  The editor's note with a [link](https://example.org/intro).
"""

BRIEF = """\
items:
  - headline: First headline
    summary: >-
      A summary with *emphasis*, **strong** text and a
      [linked source](https://example.org/a).
    why: It matters.
    sources:
      - url: https://example.org/a
        title: Article A
        publisher: Example News
        date: 2026-02-10
"""


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class ProjectFactory:
    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def cli(self, *args: str, env: dict | None = None, input: str | None = None,
            timeout: float = 60) -> Result:
        """Run the real `briefing` CLI in the project folder."""
        return run_cli(self.root, *args, env=env, input=input, timeout=timeout)


def run_cli(cwd: Path, *args: str, env: dict | None = None, input: str | None = None,
            timeout: float = 60) -> Result:
    full_env = dict(os.environ)
    full_env.pop("BRIEFING_DEBUG", None)
    if env:
        full_env.update(env)
    proc = subprocess.run([sys.executable, "-m", "briefing", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, input=input, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def make_project(root: Path, config: str | None = CONFIG, issue_id: str = "2026-W07",
                 issue: str | None = ISSUE, briefs: dict[str, str] | None = None) -> ProjectFactory:
    """A valid two-theme project; pass overrides to break exactly one thing."""
    project = ProjectFactory(root)
    if config is not None:
        project.write("briefing.yaml", config)
    if issue is not None:
        project.write(f"briefs/{issue_id}/issue.yaml", issue)
    if briefs is None:
        briefs = {"industry.yaml": BRIEF, "ethics.yaml": BRIEF.replace(
            "First headline", "Second headline").replace("example.org/a", "example.org/b")}
    for name, text in briefs.items():
        project.write(f"briefs/{issue_id}/{name}", text)
    return project


@pytest.fixture
def project(tmp_path: Path) -> ProjectFactory:
    return make_project(tmp_path / "news")


@pytest.fixture
def factory(tmp_path: Path):
    """make_project with overrides, rooted in this test's tmp_path."""
    def make(**overrides) -> ProjectFactory:
        return make_project(tmp_path / "news", **overrides)
    return make
