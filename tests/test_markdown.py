"""Inline Markdown: our adapter against markdown-it-py's CommonMark renderer over the spec's
examples, the mis-parses of the old hand-written parser, and the worst shapes through the CLI."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from briefing.content.markdown import LinkTargetError, parse_inline, plain_text
from briefing.content.model import Code, Emphasis, Link, Strong, Text
from briefing.content.schema import check_url
from briefing.render.templates import spans_to_html
from briefing.render.text import spans_to_text
from conftest import BRIEF, make_project

CORPUS = json.loads((Path(__file__).parent / "data/commonmark/inline-corpus.json")
                    .read_text(encoding="utf-8"))["examples"]


class _Events(HTMLParser):
    """An HTML fragment as comparable events: tags with their attributes (escapes undone,
    addresses percent-decoded) and text with whitespace runs made one space."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple] = []

    def handle_starttag(self, tag, attrs) -> None:
        values = {k: unquote(v or "") if k == "href" else (v or "") for k, v in attrs}
        self.events.append(("start", tag, tuple(sorted(values.items()))))

    def handle_endtag(self, tag) -> None:
        self.events.append(("end", tag))

    def handle_data(self, data) -> None:
        if self.events and self.events[-1][0] == "text":
            self.events[-1] = ("text", self.events[-1][1] + data)
        else:
            self.events.append(("text", data))


def events(html: str) -> list[tuple]:
    parser = _Events()
    parser.feed(html)
    parser.close()
    return [("text", re.sub(r"\s+", " ", e[1])) if e[0] == "text" else e for e in parser.events]


def reference_html(markdown: str) -> str:
    from markdown_it import MarkdownIt
    return MarkdownIt("commonmark").renderInline(markdown)


def test_the_corpus_is_large_enough_and_covers_the_three_sections() -> None:
    assert len(CORPUS) >= 200
    sections = {e["section"] for e in CORPUS}
    assert {"Code spans", "Emphasis and strong emphasis", "Links"} <= sections


@pytest.mark.parametrize("example", CORPUS,
                         ids=[f"{e['example']}-{e['variant']}" for e in CORPUS])
def test_differential_against_commonmark(example: dict) -> None:
    """Every input renders as markdown-it-py's CommonMark renderer renders it, or is refused
    on purpose: a link whose address our URL check refuses, or a link without text."""
    markdown = example["markdown"]
    if example["expect"] == "same":
        ours = spans_to_html(parse_inline(markdown, check_url))
        assert events(ours) == events(reference_html(markdown)), (markdown, ours)
        return
    with pytest.raises(LinkTargetError) as refused:
        parse_inline(markdown, check_url)
    assert example["reason"] in str(refused.value), (markdown, str(refused.value))


@pytest.mark.parametrize("markdown, html", [
    # The cases the hand-written parser got wrong (issue 14), now as CommonMark has them.
    ("*foo *bar* baz*", "<em>foo <em>bar</em> baz</em>"),
    ("***both***", "<em><strong>both</strong></em>"),
    ("*[foo*](https://x.org/)", '*<a href="https://x.org/">foo*</a>'),
    ("`` a`b ``", "<code>a`b</code>"),
    ('[link](https://example.org "Title")',
     '<a href="https://example.org" title="Title">link</a>'),
    ("snake_case_word and 2 * 3", "snake_case_word and 2 * 3"),
    ("\\*not\\* [not a link] **open", "*not* [not a link] **open"),
])
def test_former_misparses(markdown: str, html: str) -> None:
    assert spans_to_html(parse_inline(markdown, check_url)) == html


def test_spans_keep_the_model_types_and_the_digest_says_the_same_words() -> None:
    spans = parse_inline("A *b* **c** `d` [e *f*](https://x.org/y) g_h_i \\*j\\*", check_url)
    assert spans == (
        Text("A "), Emphasis((Text("b"),)), Text(" "), Strong((Text("c"),)), Text(" "),
        Code("d"), Text(" "), Link((Text("e "), Emphasis((Text("f"),))), "https://x.org/y"),
        Text(" g_h_i *j*"))
    assert plain_text(spans) == "A b c d e f g_h_i *j*"
    digest = spans_to_text(spans, {"https://x.org/y": 3})
    page = re.sub(r"<[^>]+>", "", spans_to_html(spans))
    assert digest == "A b c d e f [3] g_h_i *j*"
    assert unescape(page) + " [3]" == digest.replace(" [3]", "") + " [3]"


def test_a_line_break_ends_emphasis_in_both_outputs() -> None:
    """A blank line in a folded summary is a paragraph break; emphasis never crosses it."""
    spans = parse_inline("*one\ntwo*", check_url)
    assert spans == (Text("*one\ntwo*"),)


def test_nesting_deeper_than_eight_stays_literal() -> None:
    spans = parse_inline("**" * 12 + "deep" + "**" * 12, check_url)
    html = spans_to_html(spans)
    assert html.count("<strong>") == 8
    assert plain_text(spans) == "**" * 4 + "deep" + "**" * 4


@pytest.mark.parametrize("markdown, message", [
    ("see [this](javascript:alert(1))",
     "link [this](javascript:alert(1)): must be an http(s) URL, not 'javascript:'|write the "
     "full https:// address"),
    ("see [](https://x.org/a)",
     "link (https://x.org/a) has no text; write [the source's title](https://x.org/a)"),
    ("a picture ![still](https://x.org/a.png)",
     "images are not allowed in text (![…](https://x.org/a.png))|to link to the picture, "
     "write [what it shows](its address) without the '!'"),
])
def test_refusals_say_why(markdown: str, message: str) -> None:
    with pytest.raises(LinkTargetError) as refused:
        parse_inline(markdown, check_url)
    assert str(refused.value) == message


def test_an_escaped_exclamation_mark_before_a_link_is_text() -> None:
    assert spans_to_html(parse_inline("Wow\\![a](https://x.org/)", check_url)) == \
        'Wow!<a href="https://x.org/">a</a>'


# -- the worst shapes, through the real CLI ----------------------------------------------------

SHAPES = {
    "nested emphasis": "*a **b ",
    "open brackets": "[",
    "unclosed links": "[a](",
    "brackets and stars": "*[",
    "backtick runs": "` `` ```",
    "underscores": "_a __b ",
    "escapes": "\\*",
}


def summary_of(shape: str, length: int = 5000) -> str:
    return (shape * (length // len(shape) + 1))[:length]


@pytest.mark.parametrize("name", SHAPES)
def test_worst_shapes_at_the_maximum_length_pass_check(factory, name: str) -> None:
    """40 summaries of 5,000 characters of the worst shape each, through `check`. Not timed:
    the generous timeout only stops a quadratic parser from stalling the suite (the old one
    took about 350 ms per summary; benchmarks/markdown.py has the numbers)."""
    text = json.dumps(summary_of(SHAPES[name]))
    items = "".join(f"  - headline: Item {n}\n    summary: {text}\n    sources:\n"
                    f"      - {{url: 'https://example.org/{n}', title: T, publisher: P}}\n"
                    for n in range(40))
    project = factory(briefs={"industry.yaml": "items:\n" + items, "ethics.yaml": BRIEF})
    result = project.cli("check", "--format", "json", timeout=120)
    assert "Traceback" not in result.err
    data = json.loads(result.out)
    assert data["summary"]["items"] == 41, result.out[:500]


def test_a_megabyte_of_nested_markers_checks(tmp_path: Path) -> None:
    """The 1 MB brief of issue 16: every cap respected, nested `*a **b` everywhere."""
    text = json.dumps(summary_of("*a **b ", 4880))
    items = "".join(f"  - headline: Item {n}\n    summary: {text}\n    sources:\n"
                    f"      - {{url: 'https://example.org/{n}', title: T, publisher: P}}\n"
                    for n in range(200))
    brief = "items:\n" + items
    assert 950_000 < len(brief.encode()) <= 1_000_000
    project = make_project(tmp_path / "news", briefs={"industry.yaml": brief})
    result = project.cli("check", "--format", "json", timeout=300)
    assert json.loads(result.out)["summary"]["items"] == 200, result.err[:500]


def test_chart_labels_wrap_in_the_digest_and_units_sit_right(factory) -> None:
    """A long stat label wraps under itself within 72 columns; a currency unit goes before
    the value, a word after it with one space."""
    brief = BRIEF.replace("    why: It matters.\n", (
        "    why: It matters.\n    stat:\n"
        "      - {label: Studios and the largest streaming platforms in China and US, "
        "value: 1250000, unit: viewers}\n"
        "      - {label: Budget, value: 12, unit: '£'}\n"
        "      - {label: Screens, value: 3, unit: ' km '}\n"))
    project = factory(briefs={"industry.yaml": brief})
    assert project.cli("build").code == 0
    digest = (project.root / "out/2026-W07/digest.txt").read_text(encoding="utf-8")
    start = digest.index("  Studios and the")
    assert digest[start:].splitlines()[:6] == [
        "  Studios and the       ██████████████████████████████ 1,250,000 viewers",
        "  largest streaming",
        "  platforms in China",
        "  and US",
        "  Budget                █ £12",
        "  Screens               █ 3 km",
    ]
    assert max(len(line) for line in digest.splitlines()) <= 72
