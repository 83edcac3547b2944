"""`check --format json`: the summary numbers and every problem, for CI."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..errors import BriefingError

if TYPE_CHECKING:
    from .lint import LintResult


def report_json(result: LintResult | None, error: BriefingError | None = None,
                strict: bool = False) -> str:
    """Machine-readable results for CI: the summary numbers and every problem."""
    problems = list(error.problems if error else (result.problems if result else ()))
    if strict:
        from dataclasses import replace
        problems = [replace(p, severity="error") for p in problems]
    data: dict = {"ok": not any(p.severity == "error" for p in problems),
                  "issue": getattr(error, "issue", None), "summary": None}
    if result is not None:
        issue = result.issue
        data["issue"] = issue.id
        data["summary"] = {"items": len(issue.items), "themes": len(issue.sections),
                           "sources": len(issue.references), "words": result.words,
                           "reading_minutes": result.minutes}
    data["problems"] = [{"path": p.path, "line": p.line, "col": p.col, "severity": p.severity,
                         "rule": p.rule or None, "message": p.message, "hint": p.hint or None}
                        for p in problems]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
