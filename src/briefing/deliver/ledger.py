"""The never-twice ledger: out/<ISSUE>/sent.jsonl, one line per accepted recipient."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BriefingError, Problem

LEDGER = "sent.jsonl"


@dataclass
class Ledger:
    """Who got the issue. Appended and fsynced after each acceptance, so a crash loses nothing."""

    out: Path
    issue_id: str
    entries: list[dict] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return f"out/{self.issue_id}/{LEDGER}"

    @classmethod
    def read(cls, out: Path, issue_id: str) -> Ledger:
        ledger = cls(out, issue_id)
        path = out / issue_id / LEDGER
        if not path.exists():
            return ledger
        if path.is_symlink() or not path.is_file():
            raise BriefingError(Problem(ledger.shown, 0, 0, "is not a regular file"))
        for number, line in enumerate(path.read_bytes().split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not (isinstance(entry, dict) and isinstance(entry.get("recipient"), str)
                        and isinstance(entry.get("sha256"), str)):
                    raise ValueError
            except ValueError:
                raise BriefingError(Problem(
                    ledger.shown, number, 1, "is not a ledger line (a JSON object with "
                                             "'recipient' and 'sha256')",
                    "the ledger says who got the issue: fix that line by hand, and delete it "
                    "only if you know that recipient did not get it")) from None
            ledger.entries.append(entry)
        return ledger

    def recipients(self) -> set[str]:
        return {e["recipient"].lower() for e in self.entries}

    def hashes(self) -> set[str]:
        return {e["sha256"] for e in self.entries}

    def append(self, entry: dict) -> None:
        # write.py is the one path for outputs; the ledger is the one file that is appended to,
        # so it gets the same confinement check and its own append + fsync.
        from ..publish.write import confined_path
        path = confined_path(self.out, f"{self.issue_id}/{LEDGER}")
        line = json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")) + "\n"
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:  # the new name itself must survive a crash too
            from ..publish.write import fsync_dir
            fsync_dir(path.parent)
        self.entries.append(entry)
