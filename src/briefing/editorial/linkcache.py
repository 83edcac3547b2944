"""The link check's private cache (.briefing/cache/links.json): only working links are kept."""

from __future__ import annotations

import contextlib
import json

from ..errors import BriefingError, Problem
from .links import LinkResult

# The cache is private state: out/ is published as it is, so it lives in .briefing/.
PRIVATE_DIR = ".briefing"
CACHE_FILE = "cache/links.json"
OLD_CACHE_FILE = ".linkcache.json"  # in out/, where versions before 0.2 kept it
CACHE_VERSION = 1


def load_cache(project, max_age: float, now: float) -> dict[str, dict]:
    try:
        data = json.loads((project.root / PRIVATE_DIR / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    links = data.get("links")
    if not isinstance(links, dict):
        return {}
    return {url: entry for url, entry in links.items()
            if isinstance(entry, dict) and isinstance(entry.get("checked"), (int, float))
            and 0 <= now - entry["checked"] <= max_age}


def save_cache(project, entries: dict[str, dict]) -> Problem | None:
    """Write the cache; a warning (never an exception) when it cannot be written, because the
    results of the check matter more than the cache."""
    from ..files import write_files
    private = project.root / PRIVATE_DIR
    data = {"version": CACHE_VERSION, "links": dict(sorted(entries.items()))}
    try:
        if private.is_symlink():
            raise OSError(f"{PRIVATE_DIR}/ is a symbolic link")
        private.mkdir(mode=0o700, exist_ok=True)  # private state: only its owner reads it
        write_files(private, {CACHE_FILE: (json.dumps(data, indent=1) + "\n").encode("utf-8")})
    except (OSError, BriefingError) as exc:
        why = (exc.problems[0].message.removeprefix("cannot write: ")
               if isinstance(exc, BriefingError) else exc.strerror or str(exc))
        return Problem(f"{PRIVATE_DIR}/{CACHE_FILE}", 0, 0, f"cannot save the link cache: {why}",
                       "the results above are complete; the next run checks every link again",
                       severity="warning", rule="link-cache")
    # An older version kept the cache in out/, which is published: take it away from there.
    with contextlib.suppress(OSError):
        (project.out / OLD_CACHE_FILE).unlink()
    return None


def from_cache(url: str, entry: dict) -> LinkResult:
    return LinkResult(url, entry.get("status"), entry.get("moved_to") or "",
                      entry.get("moved_status") or 0, cached=True)


