"""Line wrapping by display columns: East Asian wide characters count two and may break anywhere."""

from __future__ import annotations

import re
import unicodedata

# Kinsoku: never start a line with closing punctuation, never end one with opening punctuation.
_NO_START = set("，。、；：！？）」』》〉】〕”’・ー…‥%,.;:!?)]}")
_NO_END = set("（「『《〈【〔“‘([{")
_SPACES = re.compile(r"[ \t\n\r]+")


# Blocks whose characters wcwidth counts as the Unicode database says (checked over every code
# point against wcwidth 0.9.4): Latin to Georgian, dashes and quotes, currency narrow (1); CJK
# punctuation, kana, ideographs, Hangul syllables and fullwidth forms wide (2). Text made only
# of these is measured without importing wcwidth, whose tables cost start-up time.
_NARROW = ((0x20, 0x10FF), (0x2010, 0x2027), (0x2030, 0x205E), (0x20A0, 0x20C0))
_WIDE = ((0x3000, 0x303E), (0x3041, 0x3096), (0x309B, 0x30FF), (0x3400, 0x4DBF),
         (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF01, 0xFF60), (0xFFE0, 0xFFE6))
# Marks, format and control characters, and unassigned ones: wcwidth's tables decide.
_ZERO_OR_UNKNOWN = frozenset(("Mn", "Me", "Mc", "Cf", "Cc", "Cs", "Co", "Cn", "Zl", "Zp"))


def _block_width(char: str) -> int:
    """1 or 2 for a character of the blocks above, 0 for any other (wcwidth decides)."""
    if unicodedata.category(char) in _ZERO_OR_UNKNOWN:
        return 0
    point = ord(char)
    if any(low <= point <= high for low, high in _NARROW):
        return 1
    return 2 if any(low <= point <= high for low, high in _WIDE) else 0


def width(text: str) -> int:
    """Display columns of a string (control characters never reach here; count them as 0)."""
    if text.isascii() and text.isprintable():
        return len(text)
    widths = [_block_width(char) for char in text]
    if all(widths):
        return sum(widths)
    from wcwidth import wcswidth, wcwidth
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
