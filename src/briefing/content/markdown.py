"""A strict parser for the inline Markdown of summaries: *em*, **strong**, `code`, [links](url)."""

from __future__ import annotations

import re

from .model import Code, Emphasis, Link, Span, Strong, Text

_ESCAPABLE = set("\\`*_[]()#+-.!<>{}|~\"'")


class LinkTargetError(ValueError):
    """A link whose target is not an allowed URL; the message says why."""


_SPECIAL = re.compile(r"[\\`\[*_]")


def parse_inline(source: str, check_url) -> tuple[Span, ...]:
    """Parse `source` into spans; `check_url(url)` returns the URL or raises ValueError."""
    if not _SPECIAL.search(source):  # most sentences have no markup at all
        return (Text(source),) if source else ()
    spans, _ = _parse(source, 0, None, check_url, 0)
    return tuple(spans)


def _parse(s: str, i: int, stop: str | None, check_url, depth: int) -> tuple[list[Span], int]:
    out: list[Span] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            text = "".join(buf)
            if out and isinstance(out[-1], Text):
                out[-1] = Text(out[-1].text + text)
            else:
                out.append(Text(text))
            buf.clear()

    n = len(s)
    while i < n:
        if stop and s.startswith(stop, i):
            flush()
            return out, i
        special = _SPECIAL.search(s, i)
        j = special.start() if special else n
        if stop:
            k = s.find(stop, i, j)
            j = k if k >= 0 else j
        if j > i:  # copy the plain run up to the next marker in one step
            buf.append(s[i:j])
            i = j
            continue
        c = s[i]
        if c == "\\" and i + 1 < n and s[i + 1] in _ESCAPABLE:
            buf.append(s[i + 1])
            i += 2
            continue
        if depth < 8:  # inline nesting beyond this is never real prose; keep it literal
            if c == "`":
                end = s.find("`", i + 1)
                if end > i + 1:
                    flush()
                    out.append(Code(s[i + 1:end]))
                    i = end + 1
                    continue
            if c == "[":
                link = _link(s, i, check_url, depth)
                if link:
                    flush()
                    out.append(link[0])
                    i = link[1]
                    continue
            for marker, kind in (("**", Strong), ("__", Strong), ("*", Emphasis), ("_", Emphasis)):
                if s.startswith(marker, i) and _opens(s, i, marker):
                    inner_end = _closing(s, i + len(marker), marker)
                    if inner_end is not None:
                        flush()
                        children, _ = _parse(s[: inner_end], i + len(marker), None,
                                             check_url, depth + 1)
                        out.append(kind(tuple(children)))
                        i = inner_end + len(marker)
                        break
            else:
                buf.append(c)
                i += 1
            continue
        buf.append(c)
        i += 1
    flush()
    return out, i


def _opens(s: str, i: int, marker: str) -> bool:
    after = s[i + len(marker): i + len(marker) + 1]
    if not after or after.isspace() or after == marker[0]:
        return False
    if marker[0] == "_":  # snake_case words keep their underscores
        before = s[i - 1: i] if i else ""
        return not (before.isalnum())
    return True


def _closing(s: str, start: int, marker: str) -> int | None:
    j = start
    while True:
        j = s.find(marker, j)
        if j < 0:
            return None
        if s[j - 1] == "\\":
            j += 1
            continue
        # a single * must not be half of a ** (and vice versa)
        if len(marker) == 1 and s.startswith(marker * 2, j):
            k = j
            while k < len(s) and s[k] == marker:
                k += 1
            if (k - j) % 2 == 0:
                j = k
                continue
            j = k - 1
        if j > start and not s[j - 1].isspace():
            if marker[0] == "_" and s[j + len(marker): j + len(marker) + 1].isalnum():
                j += len(marker)
                continue
            return j
        j += len(marker)


def _link(s: str, i: int, check_url, depth: int):
    depth_b, j = 0, i
    while j < len(s):
        if s[j] == "\\":
            j += 2
            continue
        if s[j] == "[":
            depth_b += 1
        elif s[j] == "]":
            depth_b -= 1
            if depth_b == 0:
                break
        j += 1
    else:
        return None
    if not s.startswith("(", j + 1):
        return None
    k, parens = j + 2, 1
    while k < len(s) and parens:
        if s[k] == "(":
            parens += 1
        elif s[k] == ")":
            parens -= 1
        k += 1
    if parens:
        return None
    label, target = s[i + 1: j], s[j + 2: k - 1].strip()
    try:
        url = check_url(target)
    except ValueError as exc:
        raise LinkTargetError(f"link [{label}]({target}): {exc}") from None
    children, _ = _parse(label, 0, None, check_url, depth + 1)
    if not children:
        raise LinkTargetError(f"link ({target}) has no text; write [the source's title]({target})")
    return Link(tuple(children), url), k


def plain_text(spans: tuple[Span, ...]) -> str:
    """The words of the spans with every marker removed."""
    parts = []
    for span in spans:
        if isinstance(span, (Text, Code)):
            parts.append(span.text)
        else:
            parts.append(plain_text(span.children))
    return "".join(parts)
