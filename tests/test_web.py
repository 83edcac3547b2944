"""The web edition through the real CLI: drafts, issue pages, feeds, the public out/ folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
import jsonschema
import pytest

from conftest import BRIEF, CONFIG, ISSUE, REPO, ProjectFactory

DATA = Path(__file__).parent / "data"


def add_issue(project: ProjectFactory, issue_id: str, date: str, title: str,
              headline: str = "Second issue headline", url: str = "https://example.org/c",
              extra: str = "") -> None:
    project.write(f"briefs/{issue_id}/issue.yaml", ISSUE.replace("A test issue", title)
                  .replace("2026-02-13", date) + extra)
    project.write(f"briefs/{issue_id}/industry.yaml",
                  BRIEF.replace("First headline", headline).replace("https://example.org/a", url))


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def page(project: ProjectFactory, issue_id: str) -> str:
    return (project.root / "out" / issue_id / "index.html").read_text(encoding="utf-8")


# --- drafts -----------------------------------------------------------------------------------

def test_a_draft_builds_privately_and_publishes_when_the_line_goes(project) -> None:
    assert project.cli("build").code == 0
    add_issue(project, "2026-W09", "2026-02-27", "Draft in progress", extra="draft: true\n")
    public_before = {n: (project.root / "out" / n).read_bytes()
                     for n in ("index.html", "feed.xml", "feed.json", "archive.txt")}

    result = project.cli("build", "2026-W09")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0].endswith(
        "-> .briefing/drafts/2026-W09/ (a draft: not published)")
    drafts = project.root / ".briefing/drafts/2026-W09"
    assert files(drafts) == {"email.html", "digest.txt", "message.eml", "issue.json",
                             "index.html"}
    assert "Draft: this page is private" in (drafts / "index.html").read_text()
    assert '<meta name="robots" content="noindex">' in (drafts / "index.html").read_text()
    assert not (project.root / "out/2026-W09").exists()
    assert {n: (project.root / "out" / n).read_bytes() for n in public_before} == public_before
    archive = project.cli("archive")
    assert archive.out.endswith("(drafts, never listed: 2026-W09)\n")
    assert "Draft in progress" not in (project.root / "out/index.html").read_text()
    search = project.cli("archive", "search", "second", "issue")
    assert search.out.startswith("2026-W09 (2026-02-27) (draft) · Industry")

    # Publishing: remove the line and build. The private copy goes, the public one appears.
    project.write("briefs/2026-W09/issue.yaml", ISSUE.replace("A test issue", "Now public")
                  .replace("2026-02-13", "2026-02-27"))
    result = project.cli("build", "2026-W09")
    assert result.code == 0, result.err
    assert "-> out/2026-W09/\n" in result.out
    assert not drafts.exists()
    for name in ("index.html", "feed.xml", "feed.json", "archive.txt"):
        assert "Now public" in (project.root / "out" / name).read_text(), name


def test_a_published_issue_marked_draft_is_refused(project) -> None:
    assert project.cli("build").code == 0
    project.write("briefs/2026-W07/issue.yaml", ISSUE + "draft: true\n")
    result = project.cli("build")
    assert result.code == 1
    assert result.err == (
        "briefs/2026-W07/issue.yaml: error: issue 2026-W07 says 'draft: true' but is published "
        "in out/2026-W07/ (remove the draft line to rebuild it there, or remove out/2026-W07/ "
        "and run 'briefing archive' to unpublish it)\n")


def test_draft_must_be_true_or_false(project) -> None:
    project.write("briefs/2026-W07/issue.yaml", ISSUE + "draft: yes\n")
    result = project.cli("check")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "briefs/2026-W07/issue.yaml:6:8: error: 'draft' 'yes' is ambiguous (write true or false)")


def test_new_issue_from_new_is_a_draft_with_its_todos(project) -> None:
    assert project.cli("build").code == 0
    assert project.cli("new", "ethics", "--issue", "2026-W49").code == 0
    result = project.cli("build", "2026-W49")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].endswith("-> .briefing/drafts/2026-W49/ (a draft: not published)")
    assert lines[-1] == "7 warnings: run 'briefing check 2026-W49'"
    assert not (project.root / "out/2026-W49").exists()
    assert "TODO" not in (project.root / "out/index.html").read_text()


def test_build_without_warnings_ends_with_the_summary(project) -> None:
    result = project.cli("build")
    assert result.code == 0
    assert len(result.out.splitlines()) == 1


@pytest.mark.skipif(not __import__("shutil").which("chromium"), reason="needs Chromium")
def test_screenshots_of_a_draft(project) -> None:
    project.write("briefs/2026-W07/issue.yaml", ISSUE + "draft: true\n")
    result = project.cli("build", "--screenshots", timeout=180)
    assert result.code == 0, result.err
    assert result.out.splitlines()[1] == (
        "screenshots 2026-W07: light-375.png, dark-375.png, light-600.png, dark-600.png, "
        "web-light-1280.png, web-dark-375.png, preview-1400.png -> .briefing/screenshots/2026-W07/")
    assert (project.root / ".briefing/screenshots/2026-W07/dark-375.png").stat().st_size
    assert not (project.root / "out").exists()
    assert not (project.root / ".briefing/drafts/2026-W07/preview").exists()


# --- the issue page ---------------------------------------------------------------------------

def test_issue_page_has_content_share_tags_and_neighbours(project) -> None:
    add_issue(project, "2026-W09", "2026-02-27", "The later issue")
    add_issue(project, "2026-W11", "2026-03-13", "The latest issue", url="https://example.org/d")
    assert project.cli("build", "2026-W07").code == 0
    assert project.cli("build", "2026-W11").code == 0
    assert project.cli("build", "2026-W09").code == 0  # in between: its neighbours learn of it
    middle = page(project, "2026-W09")
    for tag in (
            '<html lang="en">',
            "<title>The later issue · Test Briefing</title>",
            '<meta name="description" content="Short preview text">',
            '<link rel="canonical" href="https://example.org/archive/2026-W09/">',
            '<meta property="og:type" content="article">',
            '<meta property="og:title" content="The later issue">',
            '<meta property="og:description" content="Short preview text">',
            '<meta property="og:url" content="https://example.org/archive/2026-W09/">',
            '<meta property="og:site_name" content="Test Briefing">',
            '<meta name="twitter:card" content="summary">',
            '<meta name="twitter:title" content="The later issue">',
            '<a href="../2026-W07/" rel="prev">← A test issue</a>',
            '<a href="../">All issues</a>',
            '<a href="../2026-W11/" rel="next">The latest issue →</a>',
            "<h3>Second issue headline</h3>"):
        assert tag in middle, tag
    for chrome in ("Unsubscribe", "You are receiving", "&#847;", "1 Test Street"):
        assert chrome not in middle, chrome
    assert '<a href="../2026-W09/" rel="next">' in page(project, "2026-W07")
    assert '<a href="../2026-W09/" rel="prev">' in page(project, "2026-W11")
    # `archive` rebuilds every page from issue.json: the same bytes
    before = {i: page(project, i) for i in ("2026-W07", "2026-W09", "2026-W11")}
    assert project.cli("archive").code == 0
    assert {i: page(project, i) for i in before} == before


def test_page_escapes_brief_text(factory) -> None:
    project = factory(issue=ISSUE.replace("A test issue", '"<script>x</script> & co"'))
    assert project.cli("build").code == 0
    text = page(project, "2026-W07")
    assert "<script>x" not in text
    assert "<title>&lt;script&gt;x&lt;/script&gt; &amp; co · Test Briefing</title>" in text


def test_view_in_browser_link(project, factory) -> None:
    assert project.cli("build").code == 0
    email = (project.root / "out/2026-W07/email.html").read_text()
    assert ('<a href="https://example.org/archive/2026-W07/" style="color:#1f5fbf">View in your '
            'browser</a>') in email
    assert email.index("View in your browser") < email.index("A test issue</h1>")
    digest = (project.root / "out/2026-W07/digest.txt").read_text()
    assert digest.startswith("Read it on the web: https://example.org/archive/2026-W07/\n\n"
                             "TEST BRIEFING\n")


def test_no_view_in_browser_without_archive_url(factory) -> None:
    project = factory(config=CONFIG.replace("archive_url: https://example.org/archive/\n", ""))
    assert project.cli("build").code == 0
    assert "View in your browser" not in (project.root / "out/2026-W07/email.html").read_text()
    assert (project.root / "out/2026-W07/digest.txt").read_text().startswith("TEST BRIEFING\n")
    text = page(project, "2026-W07")
    assert "canonical" not in text and "og:url" not in text


# --- feeds ------------------------------------------------------------------------------------

def three_issues(project: ProjectFactory, config: str = CONFIG) -> None:
    project.write("briefing.yaml", config)
    add_issue(project, "2026-W09", "2026-02-27", "The later issue")
    add_issue(project, "2026-W11", "2026-03-13", "The latest issue", headline="贾樟柯 on AI",
              url="https://example.org/d")
    result = project.cli("build", "--all")
    assert result.code == 0, result.err


def test_json_feed_is_valid_against_the_published_schema(project) -> None:
    three_issues(project)
    feed = json.loads((project.root / "out/feed.json").read_text(encoding="utf-8"))
    schema = json.loads((DATA / "jsonfeed-1.1.schema.json").read_text())
    jsonschema.validate(feed, schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["home_page_url"] == "https://example.org/archive/"
    assert feed["feed_url"] == "https://example.org/archive/feed.json"
    assert [i["title"] for i in feed["items"]] == ["The latest issue", "The later issue",
                                                   "A test issue"]
    latest = feed["items"][0]
    assert latest["id"] == "https://example.org/archive/2026-W11/"
    assert latest["url"] == "https://example.org/archive/2026-W11/"
    assert latest["date_published"] == "2026-03-13T00:00:00Z"
    assert latest["summary"] == "Short preview text"
    assert "<h3>贾樟柯 on AI</h3>" in latest["content_html"]
    assert "Unsubscribe" not in latest["content_html"]
    # Atom and JSON Feed carry the same content and ids
    atom = feedparser.parse(str(project.root / "out/feed.xml"))
    assert atom.bozo is False, atom.get("bozo_exception")
    assert [e.id for e in atom.entries] == [i["id"] for i in feed["items"]]
    assert "<h3>贾樟柯 on AI</h3>" in atom.entries[0].content[0].value


def test_feed_limit(project) -> None:
    three_issues(project, CONFIG + "feed_limit: 2\n")
    feed = json.loads((project.root / "out/feed.json").read_text(encoding="utf-8"))
    assert [i["title"] for i in feed["items"]] == ["The latest issue", "The later issue"]
    atom = feedparser.parse(str(project.root / "out/feed.xml"))
    assert atom.bozo is False
    assert [e.title for e in atom.entries] == ["The latest issue", "The later issue"]
    assert "A test issue" in (project.root / "out/index.html").read_text()  # all still listed


def test_json_feed_without_archive_url(factory) -> None:
    project = factory(config=CONFIG.replace("archive_url: https://example.org/archive/\n", ""))
    assert project.cli("build").code == 0
    feed = json.loads((project.root / "out/feed.json").read_text(encoding="utf-8"))
    jsonschema.validate(feed, json.loads((DATA / "jsonfeed-1.1.schema.json").read_text()),
                        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert "home_page_url" not in feed and "url" not in feed["items"][0]
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", feed["items"][0]["id"])


# --- out/ holds only what may be published ----------------------------------------------------

def test_out_holds_only_public_files_of_published_issues(project) -> None:
    add_issue(project, "2026-W09", "2026-02-27", "Still a draft", extra="draft: true\n")
    add_issue(project, "2026-W11", "2026-03-13", "Published too", url="https://example.org/d")
    assert project.cli("new", "ethics", "--issue", "2026-W12").code == 0  # a TODO draft
    result = project.cli("build", "--all")
    assert result.code == 0, result.err
    assert project.cli("archive").code == 0
    out = project.root / "out"
    public = {f"{i}/{n}" for i in ("2026-W07", "2026-W11")
              for n in ("email.html", "digest.txt", "message.eml", "issue.json", "index.html")}
    public |= {"index.html", "feed.xml", "feed.json", "archive.txt"}
    found = files(out)
    assert {f for f in found if not f.startswith("pagefind/")} == public
    assert "pagefind/pagefind-entry.json" in found
    everything = b"".join((out / f).read_bytes() for f in found)
    for private in (b"Still a draft", b"TODO", b".briefing", b"2026-W09", b"2026-W12"):
        assert private not in everything, private
    # every link of every page resolves inside out/ (or leaves the site)
    for name in [f for f in found if f.endswith(".html")]:
        for href in re.findall(r'(?:href|src)="([^"#]+)', (out / name).read_text()):
            if href.startswith(("https://", "http://")):
                continue
            target = (out / name).parent / href
            assert target.is_file() or (target / "index.html").is_file(), (name, href)
    assert files(project.root / ".briefing/drafts") == {
        f"{i}/{n}" for i in ("2026-W09", "2026-W12")
        for n in ("email.html", "digest.txt", "message.eml", "issue.json", "index.html")}


def test_golden_site_pages_are_committed() -> None:
    for name in ("index.html", "feed.xml", "feed.json", "archive.txt", "2026-W07/index.html",
                 "2026-W10/index.html"):
        assert (REPO / "out" / name).is_file(), name


@pytest.mark.skipif(not __import__("shutil").which("chromium"), reason="needs Chromium")
def test_issue_page_reads_on_a_phone_and_in_dark_mode(factory, tmp_path: Path) -> None:
    from briefing.editorial.browser import MEASURE, Browser
    long = "A" * 90 + " long unbroken title"
    project = factory(issue=ISSUE.replace("A test issue", long), briefs={
        "industry.yaml": BRIEF + "    stat:\n      - {label: China, value: 69, unit: '%'}\n"
                                 "      - {label: United States, value: 35, unit: '%'}\n"})
    assert project.cli("build").code == 0
    url = (project.root / "out/2026-W07/index.html").as_uri()
    with Browser(offline=True, profile_parent=tmp_path) as browser:
        page_ = browser.new_page()
        page_.viewport(375, mobile=True)
        for dark, background, text in ((False, "rgb(255, 255, 255)", "rgb(29, 35, 43)"),
                                       (True, "rgb(23, 25, 28)", "rgb(232, 234, 237)")):
            page_.colour_scheme(dark)
            page_.open(url)
            m = page_.evaluate(MEASURE)
            assert max(m["scrollWidth"], m["bodyScrollWidth"]) <= 375, m["scrollWidth"]
            assert m["pageBackground"] == background
            h1 = next(h for h in m["headings"] if h["tag"] == "h1")
            assert h1["visible"] and h1["box"]["right"] <= 375 and h1["color"] == text
            assert min(t["fontSize"] for t in m["texts"]) >= 14
            assert page_.evaluate("document.querySelector('.bar').getBoundingClientRect()"
                                  ".width") > 0  # the chart is drawn
