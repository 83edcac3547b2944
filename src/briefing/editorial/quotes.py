"""Is a quotation in its source's text? Normalised word by word, with a documented near match.

Both texts are compared as words: NFKC, case-folded, curly and straight quote marks alike,
every dash alike, punctuation and spacing ignored. A quotation is *found* when its words appear
in the text in the same order. It is a *near match* when they do except for words spelt a
little differently: a word of 5 letters or more may differ by one letter in five (typos,
colour/color, organisation/organization); shorter words, numbers and Chinese, Japanese or Korean
characters must be exact, and no word may be missing, added or replaced. Anything else is *not
found*, and the closest passage of the text is given, with how alike it is (difflib's ratio of
the two word sequences). An ellipsis (… or ...) or an editor's [insertion] splits a quotation
into parts, each of which must be found.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

# Quotations in a summary: “…” (English), „…“ (German), «…» (French), 「…」 and 『…』 (Chinese,
# Japanese) and straight "…". Single quotes are left alone: they are apostrophes too often.
QUOTATION = re.compile(r"“([^“”]{1,1000})”|„([^„“”]{1,1000})[“”]|«\s*([^«»]{1,1000}?)\s*»|"
                       r"「([^「」]{1,1000})」|『([^『』]{1,1000})』|\"([^\"]{1,1000})\"")
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+(?:['’][^\W_{_CJK}]+)*")
_GAP = re.compile(r"\s*(?:\[[^\]]*\]|…|\.\.\.)\s*")
NEAR_LETTERS = 5  # a word may differ by one letter in this many (and only from 5 letters up)


def quotations(text: str) -> list[str]:
    return [next(g for g in m.groups() if g is not None).strip()
            for m in QUOTATION.finditer(text)]


def _norm(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold().replace("’", "'")


@dataclass(frozen=True)
class Words:
    """A text as normalised words, each with where it is in the text."""

    text: str
    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, text: str) -> Words:
        found = list(_WORD.finditer(text))
        return cls(text, tuple(_norm(m.group()) for m in found),
                   tuple((m.start(), m.end()) for m in found))

    def passage(self, start: int, end: int) -> str:
        """Words start..end-1 as the text has them."""
        if start >= end:
            return ""
        return " ".join(self.text[self.spans[start][0]:self.spans[end - 1][1]].split())


@dataclass(frozen=True)
class Match:
    kind: str                  # "found", "near" or "none"
    passage: str = ""          # where it is (found, near) or the closest passage (none)
    alike: float = 0.0         # 0..1, difflib's ratio of the word sequences
    differs: tuple[tuple[str, str], ...] = ()  # (quotation's word, text's word) of a near match


def _close(quoted: str, written: str) -> bool:
    if quoted == written:
        return True
    letters = quoted.replace("'", "")
    if len(letters) < NEAR_LETTERS or not letters.isalpha() \
            or not written.replace("'", "").isalpha() or re.search(f"[{_CJK}]", quoted):
        return False
    allowed = len(letters) // NEAR_LETTERS
    if abs(len(quoted) - len(written)) > allowed:
        return False
    return _distance(quoted, written, allowed) <= allowed


def _distance(a: str, b: str, limit: int) -> int:
    """Edit distance with transpositions (optimal string alignment: 'saftey' is one edit from
    'safety'), giving up (limit + 1) once it must be over `limit`."""
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def _find_part(part: tuple[str, ...], text: Words) -> Match:
    size = len(part)
    words = text.words
    first = part[0]
    for start in range(len(words) - size + 1):
        if not _close(first, words[start]):
            continue
        window = words[start:start + size]
        if window == part:
            return Match("found", text.passage(start, start + size), 1.0)
        if all(_close(q, w) for q, w in zip(part, window, strict=True)):
            differs = tuple((q, w) for q, w in zip(part, window, strict=True) if q != w)
            return Match("near", text.passage(start, start + size),
                         difflib.SequenceMatcher(None, part, window).ratio(), differs)
    return _closest(part, text)


_SENTENCE_END = re.compile(r"[.!?。！？]+[\"”’»」』)]*(?:\s|$)")


def _sentences(text: Words) -> list[tuple[int, int]]:
    """(first word, after the last word) of each sentence of the text."""
    import bisect
    ends = [m.end() for m in _SENTENCE_END.finditer(text.text)]
    out: list[tuple[int, int]] = []
    start = 0
    for index, (begin, _) in enumerate(text.spans):
        if index > start and bisect.bisect_right(ends, begin) != \
                bisect.bisect_right(ends, text.spans[index - 1][0]):
            out.append((start, index))
            start = index
    out.append((start, len(text.spans)))
    return out


def _closest(part: tuple[str, ...], text: Words) -> Match:
    """The passage most like the quotation: within the sentences richest in its words (a
    long, rare word counts for more than 'the' or 'on'), the run of words most alike by
    difflib's ratio."""
    words = text.words
    if not words:
        return Match("none")
    wanted = set(part)
    frequency: dict[str, int] = {}
    for word in words:
        if word in wanted:
            frequency[word] = frequency.get(word, 0) + 1
    scored = []
    for first, last in _sentences(text):
        present = set(words[first:last]) & wanted
        scored.append((sum(len(w) / frequency[w] for w in present), first, last))
    best, best_key = Match("none"), (-1.0, -1.0)
    size = len(part)
    for score, first, last in sorted(scored, key=lambda s: (-s[0], s[1]))[:5]:
        for length in sorted({max(1, size - 1), size, size + 1}):
            for start in range(first, max(first + 1, last - length + 1)):
                window = words[start:min(start + length, last)]
                ratio = difflib.SequenceMatcher(None, part, window).ratio()
                if (round(score, 6), ratio) > best_key:
                    best_key = (round(score, 6), ratio)
                    best = Match("none", text.passage(start, start + len(window)), ratio)
    return best


def find(quotation: str, text: Words) -> Match:
    """Where `quotation` is in `text`: found, near (with the words that differ) or none
    (with the closest passage). Each part between ellipses or [insertions] is looked for."""
    parts = [p for p in (tuple(Words.of(chunk).words) for chunk in _GAP.split(quotation)) if p]
    if not parts:
        return Match("found")
    results = [_find_part(part, text) for part in parts]
    worst = min(results, key=lambda r: ("none", "near", "found").index(r.kind))
    if worst.kind == "found" and len(results) > 1:
        return Match("found", " … ".join(r.passage for r in results), 1.0)
    return worst


def similarity(old: Words, new: Words, size: int = 5) -> float:
    """How much of `old` is still in `new`: the share of its runs of `size` words found in
    `new` (1.0: all of it; used to tell a page that changed beyond recognition)."""
    def runs(words: tuple[str, ...]) -> set[tuple[str, ...]]:
        return {words[i:i + size] for i in range(max(0, len(words) - size + 1))}
    before = runs(old.words)
    return len(before & runs(new.words)) / len(before) if before else 1.0
