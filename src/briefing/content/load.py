"""Read YAML files into marked nodes, refusing what PyYAML would silently get wrong."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from ..errors import BriefingError, Problem

# Caps checked before or while parsing, so hostile input costs little (see README, Security).
MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_NODES = 100_000
DEPTH_MESSAGE = f"nesting deeper than {MAX_DEPTH} levels"

# libyaml's parser is several times faster; both give the same events and marks.
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Resolving the implicit type of plain scalars is only used to *refuse* non-text where text
# belongs ("headline: 12", "title: no"); values themselves always keep their source text.
_resolver = yaml.resolver.Resolver()
_MAYBE_TYPED = frozenset(c for c in _resolver.yaml_implicit_resolvers if c is not None)
_TAG_KIND = {
    "tag:yaml.org,2002:str": "text",
    "tag:yaml.org,2002:int": "number",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "date",
}


class Mark(NamedTuple):
    """Where a value starts: the file (relative to the project) and 1-based line and column."""

    path: str
    line: int
    col: int


# slots: a 4000-item issue makes ~100k nodes, and these are built once per value.
@dataclass(slots=True)
class Scalar:
    text: str
    kind: str  # text, number, boolean, null, date
    mark: Mark

    def describe(self) -> str:
        return {"text": "text", "number": "a number", "boolean": "a yes/no value",
                "null": "nothing", "date": "a date"}[self.kind]


@dataclass(slots=True)
class Seq:
    items: list[Node]
    mark: Mark

    def describe(self) -> str:
        return "a list"


@dataclass(slots=True)
class Map:
    pairs: list[tuple[Scalar, Node]]
    mark: Mark

    def describe(self) -> str:
        return "a mapping"

    def get(self, key: str) -> Node | None:
        for k, v in self.pairs:
            if k.text == key:
                return v
        return None


Node = Scalar | Seq | Map


def read_text(path: Path, display: str) -> str:
    """Read a UTF-8 text file within the size cap, or fail naming the file and line."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BriefingError(Problem(display, 0, 0, f"cannot read file: {exc.strerror}")) from None
    if size > MAX_FILE_BYTES:
        raise BriefingError(Problem(
            display, 0, 0,
            f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes"))
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise BriefingError(Problem(display, line, 1, "file is binary, not YAML text (NUL byte)"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BriefingError(Problem(
            display, line, col,
            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8")) from None
    return text.removeprefix("\ufeff")


def load_yaml(path: Path, display: str, problems: list[Problem] | None = None) -> Node | None:
    """Parse one YAML document into marked nodes; None for an empty file."""
    return parse_yaml(read_text(path, display), display, problems)


def parse_yaml(text: str, display: str, problems: list[Problem] | None = None) -> Node | None:
    """Build nodes from parser events: no aliases, no duplicate keys, bounded depth and size.

    A duplicate key does not stop the parse: it is added to `problems` and its value left
    out, so the rest of the file is still checked (with no list given, it is raised)."""
    found: list[Problem] = []
    try:
        root = _parse(text, display, _Loader, found)
        if problems is None and found:
            raise BriefingError(found)
        if problems is not None:
            problems.extend(found)
        return root
    except _ParserDepthError as exc:
        # PyYAML 6.0.4's libyaml stops deep flow nesting (~1,000 `[`) with its own "exceeded
        # maximum nesting depth" while it reads ahead, before our event-level check sees level
        # 33. The pure-Python parser has no such limit and emits events as it goes: rerun it
        # on the text up to that point, so the same input gets the same message, at the line
        # and column where level 33 opens, whatever the PyYAML/libyaml version.
        try:
            _parse(text[: exc.index], display, yaml.SafeLoader)
        except BriefingError as located:
            if located.problems[0].message == DEPTH_MESSAGE:
                raise
        # Not located (the prefix ended in a syntax error first): still our words, at
        # libyaml's place.
        where = exc.error.problems[0]
        raise BriefingError(Problem(display, where.line, where.col, DEPTH_MESSAGE)) from None


_SKIP = object()  # stands for a duplicate key: its value is parsed but not kept


class _ParserDepthError(Exception):
    """libyaml's own depth limit, to be located by the pure-Python parser."""

    def __init__(self, index: int, error: BriefingError) -> None:
        super().__init__(index)
        self.index = index
        self.error = error


def _parse(text: str, display: str, loader: type, found: list[Problem] | None = None
           ) -> Node | None:

    # Events are typed loosely: PyYAML's stubs declare only the base Event's fields, while each
    # kind carries its own (anchor, tag, value, implicit, style).
    def mark(event: Any) -> Mark:
        return Mark(display, event.start_mark.line + 1, event.start_mark.column + 1)

    def fail(event: Any, message: str) -> BriefingError:
        m = mark(event)
        return BriefingError(Problem(display, m.line, m.col, message))

    # Each open container: [node, pending key or None, first line of each key (mappings)]
    stack: list[list] = []
    root: Node | None = None
    documents = 0
    nodes = 0
    Scalar_, Seq_, Map_ = yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)

    def attach(node: Node, event: Any) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        top = stack[-1]
        parent = top[0]
        if type(parent) is Seq:
            parent.items.append(node)
        elif top[1] is None:
            if type(node) is not Scalar:
                raise fail(event, "a key must be plain text, not a list or mapping")
            first = top[2].get(node.text)
            if first is not None:  # a dict, not a scan: 50,000 keys must not take minutes
                duplicate = fail(event, f"duplicate key '{node.text}' (first at line {first}); "
                                        "YAML would keep only the last").problems[0]
                if found is None:
                    raise BriefingError(duplicate)
                found.append(duplicate)
                top[1] = _SKIP  # the value that follows is read, then left out
                return
            top[2][node.text] = node.mark.line
            top[1] = node
        elif top[1] is _SKIP:
            top[1] = None
        else:
            parent.pairs.append((top[1], node))
            top[1] = None

    try:
        events: Iterator[Any] = yaml.parse(text, Loader=loader)
        for event in events:
            kind_of = type(event)
            if kind_of is Scalar_ or kind_of is Seq_ or kind_of is Map_:
                if event.anchor:
                    raise fail(event, f"YAML anchors (&{event.anchor}) are not allowed; "
                                      "write the value out")
                if event.tag not in (None, "!"):
                    raise fail(event, f"YAML tags ({event.tag}) are not allowed")
                nodes += 1
            if kind_of is Scalar_:
                value = event.value
                # Plain scalars may be numbers, booleans, dates or null; the resolver keys its
                # patterns by first character, so most words are text without asking it.
                if (event.implicit[0] and not event.style
                        and (not value or value[0] in _MAYBE_TYPED)):
                    tag = _resolver.resolve(yaml.ScalarNode, value, (True, False))
                    kind = _TAG_KIND.get(tag, "text")
                else:
                    kind = "text"
                start = event.start_mark
                attach(Scalar(value, kind, Mark(display, start.line + 1, start.column + 1)),
                       event)
            elif kind_of is Seq_ or kind_of is Map_:
                if len(stack) >= MAX_DEPTH:
                    raise fail(event, DEPTH_MESSAGE)
                container: Node = (Seq([], mark(event)) if kind_of is Seq_
                                   else Map([], mark(event)))
                attach(container, event)
                stack.append([container, None, {}])
            elif kind_of in ends:
                stack.pop()
            elif kind_of is yaml.AliasEvent:
                raise fail(event, f"YAML aliases (*{event.anchor}) are not allowed; "
                                  "write the value out")
            elif kind_of is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise fail(event, "only one YAML document per file (found '---')")
            if nodes > MAX_NODES:
                raise fail(event, f"more than {MAX_NODES:,} values in one file")
    except yaml.MarkedYAMLError as exc:
        m = exc.problem_mark or exc.context_mark
        line, col = (m.line + 1, m.column + 1) if m else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem:
            problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
        error = BriefingError(Problem(display, line, col, f"YAML syntax error: {problem}"))
        if m is not None and "maximum nesting depth" in (exc.problem or ""):
            raise _ParserDepthError(m.index, error) from None
        explained = explain_syntax_error(text, exc)
        if explained is not None:
            raise BriefingError(Problem(display, *explained)) from None
        raise error from None
    except yaml.reader.ReaderError as exc:  # a control character: report where it is
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - before.rfind("\n")
        raise BriefingError(Problem(
            display, line, col,
            f"control character U+{exc.character:04X} is not allowed in YAML text")) from None
    except yaml.YAMLError as exc:
        raise BriefingError(Problem(display, 0, 0, f"YAML error: {_one_line(str(exc))}")) from None
    return root


# -- the YAML mistakes editors make, in our words, at the line where they must act -------------

_KEY_VALUE = re.compile(r"^(\s*(?:-\s+)*)([^\s:#'\"-][^:#]*?):[ \t]+(\S.*?)\s*$")
_MARKDOWN_LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^)>\s]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _quoted(value: str) -> str:
    """A value as a single-quoted YAML scalar, which keeps every character but the quote."""
    return "'" + value.replace("'", "''") + "'"


def explain_syntax_error(text: str, exc: yaml.MarkedYAMLError
                         ) -> tuple[int, int, str, str] | None:
    """(line, col, message, hint) for a syntax error an editor is likely to have made, or
    None to report the parser's own words. libyaml names what it expected; the editor needs
    to know what they typed and how to fix it."""
    lines = text.split("\n")
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return None
    at = mark.line  # 0-based
    problem = exc.problem or ""
    # A tab in the indentation anywhere up to the error: YAML indents with spaces only.
    for number, line in enumerate(lines[: at + 1]):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            return (number + 1, indent.index("\t") + 1,
                    "a tab is used for indentation; YAML indents with spaces only",
                    "replace the tab with spaces")
    line = lines[at] if at < len(lines) else ""
    pair = _KEY_VALUE.match(line)
    # key: [title](https://...): YAML reads the brackets as a list.
    link = _MARKDOWN_LINK.fullmatch(pair.group(3)) if pair else None
    if pair and link:
        return (at + 1, pair.end(2) + 3,
                f"'{pair.group(2)}' is a Markdown link, which YAML reads as a list; "
                "write only the address", f"{pair.group(2)}: {link.group(1)}")
    # "Blue tickets" arrive in Tokyo: the quotes end the value, the rest is left over.
    before = line[: mark.column].rstrip()
    if before.endswith(("'", '"')) and mark.column < len(line):
        quote = before[-1]
        opening = before.rfind(quote, 0, len(before) - 1)
        while opening > 0 and quote == "'" and before[opening - 1] == "'":  # '' is a quote
            opening = before.rfind(quote, 0, opening - 1)
        if opening >= 0:
            rest = line[opening:]
            if "flow" in (exc.context or ""):  # inside [...] or {...}: up to the separator
                rest = re.split(r"\s*[,\]}]", rest[len(before) - opening:], maxsplit=1)[0]
                rest = line[opening: len(before)] + rest
            value = rest.rstrip()
            key = line[:opening].strip().lstrip("-[{, ").strip()
            written = f"{key} {_quoted(value)}" if key.endswith(":") else _quoted(value)
            return (at + 1, opening + 1,
                    "text after the closing quote: YAML ends the value at the quote",
                    f"put the whole value in single quotes: {written}")
    # Seedance 2.0: the launch: ': ' inside a plain value starts a mapping.
    if "mapping values are not allowed" in problem and pair:
        return (at + 1, pair.end(2) + 3,
                f"the ': ' inside the value of '{pair.group(2)}' makes YAML read a new key",
                f"put the whole value in quotes: {pair.group(2)}: {_quoted(pair.group(3))}")
    # A plain value continued on a line indented no further than its key.
    culprit = exc.context_mark.line if "simple key" in (exc.context or "") and \
        exc.context_mark is not None else at
    if culprit < len(lines):
        current = lines[culprit]
        stripped = current.strip()
        previous = next((lines[n] for n in range(culprit - 1, -1, -1) if lines[n].strip()), "")
        above = _KEY_VALUE.match(previous)
        if stripped and ":" not in stripped and not stripped.startswith(("-", "#")) and above:
            key_col = len(above.group(1))
            spaces = len(current) - len(current.lstrip(" "))
            if spaces <= key_col:
                return (culprit + 1, spaces + 1,
                        f"this line continues '{above.group(2)}' above, but it is not "
                        f"indented further than '{above.group(2)}', so YAML cannot read it",
                        f"indent it by at least {key_col + 1} spaces, or join it to the "
                        "line above")
    return None


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def relative(path: Path, root: Path) -> str:
    """A path as the editor sees it: relative to the project, with forward slashes."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return os.fspath(path)
