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


def load_yaml(path: Path, display: str, problems: list[Problem] | None = None,
              keys: frozenset[str] = frozenset()) -> Node | None:
    """Parse one YAML document into marked nodes; None for an empty file."""
    return parse_yaml(read_text(path, display), display, problems, keys)


# After this many mistakes explained and fixed in one file, the next one ends its reading; and
# each fix reads the file again, so a big file gets fewer (a 500 KB brief, four).
MAX_REPAIRS = 20
MAX_REREAD_BYTES = 2_000_000


def parse_yaml(text: str, display: str, problems: list[Problem] | None = None,
               keys: frozenset[str] = frozenset()) -> Node | None:
    """Build nodes from parser events: no aliases, no duplicate keys, bounded depth and size.

    With a `problems` list, a mistake the file can be read past does not stop it: a duplicate
    key is added to `problems` and its value left out; a syntax mistake with a known fix (a
    Markdown link for an address, a key at the wrong indentation, a quote that ends a value
    early) is added, and the text is read again with that fix made, so the rest of the file is
    still checked. Without a list, the first problem is raised. `keys` are the formats' field
    names, which tell a mis-indented key from text that needs quotes."""
    repaired: list[Problem] = []
    shifts: dict[int, int] = {}
    reread = 0
    while True:
        found: list[Problem] = []
        recover = (problems is not None and len(repaired) < MAX_REPAIRS
                   and reread + len(text) <= MAX_REREAD_BYTES)
        try:
            root = _located(text, display, found, keys, shifts, recover)
        except _Repaired as fix:
            assert problems is not None
            repaired.append(fix.problem)
            reread += len(text)
            text = fix.text
            for line, delta in fix.shifts.items():
                shifts[line] = shifts.get(line, 0) + delta
            continue
        except BriefingError as exc:
            if repaired or found:  # those stand: they were found before this one
                raise BriefingError([*repaired, *found, *exc.problems]) from None
            raise
        if problems is None and found:
            raise BriefingError(found)
        if problems is not None:
            problems.extend([*repaired, *found])
        return root


class _Repaired(Exception):
    """A syntax mistake explained, and the text with its fix made, to be read again."""

    def __init__(self, problem: Problem, text: str, shifts: dict[int, int]) -> None:
        super().__init__(problem.message)
        self.problem, self.text, self.shifts = problem, text, shifts


def _located(text: str, display: str, found: list[Problem], keys: frozenset[str],
             shifts: dict[int, int], recover: bool) -> Node | None:
    try:
        return _parse(text, display, _Loader, found, keys, shifts, recover)
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


def _parse(text: str, display: str, loader: type, found: list[Problem] | None = None,
           keys: frozenset[str] = frozenset(), shifts: dict[int, int] | None = None,
           recover: bool = False) -> Node | None:
    moved = shifts or {}  # lines a repair moved sideways: marks point at what the editor typed

    # Events are typed loosely: PyYAML's stubs declare only the base Event's fields, while each
    # kind carries its own (anchor, tag, value, implicit, style).
    def mark(event: Any) -> Mark:
        line = event.start_mark.line
        return Mark(display, line + 1, event.start_mark.column + 1 - moved.get(line, 0))

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
                attach(Scalar(value, kind, mark(event)), event)
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
        from .mistakes import HIDDEN, explain_syntax_error  # only a file that fails needs it
        explained = explain_syntax_error(text, exc, keys)
        if explained is None:
            raise BriefingError(Problem(display, line, col, f"YAML syntax error: {problem}; "
                                                            f"{HIDDEN}")) from None
        if explained.repaired is not None and recover:
            raise _Repaired(Problem(display, explained.line, explained.col, explained.message,
                                    explained.hint), explained.repaired,
                            explained.shifts) from None
        message = explained.message
        if HIDDEN not in message:  # YAML stops reading the file here
            message += f"; {HIDDEN}"
        raise BriefingError(Problem(display, explained.line, explained.col, message,
                                    explained.hint)) from None
    except yaml.reader.ReaderError as exc:  # a control character: report where it is
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - before.rfind("\n")
        raise BriefingError(Problem(
            display, line, col,
            f"control character U+{exc.character:04X} is not allowed in YAML text")) from None
    except yaml.YAMLError as exc:
        raise BriefingError(Problem(display, 0, 0, f"YAML error: {_one_line(str(exc))}")) from None
    return root


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def relative(path: Path, root: Path) -> str:
    """A path as the editor sees it: relative to the project, with forward slashes."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return os.fspath(path)
