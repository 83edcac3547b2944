"""`briefing add URL` against a real HTTP server on 127.0.0.1 serving saved article pages
(tests/data/articles: 45 pages of eleven kinds of site, a redirect with tracking parameters, a
403 and a PDF), measured: the headline, the publisher and the date of every page."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from article_server import ArticleServer, pages
from conftest import BRIEF, REPO, make_project


@pytest.fixture(scope="module")
def articles():
    server = ArticleServer()
    yield server
    server.close()


def dry_items(out: str) -> list[tuple[dict, str]]:
    """The items `add --dry-run` printed: each as data, and as its text (for comments)."""
    chunks = re.split(r"(?m)^(?=  - headline:)", out)
    return [(yaml.safe_load("items:\n" + chunk)["items"][0], chunk) for chunk in chunks
            if chunk.strip()]


def test_headline_publisher_and_date_of_every_saved_page(tmp_path: Path, articles) -> None:
    """The measurement the issue asks for, on the whole set: headline right for at least 95%
    of the pages, publisher for at least 90%, and no date written unflagged that is wrong.

    Measured when written (run with -s to print it; a failure prints it too): 48 pages,
    headline 48, publisher 48; dates 46 written and right (34 as fact, 12 flagged
    '# guessed'), 2 left out (the 403, and the blog post that gives none), 0 wrong. A page
    that cannot be read (the 403) is right with a TODO headline and the host as publisher:
    that is all there is to know of it."""
    project = make_project(tmp_path / "news")
    entries = pages()
    redirect = [e for e in entries if e["kind"] == "redirect"]
    others = [e for e in entries if e["kind"] != "redirect"]
    assert len(others) >= 40
    found: list[tuple[dict, dict, str]] = []
    for batch in (others, redirect):  # the redirect leads to a page of the first batch
        result = project.cli("add", "--dry-run", "--theme", "industry",
                             *(articles.url(e["path"]) for e in batch), timeout=300)
        assert result.code == 0, result.err
        items = dry_items(result.out)
        assert len(items) == len(batch)
        found += [(e, item, text) for e, (item, text) in zip(batch, items, strict=True)]
    headlines = publishers = right = flagged = left_out = 0
    wrong = []
    for expected, item, text in found:
        source = item["sources"][0]
        if expected["headline"] is None:
            headlines += item["headline"].startswith("TODO headline (the page could not be")
        else:
            headlines += item["headline"] == expected["headline"] == source["title"]
        publishers += source["publisher"] == (expected["publisher"] or "127.0.0.1")
        date = source.get("date")
        guessed = "# guessed:" in text
        if date is None:
            left_out += 1
            assert "# no date: " in text
        elif expected["date"] and date == dt.date.fromisoformat(expected["date"]):
            right += 1
            flagged += guessed
        elif guessed:
            flagged += 1
        else:
            wrong.append((expected["path"], date, expected["date"]))
    total = len(found)
    measured = (f"{total} pages: headline {headlines}, publisher {publishers}; dates "
                f"{right} right ({flagged} flagged), {left_out} left out, {len(wrong)} wrong")
    assert headlines / total >= 0.95, measured
    assert publishers / total >= 0.90, measured
    assert wrong == [], measured
    assert right / total >= 0.90, measured  # and most dates are there, not left out
    print(measured)


def test_the_item_is_appended_as_text_and_passes_check(tmp_path: Path, articles) -> None:
    """The editor's comments, order and formatting stay; the new item goes at the end of
    the items list (before a key that follows it), and check finds only the TODO."""
    brief = ("# Industry, week 7: keep it short.\n"
             "items:\n"
             "- headline: First headline   # from Monday's call\n"
             "  summary: >-\n"
             "    A summary with a [linked source](https://example.org/a).\n"
             "  sources:\n"
             "  - {url: https://example.org/a, title: Article A, publisher: Example News}\n"
             "  tags: [one,   two]\n"
             "\n"
             "# more to come\n"
             "theme: industry\n")
    project = make_project(tmp_path / "news", briefs={"industry.yaml": brief})
    url = articles.url("/2026/02/13/harbour-budget-approved/")
    result = project.cli("add", url, "--theme", "industry")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "added 1 item to briefs/2026-W07/industry.yaml (line 9): \"City council approves "
        "harbour budget after late-night session\"",
        "next: write the summary (TODO), then 'briefing check 2026-W07'"]
    assert result.err == ""
    text = (project.root / "briefs/2026-W07/industry.yaml").read_text()
    assert text == brief.replace("\n\n# more to come", (
        "\n- headline: City council approves harbour budget after late-night session\n"
        "  summary: TODO two or three sentences in your own words\n"
        "  sources:\n"
        f"    - url: {url}\n"
        "      title: City council approves harbour budget after late-night session\n"
        "      publisher: The Harbour Gazette\n"
        "      date: 2026-02-13\n"
        "\n# more to come"))
    check = project.cli("check")
    assert check.code == 0, check.err
    assert [line.rsplit(" [", 1)[1] for line in check.err.splitlines()] == [
        # init's placeholder postal line is kept; the server is http://127.0.0.1
        "init-placeholder]", "empty-theme]", "placeholder]", "insecure-url]"]
    assert "briefs/2026-W07/industry.yaml:10:12: warning: placeholder 'TODO' left in the " \
           "summary [placeholder]" in check.err


def test_a_guessed_date_is_flagged_until_the_comment_goes(tmp_path: Path, articles) -> None:
    project = make_project(tmp_path / "news")
    url = articles.url("/2026/02/12/ferry-strike-talks-collapse/")
    result = project.cli("add", url, "--theme", "ethics")
    assert result.code == 0, result.err
    assert result.err == (
        f"{url}: date 2026-02-12 guessed: the page declares 2026-02-13T01:45:00Z (JSON-LD "
        "NewsArticle datePublished), a time in UTC, but its URL (2026-02-12) and its byline "
        "(2026-02-12) say 2026-02-12\n")
    path = project.root / "briefs/2026-W07/ethics.yaml"
    line = path.read_text().splitlines()[-1]
    assert line == (
        "        date: 2026-02-12  # guessed: the page declares 2026-02-13T01:45:00Z (JSON-LD "
        "NewsArticle datePublished), a time in UTC, but its URL (2026-02-12) and its byline "
        "(2026-02-12) say 2026-02-12; check it, then delete this comment")
    check = project.cli("check")
    assert ("briefs/2026-W07/ethics.yaml:18:15: warning: source date 2026-02-12 was guessed by "
            "'briefing add' (check it against the page, then delete the '# guessed' comment) "
            "[date-guessed]") in check.err.splitlines()
    path.write_text(path.read_text().replace(line, line.split("  #")[0]))
    assert "[date-guessed]" not in project.cli("check").err


def test_what_a_page_that_cannot_be_read_still_gives(tmp_path: Path, articles) -> None:
    """403, no answer in time, not a web page: an item with the URL and the host as publisher,
    and what is missing said, in the file and on the terminal."""
    project = make_project(tmp_path / "news")
    locked, slow, image = (articles.url(p) for p in
                           ("/2026/02/11/locked-story/", "/slow", "/image.png"))
    result = project.cli("add", locked, slow, image, "--theme", "ethics", "--timeout", "1")
    assert result.code == 0, result.err
    assert result.err.splitlines() == [
        f"{locked}: missing headline, title and date: the page could not be read (403 "
        "Forbidden); the publisher is the host",
        f"{slow}: missing headline, title and date: the page could not be read (no answer "
        "within 1 s); the publisher is the host",
        f"{image}: missing headline, title and date: the page could not be read (it is "
        "image/png, not a web page); the publisher is the host"]
    text = (project.root / "briefs/2026-W07/ethics.yaml").read_text()
    assert text.endswith(
        '  - headline: "TODO headline (the page could not be read: 403 Forbidden)"\n'
        "    summary: TODO two or three sentences in your own words\n"
        "    sources:\n"
        f"      - url: {locked}\n"
        '        title: "TODO the title (the page could not be read: 403 Forbidden)"\n'
        "        publisher: 127.0.0.1\n"
        "        # no date: the page could not be read (403 Forbidden)\n"
        '  - headline: "TODO headline (the page could not be read: no answer within 1 s)"\n'
        "    summary: TODO two or three sentences in your own words\n"
        "    sources:\n"
        f"      - url: {slow}\n"
        '        title: "TODO the title (the page could not be read: no answer within 1 s)"\n'
        "        publisher: 127.0.0.1\n"
        "        # no date: the page could not be read (no answer within 1 s)\n"
        '  - headline: "TODO headline (the page could not be read: it is image/png, not a '
        'web page)"\n'
        "    summary: TODO two or three sentences in your own words\n"
        "    sources:\n"
        f"      - url: {image}\n"
        '        title: "TODO the title (the page could not be read: it is image/png, not a '
        'web page)"\n'
        "        publisher: 127.0.0.1\n"
        "        # no date: the page could not be read (it is image/png, not a web page)\n")
    assert project.cli("check").code == 0  # valid, with its placeholders left to fill in


def test_a_pdf_gives_its_title_and_date_from_its_metadata(tmp_path: Path, articles) -> None:
    project = make_project(tmp_path / "news")
    url = articles.url("/reports/coastal-flooding-review.pdf")
    result = project.cli("add", url, "--theme", "ethics", "--dry-run")
    assert result.code == 0, result.err
    assert result.out == (
        '  - headline: "Coastal flooding and small harbours: a ten-year review"\n'
        "    summary: TODO two or three sentences in your own words\n"
        "    sources:\n"
        f"      - url: {url}\n"
        '        title: "Coastal flooding and small harbours: a ten-year review"\n'
        "        publisher: Institute for Example Studies\n"
        "        date: 2026-02-03  # guessed: from the PDF's metadata: the day the file was "
        "made, which may not be the day it was published; check it, then delete this "
        "comment\n")
    assert result.err.splitlines()[-1] == ("dry run: would add 1 item to "
                                           "briefs/2026-W07/ethics.yaml (line 12); nothing "
                                           "written")
    assert (project.root / "briefs/2026-W07/ethics.yaml").read_text().count("- headline") == 1


def test_the_address_written_is_the_canonical_one_without_tracking(tmp_path: Path,
                                                                    articles) -> None:
    """A redirect through a tracking link: the page's canonical address is written. AMP: the
    article's own address. A canonical address on another site (a syndicated copy) is not
    taken. No canonical address: the one asked for, without its tracking parameters."""
    project = make_project(tmp_path / "news")
    asked = [articles.url("/go/marina-vote?utm_source=newsletter&utm_medium=email"),
             articles.url("/amp/2026/02/09/north-quay-closed/"),
             articles.url("/story/884120/lighthouse-lens"),
             articles.url("/news/dam-fish-ladder/?ref=home&utm_campaign=feb&fbclid=AbC&page=2"
                          "#comments")]
    result = project.cli("add", *asked, "--theme", "ethics", "--dry-run")
    assert result.code == 0, result.err
    assert [item["sources"][0]["url"] for item, _ in dry_items(result.out)] == [
        articles.url("/2026/02/10/marina-name-vote/"),
        articles.url("/2026/02/09/north-quay-closed/"),
        articles.url("/story/884120/lighthouse-lens"),
        articles.url("/news/dam-fish-ladder/?ref=home&page=2")]
    assert result.err.splitlines()[:3] == [
        f"{asked[0]}: address written as {articles.url('/2026/02/10/marina-name-vote/')} "
        "(the page's canonical address)",
        f"{asked[1]}: address written as {articles.url('/2026/02/09/north-quay-closed/')} "
        "(the page's canonical address)",
        f"{asked[3]}: address written as {articles.url('/news/dam-fish-ladder/?ref=home&page=2')}"
        " (without its tracking parameters)"]


def test_an_iri_is_written_as_the_editor_reads_it(tmp_path: Path, articles) -> None:
    """A page at a non-ASCII address (and no canonical one): asked for encoded, written with
    its letters; an invisible character (U+200B) and a space stay encoded."""
    project = make_project(tmp_path / "news")
    articles.routes["/2026/02/promenade-d%C3%A9cembre.html"] = dict(
        articles.routes["/2026/02/sea-wall-walk.html"])
    result = project.cli("add", articles.url("/2026/02/promenade-d%C3%A9cembre.html?"
                                             "utm_source=rss&q=%E2%80%8Bx%20y"),
                         "--theme", "ethics", "--dry-run")
    assert result.code == 0, result.err
    [(item, _)] = dry_items(result.out)
    assert item["sources"][0]["url"] == articles.url("/2026/02/promenade-décembre.html?"
                                                     "q=%E2%80%8Bx%20y")
    from briefing.editorial.urls import readable, url_key
    assert readable("https://xn--bcher-kva.example/caf%C3%A9/%E6%96%B0%E9%97%BB?q=%E2%80%8Bx"
                    "%20y&r=%C3%A9") == "https://bücher.example/café/新闻?q=%E2%80%8Bx%20y&r=é"
    assert readable("https://example.org/a%2Fb%3Fc") == "https://example.org/a%2Fb%3Fc"
    assert readable("https://example.org/%FF%FE") == "https://example.org/%FF%FE"
    assert url_key("https://Bücher.example:443/café?utm_source=x#top") == \
        url_key("https://xn--bcher-kva.example/caf%C3%A9")


def test_malformed_json_ld_is_skipped_and_said(tmp_path: Path, articles) -> None:
    project = make_project(tmp_path / "news")
    url = articles.url("/reviews/who-owns-a-face")
    result = project.cli("add", url, "--theme", "ethics", "--dry-run")
    assert result.code == 0, result.err
    assert result.err.splitlines()[0] == f"{url}: 1 malformed JSON-LD block skipped"
    [(item, _)] = dry_items(result.out)
    assert item["headline"] == "Review: a documentary that asks who owns a face"
    assert item["sources"][0]["publisher"] == "Frame Weekly"  # from the JSON-LD still read


def test_a_brief_saved_on_windows_keeps_its_line_ends(tmp_path: Path, articles) -> None:
    crlf = "\ufeff" + BRIEF.replace("\n", "\r\n")
    project = make_project(tmp_path / "news")
    path = project.root / "briefs/2026-W07/industry.yaml"
    path.write_bytes(crlf.encode("utf-8"))
    result = project.cli("add", articles.url("/news/night-buses-return/"), "--theme", "industry")
    assert result.code == 0, result.err
    data = path.read_bytes().decode("utf-8")
    assert data.startswith(crlf) and "\n" not in data.replace("\r\n", "")
    assert "  - headline: Night buses return to the river route\r\n" in data


def test_an_issue_with_errors_gets_nothing(tmp_path: Path, articles) -> None:
    project = make_project(tmp_path / "news")
    project.write("briefs/2026-W07/policy.yaml", "items:\n  - headline: x\n")
    result = project.cli("add", articles.url("/news/night-buses-return/"), "--theme", "ethics")
    assert result.code == 1
    assert result.err.splitlines()[-2:] == [
        "briefs/2026-W07: error: the issue has errors, so nothing was added (fix them, then "
        "add again)", "3 errors in 2 files"]


def test_a_url_already_cited_is_refused_or_warned(tmp_path: Path, articles) -> None:
    """In this issue: refused at the place that cites it (also when the URL given only leads
    there). In an earlier issue: added, with the warning naming that issue, unless it is one
    of lint.recurring_urls."""
    url = articles.url("/2026/02/06/lighthouse-lens-restored/")
    cited = BRIEF.replace("https://example.org/a", url)
    project = make_project(tmp_path / "news", briefs={"industry.yaml": cited})
    result = project.cli("add", url + "?utm_source=x", "--theme", "ethics")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"briefs/2026-W07/industry.yaml:8:14: error: {url}?utm_source=x is already cited in "
        "this issue, here, by 'First headline' (one item per story: add to that item's "
        "sources instead)\n")
    assert articles.log.count("/2026/02/06/lighthouse-lens-restored/?utm_source=x") == 0
    project.write("briefs/2026-W08/issue.yaml", "title: Later\ndate: 2026-02-20\n")
    project.write("briefs/2026-W08/ethics.yaml", BRIEF.replace("example.org/a", "example.org/z"))
    later = project.cli("add", url, "--theme", "ethics", "--issue", "2026-W08")
    assert later.code == 0, later.err
    assert later.err == f"{url}: warning: {url}: link already cited in issue 2026-W07 " \
                        "[earlier-url]\n"
    project.write("briefing.yaml", project.root.joinpath("briefing.yaml").read_text()
                  + f"lint:\n  recurring_urls: ['{articles.base}/*']\n")
    again = project.cli("add", articles.url("/2026/02/13/harbour-budget-approved/"),
                        "--theme", "industry", "--issue", "2026-W09")
    assert again.code == 0 and again.err == "", again.err


def test_a_page_leading_to_a_cited_one_is_refused(tmp_path: Path, articles) -> None:
    target = articles.url("/2026/02/10/marina-name-vote/")
    project = make_project(tmp_path / "news", briefs={
        "industry.yaml": BRIEF.replace("https://example.org/a", target)})
    result = project.cli("add", articles.url("/go/marina-vote?utm_source=newsletter"),
                         "--theme", "ethics")
    assert result.code == 1
    assert result.err == (
        f"briefs/2026-W07/industry.yaml:8:14: error: {target} (where "
        f"{articles.url('/go/marina-vote?utm_source=newsletter')} leads) is already cited in "
        "this issue, here, by 'First headline' (one item per story: add to that item's "
        "sources instead)\n")


def test_bad_input(tmp_path: Path, articles) -> None:
    project = make_project(tmp_path / "news")
    cases = [
        (["ftp://example.org/a", "--theme", "ethics"],
         "ftp://example.org/a: error: the address must be an http(s) URL, not 'ftp:' (write "
         "the full https:// address)\n"),
        ([articles.url("/a"), "--theme", "culture"],
         "briefing.yaml: error: unknown theme 'culture'; themes in briefing.yaml: industry, "
         "ethics\n"),
        ([articles.url("/a"), "--theme", "ethic"],
         "briefing.yaml: error: unknown theme 'ethic'; themes in briefing.yaml: industry, "
         "ethics (did you mean 'ethics'?)\n"),
        ([articles.url("/a")],
         "briefing.yaml: error: which theme? give --theme (themes: industry, ethics)\n"),
        ([articles.url("/a"), "--theme", "ethics", "--issue", "../x"],
         "briefs: error: '../x' is not a valid issue id (letters, digits, '.', '_', '-'; it "
         "must not start with '.' and has no '/')\n"),
    ]
    for args, err in cases:
        result = project.cli("add", *args)
        assert (result.code, result.err) == (1, err), args
    twice = project.cli("add", articles.url("/2026/02/10/marina-name-vote/"),
                        articles.url("/go/marina-vote"), "--theme", "ethics")
    assert twice.code == 1
    assert twice.err == (f"{articles.url('/go/marina-vote')}: error: leads to the same page as "
                         f"{articles.url('/2026/02/10/marina-name-vote/')}: "
                         f"{articles.url('/2026/02/10/marina-name-vote/')}\n")
    assert "Harbour residents" not in (project.root / "briefs/2026-W07/ethics.yaml").read_text()


def test_a_new_issue_and_a_new_brief(tmp_path: Path, articles) -> None:
    """--issue for a folder that does not exist yet makes a draft issue, as 'new' does; a
    theme with no brief in the issue gets one."""
    project = make_project(tmp_path / "news")
    url = articles.url("/news/mayor-no-third-term/")
    result = project.cli("add", url, "--theme", "ethics", "--issue", "2026-W08")
    assert result.code == 0, result.err
    assert result.out.splitlines()[:3] == [
        "created briefs/2026-W08/issue.yaml",
        "created briefs/2026-W08/ethics.yaml",
        "added 1 item to briefs/2026-W08/ethics.yaml (line 4): \"Mayor will not run for a "
        "third term\""]
    assert (project.root / "briefs/2026-W08/ethics.yaml").read_text() == (
        "# yaml-language-server: $schema=../../schema/brief.schema.json\n"
        "theme: ethics\n"
        "items:\n"
        "  - headline: Mayor will not run for a third term\n"
        "    summary: TODO two or three sentences in your own words\n"
        "    sources:\n"
        f"      - url: {url}\n"
        "        title: Mayor will not run for a third term\n"
        "        publisher: Riverside Ledger\n"
        "        date: 2026-02-14\n")
    assert "draft: true" in (project.root / "briefs/2026-W08/issue.yaml").read_text()
    assert project.cli("check", "2026-W08").code == 0


def test_the_theme_is_asked_for_on_a_terminal(tmp_path: Path, articles) -> None:
    """No --theme with a terminal on stdin: the themes are listed and one is asked for."""
    import pty
    project = make_project(tmp_path / "news")
    url = articles.url("/news/night-buses-return/")
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "briefing", "add", url], cwd=project.root,
                            stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={k: v for k, v in os.environ.items() if k != "BRIEFING_DEBUG"})
    os.close(follower)
    os.write(leader, b"3\nethics\n")  # a number that is not a theme, then an id
    out, err = proc.communicate(timeout=120)
    os.close(leader)
    assert proc.returncode == 0, err
    assert err.decode().splitlines()[:5] == [
        "themes:", "  1. industry (Industry)", "  2. ethics (Ethics)",
        "theme (number or id):no theme '3': answer 1 to 2 or an id",  # Click's prompt puts
        "theme (number or id):"]                                       # its space on stdout
    assert "Night buses return" in (project.root / "briefs/2026-W07/ethics.yaml").read_text()


def test_heavy_libraries_stay_out_of_start_up(tmp_path: Path) -> None:
    """extruct, trafilatura, htmldate, lxml, warcio and pypdf load only for the commands that
    read pages: never for --help, build, or check of an issue without quotations."""
    project = make_project(tmp_path / "news")
    heavy = ("extruct", "trafilatura", "htmldate", "lxml", "warcio", "pypdf", "publicsuffix")
    for args in (["--help"], ["add", "--help"], ["check"], ["build"]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "briefing", *args],
                              cwd=project.root, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                  for line in done.stderr.splitlines() if line.startswith("import time:")}
        assert loaded.isdisjoint(heavy), (args, loaded & set(heavy))
    assert REPO.is_dir()
