"""Quotations checked against the saved copies of their sources, through the real CLI: a quote
in the page passes, an edited one fails with the closest passage, a near one is said, and a
source with no saved copy says so. Then the matching policy itself, as a table."""

from __future__ import annotations

from pathlib import Path

import pytest

from article_server import ArticleServer
from conftest import BRIEF, make_project

BUDGET = "/2026/02/13/harbour-budget-approved/"
PORT = "/region/le-port-agrandit-sa-criee"
FILM = "/n1/2026/0210/c1012-40002.html"


@pytest.fixture
def articles():
    server = ArticleServer()
    yield server
    server.close()


def brief(articles, quote: str, source_quote: str = "") -> str:
    """One item citing the Gazette's budget story, with `quote` in its summary."""
    text = BRIEF.replace("https://example.org/a", articles.url(BUDGET)).replace(
        "A summary with *emphasis*, **strong** text and a",
        f"The port director said {quote}, and the rest is in the").replace(
        "[linked source]", "[Gazette]")
    if source_quote:
        text += f"        quote: {source_quote}\n"
    return text


def project_with(tmp_path: Path, articles, quote: str, source_quote: str = "",
                 save: bool = True):
    others = (BRIEF.replace("First headline", "Second headline")
              .replace("https://example.org/a", articles.url(PORT))
              .replace("A summary with *emphasis*, **strong** text and a",
                       "« Nous manquions de place chaque matin de grosse pêche », dit-il, "
                       "et 「我们想看到的是新的讲故事的方法」 says the")
              .replace("        date: 2026-02-10\n",
                       f"        date: 2026-02-10\n      - url: {articles.url(FILM)}\n"
                       "        title: Film\n        publisher: Shili\n"))
    project = make_project(tmp_path / "news", issue="title: Quotes\ndate: 2026-02-13\n",
                           briefs={"industry.yaml": brief(articles, quote, source_quote),
                                   "ethics.yaml": others})
    if save:
        result = project.cli("sources", "--save")
        assert result.code == 0, result.err
    return project


def quote_lines(result) -> list[str]:
    return [line for line in result.err.splitlines() if "[quote-" in line]


def test_quotes_in_the_saved_pages_pass(tmp_path: Path, articles) -> None:
    """Straight or curly marks, French guillemets, Chinese corner brackets, and a source's
    quote: with its own case, dashes and spacing: all found."""
    project = project_with(
        tmp_path, articles, '"We will not cut corners on safety, whatever the dredging costs us"',
        source_quote='"we will NOT cut corners on safety —   whatever the dredging costs us"')
    result = project.cli("check")
    assert result.code == 0, result.err
    assert quote_lines(result) == []
    assert project.cli("check", "--strict").code == 1  # the http:// links; not the quotes


def test_an_edited_quote_fails_with_the_closest_passage(tmp_path: Path, articles) -> None:
    project = project_with(tmp_path, articles,
                           "“We will never cut corners on safety, whatever it costs us”")
    result = project.cli("check")
    assert result.code == 0, result.err
    day = _saved_day(project)
    assert quote_lines(result) == [
        f"briefs/2026-W07/industry.yaml:4:30: warning: quotation “We will never cut corners on "
        f"safety, whatever it costs us” is not in {articles.url(BUDGET)} (saved {day}); the "
        "closest passage (78% alike) is “We will not cut corners on safety, whatever the "
        "dredging costs us” (quote the page as it is, or cite where it was said) "
        "[quote-not-found]"]
    strict = project.cli("check", "--strict")
    assert strict.code == 1
    assert any(line.startswith("briefs/2026-W07/industry.yaml:4:30: error: quotation") and
               line.endswith("[quote-not-found]") for line in strict.err.splitlines())


def test_a_quote_the_page_no_longer_has_fails(tmp_path: Path, articles) -> None:
    """The page was edited after it was cited: the newest saved copy is what is checked."""
    project = project_with(tmp_path, articles, "“We will not cut corners on safety”")
    assert quote_lines(project.cli("check")) == []
    articles.edit(BUDGET, "We will not cut corners on safety, whatever the dredging costs us",
                  "Safety comes first, whatever the dredging costs us")
    assert project.cli("sources", "--save").code == 0
    day = _saved_day(project)
    assert quote_lines(project.cli("check")) == [
        f"briefs/2026-W07/industry.yaml:4:30: warning: quotation “We will not cut corners on "
        f"safety” is not in {articles.url(BUDGET)} (saved {day}); the closest passage (15% "
        "alike) is “Safety comes first, whatever the dredging” (quote the page as it is, or "
        "cite where it was said) [quote-not-found]"]


def test_a_near_match_is_accepted_and_said(tmp_path: Path, articles) -> None:
    project = project_with(tmp_path, articles, '"We will not cut corners on saftey"')
    result = project.cli("check")
    assert result.code == 0
    assert quote_lines(result) == [
        f"briefs/2026-W07/industry.yaml:4:30: warning: quotation “We will not cut corners on "
        f"saftey” matches {articles.url(BUDGET)} (saved {_saved_day(project)}) only nearly: "
        "the page has “safety” for “saftey” (quote the page as it is) [quote-near-match]"]


def test_a_source_with_no_saved_copy_says_so(tmp_path: Path, articles) -> None:
    project = project_with(tmp_path, articles, '"We will not cut corners on safety"',
                           save=False)
    result = project.cli("check")
    assert result.code == 0
    assert quote_lines(result) == [
        f"briefs/2026-W07/ethics.yaml:4:7: warning: quotation “Nous manquions de place chaque "
        f"matin de grosse pêche” cannot be checked: no saved copy of {articles.url(PORT)} (and "
        "1 more) (save it with 'briefing sources 2026-W07 --save') [quote-unchecked]",
        f"briefs/2026-W07/ethics.yaml:4:76: warning: quotation “我们想看到的是新的讲故事的方法” "
        f"cannot be checked: no saved copy of {articles.url(PORT)} (and 1 more) (save it with "
        "'briefing sources 2026-W07 --save') [quote-unchecked]",
        f"briefs/2026-W07/industry.yaml:4:30: warning: quotation “We will not cut corners on "
        f"safety” cannot be checked: no saved copy of {articles.url(BUDGET)} (save it with "
        "'briefing sources 2026-W07 --save') [quote-unchecked]"]
    config = project.root / "briefing.yaml"
    config.write_text(config.read_text() + "lint:\n  disable: [quote-unchecked]\n")
    assert quote_lines(project.cli("check")) == []


def _saved_day(project) -> str:
    name = sorted((project.root / ".briefing/sources").rglob("*.warc.gz"))[-1].name
    return f"{name[:4]}-{name[4:6]}-{name[6:8]}"


# -- the policy: what matches, what nearly matches, what does not ---------------------------------

PAGE = ("“We will not cut corners on safety, whatever the dredging costs us,” said the port "
        "director. The organisation's budget — 4.2 million — was approved at 2 a.m. "
        "Der Hafen sagte: „Wir bauen weiter.“ 港口管理局表示，新码头采用岸电系统。")


@pytest.mark.parametrize("quotation, kind", [
    ("We will not cut corners on safety", "found"),
    ("we WILL not   cut corners on safety", "found"),              # case, spaces
    ("We will not cut corners on safety whatever", "found"),       # punctuation dropped
    ("budget - 4.2 million - was approved", "found"),              # dashes alike
    ("The organisation’s budget", "found"),                        # curly apostrophe
    ("We will not cut corners … the dredging costs us", "found"),  # an ellipsis
    ("We will not cut corners [on safety], whatever", "found"),    # an [insertion]
    ("Wir bauen weiter", "found"),
    ("新码头采用岸电系统", "found"),  # CJK, character by character
    ("The organization's budget", "near"),                         # one letter in a long word
    ("We will not cut corners on saftey", "near"),
    ("We will cut corners on safety", "none"),                     # a word missing
    ("We will not cut any corners on safety", "none"),             # a word added
    ("We will not cut corners on safety, whatever it costs", "none"),
    ("budget was 4.3 million", "none"),                            # numbers are exact
    ("We will now cut corners", "none"),                           # short words are exact
    ("新码头采用太阳能系统", "none"),
])
def test_matching_policy(quotation: str, kind: str) -> None:
    from briefing.editorial.quotes import Words, find
    assert find(quotation, Words.of(PAGE)).kind == kind


def test_quotations_in_a_summary() -> None:
    from briefing.editorial.quotes import quotations
    assert quotations('He said "one", then “two”, „drei“, « quatre », 「五」 and \'six\'.') == [
        "one", "two", "drei", "quatre", "五"]
