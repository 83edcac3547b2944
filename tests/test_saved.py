"""Saved copies of cited pages, through the real CLI against the saved-article server on
127.0.0.1: `sources --save` (WARC files read back with warcio, private, never twice, capped), a
list send that saves them first, and `links` naming the copy of a page that died or changed."""

from __future__ import annotations

import gzip
import os
import re
import stat
from pathlib import Path

import pytest

from article_server import ArticleServer
from conftest import BRIEF, CONFIG, ISSUE, make_project
from smtp_server import Server

BUDGET = "/2026/02/13/harbour-budget-approved/"
DAM = "/news/dam-fish-ladder/"
LOCKED = "/2026/02/11/locked-story/"


@pytest.fixture
def articles():
    server = ArticleServer()  # one per test: the tests edit pages
    yield server
    server.close()


def citing(articles, config: str = CONFIG, issue: str = ISSUE):
    """A project whose two items cite a Gazette story, a Ledger story and a page that
    refuses readers (403); the intro's link is an example address (nothing to save)."""
    industry = BRIEF.replace("https://example.org/a", articles.url(BUDGET))
    ethics = BRIEF.replace("First headline", "Second headline").replace(
        "https://example.org/a", articles.url(DAM)).replace(
        "        date: 2026-02-10\n",
        f"        date: 2026-02-10\n      - url: {articles.url(LOCKED)}\n"
        "        title: Locked\n        publisher: The Harbour Gazette\n")
    return make_project(Path(os.environ["SAVED_TMP"]) / "news", config=config, issue=issue,
                        briefs={"industry.yaml": industry, "ethics.yaml": ethics})


@pytest.fixture(autouse=True)
def _tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("SAVED_TMP", str(tmp_path))


def warc_files(project) -> list[Path]:
    return sorted((project.root / ".briefing/sources").rglob("*.warc.gz"))


def records(path: Path) -> list:
    from warcio.archiveiterator import ArchiveIterator
    with open(path, "rb") as handle:
        return [(r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
                for r in ArchiveIterator(handle)]


def test_each_cited_page_is_kept_once_as_a_warc_record(articles) -> None:
    project = citing(articles)
    result = project.cli("sources", "--save")
    assert result.code == 0, result.err
    assert result.err == f"not saved: {articles.url(LOCKED)}: 403 Forbidden\n"
    lines = result.out.splitlines()
    assert re.fullmatch(r"saved copies of 2026-W07: 2 new, 0 unchanged, 1 not saved \(3 pages\); "
                        r"\d+ KB in \.briefing/sources/ \(private\)", lines[0]), lines[0]
    assert lines[1:3] == [" 1. https://example.org/intro (link)",
                          "    no saved copy (an example address: nothing to save)"]
    assert lines[3] == f" 2. {articles.url(BUDGET)} (Article A)"
    assert re.fullmatch(r"    saved \d{4}-\d\d-\d\d \d\d:\d\d UTC \(200, \d+ KB\): "
                        r"\.briefing/sources/[0-9a-f]{24}/\d{8}T\d{6}Z-[0-9a-f]{16}\.warc\.gz",
                        lines[4]), lines[4]
    assert lines[-1] == ("2026-W07: 4 sources, 2 with a saved copy (save them with "
                         "'briefing sources 2026-W07 --save')")
    files = warc_files(project)
    assert len(files) == 2
    # Private: folders 0700, files 0600, under .briefing/ and never under out/.
    for path in [project.root / ".briefing", project.root / ".briefing/sources", *files]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert not list((project.root / "out").rglob("*.warc.gz")) if (project.root / "out").exists() \
        else True
    # A standard WARC file, read back with warcio: warcinfo, then the response as it came.
    served = (Path(__file__).parent / "data/articles/gazette/g-budget.html").read_bytes() \
        .replace(b"https://gazette.example.org", articles.base.encode())
    budget = next(p for p in files if served in gzip.decompress(p.read_bytes()))
    (info, _, _, _), (kind, headers, http, body) = records(budget)
    assert (info, kind) == ("warcinfo", "response")
    assert headers.get_header("WARC-Target-URI") == articles.url(BUDGET)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers.get_header("WARC-Date"))
    assert headers.get_header("WARC-Payload-Digest").startswith("sha1:")
    assert http.get_statuscode() == "200"
    assert http.get_header("Content-Type") == "text/html; charset=utf-8"
    assert body == served
    # The story's main text is kept next to it, for the quote check.
    text = budget.with_suffix("").with_suffix(".txt").read_text()
    assert "We will not cut corners on safety" in text and "Read more" not in text
    # Never twice: unchanged pages are not stored again; a changed one is.
    again = project.cli("sources", "--save")
    assert again.out.splitlines()[0].startswith(
        "saved copies of 2026-W07: 0 new, 2 unchanged, 1 not saved (3 pages)")
    assert warc_files(project) == files
    articles.edit(BUDGET, "4.2 million", "4.5 million")
    changed = project.cli("sources", "--save")
    assert changed.out.splitlines()[0].startswith(
        "saved copies of 2026-W07: 1 new, 1 unchanged, 1 not saved (3 pages)")
    assert len(warc_files(project)) == 3
    assert changed.out.splitlines()[4].endswith("; 1 older copy")


def test_a_page_over_the_cap_is_saved_cut_and_said(articles) -> None:
    project = citing(articles, CONFIG + "saved_sources:\n  max_page_bytes: 10000\n")
    articles.replace(BUDGET, "<html><body><article><h1>Long</h1>"
                     + "<p>A very long article about the harbour.</p>" * 1000
                     + "</article></body></html>")
    result = project.cli("sources", "--save")
    assert result.code == 0, result.err
    assert (f"saved cut at 10,000 bytes (saved_sources.max_page_bytes): {articles.url(BUDGET)}"
            in result.out.splitlines())
    cut = [p for p in warc_files(project) if b"very long" in gzip.decompress(p.read_bytes())]
    (_, _, _, _), (_, headers, _, body) = records(cut[0])
    assert headers.get_header("WARC-Truncated") == "length"
    assert len(body) == 10000


def test_the_setting_is_checked(articles) -> None:
    project = citing(articles, CONFIG + "saved_sources:\n  on_send: yes\n  max_page_bytes: 5\n")
    result = project.cli("check")
    assert result.code == 1
    assert result.err.splitlines()[:2] == [
        "briefing.yaml:17:12: error: 'on_send' 'yes' is ambiguous (write true or false)",
        "briefing.yaml:18:19: error: 'max_page_bytes' must be at least 10000"]


def test_a_list_send_saves_every_cited_page_first(articles) -> None:
    project = citing(articles)
    assert project.cli("build").code == 0
    with Server() as server:
        test = project.cli("send", "--smtp", server.url, "--insecure", "--no-dry-run",
                           "--to", "editor@example.org")
        assert test.code == 0, test.err
        assert warc_files(project) == []  # a test send to one address saves nothing
        sent = project.cli("send", "--smtp", server.url, "--insecure", "--no-dry-run")
        assert sent.code == 0, sent.err
    lines = sent.out.splitlines()
    assert f"not saved: {articles.url(LOCKED)}: 403 Forbidden" in lines
    assert any(line.startswith("saved copies of 2026-W07: 2 new, 0 unchanged, 1 not saved")
               for line in lines), lines
    assert len(warc_files(project)) == 2


def test_a_send_saves_nothing_when_switched_off(articles) -> None:
    project = citing(articles, CONFIG + "saved_sources:\n  on_send: false\n")
    assert project.cli("build").code == 0
    with Server() as server:
        sent = project.cli("send", "--smtp", server.url, "--insecure", "--no-dry-run")
        assert sent.code == 0, sent.err
    assert articles.log == [] and warc_files(project) == []
    assert "saved copies" not in sent.out


def test_links_names_the_copy_of_a_page_that_died_or_changed(articles) -> None:
    project = citing(articles, issue="title: Links\ndate: 2026-02-13\n")  # no example.org
    assert project.cli("sources", "--save").code == 0
    day = re.search(r"(\d{8})T", warc_files(project)[0].name).group(1)
    day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    articles.routes.pop(DAM)  # the Ledger took the story down
    articles.replace(BUDGET, "<html><head><title>Harbour Gazette</title></head><body><main>"
                     "<h1>Page moved</h1><p>Our archive is being rebuilt. Try the search "
                     "page, or browse today's front page for the latest news from the quay, "
                     "the council and the ferry routes, with weather and tides.</p></main>"
                     "</body></html>")
    result = project.cli("links", "--no-cache", "--timeout", "5")
    assert result.code == 1
    assert result.err.splitlines() == [
        f"briefs/2026-W07/ethics.yaml:5:23: error: 404 Not Found: {articles.url(DAM)} (a copy "
        f"saved on {day} is in .briefing/sources/) [link-broken]",
        f"briefs/2026-W07/ethics.yaml:12:14: error: 403 Forbidden: {articles.url(LOCKED)} "
        "[link-broken]",
        f"briefs/2026-W07/industry.yaml:5:23: warning: the page has changed beyond recognition "
        f"since the copy saved on {day} (0% of that text is still there): "
        f"{articles.url(BUDGET)} [link-changed]"]
