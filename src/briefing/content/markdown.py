"""Inline Markdown of summaries and the intro, parsed by markdown-it-py into the model's spans."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .model import Code, Emphasis, Link, Span, Strong, Text

# Emphasis and strong deeper than this are never real prose, and every renderer walks spans
# recursively: deeper markers stay literal text (README, Security and limits).
MAX_DEPTH = 8
# The characters that can start one of our constructs; text without any is plain text.
_SPECIAL = re.compile(r"[\\`\[*_]")


class LinkTargetError(ValueError):
    """A link whose target is not an allowed URL, or that has no text; the message says why."""


@lru_cache(maxsize=2)
def _parser(links: bool = True) -> Any:
    """CommonMark inline rules, our subset only: emphasis, strong, code spans, links and
    backslash escapes. No raw HTML, images, autolinks, entities or reference links.

    Without `links`, for text with no `](` in it: no inline link can exist there (reference
    links are off), and a run of unmatched `[` costs the link rule a scan ahead for each."""
    from markdown_it import MarkdownIt

    class Inline(MarkdownIt):
        def validateLink(self, url: str) -> bool:
            # Every link CommonMark finds is checked after parsing, by our URL check with our
            # messages. markdown-it's own validator may only say no, and a refused target
            # would then silently stay text: `[x](javascript:alert(1))` must be an error.
            return True

        def normalizeLink(self, url: str) -> str:
            # Keep the URL as written: percent-encoding is for whoever sends the request
            # (`briefing links`, the reader's browser), and the same URL as a source must
            # stay equal to it.
            return url

    md = Inline("zero")
    md.enable(["emphasis", "backticks", "escape", *(["link"] if links else [])])
    # Escaped characters stay separate tokens (text_special), so `\![a](url)` is told apart
    # from an image.
    md.disable("text_join")
    return md


def parse_inline(source: str, check_url: Callable[[str], str]) -> tuple[Span, ...]:
    """Parse `source` into spans; `check_url(url)` returns the URL or raises ValueError.

    A line break separates paragraphs (a blank line in a folded YAML summary): each is parsed
    on its own, so emphasis never runs from one paragraph into the next, in the digest or the
    HTML."""
    spans: list[Span] = []
    for index, paragraph in enumerate(source.split("\n")):
        if index:
            _append_text(spans, "\n")
        if not _SPECIAL.search(paragraph):  # most sentences have no markup at all
            if paragraph:
                _append_text(spans, paragraph)
            continue
        tokens = _parser("](" in paragraph).parseInline(paragraph)[0].children or []
        for span in _spans(tokens, check_url):
            if isinstance(span, Text):
                _append_text(spans, span.text)
            else:
                spans.append(span)
    return tuple(spans)


def _append_text(spans: list[Span], text: str) -> None:
    if spans and isinstance(spans[-1], Text):
        spans[-1] = Text(spans[-1].text + text)
    else:
        spans.append(Text(text))


def _spans(tokens: list, check_url: Callable[[str], str]) -> list[Span]:
    """markdown-it's flat token list (opening and closing tokens) as nested spans."""
    # Each open construct: [its children, the opening token, kept as markup text?]
    stack: list[list[Any]] = [[[], None, False]]
    depth = 0
    previous = None
    for token in tokens:
        children: list[Span] = stack[-1][0]
        kind = token.type
        if kind in ("text", "text_special"):
            _append_text(children, token.content)
        elif kind == "code_inline":
            children.append(Code(token.content))
        elif kind in ("em_open", "strong_open"):
            literal = depth >= MAX_DEPTH
            if literal:
                _append_text(children, token.markup)
            else:
                depth += 1
            stack.append([[], token, literal])
        elif kind == "link_open":
            if previous is not None and previous.type == "text" \
                    and previous.content.endswith("!"):
                _refuse_image(token)
            stack.append([[], token, False])
        elif kind in ("em_close", "strong_close", "link_close"):
            inner, opening, literal = stack.pop()
            parent: list[Span] = stack[-1][0]
            if literal:
                for span in inner:
                    if isinstance(span, Text):
                        _append_text(parent, span.text)
                    else:
                        parent.append(span)
                _append_text(parent, token.markup)
                previous = token
                continue
            if kind == "link_close":
                parent.append(_link(tuple(inner), opening, check_url))
            else:
                depth -= 1
                parent.append((Emphasis if kind == "em_close" else Strong)(tuple(inner)))
            previous = token
            continue
        else:  # softbreak and the like cannot occur in one line; keep their text if any
            _append_text(children, token.content)
        previous = token
    return stack[0][0]


def _link(children: tuple[Span, ...], opening: Any, check_url: Callable[[str], str]) -> Link:
    target = str(opening.attrs.get("href", ""))
    title = str(opening.attrs.get("title", ""))
    label = plain_text(children)
    if not label.strip():
        raise LinkTargetError(f"link ({target}) has no text; write [the source's "
                              f"title]({target})")
    try:
        url = check_url(target)
    except ValueError as exc:
        raise LinkTargetError(f"link [{label}]({target}): {exc}") from None
    return Link(children, url, title)


def _refuse_image(opening: Any) -> None:
    """`![alt](url)` is an image in Markdown; with images off it would silently become a '!'
    and a link. Say so instead."""
    target = opening.attrs.get("href", "")
    raise LinkTargetError(f"images are not allowed in text (![…]({target}))|"
                              "to link to the picture, write [what it shows](its address) "
                              "without the '!'")


def plain_text(spans: tuple[Span, ...]) -> str:
    """The words of the spans with every marker removed."""
    parts = []
    for span in spans:
        if isinstance(span, (Text, Code)):
            parts.append(span.text)
        else:
            parts.append(plain_text(span.children))
    return "".join(parts)
