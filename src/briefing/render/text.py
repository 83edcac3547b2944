"""The plain-text digest: wrapped at 72 columns, numbered references, no markup of any kind."""

from __future__ import annotations

import unicodedata

from ..content.dates import day_month_year, long_date
from ..content.model import Code, Emphasis, Issue, Item, Link, Span, Stat, Strong, Text
from ..content.references import item_numbers
from .wrap import width, wrap

WIDTH = 72
RULE = "=" * WIDTH
THIN_RULE = "-" * WIDTH
BAR_COLUMNS = 30


def spans_to_text(spans: tuple[Span, ...], numbers: dict[str, int]) -> str:
    """Flatten inline Markdown: markers dropped, each link followed by its reference number."""
    out: list[str] = []
    for span in spans:
        if isinstance(span, (Text, Code)):
            out.append(span.text)
        elif isinstance(span, (Emphasis, Strong)):
            out.append(spans_to_text(span.children, numbers))
        elif isinstance(span, Link):
            out.append(f"{spans_to_text(span.children, numbers)} [{numbers[span.url]}]")
    return "".join(out)


def _paragraphs(text: str, indent: str = "") -> list[str]:
    lines: list[str] = []
    for index, paragraph in enumerate(p for p in text.split("\n") if p.strip()):
        if index:
            lines.append("")
        lines.extend(wrap(paragraph, WIDTH, indent))
    return lines


def _underline(title: str, char: str) -> list[str]:
    return [title, char * max(width(title), 3)]


def stat_lines(stats: tuple[Stat, ...], indent: str = "") -> list[str]:
    """Labelled text bars scaled to the largest value, with the values printed. A label too
    long for its column wraps under itself, so no line passes 72 columns."""
    if not stats:
        return []
    top = max(s.value for s in stats) or 1
    values = [format_value(s) for s in stats]
    room = WIDTH - width(indent) - 2 - BAR_COLUMNS - 1 - max(width(v) for v in values)
    column = min(max(width(s.label) for s in stats), max(room, 12))
    lines = []
    for s, value in zip(stats, values, strict=True):
        bar = "█" * max(1 if s.value > 0 else 0, round(s.value / top * BAR_COLUMNS))
        label = _label_lines(s.label, column)
        pad = " " * (column - width(label[0]))
        lines.append(f"{indent}{label[0]}{pad}  {bar} {value}".rstrip())
        lines.extend(f"{indent}{rest}" for rest in label[1:])
    return lines


def _label_lines(label: str, column: int) -> list[str]:
    """A label wrapped between words to `column`; a single word longer than that is cut (a
    chart label is at most 60 characters, so this is rare)."""
    lines: list[str] = []
    for line in wrap(label, column) or [""]:
        while width(line) > column:
            cut = column
            while width(line[:cut]) > column:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines


# Symbols written right after the value with no space; currency symbols (Unicode category Sc)
# go before it: 69%, 3‰, 21°, £12, $3.5.
_TIGHT_AFTER = ("%", "‰", "‱", "°", "′", "″")


def format_value(stat: Stat) -> str:
    """'69%', '1,250,000 viewers', '3.5 s', '£12': thousands grouped, no float noise,
    locale-free, one space at most between value and unit."""
    number = stat.value
    value = f"{number:,}" if isinstance(number, int) else f"{number:,.12g}"
    unit = " ".join(stat.unit.split())
    if not unit:
        return value
    if all(unicodedata.category(c) == "Sc" for c in unit):
        return f"{unit}{value}"
    return f"{value}{unit}" if unit in _TIGHT_AFTER else f"{value} {unit}"


def _item(item: Item, numbers: dict[str, int]) -> list[str]:
    indent = "  "
    lines = wrap(item.headline, WIDTH, "• ", indent)
    # Every summary ends with the numbers of all the item's sources, even one already cited
    # inline: a reader scanning for "where is this from" finds the answer in one place.
    refs = " ".join(f"[{n}]" for n in item_numbers(item, numbers))
    summary = spans_to_text(item.summary, numbers)
    paragraphs = [p for p in summary.split("\n") if p.strip()]
    if refs:
        paragraphs[-1] = f"{paragraphs[-1]} {refs}"
    for index, paragraph in enumerate(paragraphs):
        if index:
            lines.append("")
        lines.extend(wrap(paragraph, WIDTH, indent))
    if item.stat:
        lines.append("")
        lines.extend(stat_lines(item.stat, indent))
    if item.why:
        lines.append("")
        lines.extend(wrap(f"Why it matters: {item.why}", WIDTH, indent))
    if item.previous is not None:  # a story thread's earlier item (docs/record.md)
        lines.append("")
        lines.extend(wrap(f"Previously: {item.previous.headline} ({item.previous.issue})",
                          WIDTH, indent))
        if item.previous.url:
            lines.append(indent + item.previous.url)
    return lines


def _corrections(issue: Issue) -> list[str]:
    """Corrections of earlier issues, one line each, with the link to the corrected item."""
    from ..content.markdown import plain_text
    lines = ["", ""]
    lines.extend(_underline("Corrections", "="))
    for correction in issue.corrected:
        lines.append("")
        lines.extend(wrap(f"{correction.headline} ({correction.issue}): "
                          f"{plain_text(correction.text)}", WIDTH, "• ", "  "))
        if correction.url:
            lines.append("  " + correction.url)
    return lines


def render_text(issue: Issue) -> str:
    config = issue.config
    numbers = {r.url: r.number for r in issue.references}
    lines: list[str] = []
    from .html import web_url
    if web_url(issue):  # the digest's "view in your browser"
        lines += [f"Read it on the web: {web_url(issue)}", ""]
    lines.extend(wrap(config.name.upper(), WIDTH))
    if config.tagline:
        lines.extend(wrap(config.tagline, WIDTH))
    lines += [RULE, ""]
    lines.extend(wrap(issue.title, WIDTH))
    lines.append(f"{long_date(issue.date)} · {issue.id}")
    if issue.intro:
        lines.append("")
        lines.extend(_paragraphs(spans_to_text(issue.intro, numbers)))
    lines += ["", THIN_RULE]
    contents = " · ".join(f"{s.theme.title} ({len(s.items)})".replace(" ", "\u00a0")
                           for s in issue.sections)
    lines.extend(wrap(f"In this issue: {contents}", WIDTH))
    lines.append(THIN_RULE)
    if issue.corrected:
        lines.extend(_corrections(issue))
    for section in issue.sections:
        lines += ["", ""]
        lines.extend(_underline(section.theme.title, "="))
        if section.theme.description:
            lines.extend(wrap(section.theme.description, WIDTH))
        for item in section.items:
            lines.append("")
            lines.extend(_item(item, numbers))
    lines += ["", ""]
    lines.extend(_underline("Sources", "="))
    for ref in issue.references:
        lines.append("")
        label = f"[{ref.number}] "
        hang = " " * len(label)
        lines.extend(wrap(ref.title, WIDTH, label, hang))
        detail = ref.publisher + (f", {day_month_year(ref.date)}" if ref.date else "")
        if detail:
            lines.extend(wrap(detail, WIDTH, hang))
        lines.append(hang + ref.url)
    lines += ["", RULE]
    footer = [f"You are receiving {config.name} because you subscribed to it."]
    lines.extend(wrap(footer[0], WIDTH))
    lines.append(f"Unsubscribe: {config.unsubscribe_url}")
    from ..content.variants import preferences_link
    if config.preferences is not None:
        lines.append(f"Choose what you get: {preferences_link(issue)}")
    if config.archive_url:
        lines.append(f"Archive: {config.archive_url}")
    lines.extend(wrap(config.address, WIDTH))
    return "\n".join(line.rstrip() for line in lines) + "\n"
