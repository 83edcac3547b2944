"""A reader's variant of an issue: only the themes they chose, numbered as if written that way.

An issue holds every theme; a reader who chose some of them gets a copy made from
`restrict(issue, chosen)`: the sections of their themes in briefing.yaml's order, the editor's
note kept, and the references numbered again over what the copy holds (1..n, no gaps), so the
table of contents, the item counts and the digest's numbers all match the copy. The subject is
the issue's.

The preference link ("Choose what you get") carries the reader's token, their current choice
and a signature over both (subscribers/themelink.py), so the endpoint can show the choice
without holding the reader list. The built copies carry placeholders for the token and the
signature, replaced in each sent copy.
"""

from __future__ import annotations

import dataclasses

from .model import SIGNATURE_PLACEHOLDER, TOKEN_PLACEHOLDER, Config, Issue
from .references import number_references

EVERY_THEME = "*"  # the choice of a reader who never chose: every theme, new ones too
CODE_SEPARATOR = "."  # theme ids are slugs ([a-z0-9-]): a dot never occurs in one


def restrict(issue: Issue, chosen: tuple[str, ...]) -> Issue:
    """The issue as a reader who chose `chosen` gets it (pure)."""
    wanted = set(chosen)
    sections = tuple(s for s in issue.sections if s.theme.id in wanted)
    items = tuple(item for section in sections for item in section.items)
    return dataclasses.replace(issue, sections=sections,
                               references=number_references(issue.intro, items),
                               reader_themes=tuple(chosen))


def themes_code(chosen: tuple[str, ...] | None) -> str:
    """How a choice travels in a link and an event: ids joined by dots, or '*' for every."""
    return EVERY_THEME if chosen is None else CODE_SEPARATOR.join(chosen)


def parse_code(code: str) -> tuple[str, ...] | None:
    """The ids of a code (None for every theme); no check against briefing.yaml."""
    if code == EVERY_THEME:
        return None
    return tuple(part for part in code.split(CODE_SEPARATOR) if part)


def in_config_order(config: Config, ids: set[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The ids briefing.yaml declares among `ids`, in its order (others are dropped)."""
    wanted = set(ids)
    return tuple(t.id for t in config.themes if t.id in wanted)


def preferences_link(issue: Issue) -> str:
    """The "Choose what you get" link as the built copy of this variant carries it: the
    token and signature placeholders, the choice in between; '' without `preferences:`."""
    preferences = issue.config.preferences
    if preferences is None:
        return ""
    url = preferences.url_for(TOKEN_PLACEHOLDER)
    joiner = "&" if "?" in url else "?"
    return (f"{url}{joiner}themes={themes_code(issue.reader_themes)}"
            f"&sig={SIGNATURE_PLACEHOLDER}")
