"""New items as YAML text, added to a brief without rewriting it: comments, order, layout stay."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from ..content.load import Map, Seq, parse_yaml
from ..errors import BriefingError, Problem, Problems

GUESSED = "# guessed:"  # the comment after a date `add` did not find declared; `check` warns
SUMMARY_PLACEHOLDER = "TODO two or three sentences in your own words"


@dataclass(frozen=True)
class NewItem:
    """An item as `add` writes it; '' fields are placeholders, said in the text."""

    headline: str
    url: str
    title: str
    publisher: str
    date: dt.date | None = None
    date_note: str = ""  # with a date: why it is a guess; without: why there is none


def scalar(value: str) -> str:
    """`value` as a YAML scalar that reads back as the same text: plain when it is safe, else
    double-quoted (a JSON string is a valid YAML double-quoted scalar)."""
    import yaml
    if value and value == value.strip() and "#" not in value and "\n" not in value:
        try:
            if yaml.safe_load(f"k: {value}\n") == {"k": value}:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(text.split())


def item_lines(item: NewItem, dash: str = "  ", key: int = 2) -> list[str]:
    """The item's lines: `dash` is the indent of its '-', `key` the offset of its keys."""
    pad = dash + " " * key
    src = pad + "  "
    lines = [f"{dash}-{' ' * (key - 1)}headline: {scalar(item.headline)}",
             f"{pad}summary: {SUMMARY_PLACEHOLDER}",
             f"{pad}sources:",
             f"{src}- url: {scalar(item.url)}",
             f"{src}  title: {scalar(item.title)}",
             f"{src}  publisher: {scalar(item.publisher)}"]
    if item.date is not None:
        note = f"  {GUESSED} {_comment(item.date_note)}; check it, then delete this comment" \
            if item.date_note else ""
        lines.append(f"{src}  date: {item.date.isoformat()}{note}")
    elif item.date_note:
        lines.append(f"{src}  # no date: {_comment(item.date_note)}")
    return lines


def new_brief_text(theme: str, items: list[NewItem]) -> str:
    lines = ["# yaml-language-server: $schema=../../schema/brief.schema.json",
             f"theme: {theme}", "items:"]
    for item in items:
        lines += item_lines(item)
    return "\n".join(lines) + "\n"


def append_items(text: str, items: list[NewItem], shown: str) -> tuple[str, int]:
    """The brief's text with the items added at the end of its `items:` list, every other
    line kept as it was, and the line where the first new item starts."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    newline = "\r\n" if "\r\n" in text else "\n"  # a file saved on Windows stays so
    text = text.removeprefix(bom).replace("\r\n", "\n")
    problems: list[Problem] = []
    root = parse_yaml(text, shown, problems)
    if problems:
        raise BriefingError(problems)
    listed = root.get("items") if isinstance(root, Map) else None
    if not isinstance(listed, Seq) or not listed.items:
        raise BriefingError(Problem(shown, 0, 0, "has no items list to add to",
                                    "fix the brief first: 'briefing check' says what is wrong"))
    lines = text.split("\n")
    first = listed.items[0]
    start = lines[first.mark.line - 1]
    if start[listed.mark.col - 1:listed.mark.col] == "[" or not isinstance(first, Map):
        raise BriefingError(Problem(shown, listed.mark.line, listed.mark.col,
                                    "items are written in flow style ([...]), which 'add' "
                                    "does not edit", "add the item by hand"))
    prefix = re.fullmatch(r"( *)-( +)", start[:first.mark.col - 1])
    dash, key = (prefix.group(1), len(prefix.group(2)) + 1) if prefix else ("  ", 2)
    # The list ends where the next top-level key starts (or at the end of the file); the new
    # items go after its last line that is neither blank nor a comment.
    after = [k.mark.line for k, _ in root.pairs if k.mark.line > listed.mark.line] \
        if isinstance(root, Map) else []
    end = min(after, default=len(lines) + 1) - 1
    last = end
    while last > 0 and (not lines[last - 1].strip() or lines[last - 1].lstrip().startswith("#")):
        last -= 1
    new = [line for item in items for line in item_lines(item, dash, key)]
    result = lines[:last] + new + lines[last:]
    joined = "\n".join(result)
    joined = joined if joined.endswith("\n") else joined + "\n"
    return bom + joined.replace("\n", newline), last + 1


def check_brief(text: str, shown: str) -> tuple:
    """The brief's items as the validator reads them; raises with the problems found."""
    from ..content import schema
    problems = Problems()
    found: list[Problem] = []
    node = parse_yaml(text.removeprefix("\ufeff").replace("\r\n", "\n"), shown, found)
    problems.extend(found)
    values = schema.BRIEF.check(node, problems, "brief") if node is not None else None
    problems.raise_if_any()
    assert isinstance(values, dict)
    return tuple(values["items"])
