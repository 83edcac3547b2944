"""Unit tests for each pipeline stage: loader, inline Markdown, wrapping, references, renderers."""

from __future__ import annotations

import pytest

from briefing.content.load import Map, Scalar, Seq, parse_yaml
from briefing.content.markdown import LinkTargetError, parse_inline, plain_text
from briefing.content.model import Code, Emphasis, Link, Strong, Text
from briefing.content.schema import check_url, parse_mailbox
from briefing.errors import BriefingError
from briefing.render.wrap import width, wrap


def ok_url(url: str) -> str:
    return check_url(url)


# -- load ------------------------------------------------------------------------------------

def test_loader_keeps_marks_and_source_text() -> None:
    node = parse_yaml("a: 1:30\nb: no\nc: 'no'\nd: [x, 2026-02-09]\n", "f.yaml")
    assert isinstance(node, Map)
    a, b, c, d = (v for _, v in node.pairs)
    assert (a.text, a.kind) == ("1:30", "number")  # kept as written, never the sexagesimal 90
    assert (b.text, b.kind) == ("no", "boolean")  # refused where text belongs, never False
    assert (c.text, c.kind) == ("no", "text")
    assert isinstance(d, Seq) and d.items[1].kind == "date"
    assert (b.mark.line, b.mark.col) == (2, 4)


@pytest.mark.parametrize("text, message", [
    ("a: 1\na: 2\n",
     "f.yaml:2:1: error: duplicate key 'a' (first at line 1); YAML would keep only the last"),
    ("a: &x 1\nb: *x\n",
     "f.yaml:1:4: error: YAML anchors (&x) are not allowed; write the value out"),
    ("a: !!python/object 1\n",
     "f.yaml:1:4: error: YAML tags (tag:yaml.org,2002:python/object) are not allowed"),
    ("a: 1\n---\nb: 2\n", "f.yaml:2:1: error: only one YAML document per file (found '---')"),
    ("a: \x07\n", "f.yaml:1:4: error: control character U+0007 is not allowed in YAML text"),
    ("[" * 40 + "]" * 40, "f.yaml:1:33: error: nesting deeper than 32 levels"),
])
def test_loader_refusals(text: str, message: str) -> None:
    with pytest.raises(BriefingError) as info:
        parse_yaml(text, "f.yaml")
    assert info.value.report() == message


def test_alias_bomb_is_refused_before_expansion() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    with pytest.raises(BriefingError, match="anchors"):
        parse_yaml(bomb, "f.yaml")


# -- inline Markdown -------------------------------------------------------------------------

def test_inline_markdown_spans() -> None:
    spans = parse_inline("A *b* **c** `d` [e *f*](https://x.org/y) g_h_i \\*j\\*", ok_url)
    assert spans == (
        Text("A "), Emphasis((Text("b"),)), Text(" "), Strong((Text("c"),)), Text(" "),
        Code("d"), Text(" "), Link((Text("e "), Emphasis((Text("f"),))), "https://x.org/y"),
        Text(" g_h_i *j*"))
    assert plain_text(spans) == "A b c d e f g_h_i *j*"


def test_unmatched_markers_stay_literal() -> None:
    assert parse_inline("2 * 3 = 6 and [not a link] and **open", ok_url) == (
        Text("2 * 3 = 6 and [not a link] and **open"),)


@pytest.mark.parametrize("target", ["javascript:alert(1)", "data:text/html,x", "vbscript:x",
                                    "//evil.example/x", "https://a@b.example/"])
def test_bad_link_targets_are_refused(target: str) -> None:
    with pytest.raises(LinkTargetError):
        parse_inline(f"see [this]({target})", ok_url)


# -- values ----------------------------------------------------------------------------------

def test_mailbox_parsing() -> None:
    assert str(parse_mailbox("Ann Lee <ann@example.org>")) == "Ann Lee <ann@example.org>"
    assert str(parse_mailbox('"Lee, Ann" <ann@example.org>')) == "Lee, Ann <ann@example.org>"
    assert parse_mailbox("ann@example.org").address == "ann@example.org"
    for bad in ("ann", "ann@", "Ann <ann@example.org", "ann@example.org, bob@example.org",
                "<ann@example.org> x", "ann@localhost"):
        with pytest.raises(ValueError):
            parse_mailbox(bad)


# -- wrap ------------------------------------------------------------------------------------

def test_wrap_counts_wide_characters_as_two_columns() -> None:
    lines = wrap("贾樟柯" * 30, 20)
    assert all(width(line) <= 20 for line in lines)
    assert "".join(lines) == "贾樟柯" * 30


def test_wrap_never_starts_a_line_with_closing_punctuation() -> None:
    lines = wrap("这是一个很长的中文句子，用来测试换行是否正确，以及标点符号。" * 3, 21)
    assert all(not line.startswith(("，", "。")) for line in lines)


def test_wrap_keeps_long_urls_whole_and_no_break_spaces() -> None:
    url = "https://example.org/" + "x" * 100
    assert wrap(f"see {url} now", 40) == ["see", url, "now"]
    assert wrap("aaaa bbbb Public\u00a0opinion\u00a0(3)", 20) == [
        "aaaa bbbb", "Public\u00a0opinion\u00a0(3)"]


def test_scalar_and_seq_describe_themselves() -> None:
    node = parse_yaml("- 1\n", "f.yaml")
    assert isinstance(node, Seq) and isinstance(node.items[0], Scalar)
    assert node.describe() == "a list" and node.items[0].describe() == "a number"


def test_stat_values_are_grouped_and_free_of_float_noise() -> None:
    from briefing.content.model import Stat
    from briefing.render.text import format_value, stat_lines
    assert [format_value(Stat("x", v, u)) for v, u in
            [(69, "%"), (1250000, "viewers"), (3.5, "s"), (0.1 + 0.2, "")]] == [
        "69%", "1,250,000 viewers", "3.5 s", "0.3"]
    assert stat_lines((Stat("China", 69, "%"), Stat("United States", 35, "%"))) == [
        "China          ██████████████████████████████ 69%",
        "United States  ███████████████ 35%",
    ]


def test_dates_are_spelled_out_without_the_locale() -> None:
    import datetime as dt

    from briefing.content.dates import day_month_year, long_date, short_date
    date = dt.date(2026, 2, 13)
    assert (long_date(date), day_month_year(date), short_date(date)) == (
        "Friday 13 February 2026", "13 February 2026", "13\u00a0Feb\u00a02026")
