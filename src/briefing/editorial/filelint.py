"""Lint rules about the project's files rather than the issue's text: files in the issue folder
that are not read, briefs read twice, the same recipient twice in briefing.yaml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..content.model import Origin

if TYPE_CHECKING:
    from .lint import Linter

# An address as briefing.yaml writes one in recipients (bare, or in <...> after a name).
_ADDRESS = re.compile(r"[^\s<>\"',\[\]{}]+@[^\s<>\"',\[\]{}]+")


def unread_files(linter: Linter) -> None:
    """A file or folder in the issue folder that no build reads (ethics.yaml.txt)."""
    from ..content.validate import unread_files as unread
    for path in unread(linter.project, linter.issue.id):
        kind = "folder" if path.is_dir() else "file"
        linter.warn(Origin(linter.project.show(path), 0, 0), "unread-file",
                    f"this {kind} is not read: only *.yaml and *.yml files in "
                    f"briefs/{linter.issue.id}/ are briefs",
                    "rename it to .yaml if it is a brief")


def twin_briefs(linter: Linter) -> None:
    """ethics.yaml next to ethics.yml (or Ethics.YAML): both are read, so a copy saved
    under the other extension doubles every item."""
    from ..content.validate import brief_files
    by_stem: dict[str, list[Path]] = {}
    for path in brief_files(linter.project, linter.issue.id):
        by_stem.setdefault(path.stem.casefold(), []).append(path)
    for paths in by_stem.values():
        for later in paths[1:]:
            linter.warn(Origin(linter.project.show(later), 0, 0), "duplicate-brief",
                        f"{paths[0].name} and {later.name} are both read as briefs, so "
                        "their items appear twice if one is a copy of the other",
                        "keep one of them, or rename one to say what it adds")


def recipients(linter: Linter) -> None:
    """The same address twice in recipients: mail goes once per address, so the second
    is not another reader (the send plan merges them)."""
    config_path = linter.project.show(linter.project.config_path)
    lines = [line.casefold() for line in linter.files.lines(config_path)]
    seen: dict[str, str] = {}
    places: dict[str, list[int]] | None = None
    for mailbox in linter.issue.config.recipients:
        key = mailbox.address.casefold()
        if key not in seen:
            seen[key] = str(mailbox)
            continue
        if places is None:  # the lines each address is on, found in one pass
            places = {}
            for number, text in enumerate(lines, 1):
                for address in dict.fromkeys(_ADDRESS.findall(text)):
                    places.setdefault(address, []).append(number)
        found = places.get(key, [])
        line = found[1] if len(found) > 1 else 0
        col = (lines[line - 1].find("-") + 3) if line else 0
        linter.warn(Origin(config_path, line, col), "duplicate-recipient",
                    f"recipient {mailbox} is the same address as {seen[key]} (line "
                    f"{found[0] if found else '?'}); it gets one copy",
                    "remove one of them")
