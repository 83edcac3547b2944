"""Story threads through the real CLI (docs/record.md): three issues of one thread give
"Previously" lines whose links reach real anchors of the built pages (Chromium), a thread page
lists all three, Pagefind filters by thread (Chromium, over HTTP), feed.xml is as it was, and
`check` warns about a thread gone quiet."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import BRIEF, CONFIG, ISSUE, ProjectFactory

THREADS = """\
threads:
  - id: studio-deal
    title: The studio deal
  - id: old-story
    title: An old story
"""
ISSUES = [("2026-W07", "2026-02-13", "Studios sign a deal"),
          ("2026-W09", "2026-02-27", "The deal hits a snag"),
          ("2026-W10", "2026-03-06", None),  # no item of the thread
          ("2026-W11", "2026-03-13", "The deal is done, and what it means")]
ARCHIVE = "https://example.org/archive/"


def item(headline: str, url: str, thread: str = "") -> str:
    text = BRIEF.replace("First headline", headline).replace("https://example.org/a", url)
    return text + (f"    thread: {thread}\n" if thread else "")


def write_issues(project: ProjectFactory, threaded: bool = True) -> None:
    for number, (issue_id, date, headline) in enumerate(ISSUES):
        project.write(f"briefs/{issue_id}/issue.yaml", ISSUE.replace("2026-02-13", date)
                      .replace("A test issue", f"Issue {issue_id}"))
        thread = "studio-deal" if threaded and headline else ""
        project.write(f"briefs/{issue_id}/industry.yaml", item(
            headline or "Something else", f"https://example.org/{number}", thread))
        project.write(f"briefs/{issue_id}/ethics.yaml", item(
            f"Other news {number}", f"https://example.org/other/{number}",
            "old-story" if threaded and number == 0 else ""))


@pytest.fixture
def threaded(factory) -> ProjectFactory:
    project = factory(config=CONFIG + THREADS)
    write_issues(project)
    for issue_id, _, _ in ISSUES:
        result = project.cli("build", issue_id)
        assert result.code == 0, result.err
    return project


def test_previously_lines_in_the_email_and_the_digest(threaded) -> None:
    w09 = (threaded.root / "out/2026-W09/digest.txt").read_text()
    first = f"{ARCHIVE}2026-W07/#studios-sign-a-deal"
    assert ("  Why it matters: It matters.\n\n"
            "  Previously: Studios sign a deal (2026-W07)\n"
            f"  {first}\n") in w09
    w11 = (threaded.root / "out/2026-W11/digest.txt").read_text()
    second = f"{ARCHIVE}2026-W09/#the-deal-hits-a-snag"
    assert f"  Previously: The deal hits a snag (2026-W09)\n  {second}\n" in w11
    html = (threaded.root / "out/2026-W11/email.html").read_text()
    assert re.search(r'Previously: <a href="' + re.escape(second) + r'"[^>]*>The deal hits a '
                     r"snag</a> \(2026-W09\)", html)
    # The first item of a thread, and items of no thread, have none.
    assert "Previously" not in (threaded.root / "out/2026-W07/digest.txt").read_text()
    assert w09.count("Previously") == 1


@pytest.mark.skipif(not __import__("shutil").which("chromium"), reason="needs Chromium")
def test_previously_links_reach_real_anchors(threaded, tmp_path: Path) -> None:
    from briefing.editorial.browser import Browser
    links = []
    for issue_id in ("2026-W09", "2026-W11"):
        html = (threaded.root / f"out/{issue_id}/email.html").read_text()
        links += re.findall(r'Previously: <a href="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert len(links) == 2
    with Browser(offline=True, profile_parent=tmp_path) as browser:
        page = browser.new_page()
        for url, headline in links:
            parts = urlsplit(url)
            assert url.startswith(ARCHIVE)
            path = threaded.root / "out" / parts.path[len(urlsplit(ARCHIVE).path):] / "index.html"
            page.open(f"{path.as_uri()}#{parts.fragment}")
            found = page.evaluate(
                "(() => { const target = document.getElementById("
                "decodeURIComponent(location.hash.slice(1)));"
                " return target && target.querySelector('h3').innerText; })()")
            assert found == headline
            assert unquote(parts.fragment) == parts.fragment  # ASCII headlines, plain anchors


def test_a_thread_page_lists_every_item_newest_first(threaded) -> None:
    page = (threaded.root / "out/threads/studio-deal/index.html").read_text()
    headlines = re.findall(r'<h2><a href="\.\./\.\./([^"]+)">([^<]+)</a></h2>', page)
    assert headlines == [("2026-W11/#the-deal-is-done-and-what-it-means",
                          "The deal is done, and what it means"),
                         ("2026-W09/#the-deal-hits-a-snag", "The deal hits a snag"),
                         ("2026-W07/#studios-sign-a-deal", "Studios sign a deal")]
    assert "<h1>The studio deal</h1>" in page
    assert '<time datetime="2026-03-13">Friday 13 March 2026</time>' in page
    # Linked from each item of the thread and from the index.
    for issue_id in ("2026-W07", "2026-W09", "2026-W11"):
        issue_page = (threaded.root / f"out/{issue_id}/index.html").read_text()
        assert ('Story: <a href="../threads/studio-deal/" data-pagefind-filter="thread">'
                'The studio deal</a>') in issue_page
    index = (threaded.root / "out/index.html").read_text()
    assert '<a href="threads/studio-deal/">The studio deal</a>' in index
    assert '<a href="threads/old-story/">An old story</a>' in index
    # `briefing archive` rebuilds them the same from issue.json.
    before = page
    assert threaded.cli("archive").code == 0
    assert (threaded.root / "out/threads/studio-deal/index.html").read_text() == before


def test_feed_is_the_same_with_or_without_threads(threaded, factory, tmp_path: Path) -> None:
    from conftest import make_project
    plain = make_project(tmp_path / "plain", config=CONFIG + THREADS)
    write_issues(plain, threaded=False)
    for issue_id, _, _ in ISSUES:
        assert plain.cli("build", issue_id).code == 0
    for name in ("feed.xml", "feed.json"):
        assert (threaded.root / "out" / name).read_bytes() == \
            (plain.root / "out" / name).read_bytes()
    assert not (plain.root / "out/threads").exists()


def test_rebuilds_are_byte_identical_and_a_dropped_thread_loses_its_page(threaded) -> None:
    def outputs() -> dict[str, bytes]:
        out = threaded.root / "out"
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
                if p.is_file() and "pagefind" not in p.parts}
    before = outputs()
    assert threaded.cli("build", "--all").code == 0
    assert outputs() == before
    # The only item of old-story leaves the thread: its page goes.
    threaded.write("briefs/2026-W07/ethics.yaml", item("Other news 0",
                                                       "https://example.org/other/0"))
    assert threaded.cli("build", "2026-W07").code == 0
    assert not (threaded.root / "out/threads/old-story/index.html").exists()
    assert (threaded.root / "out/threads/studio-deal/index.html").exists()


def test_check_warns_about_a_quiet_thread(threaded) -> None:
    def quiet(result) -> list[str]:
        assert result.code == 0, result.err
        return [line for line in result.err.splitlines() if "[quiet-thread]" in line]
    # 4 issues is the default: old-story is quiet in 3 only.
    assert quiet(threaded.cli("check", "2026-W11")) == []
    threaded.write("briefing.yaml", CONFIG + THREADS + "lint:\n  thread_quiet_issues: 3\n")
    assert quiet(threaded.cli("check", "2026-W11")) == [
        "briefing.yaml:19:5: warning: thread 'old-story' has no item in the last 3 issues up "
        "to 2026-W11; its last item was in 2026-W07 (2026-02-13) (add `thread: old-story` to "
        "an item if the story goes on; if it is over, 'lint: thread_quiet_issues' sets how "
        "long a thread may stay quiet) [quiet-thread]"]
    assert quiet(threaded.cli("check", "2026-W10")) == []  # W07 is among its last 3


def test_an_undeclared_thread_is_an_error_with_a_did_you_mean(factory) -> None:
    project = factory(config=CONFIG + THREADS, briefs={
        "industry.yaml": BRIEF + "    thread: studio-dael\n"})
    result = project.cli("build")
    assert (result.code, result.err) == (1, (
        "briefs/2026-W07/industry.yaml:12:13: error: unknown thread 'studio-dael'; a thread is "
        "declared in briefing.yaml 'threads:' before items name it (did you mean "
        "'studio-deal'?)\n"))
    project = factory(config=CONFIG + THREADS + "  - id: studio-deal\n    title: Again\n")
    result = project.cli("check")
    assert (result.code, result.err) == (1, (
        "briefing.yaml:21:5: error: thread id 'studio-deal' is listed twice\n"))


@pytest.mark.skipif(not __import__("shutil").which("chromium"), reason="needs Chromium")
def test_pagefind_filters_by_thread(threaded, tmp_path: Path) -> None:
    from briefing.editorial.browser import Browser
    from test_search_web import Quiet
    handler = functools.partial(Quiet, directory=str(threaded.root / "out"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with Browser(offline=True, profile_parent=tmp_path) as browser:
            page = browser.new_page()
            page.open(f"http://127.0.0.1:{server.server_address[1]}/")
            found = page.evaluate("""(async () => {
                const pagefind = await import('/pagefind/pagefind.js');
                const filters = await pagefind.filters();
                const urls = async (search) => (await Promise.all(
                    search.results.map((r) => r.data()))).map((d) => d.url).sort();
                const deal = await pagefind.search(null, {filters: {thread: 'The studio deal'}});
                const worded = await pagefind.search('matters',
                                                     {filters: {thread: 'An old story'}});
                const everything = await pagefind.search('matters');
                return {filters, deal: await urls(deal), worded: await urls(worded),
                        everything: await urls(everything)};
            })()""")
    finally:
        server.shutdown()
        server.server_close()
    assert found["filters"] == {"thread": {"The studio deal": 3, "An old story": 1}}
    assert found["deal"] == ["/2026-W07/", "/2026-W09/", "/2026-W11/"]
    assert found["worded"] == ["/2026-W07/"]
    assert found["everything"] == ["/2026-W07/", "/2026-W09/", "/2026-W10/", "/2026-W11/"]
