"""The archive through the real CLI: issue.json, index, feed, archive.txt, frozen issues, search."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from wcwidth import wcswidth

from conftest import BRIEF, CONFIG, ISSUE, ProjectFactory, make_project

ATOM = "{http://www.w3.org/2005/Atom}"
ARCHIVE_FILES = "out/index.html, out/feed.xml, out/feed.json, out/archive.txt, out/pagefind/"
ARCHIVE_LINE = "archived {n} -> " + ARCHIVE_FILES + "\n"


def add_issue(project: ProjectFactory, issue_id: str, date: str, title: str,
              headline: str = "Second issue headline", url: str = "https://example.org/c",
              **fields: str) -> None:
    """Another issue in the same project: one industry item."""
    project.write(f"briefs/{issue_id}/issue.yaml", ISSUE.replace("A test issue", title)
                  .replace("2026-02-13", date))
    brief = BRIEF.replace("First headline", headline).replace("https://example.org/a", url)
    for old, new in fields.items():
        brief = brief.replace(old, new)
    project.write(f"briefs/{issue_id}/industry.yaml", brief)


@pytest.fixture
def two(project: ProjectFactory) -> ProjectFactory:
    """The default issue (2026-W07, 13 Feb) and 2026-W09 (27 Feb), both built."""
    add_issue(project, "2026-W09", "2026-02-27", "The later issue")
    result = project.cli("build", "--all")
    assert result.code == 0, result.err
    return project


def out(project: ProjectFactory, name: str) -> str:
    return (project.root / "out" / name).read_text(encoding="utf-8")


def archive_bytes(project: ProjectFactory) -> dict[str, bytes]:
    return {n: (project.root / "out" / n).read_bytes()
            for n in ("index.html", "feed.xml", "feed.json", "archive.txt")}


# --- issue.json -------------------------------------------------------------------------------

def test_issue_json_is_versioned_numbered_and_deterministic(project) -> None:
    assert project.cli("build").code == 0
    first = (project.root / "out/2026-W07/issue.json").read_bytes()
    data = json.loads(first)
    assert data["schema_version"] == 1
    assert (data["id"], data["title"], data["date"]) == ("2026-W07", "A test issue", "2026-02-13")
    assert data["newsletter"] == {"name": "Test Briefing", "tagline": "A test newsletter",
                                  "language": "en", "archive_url": "https://example.org/archive/"}
    assert [t["id"] for t in data["themes"]] == ["industry", "ethics"]
    item = data["themes"][0]["items"][0]
    assert item["headline"] == "First headline"
    assert item["summary_text"] == ("A summary with emphasis, strong text and a linked source.")
    assert item["sources"][0]["number"] == 2 and item["references"] == [2]
    assert [(r["number"], r["url"]) for r in data["references"]] == [
        (1, "https://example.org/intro"), (2, "https://example.org/a"),
        (3, "https://example.org/b")]
    assert project.cli("build").code == 0
    assert (project.root / "out/2026-W07/issue.json").read_bytes() == first


# --- what build writes ------------------------------------------------------------------------

def test_build_refreshes_the_archive(project) -> None:
    result = project.cli("build")
    assert result.code == 0, result.err
    assert result.out.count("\n") == 1  # the one-line summary; the archive is refreshed quietly
    first = archive_bytes(project)
    assert "A test issue" in first["index.html"].decode()
    add_issue(project, "2026-W09", "2026-02-27", "The later issue")
    assert project.cli("build", "2026-W09").code == 0
    second = archive_bytes(project)
    assert all(b"The later issue" in second[name] for name in second)
    assert all(b"A test issue" in second[name] for name in second)


def test_archive_is_deterministic(two) -> None:
    first = archive_bytes(two)
    result = two.cli("archive")
    assert result.code == 0, result.err
    assert result.out == ARCHIVE_LINE.format(n="2 issues")
    assert archive_bytes(two) == first


def test_index_lists_issues_newest_first(two) -> None:
    page = out(two, "index.html")
    assert '<html lang="en">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<link rel="alternate" type="application/atom+xml" title="Test Briefing" ' \
           'href="feed.xml">' in page
    assert page.index("The later issue") < page.index("A test issue")
    assert ('<time datetime="2026-02-27">Friday 27 February 2026</time> · 2026-W09 · 1 item'
            in page)
    assert ('<time datetime="2026-02-13">Friday 13 February 2026</time> · 2026-W07 · 2 items'
            in page)
    assert ('<h3>Industry&nbsp;<span class="muted">(1)</span></h3>\n<ul>\n'
            '<li>First headline</li>\n</ul>\n'
            '<h3>Ethics&nbsp;<span class="muted">(1)</span></h3>\n<ul>\n'
            '<li>Second headline</li>\n</ul>') in page
    hrefs = re.findall(r'href="([^"]+)"', page)
    for issue in ("2026-W07", "2026-W09"):
        for name in ("", "digest.txt", "message.eml"):
            assert f"{issue}/{name}" in hrefs
    for href in hrefs:  # every link resolves inside out/ (a folder serves its index.html)
        if href == "https://example.org/archive/":  # the canonical URL
            continue
        target = two.root / "out" / href
        assert target.is_file() or (target / "index.html").is_file(), href


def test_index_escapes_brief_text_and_can_be_overridden(factory) -> None:
    project = factory(issue=ISSUE.replace("A test issue", '"<script>alert(1)</script> & co"'))
    assert project.cli("build").code == 0
    page = out(project, "index.html")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    project.write("templates/index.html.j2",
                  "{% for i in issues %}{{ i.id }}={{ i.title }};{% endfor %}\n")
    assert project.cli("archive").code == 0
    assert out(project, "index.html") == \
        "2026-W07=&lt;script&gt;alert(1)&lt;/script&gt; &amp; co;\n"
    project.write("templates/index.html.j2", "{{ issues[0].nope }}\n")
    result = project.cli("archive")
    assert result.code == 1
    assert result.err.startswith("templates/index.html.j2:1:1: error: template error: ")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="needs Chromium (installed by .ci/run)")
def test_index_reads_on_a_phone_in_chromium(factory, tmp_path: Path) -> None:
    """At 375 CSS pixels nothing scrolls sideways, text is 16px or more, links are easy to tap."""
    project = factory(issue=ISSUE.replace("A test issue", "A" * 90 + " long unbroken title"))
    assert project.cli("build").code == 0
    site = tmp_path / "site"
    shutil.copytree(project.root / "out", site / "out")
    # The probe frames the index at phone width (same origin, so it can measure the layout)
    (site / "probe.html").write_text("""<!DOCTYPE html><html><body>
<iframe id="f" src="out/index.html" style="width:375px;height:4000px;border:0"></iframe>
<script>
document.getElementById("f").onload = function () {
  var d = this.contentDocument, w = this.contentWindow, root = d.documentElement;
  var taps = Array.prototype.map.call(d.querySelectorAll(".links a"),
                                      function (a) { return a.getBoundingClientRect().height; });
  var out = document.createElement("pre");
  out.id = "result";
  out.textContent = JSON.stringify({scroll: root.scrollWidth, width: root.clientWidth,
    font: parseFloat(w.getComputedStyle(d.body).fontSize), taps: taps});
  document.body.appendChild(out);
};
</script></body></html>""")
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proc = subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chrome'}", "--window-size=800,900",
             "--virtual-time-budget=5000", "--dump-dom",
             f"http://127.0.0.1:{server.server_address[1]}/probe.html"],
            capture_output=True, text=True, timeout=90)
    finally:
        server.shutdown()
        server.server_close()
    found = re.search(r'<pre id="result">(.*?)</pre>', proc.stdout)
    assert found, proc.stderr[-2000:]
    layout = json.loads(found.group(1).replace("&quot;", '"'))
    assert layout["width"] == 375
    assert layout["scroll"] <= layout["width"], layout
    assert layout["font"] >= 16, layout
    assert layout["taps"] and min(layout["taps"]) >= 24, layout  # WCAG 2.2 target size


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


# --- the Atom feed ----------------------------------------------------------------------------

def test_feed_is_valid_atom(two) -> None:
    parsed = feedparser.parse(str(two.root / "out/feed.xml"))
    assert parsed.bozo is False, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Test Briefing"
    assert parsed.feed.id == "https://example.org/archive/"
    assert parsed.feed.updated == "2026-02-27T00:00:00Z"  # the newest issue's date, no clock
    assert [e.title for e in parsed.entries] == ["The later issue", "A test issue"]
    later, first = parsed.entries
    assert later.id == "https://example.org/archive/2026-W09/"
    assert first.id == "https://example.org/archive/2026-W07/"
    assert first.updated == "2026-02-13T00:00:00Z"
    assert first.summary == "Short preview text"
    assert {(link.type, link.href) for link in first.links} == {
        ("text/html", "https://example.org/archive/2026-W07/"),
        ("text/plain", "https://example.org/archive/2026-W07/digest.txt")}
    assert first.content[0].type == "text/html"
    assert [t.term for t in first.tags] == ["industry", "ethics"]

    # RFC 4287's required elements, and the issue's content as escaped HTML
    root = ET.parse(two.root / "out/feed.xml").getroot()
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{tag}") is not None, tag
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{tag}") is not None, tag
    content = entries[1].find(f"{ATOM}content")
    assert content.get("type") == "html"
    # the issue's content only: no email chrome (title, preheader filler, unsubscribe footer)
    assert content.text.startswith("<p>The editor&#39;s note with a <a href=\"https://example.org/"
                                   "intro\">link</a>.</p>\n<section id=\"industry\">\n"
                                   "<h2>Industry</h2>\n<article id=\"first-headline\">\n"
                                   "<h3>First headline</h3>\n")
    for chrome in ("<title>", "\u034f", "&#847;", "Unsubscribe", "You are receiving",
                   "1 Test Street", "Short preview text"):
        assert chrome not in content.text, chrome


def test_feed_ids_are_stable_and_work_without_archive_url(factory) -> None:
    project = factory(config=CONFIG.replace("archive_url: https://example.org/archive/\n", ""))
    assert project.cli("build").code == 0
    parsed = feedparser.parse(str(project.root / "out/feed.xml"))
    assert parsed.bozo is False, parsed.get("bozo_exception")
    (entry,) = parsed.entries
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", entry.id)
    assert entry.link == "2026-W07/"  # relative to the feed, which lives in out/
    add_issue(project, "2026-W09", "2026-02-27", "The later issue")
    assert project.cli("build", "--all").code == 0
    parsed = feedparser.parse(str(project.root / "out/feed.xml"))
    assert parsed.bozo is False
    assert [e.id for e in parsed.entries][1] == entry.id
    assert parsed.entries[0].id != entry.id


def test_feed_escapes_hostile_text(factory) -> None:
    title = "Tom & Jerry <b>bold</b> ]]> \\u00e9t\\u00e9 \\U0001F3AC"
    project = factory(issue=ISSUE.replace("A test issue", f'"{title}"'))
    result = project.cli("build")
    assert result.code == 0, result.err
    parsed = feedparser.parse(str(project.root / "out/feed.xml"))
    assert parsed.bozo is False, parsed.get("bozo_exception")
    assert parsed.entries[0].title == "Tom & Jerry <b>bold</b> ]]> été 🎬"
    assert "<b>bold</b>" not in out(project, "feed.xml")


def test_feed_drops_characters_xml_cannot_carry(project) -> None:
    """Validation refuses control characters in briefs; the feed does not rely on it."""
    assert project.cli("build").code == 0
    path = project.root / "out/2026-W07/issue.json"
    data = json.loads(path.read_text())
    data["title"] = "Bell\u0007 and \ufffe escape \U0001F3AC"
    path.write_text(json.dumps(data))
    assert project.cli("archive").code == 0
    parsed = feedparser.parse(str(project.root / "out/feed.xml"))
    assert parsed.bozo is False, parsed.get("bozo_exception")
    assert parsed.entries[0].title == "Bell and  escape 🎬"


# --- archive.txt ------------------------------------------------------------------------------

def test_archive_txt_is_a_wrapped_table_of_contents(factory) -> None:
    long_cjk = "导演贾樟柯用人工智能复制了自己，观众在社交媒体上争论电影究竟为了什么，" * 2
    project = factory(briefs={"industry.yaml": BRIEF.replace("First headline", long_cjk)})
    add_issue(project, "2026-W09", "2026-02-27", "The later issue",
              headline="A rather long English headline that will certainly need to wrap onto "
                       "a second line of the table of contents")
    assert project.cli("build", "--all").code == 0
    text = out(project, "archive.txt")
    assert all(wcswidth(line) <= 72 for line in text.splitlines()), text
    assert text.startswith("TEST BRIEFING\nA test newsletter\n" + "=" * 72 + "\n")
    assert "Archive: 2 issues, newest first." in text
    assert text.index("Friday 27 February 2026 · 2026-W09\nThe later issue\n") < \
        text.index("Friday 13 February 2026 · 2026-W07\nA test issue\n")
    assert "https://example.org/archive/2026-W07/digest.txt" in text
    assert "Industry (1)\n  • 导演贾樟柯" in text
    assert "  • A rather long English headline that will certainly need to wrap onto\n" \
           "    a second line of the table of contents\n" in text
    assert "".join(text.split()).count("导演贾樟柯用人工智能复制了自己") == 2


# --- `briefing archive` -----------------------------------------------------------------------

def test_archive_reads_out_not_briefs(two) -> None:
    first = archive_bytes(two)
    for name in first:
        (two.root / "out" / name).unlink()
    # A brief broken after the build is not re-validated, and the briefs may even be gone:
    two.write("briefs/2026-W07/industry.yaml", "items: [")
    shutil.rmtree(two.root / "briefs/2026-W09")
    result = two.cli("archive")
    assert result.code == 0, result.err
    assert result.err == ""
    assert archive_bytes(two) == first


def test_archive_names_issues_not_built_yet(project) -> None:
    assert project.cli("build").code == 0
    add_issue(project, "2026-W09", "2026-02-27", "The later issue")
    result = project.cli("archive")
    assert result.code == 0
    assert result.out == (f"archived 1 issue -> {ARCHIVE_FILES} "
                          "(not built yet, so not listed: 2026-W09)\n")


def test_archive_with_nothing_built(project) -> None:
    result = project.cli("archive")
    assert result.code == 1
    assert result.err == ("out: error: no built issues to archive (build one with "
                          "'briefing build')\n")


@pytest.mark.parametrize("content, message", [
    ("{not json", "out/2026-W07/issue.json:1:2: error: not valid JSON: Expecting property name "
                  "enclosed in double quotes (rebuild it with 'briefing build 2026-W07')"),
    ('{"schema_version": 2}', "out/2026-W07/issue.json: error: schema_version 2 was written by a "
                              "newer briefing; this one reads versions up to 1 (rebuild it with "
                              "'briefing build 2026-W07')"),
    ('{"schema_version": 1, "id": "2026-W01"}',
     "out/2026-W07/issue.json: error: 'id' is '2026-W01' but the folder is out/2026-W07 "
     "(rebuild it with 'briefing build 2026-W07')"),
    ("[]", "out/2026-W07/issue.json: error: issue.json is not a JSON object (rebuild it with "
           "'briefing build 2026-W07')"),
])
def test_archive_refuses_a_damaged_issue_json(project, content: str, message: str) -> None:
    assert project.cli("build").code == 0
    before = archive_bytes(project)
    (project.root / "out/2026-W07/issue.json").write_text(content)
    result = project.cli("archive")
    assert result.code == 1
    assert result.err == message + "\n"
    assert "Traceback" not in result.err
    assert archive_bytes(project) == before


def test_archive_refuses_a_damaged_item(project) -> None:
    assert project.cli("build").code == 0
    path = project.root / "out/2026-W07/issue.json"
    data = json.loads(path.read_text())
    data["themes"][1]["items"][0]["sources"][0]["url"] = None
    path.write_text(json.dumps(data))
    result = project.cli("archive")
    assert result.code == 1
    assert result.err == ("out/2026-W07/issue.json: error: 'themes[1].items[0].sources[0].url' "
                          "is missing or not text (rebuild it with 'briefing build 2026-W07')\n")


def test_archive_warns_about_a_folder_without_issue_json(two) -> None:
    (two.root / "out/2026-W09/issue.json").unlink()
    result = two.cli("archive")
    assert result.code == 0
    assert result.err == ("out/2026-W09: warning: no issue.json, so this folder is not in the "
                          "archive (rebuild it with 'briefing build 2026-W09')\n")
    assert result.out == ARCHIVE_LINE.format(n="1 issue")[:-1] + \
        " (not built yet, so not listed: 2026-W09)\n"
    assert "The later issue" not in out(two, "index.html")


def test_archive_refuses_a_linked_issue_folder(project, tmp_path: Path) -> None:
    assert project.cli("build").code == 0
    elsewhere = make_project(tmp_path / "elsewhere")
    assert elsewhere.cli("build").code == 0
    (project.root / "out/2026-W01").symlink_to(elsewhere.root / "out/2026-W07",
                                               target_is_directory=True)
    result = project.cli("archive")
    assert result.code == 1
    assert result.err == ("out/2026-W01: error: issue folder is a symbolic link; the archive "
                          "only reads real folders in out/\n")


# --- frozen issues and build --all --------------------------------------------------------------

def test_a_sent_issue_is_frozen(project) -> None:
    assert project.cli("build").code == 0
    (project.root / "out/2026-W07/sent.jsonl").write_text('{"to": "one@example.org"}\n')
    project.write("briefs/2026-W07/industry.yaml", BRIEF.replace("First headline", "Rewritten"))
    before = {p.name: p.read_bytes() for p in (project.root / "out/2026-W07").iterdir()}
    result = project.cli("build")
    assert result.code == 1
    assert result.out == ""
    # docs/record.md: the one change a sent issue accepts is a correction.
    assert result.err == ("briefs/2026-W07/industry.yaml:2:15: error: issue 2026-W07 has been "
                          "sent, so this item cannot change (its headline differs from what was "
                          "sent: 'First headline') (add a correction instead: 'corrections:' in "
                          "briefs/2026-W07/issue.yaml (docs/record.md); to replace what was "
                          "sent anyway: 'briefing build 2026-W07 --force')\n")
    assert {p.name: p.read_bytes() for p in (project.root / "out/2026-W07").iterdir()} == before
    result = project.cli("build", "2026-W07", "--force")
    assert result.code == 0, result.err
    assert "Rewritten" in out(project, "2026-W07/digest.txt")
    assert (project.root / "out/2026-W07/sent.jsonl").exists()  # the ledger is never touched


def test_build_all_skips_sent_issues(two) -> None:
    add_issue(two, "2026-W11", "2026-03-13", "A draft issue")
    (two.root / "out/2026-W07/sent.jsonl").write_text("{}\n")
    two.write("briefs/2026-W07/industry.yaml", BRIEF.replace("First headline", "Rewritten"))
    frozen = (two.root / "out/2026-W07/digest.txt").read_bytes()
    result = two.cli("build", "--all")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert [line.split(" (")[0] for line in lines[:2]] == ["built 2026-W09", "built 2026-W11"]
    assert lines[2:4] == [
        "skipped 2026-W07: sent, so its outputs are frozen (rebuild it with 'briefing build "
        "2026-W07 --force')",
        f"archived 3 issues -> {ARCHIVE_FILES}"]
    assert (two.root / "out/2026-W07/digest.txt").read_bytes() == frozen
    assert "A draft issue" in out(two, "index.html")
    assert "A test issue" in out(two, "index.html")  # a frozen issue stays in the archive


def test_build_all_writes_nothing_when_any_issue_is_invalid(two) -> None:
    add_issue(two, "2026-W11", "2026-03-13", "A draft issue")
    two.write("briefs/2026-W07/industry.yaml", BRIEF.replace("First headline", "Rewritten"))
    two.write("briefs/2026-W09/industry.yaml", BRIEF.replace("    why: It matters.\n",
                                                             "    why: [It matters.]\n"))
    two.write("briefs/2026-W11/ethics.yaml", "items: 3\n")
    # out/.cache holds compiled templates, not outputs: it may change, the outputs may not
    def outputs() -> dict:
        return {p: p.read_bytes() for p in (two.root / "out").rglob("*")
                if p.is_file() and ".cache" not in p.parts}

    before = outputs()
    result = two.cli("build", "--all")
    assert result.code == 1
    assert result.out == ""
    errors = result.err.splitlines()
    assert errors[0].startswith("briefs/2026-W09/industry.yaml:6:")
    assert errors[1].startswith("briefs/2026-W11/ethics.yaml:1:")
    assert errors[-1] == "2 errors in 2 files"
    assert outputs() == before
    assert not (two.root / "out/2026-W11").exists()


def test_build_all_takes_no_issue(project) -> None:
    result = project.cli("build", "2026-W07", "--all")
    assert result.code == 2
    assert "give an issue or --all, not both" in result.err


def test_build_all_when_every_issue_was_sent(project) -> None:
    assert project.cli("build").code == 0
    (project.root / "out/2026-W07/sent.jsonl").write_text("{}\n")
    result = project.cli("build", "--all")
    assert result.code == 0
    assert result.out == ("skipped 2026-W07: sent, so its outputs are frozen (rebuild it with "
                          "'briefing build 2026-W07 --force')\n" + ARCHIVE_LINE.format(n="1 issue"))


# --- search -----------------------------------------------------------------------------------

@pytest.fixture
def searchable(project: ProjectFactory) -> ProjectFactory:
    add_issue(project, "2026-W09", "2026-02-27", "The later issue",
              headline="贾樟柯 meets his AI double", url="https://example.org/jia",
              **{"Article A": "Straße der Ｆｉｌｍｅ", "Example News": "DT Next"})
    add_issue(project, "2026-W11", "2026-03-13", "A draft", headline="Draft about Seedance",
              url="https://example.org/draft")
    result = project.cli("build", "2026-W07")
    assert result.code == 0, result.err
    assert project.cli("build", "2026-W09").code == 0
    return project


def test_search_finds_items_case_insensitively(searchable) -> None:
    result = searchable.cli("archive", "search", "FIRST", "headline")
    assert result.code == 0, result.err
    assert result.out == (
        "2026-W07 (2026-02-13) · Industry · First headline\n"
        "  [2] Article A (Example News) https://example.org/a\n"
        "found 1 item in 1 issue matching 'FIRST headline'\n")


def test_search_all_terms_must_match(searchable) -> None:
    result = searchable.cli("archive", "search", "headline", "emphasis")
    assert result.code == 0
    assert result.out.splitlines()[-1] == "found 2 items in 1 issue matching 'headline emphasis'"
    result = searchable.cli("archive", "search", "headline", "emphasis", "example.org/b")
    assert result.out.splitlines()[-1] == ("found 1 item in 1 issue matching 'headline emphasis "
                                           "example.org/b'")
    result = searchable.cli("archive", "search", "second headline", "example.org/b")
    assert result.out.splitlines() == [
        "2026-W07 (2026-02-13) · Ethics · Second headline",
        "  [3] Article A (Example News) https://example.org/b",
        "found 1 item in 1 issue matching 'second headline example.org/b'"]


def test_search_chinese_and_unicode_forms(searchable) -> None:
    result = searchable.cli("archive", "search", "樟柯")
    assert result.code == 0, result.err
    assert result.out.startswith(
        "2026-W09 (2026-02-27) · Industry · 贾樟柯 meets his AI double\n")
    # NFKC folds full-width letters; casefold matches ß with ss
    result = searchable.cli("archive", "search", "STRASSE DER FILME")
    assert result.code == 0, result.err
    assert "  [2] Straße der Ｆｉｌｍｅ (DT Next) https://example.org/jia\n" in result.out
    assert searchable.cli("archive", "search", "ｄｔ　ｎｅｘｔ").code == 0


def test_search_shows_the_matching_source(factory) -> None:
    brief = BRIEF + """\
      - url: https://example.org/second-source
        title: Another report
        publisher: Other Wire
"""
    project = factory(briefs={"industry.yaml": brief})
    assert project.cli("build").code == 0
    result = project.cli("archive", "search", "other wire")
    assert result.out.splitlines()[1:] == [
        "  [3] Another report (Other Wire) https://example.org/second-source",
        "found 1 item in 1 issue matching 'other wire'"]
    result = project.cli("archive", "search", "first headline")  # no source matched: all shown
    assert result.out.splitlines()[1:3] == [
        "  [2] Article A (Example News) https://example.org/a",
        "  [3] Another report (Other Wire) https://example.org/second-source"]


def test_search_includes_issues_not_built_yet(searchable) -> None:
    result = searchable.cli("archive", "search", "seedance")
    assert result.code == 0, result.err
    assert result.out == (
        "2026-W11 (2026-03-13) (not built) · Industry · Draft about Seedance\n"
        "  [2] Article A (Example News) https://example.org/draft\n"
        "found 1 item in 1 issue matching 'seedance'\n")


def test_search_warns_about_an_invalid_draft(searchable) -> None:
    searchable.write("briefs/2026-W11/industry.yaml", "items: [")
    result = searchable.cli("archive", "search", "headline")
    assert result.code == 0
    assert result.err == ("briefs/2026-W11: warning: not built and not valid, so it is left out "
                          "(see 'briefing check 2026-W11')\n")


def test_search_without_a_match_exits_1(searchable) -> None:
    result = searchable.cli("archive", "search", "headline", "nowhere-to-be-found")
    assert result.code == 1
    assert result.out == ""
    assert result.err == "no item in 3 issues matches 'headline nowhere-to-be-found'\n"
    result = searchable.cli("archive", "search", " ")
    assert result.code == 1
    assert result.err == ("briefing: error: search needs at least one non-empty term (for "
                          "example: briefing archive search seedance)\n")


# --- earlier citations, for the lint rule that warns about a source cited before ----------------

def test_earlier_citations(searchable) -> None:
    from briefing.content.validate import Project
    from briefing.publish.issues import earlier_citations

    project = Project(searchable.root)
    assert earlier_citations(project, "2026-W07") == {}
    assert earlier_citations(project, "2026-W09") == {
        "https://example.org/a": "2026-W07", "https://example.org/b": "2026-W07",
        "https://example.org/intro": "2026-W07"}
    # 2026-W11 is not built: it is validated from briefs/, and sees both earlier issues
    cited = earlier_citations(project, "2026-W11")
    assert cited["https://example.org/jia"] == "2026-W09"
    assert cited["https://example.org/intro"] == "2026-W07"  # the first to cite it
    assert "https://example.org/draft" not in cited
