"""The search index through the CLI: what reaches Pagefind is checked (an issue.json tampered
with never stops the index), and a build keeps an index made from the very same pages."""

from __future__ import annotations

import json

import pytest

from conftest import BRIEF

ENTRY = "out/pagefind/pagefind-entry.json"


def _tamper(project, language: str) -> None:
    path = project.root / "out/2026-W07/issue.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["newsletter"]["language"] = language
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize("language", [
    'en" onmouseover="alert(1)',  # Pagefind 1.x panicked on it (exit 101): no index at all
    "x" * 60,                      # a long one too
    "en-",
    "<en>",
])
def test_a_tampered_language_is_dropped_and_the_index_is_built(project, language) -> None:
    assert project.cli("build").code == 0
    _tamper(project, language)
    (project.root / ENTRY).unlink()
    result = project.cli("archive")
    assert result.code == 0, result.err
    shown = repr(language[:40])
    assert result.err == (
        f"out/2026-W07/issue.json: warning: 'newsletter.language' is {shown}, not a language "
        "tag (such as en or zh-Hans); left out of the page, the feeds and the search index "
        "(rebuild it with 'briefing build 2026-W07')\n")
    assert (project.root / ENTRY).is_file()
    page = (project.root / "out/2026-W07/index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "onmouseover" not in page
    feed = json.loads((project.root / "out/feed.json").read_text(encoding="utf-8"))
    assert "language" not in feed


@pytest.mark.parametrize("language", ["en", "zh-Hans", "pt-BR", "sr-Latn-RS"])
def test_language_tags_reach_the_page(factory, language) -> None:
    from conftest import CONFIG
    project = factory(config=CONFIG.replace("language: en", f"language: {language}"))
    result = project.cli("build")
    assert (result.code, result.err) == (0, "")
    page = (project.root / "out/2026-W07/index.html").read_text(encoding="utf-8")
    assert f'<html lang="{language}">' in page
    assert (project.root / ENTRY).is_file()


def test_a_build_keeps_an_index_made_from_the_same_pages(project) -> None:
    assert project.cli("build").code == 0
    entry = project.root / ENTRY
    first = entry.stat().st_ino
    assert project.cli("build", "--force").code == 0  # the same pages: the index is kept
    assert entry.stat().st_ino == first
    assert project.cli("archive").code == 0  # archive always indexes again
    second = entry.stat().st_ino
    assert second != first
    project.write("briefs/2026-W07/industry.yaml", BRIEF.replace("First headline", "Changed"))
    assert project.cli("build").code == 0  # a page changed: indexed again
    assert entry.stat().st_ino != second
    third = entry.stat().st_ino
    (project.root / ".briefing/search-index.sha256").write_text("0" * 64)
    assert project.cli("build", "--force").code == 0  # a record that does not match: again
    assert entry.stat().st_ino != third
