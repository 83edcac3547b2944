"""issue.json: the validated issue for other tools, schema-versioned and deterministic."""

from __future__ import annotations

import json

from ..content.markdown import plain_text
from ..content.model import Correction, Issue
from ..content.references import item_numbers

SCHEMA_VERSION = 1


def issue_data(issue: Issue) -> dict:
    """The issue as plain data: what out/<ISSUE>/issue.json holds and what the archive reads.

    Bump SCHEMA_VERSION when a field is removed or changes meaning (adding one does not), and
    keep archive.check_issue_data reading the old versions: sent issues are never rewritten.
    """
    config = issue.config
    numbers = {r.url: r.number for r in issue.references}
    return {
        "schema_version": SCHEMA_VERSION,
        "id": issue.id,
        "title": issue.title,
        "date": issue.date.isoformat(),
        "preheader": issue.preheader,
        "intro": issue.intro_source,
        "newsletter": {
            "name": config.name,
            "tagline": config.tagline,
            "language": config.language,
            "archive_url": config.archive_url,
        },
        "themes": [
            {
                "id": section.theme.id,
                "title": section.theme.title,
                "description": section.theme.description,
                "items": [
                    {
                        "headline": item.headline,
                        "summary": item.summary_source,
                        "summary_text": plain_text(item.summary),
                        "why": item.why,
                        "tags": list(item.tags),
                        "stat": [{"label": s.label, "value": s.value, "unit": s.unit}
                                 for s in item.stat],
                        "sources": [
                            {"number": numbers[s.url], "url": s.url, "title": s.title,
                             "publisher": s.publisher,
                             "date": s.date.isoformat() if s.date else None}
                            for s in item.sources
                        ],
                        "references": item_numbers(item, numbers),
                        "thread": _thread(issue, item.thread),
                    }
                    for item in section.items
                ],
            }
            for section in issue.sections
        ],
        "references": [
            {"number": r.number, "url": r.url, "title": r.title, "publisher": r.publisher,
             "date": r.date.isoformat() if r.date else None}
            for r in issue.references
        ],
        "corrections": [correction_data(c) for c in issue.corrections],
        # Corrections of earlier issues this one announces (its "Corrections" section).
        "earlier_corrections": [
            {"issue": c.issue, "issue_title": c.issue_title, "item": c.headline,
             "anchor": c.anchor, "date": c.date.isoformat(), "text": c.text_source}
            for c in issue.corrected],
    }


def _thread(issue: Issue, thread_id: str) -> dict | None:
    """An item's story thread with its title, so the archive needs no briefing.yaml."""
    if not thread_id:
        return None
    thread = next(t for t in issue.config.threads if t.id == thread_id)
    return {"id": thread.id, "title": thread.title}


def correction_data(correction: Correction) -> dict:
    """A correction as issue.json holds it (docs/record.md)."""
    source = correction.source
    return {
        "date": correction.date.isoformat(),
        "item": correction.item,
        "text": correction.text_source,
        "text_plain": plain_text(correction.text),
        "source": None if source is None else {
            "url": source.url, "title": source.title, "publisher": source.publisher,
            "date": source.date.isoformat() if source.date else None},
    }


def render_json(issue: Issue) -> str:
    """Key order is the order above, so the file is byte-for-byte stable; allow_nan=False keeps
    it strict JSON (validation already refuses NaN and infinity in stats)."""
    return json.dumps(issue_data(issue), ensure_ascii=False, indent=2, sort_keys=False,
                      allow_nan=False) + "\n"
