"""Derive inline-corpus.json from the CommonMark spec: the examples of the sections on
backslash escapes, code spans, emphasis and links that stay within briefing's subset.

    python tests/data/commonmark/derive.py spec.txt   # CommonMark 0.31.2 (npm commonmark-spec)

An example is kept when markdown-it-py's CommonMark parser reads it as one paragraph of
inline content using only what briefing allows: text, escapes, code spans, emphasis, strong
and inline links. Raw HTML, images, autolinks, entities, hard line breaks, tabs and reference
links are outside it. Line breaks become spaces, as YAML's folded `>-` summaries do.

Each kept example is listed as written in the spec; when its links point at relative
addresses (`/url`), which briefing refuses, it is listed a second time with those made
absolute (https://example.org/url), so the syntax is compared, not only the refusal.

`expect` is derived from the reference renderer alone: "refused" when CommonMark makes a link
whose address our URL check refuses (or that has no text), "same" otherwise. The test
(tests/test_markdown.py) checks our adapter against that and markdown-it-py's HTML.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from markdown_it import MarkdownIt

from briefing.content.schema import check_url

SECTIONS = ("Backslash escapes", "Code spans", "Emphasis and strong emphasis", "Links")
EXAMPLE = re.compile(r"^`{32} example\n([\s\S]*?)^\.\n([\s\S]*?)^`{32}$|^#{1,6} *(.*)$", re.M)
OUTSIDE = {"image", "html_inline", "html_block", "hardbreak"}


def examples(spec: str):
    section = ""
    number = 0
    for match in EXAMPLE.finditer(spec.replace("\r\n", "\n")):
        if match.group(3) is not None:
            section = match.group(3)
            continue
        number += 1
        yield section, number, match.group(1).replace("\u2192", "\t")


def in_subset(md: MarkdownIt, text: str) -> bool:
    env: dict = {}
    tokens = md.parse(text, env)
    if env.get("references") or [t.type for t in tokens] != [
            "paragraph_open", "inline", "paragraph_close"]:
        return False
    for token in tokens[1].children or []:
        if token.type in OUTSIDE or (token.type == "link_open" and token.markup == "autolink"):
            return False
        if token.type == "text_special" and token.info == "entity":
            return False
    return True


def hrefs(md: MarkdownIt, text: str) -> list[tuple[str, str]]:
    """(href, link text) of every link CommonMark makes, the address as written (not
    percent-encoded: that is the renderer's choice, and ours keeps it as written)."""
    raw = MarkdownIt("commonmark")
    raw.normalizeLink = lambda url: url
    children = raw.parseInline(text)[0].children or []
    out, stack = [], []
    for token in children:
        if token.type == "link_open":
            stack.append([token.attrs.get("href", ""), ""])
        elif token.type == "link_close":
            out.append(tuple(stack.pop()))
        elif stack and token.type in ("text", "text_special", "code_inline"):
            stack[-1][1] += token.content
    return out


def expectation(md: MarkdownIt, text: str) -> tuple[str, str]:
    for href, label in hrefs(md, text):
        if not label.strip():
            return "refused", "has no text"
        try:
            check_url(href)
        except ValueError as exc:
            return "refused", str(exc).partition("|")[0]
    return "same", ""


def absolute(text: str) -> str:
    return re.sub(r"\]\((\s*<?)(?=/)", r"](\1https://example.org", text)


def main(spec_path: str) -> None:
    reference = MarkdownIt("commonmark")
    spec = Path(spec_path).read_text(encoding="utf-8")
    version = re.search(r"^version: '?([\d.]+)", spec, re.M)
    corpus = []
    for section, number, markdown in examples(spec):
        if section not in SECTIONS:
            continue
        text = markdown.rstrip("\n")
        if "\t" in text or not in_subset(reference, text):
            continue
        folded = " ".join(text.split("\n"))
        variants = [("spec", folded)]
        rewritten = absolute(folded)
        if rewritten != folded and in_subset(reference, rewritten) and \
                len(hrefs(reference, rewritten)) == len(hrefs(reference, folded)):
            variants.append(("absolute", rewritten))
        for variant, source in variants:
            expect, reason = expectation(reference, source)
            corpus.append({"section": section, "example": number, "variant": variant,
                           "markdown": source, "expect": expect, "reason": reason})
    data = {
        "source": f"CommonMark Spec {version.group(1) if version else '?'}, examples of the "
                  f"sections {', '.join(SECTIONS)} (https://spec.commonmark.org/), "
                  "restricted to briefing's inline subset by tests/data/commonmark/derive.py",
        "license": "CC-BY-SA 4.0, Copyright (C) 2014-16 John MacFarlane",
        "examples": corpus,
    }
    out = Path(__file__).with_name("inline-corpus.json")
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    counts = {}
    for entry in corpus:
        counts[entry["expect"]] = counts.get(entry["expect"], 0) + 1
    print(f"{len(corpus)} inputs: {counts}")


if __name__ == "__main__":
    main(sys.argv[1])
