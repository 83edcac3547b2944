"""The YAML mistakes editors make, in our words, at the line to change, with the text fixed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

# libyaml when there is one; the explanations only need to know where a parse stops.
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

HIDDEN = "later problems in this file may be hidden"
# A fix is tried on the lines around the error, and counts when YAML then reads this many
# lines past it: a second, unrelated mistake further down must not make a good fix look bad.
_WINDOW = 10
_LINES_BACK = 12  # an indentation mistake shows up at most this far below its own line

_KEY_VALUE = re.compile(r"^(\s*(?:-\s+)*)([^\s:#'\"-][^:#]*?):[ \t]+(\S.*?)\s*$")
_MARKDOWN_LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^)>\s]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# A line that opens a key (`  summary:`) or a list item (`  - url: ...`, `  -`).
_KEY_LINE = re.compile(r"( *)((?:- +)*)([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]|$)")
_ITEM_LINE = re.compile(r"( *)-(?: |$)")


@dataclass(frozen=True)
class Explained:
    """A syntax mistake explained: where, what, the fix; and the text with that fix made
    (`repaired`, the same lines, so the rest of the file can still be checked), or None when
    YAML cannot read past it. `shifts` says how many columns each changed line moved."""

    line: int
    col: int
    message: str
    hint: str
    repaired: str | None = None
    shifts: dict[int, int] = field(default_factory=dict)


def quote(text: str) -> str:
    """`text` as a YAML scalar that reads back exactly: single quotes (which keep every
    character but the quote, written twice), or double quotes for text with an apostrophe."""
    if "'" in text and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return "'" + text.replace("'", "''") + "'"


def explain_syntax_error(text: str, exc: yaml.MarkedYAMLError,
                         keys: frozenset[str] = frozenset()) -> Explained | None:
    """The mistake an editor is likely to have made, or None to report the parser's own
    words. libyaml names what it expected; the editor needs to know what they typed and how to
    fix it. `keys` are the field names of the formats: a line starting with one of them is
    taken for a key at the wrong indentation, never for text that needs quotes."""
    lines = text.split("\n")
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return None
    at = mark.line  # 0-based
    tab = _tab(lines, at)
    if tab is not None:
        return tab
    line = lines[at] if at < len(lines) else ""
    pair = _KEY_VALUE.match(line)
    # key: [title](https://...): YAML reads the brackets as a list.
    link = _MARKDOWN_LINK.fullmatch(pair.group(3)) if pair else None
    if pair and link:
        return Explained(at + 1, pair.end(2) + 3,
                         f"'{pair.group(2)}' is a Markdown link, which YAML reads as a list; "
                         "write only the address", f"{pair.group(2)}: {link.group(1)}",
                         _replace(lines, at, line[:pair.start(3)] + link.group(1)))
    explained = (_indentation(lines, at, exc, keys) or _quoting(lines, at, exc, pair)
                 or _colon_in_continuation(lines, at, exc) or _continuation(lines, at, exc))
    if explained is not None and explained.repaired is not None and \
            _reads_to(explained.repaired.split("\n"), _window_start(lines, at, at + 2),
                      at + 2) <= at:
        # The fix does not get YAML past this line (there is more wrong with it): the file
        # cannot be read on from here.
        return Explained(explained.line, explained.col, f"{explained.message}; {HIDDEN}",
                         explained.hint)
    return explained


def _replace(lines: list[str], at: int, new: str) -> str:
    return "\n".join([*lines[:at], new, *lines[at + 1:]])


# -- quotes ----------------------------------------------------------------------------------

def _quoting(lines: list[str], at: int, exc: yaml.MarkedYAMLError,
             pair: re.Match | None) -> Explained | None:
    line = lines[at] if at < len(lines) else ""
    mark = exc.problem_mark or exc.context_mark
    assert mark is not None
    # "Blue tickets" arrive in Tokyo: the quotes end the value, the rest is left over.
    before = line[: mark.column].rstrip()
    if before.endswith(("'", '"')) and mark.column < len(line):
        mark_quote = before[-1]
        opening = before.rfind(mark_quote, 0, len(before) - 1)
        while opening > 0 and mark_quote == "'" and before[opening - 1] == "'":  # '' is a quote
            opening = before.rfind(mark_quote, 0, opening - 1)
        if opening >= 0:
            end = len(line)
            if "flow" in (exc.context or ""):  # inside [...] or {...}: up to the separator
                rest = re.split(r"\s*[,\]}]", line[len(before):], maxsplit=1)[0]
                end = len(before) + len(rest)
            value = line[opening:end].rstrip()
            meant = _meant(value)
            key = line[:opening].strip().lstrip("-[{, ").strip()
            written = f"{key} {quote(meant)}" if key.endswith(":") else quote(meant)
            fixed = line[:opening] + quote(meant) + line[opening + len(value):]
            return Explained(at + 1, opening + 1,
                             "text after the closing quote: YAML ends the value at the quote",
                             f"put the whole value in quotes: {written}",
                             _replace(lines, at, fixed))
    # Seedance 2.0: the launch: ': ' inside a plain value starts a mapping.
    if "mapping values are not allowed" in (exc.problem or "") and pair and \
            _continued(lines, at) is None:
        fixed = line[:pair.start(3)] + quote(pair.group(3))
        return Explained(at + 1, pair.end(2) + 3,
                         f"the ': ' inside the value of '{pair.group(2)}' makes YAML read a "
                         "new key", f"put the whole value in quotes: {pair.group(2)}: "
                                    f"{quote(pair.group(3))}", _replace(lines, at, fixed))
    return None


def _meant(value: str) -> str:
    """The text an editor meant by a value that YAML cut at a quote. `"A "quoted" word."`
    was quoted whole, so its outer quotes go and the inner ones stay; `"Blue tickets" arrive`
    starts with a quoted phrase, which stays as typed."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        if _paired(inner, value[0]):
            return inner
    return value


def _paired(text: str, mark: str) -> bool:
    """Whether the quote marks in `text` open and close in turn, as quotes around words do:
    an opening one after a space (or at the start), a closing one before a space or the end."""
    opening = True
    for index, char in enumerate(text):
        if char != mark:
            continue
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        if mark == "'" and before.isalnum() and after.isalnum():
            continue  # an apostrophe: it's, l'été
        if opening and not (before.isspace() or before in "([{") or \
                not opening and not (after.isspace() or after in ".,;:!?)]}"):
            return False
        opening = not opening
    return opening


def _continued(lines: list[str], at: int) -> re.Match | None:
    """The `key: value` line that a line continues (the value's text goes on, indented
    further), or None."""
    previous = next((n for n in range(at - 1, -1, -1) if lines[n].strip()
                     and not lines[n].lstrip().startswith("#")), None)
    if previous is None:
        return None
    above = _KEY_VALUE.match(lines[previous])
    if above is None or above.group(3)[0] in "'\"|>[{&*!" or \
            _indent(lines[at]) <= len(above.group(1)):
        return None
    return above


def _colon_in_continuation(lines: list[str], at: int, exc: yaml.MarkedYAMLError
                           ) -> Explained | None:
    """'Update: the studio said' on a line that continues a value: YAML reads a new key."""
    above = _continued(lines, at)
    if above is None or "mapping values are not allowed" not in (exc.problem or ""):
        return None
    key = above.group(2)
    return Explained(at + 1, lines[at].index(":") + 1,
                     f"this line continues '{key}' above, and its ': ' makes YAML read a new "
                     "key", f"put the whole value of '{key}' in quotes, or write '{key}: >-' "
                     "and its text on the lines under it")


def _continuation(lines: list[str], at: int, exc: yaml.MarkedYAMLError) -> Explained | None:
    """A plain value continued on a line indented no further than its key."""
    culprit = exc.context_mark.line if "simple key" in (exc.context or "") and \
        exc.context_mark is not None else at
    if culprit >= len(lines):
        return None
    current = lines[culprit]
    stripped = current.strip()
    previous = next((lines[n] for n in range(culprit - 1, -1, -1) if lines[n].strip()), "")
    above = _KEY_VALUE.match(previous)
    if stripped and ":" not in stripped and not stripped.startswith(("-", "#")) and above:
        key_col = len(above.group(1))
        spaces = len(current) - len(current.lstrip(" "))
        if spaces <= key_col:
            return Explained(culprit + 1, spaces + 1,
                             f"this line continues '{above.group(2)}' above, but it is not "
                             f"indented further than '{above.group(2)}', so YAML cannot read "
                             "it", f"indent it by at least {key_col + 1} spaces, or join it "
                             "to the line above",
                             _replace(lines, culprit, " " * (key_col + 1) + stripped),
                             {culprit: key_col + 1 - spaces})
    return None


# -- indentation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Fix:
    line: int       # 0-based
    column: int     # where it belongs
    moved: int      # how many lines move with it (its block, or its siblings)
    block: str      # which: 'line', 'under' or 'siblings' (_shifted)
    clean: bool     # YAML reads the next _WINDOW lines after the error
    reached: int    # the line YAML reads to with the fix (past the error)
    near: bool      # the column of the key or item just above it
    delta: int      # columns moved


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _columns(lines: list[str], before: int, item: bool) -> list[tuple[int, str]]:
    """(column, name) of the keys (and, for a list item, the dashes) on the lines before one,
    nearest first: the places a key or an item can be."""
    found: list[tuple[int, str]] = []
    for number in range(before - 1, max(-1, before - 60), -1):
        line = lines[number]
        key = _KEY_LINE.match(line)
        if key:
            found.append((len(key.group(1)) + len(key.group(2)), f"'{key.group(3)}'"))
        dash = _ITEM_LINE.match(line)
        if dash and item:
            found.append((len(dash.group(1)), "the list item"))
    return found


def _reads_to(lines: list[str], start: int, limit: int) -> int:
    """The 0-based line YAML stops at, reading lines[start:limit] on their own; `limit` when it
    reads them all."""
    try:
        for _ in yaml.parse("\n".join(lines[start:limit]), Loader=_Loader):
            pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return start + (mark.line if mark is not None else 0)
    except yaml.YAMLError:
        return start
    return limit


def _window_start(lines: list[str], first: int, limit: int) -> int:
    """A line at or before `first` from which YAML can read the lines up to `limit` on their
    own: a key or a list item indented no further than any line after it. Trying a fix then
    costs a few dozen lines, not the whole file before it (a 500 KB brief took a minute)."""
    floor = min((_indent(x) for x in lines[first:limit]
                 if x.strip() and not x.lstrip().startswith("#")), default=0)
    for number in range(first, max(-1, first - 500), -1):
        line = lines[number]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if _indent(line) <= floor and (_KEY_LINE.match(line) or _ITEM_LINE.match(line)):
            return number
        floor = min(floor, _indent(line))
    return 0


def _shifted(lines: list[str], number: int, delta: int,
             block: str) -> tuple[list[str], dict[int, int]]:
    """The lines with one moved `delta` columns, and with it (block 'under') the lines
    indented further, or (block 'siblings') those indented as far or further."""
    found = _indent(lines[number])
    moved = {number: delta}
    if block != "line":
        for after in range(number + 1, len(lines)):
            line = lines[after]
            if not line.strip():
                continue
            spaces = _indent(line)
            if spaces < found or (spaces == found and block == "under"):
                break
            if spaces + delta < 0 or line[: len(line) - len(line.lstrip())].count("\t"):
                break
            moved[after] = delta
    new = list(lines)
    for index in moved:
        new[index] = " " * (_indent(lines[index]) + delta) + lines[index].lstrip(" ")
    return new, moved


def _indentation(lines: list[str], at: int, exc: yaml.MarkedYAMLError,
                 keys: frozenset[str]) -> Explained | None:
    """A key or list item at the wrong indentation: the line, and the column that makes YAML
    read on (from the keys and items above it), found by trying each."""
    limit = min(len(lines), at + 1 + _WINDOW)
    candidates = sorted({at, max(0, at - 1), *range(at, max(-1, at - _LINES_BACK), -1)}
                        | ({exc.context_mark.line} if exc.context_mark else set()), reverse=True)
    start = _window_start(lines, min(candidates), limit)
    window = lines[start:limit]
    best: _Fix | None = None
    for number in candidates:
        if number >= len(lines):
            continue
        line = lines[number]
        key, dash = _KEY_LINE.match(line), _ITEM_LINE.match(line)
        if dash is None and (key is None or (keys and key.group(3) not in keys)):
            continue
        found = _indent(line)
        places = _columns(lines, number, item=dash is not None)
        nearest = places[0][0] if places else -1
        for column in sorted({c for c, _ in places} - {found}, key=lambda c: abs(c - found)):
            for block in ("line", "under", "siblings"):
                tried, moved = _shifted(window, number - start, column - found, block)
                reached = start + _reads_to(tried, 0, limit - start)
                if reached <= at:
                    continue
                fix = _Fix(number, column, len(moved) - 1, block, reached >= limit - 1,
                           reached, column == nearest, column - found)
                if best is None or _better(fix, best):
                    best = fix
    if best is None:
        return None
    fixed, shifts = _shifted(lines, best.line, best.delta, best.block)
    line = lines[best.line]
    found = _indent(line)
    key, dash = _KEY_LINE.match(line), _ITEM_LINE.match(line)
    names = [name for column, name in _columns(lines, best.line, item=dash is not None)
             if column == best.column]
    what = "this list item" if dash else f"'{key.group(3)}'" if key else "this line"
    beside = (f"as {names[0]} above it has" if names and names[0] != "the list item"
              else "as the list items before it have" if names else "as the lines around it")
    delta = best.column - found
    hint = f"indent it by {best.column} space{'' if best.column == 1 else 's'}"
    if len(shifts) > 1:
        lines_after = "the line" if len(shifts) == 2 else f"the {len(shifts) - 1} lines"
        hint += (f", and move {lines_after} under it {abs(delta)} "
                 f"space{'' if abs(delta) == 1 else 's'} {'right' if delta > 0 else 'left'} too")
    return Explained(best.line + 1, found + 1,
                     f"wrong indentation of {what}: expected {best.column} spaces, {beside}; "
                     f"found {found}", hint, "\n".join(fixed), shifts)


def _better(fix: _Fix, best: _Fix) -> bool:
    """Reading on wins, then moving fewer lines, then the column of the line just above,
    then the smaller move, then the line nearer the error."""
    def rank(f: _Fix) -> tuple:
        return (not f.clean, -f.reached if not f.clean else 0, f.moved, not f.near,
                abs(f.delta), -f.line)
    return rank(fix) < rank(best)


# -- tabs ------------------------------------------------------------------------------------

def _tab(lines: list[str], at: int) -> Explained | None:
    """A tab in the indentation anywhere up to the error: YAML indents with spaces only, and
    cannot read past it (the tab's width is the editor's setting, not YAML's)."""
    for number, line in enumerate(lines[: at + 1]):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" not in indent:
            continue
        tabs, spaces = indent.count("\t"), indent.count(" ")
        found = (f"{tabs} tab{'s' if tabs > 1 else ''}" if not spaces else
                 f"{spaces} space{'s' if spaces > 1 else ''} and {tabs} "
                 f"tab{'s' if tabs > 1 else ''}")
        rest = line[len(indent):]
        expected = _tab_column(lines, number, rest)
        counted = "" if expected is None else f" (expected {expected} spaces, found {found})"
        return Explained(number + 1, indent.index("\t") + 1,
                         f"a tab is used for indentation{counted}: YAML indents with spaces "
                         f"only and cannot read past a tab, so {HIDDEN}",
                         "replace the tab with spaces" if expected is None else
                         f"indent it by {expected} space{'' if expected == 1 else 's'} instead")
    return None


def _tab_column(lines: list[str], number: int, rest: str) -> int | None:
    """The spaces that make YAML read a tab-indented line, from the keys and items above it."""
    item = _ITEM_LINE.match(rest) is not None
    places = _columns(lines, number, item)
    nearest = places[0][0] if places else -1
    limit = min(len(lines), number + 1 + _WINDOW)
    start = _window_start(lines, number, limit)
    tried = []
    for column in dict.fromkeys(c for c, _ in places):
        fixed = [*lines[start:number], " " * column + rest, *lines[number + 1:limit]]
        reached = start + _reads_to(fixed, 0, limit - start)
        if reached > number:
            tried.append((reached < limit - 1, -reached, column != nearest, column))
    return min(tried)[3] if tried else None
