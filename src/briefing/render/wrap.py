"""Line wrapping by display columns: East Asian wide characters count two and may break anywhere."""

from __future__ import annotations

import re
import unicodedata

from wcwidth import wcswidth, wcwidth

# Kinsoku: never start a line with closing punctuation, never end one with opening punctuation.
_NO_START = set("，。、；：！？）」』》〉】〕”’・ー…‥%,.;:!?)]}")
_NO_END = set("（「『《〈【〔“‘([{")
_SPACES = re.compile(r"[ \t\n\r]+")


def width(text: str) -> int:
    """Display columns of a string (control characters never reach here; count them as 0)."""
    if text.isascii() and text.isprintable():
        return len(text)
    w = wcswidth(text)
    if w >= 0:
        return w
    return sum(max(wcwidth(c), 0) for c in text)


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


# A short run in ASCII parentheses inside a space-free word, "(春晚)" after a name in English
# text, is read as one: a line never breaks inside it (longer runs are prose and may).
_SHORT_GROUP = re.compile(r"\([^()]{1,10}\)")


def _kept_together(word: str) -> set[int]:
    """Indexes of the characters a line must not break before: those inside a short group."""
    inside: set[int] = set()
    for group in _SHORT_GROUP.finditer(word):
        inside.update(range(group.start() + 1, group.end()))
    return inside


def _pieces(word: str) -> list[str]:
    """Split a space-free word at the points where a line may break (around wide characters)."""
    if word.isascii():
        return [word]
    pieces: list[str] = []
    current = ""
    together = _kept_together(word) if "(" in word else set()
    for index, char in enumerate(word):
        breakable = current and (_is_wide(char) or _is_wide(current[-1])) \
            and index not in together
        if breakable and char not in _NO_START and current[-1] not in _NO_END:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, limit: int = 72, indent: str = "", subsequent: str | None = None) -> list[str]:
    """Greedy wrap of one paragraph into lines no wider than `limit` columns.

    A single piece wider than the line (a long URL) gets a line of its own rather than being cut.
    """
    subsequent = indent if subsequent is None else subsequent
    lines: list[str] = []
    line, line_width = indent, width(indent)
    empty = True
    # Only real spaces break: a no-break space (U+00A0) keeps 'Public opinion (3)' together.
    for word in _SPACES.split(text.strip(" \t\n")):
        if not word:
            continue
        for index, piece in enumerate(_pieces(word)):
            piece_width = width(piece)
            gap = 1 if (index == 0 and not empty) else 0
            if not empty and line_width + gap + piece_width > limit:
                lines.append(line)
                line, line_width, gap = subsequent, width(subsequent), 0
            line += " " * gap + piece
            line_width += gap + piece_width
            empty = False
    if not empty:
        lines.append(line)
    return lines
