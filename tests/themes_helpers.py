"""A four-theme newsletter with a preference page, and what the tests read from a copy: its
digest and HTML parts, the themes they hold, the numbering they use, the preference link."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from conftest import CONFIG, ProjectFactory, make_project

THEMED_CONFIG = CONFIG.replace(
    "  - id: ethics\n    title: Ethics\n",
    "  - id: ethics\n    title: Ethics\n  - id: policy\n    title: Policy\n"
    "  - id: opinion\n    title: Public opinion\n",
).replace(
    "archive_url:",
    "preferences:\n  url: https://example.org/p/{token}\narchive_url:")
assert THEMED_CONFIG.count("title:") == 4 and "preferences:" in THEMED_CONFIG

ISSUE = """\
title: A themed issue
date: 2026-02-13
intro: >-
  The editor's note, with a [link](https://example.org/intro).
"""

INDUSTRY = """\
items:
  - headline: Studio deal
    summary: >-
      A [deal](https://example.org/deal) between two studios.
    sources:
      - url: https://example.org/deal
        title: The deal
        publisher: Trade Paper
      - url: https://example.org/shared
        title: Shared report
        publisher: Research Desk
  - headline: Chip supply
    summary: Chips are short.
    sources:
      - url: https://example.org/chips
        title: Chips
        publisher: Wire
"""
ETHICS = """\
items:
  - headline: Likeness rights
    summary: >-
      Actors ask for consent, as the [report](https://example.org/shared) says.
    sources:
      - url: https://example.org/shared
        title: Shared report
        publisher: Research Desk
      - url: https://example.org/likeness
        title: Likeness
        publisher: Guild News
"""
POLICY = """\
items:
  - headline: New rules
    summary: Regulators publish rules.
    sources:
      - url: https://example.org/rules
        title: The rules
        publisher: Gazette
"""
HEADLINES = {"industry": ["Studio deal", "Chip supply"], "ethics": ["Likeness rights"],
             "policy": ["New rules"], "opinion": []}
TITLES = {"industry": "Industry", "ethics": "Ethics", "policy": "Policy",
          "opinion": "Public opinion"}


def themed_project(root) -> ProjectFactory:
    """Four themes; this issue has items in three of them (none in opinion)."""
    return make_project(root, config=THEMED_CONFIG, issue=ISSUE,
                        briefs={"industry.yaml": INDUSTRY, "ethics.yaml": ETHICS,
                                "policy.yaml": POLICY})


def link_signature(project: ProjectFactory, token: str, code: str) -> str:
    """The preference link's signature as docs/subscribers.md defines it, computed here
    independently of briefing's code."""
    key = (project.root / ".briefing" / "token.key").read_text().strip().encode()
    check = hmac.new(key, b"briefing-endpoint-check", hashlib.sha256).digest()
    link_key = hmac.new(check, b"briefing-preferences", hashlib.sha256).digest()
    mac = hmac.new(link_key, f"{token}\0{code}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:12]).decode()


class _Html(HTMLParser):
    """The HTML part's outline: section headings (h2 ids), headlines (h3), table-of-contents
    links and their item counts, and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.headlines: dict[str, list[str]] = {}
        self.contents: list[tuple[str, str]] = []  # (#id, "2 items")
        self.links: list[tuple[str, str]] = []
        self._in: str | None = None
        self._text = ""
        self._href = ""
        self._after_toc_link = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "h2":
            self.sections.append(attributes["id"])
            self.headlines[attributes["id"]] = []
        if tag in ("h3", "a", "span"):
            self._in, self._text = tag, ""
            self._href = attributes.get("href", "")

    def handle_data(self, data):
        if self._in:
            self._text += data

    def handle_endtag(self, tag):
        if tag != self._in:
            return
        text = " ".join(self._text.split())
        if tag == "h3":
            self.headlines[self.sections[-1]].append(text)
        elif tag == "a":
            self.links.append((self._href, text))
            self._after_toc_link = self._href.startswith("#")
            if self._after_toc_link:
                self.contents.append((self._href, ""))
        elif tag == "span" and self._after_toc_link and text.startswith("·"):
            self.contents[-1] = (self.contents[-1][0], text.lstrip("· "))
            self._after_toc_link = False
        self._in = None


@dataclass
class Copy:
    subject: str
    text: str
    html: str
    raw: bytes

    @property
    def outline(self) -> _Html:
        parser = _Html()
        parser.feed(self.html)
        return parser

    def text_sections(self) -> list[str]:
        """The titles of the digest's sections (a title underlined with '='), Sources last."""
        lines = self.text.splitlines()
        return [lines[i - 1] for i in range(1, len(lines))
                if re.fullmatch(r"=+", lines[i]) and lines[i - 1] and len(lines[i]) < 72]

    def sources(self) -> list[tuple[int, str]]:
        """The digest's numbered sources: (number, url)."""
        block = self.text.split("\nSources\n=======\n", 1)[1]
        numbers = [int(n) for n in re.findall(r"^\[(\d+)\] ", block, re.M)]
        urls = re.findall(r"^ +(https://\S+)$", block, re.M)
        return list(zip(numbers, urls, strict=True))

    def cited(self) -> set[int]:
        """Every [n] the digest cites before its Sources."""
        body = self.text.split("\nSources\n=======\n", 1)[0]
        return {int(n) for n in re.findall(r"\[(\d+)\]", body)}

    def preference_link(self) -> tuple[str, str, str]:
        """(token, themes code, signature) of the digest's "Choose what you get" link."""
        url = re.search(r"^Choose what you get: (\S+)$", self.text, re.M).group(1)
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        assert parts.path.startswith("/p/"), url
        return parts.path.removeprefix("/p/"), query["themes"][0], query["sig"][0]


def read_copy(wire: bytes) -> Copy:
    data = wire.replace(b"\r\n", b"\n")
    msg = email.message_from_bytes(data, policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    body = data.partition(b"\n\n")[2]
    assert max(len(line) for line in body.split(b"\n")) <= 76  # RFC 2045 6.7
    return Copy(str(msg["Subject"]), text, html, data)


def assert_holds_exactly(copy: Copy, themes: list[str]) -> None:
    """The copy's digest and HTML hold exactly these themes, in briefing.yaml's order, with a
    table of contents, item counts and source numbers that match what it holds."""
    expected_titles = [TITLES[t] for t in themes]
    # The digest: contents line, sections, headlines, sources numbered 1..n, all cited.
    contents = re.search(r"In this issue: (.+?)\n-{72}", copy.text, re.S).group(1)
    assert " ".join(contents.split()) == " · ".join(  # split() also splits at the no-break
        f"{TITLES[t]} ({len(HEADLINES[t])})" for t in themes)  # spaces the digest puts there
    assert copy.text_sections() == expected_titles + ["Sources"]
    headlines = re.findall(r"^• (.+)$", copy.text, re.M)
    assert headlines == [h for t in themes for h in HEADLINES[t]]
    numbers = [n for n, _ in copy.sources()]
    assert numbers == list(range(1, len(numbers) + 1))
    assert copy.cited() == set(numbers)
    # The HTML: sections, headlines, the table of contents and its counts.
    outline = copy.outline
    assert outline.sections == themes
    assert outline.headlines == {t: HEADLINES[t] for t in themes}
    assert outline.contents == [
        (f"#{t}", f"{len(HEADLINES[t])} item{'s' if len(HEADLINES[t]) != 1 else ''}")
        for t in themes]
    # Every source of every item it holds is linked, and no other source is.
    urls = {href for href, _ in outline.links if href.startswith("https://example.org/")
            and href.rsplit("/", 1)[1] in ("intro", "deal", "shared", "chips", "likeness",
                                           "rules")}
    assert urls == {url for _, url in copy.sources()}
