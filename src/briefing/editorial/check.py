"""`briefing check`: validate, then lint, one issue or all of them; text or JSON for CI."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from ..errors import BriefingError, Problem, count_line
from .lint import LintResult, lint_issue


class CheckFailed(BriefingError):
    """`check` found errors: every problem, then a count line, even for a single error (CI
    logs under --strict look for the count). `issue` names the issue checked, when known."""

    def __init__(self, problems: list[Problem], issue: str | None) -> None:
        self.issue = issue
        super().__init__(problems)

    def report(self) -> str:
        errors = [p for p in self.problems if p.severity == "error"]
        return "\n".join([*(p.format() for p in self.problems), count_line(errors)])


def _as_errors(problems: list[Problem]) -> list[Problem]:
    return [replace(p, severity="error") for p in problems]


def check(project, issue_id: str | None = None, strict: bool = False) -> LintResult:
    """Validate (raising on errors), then lint; with `strict`, warnings are raised as errors.

    Without an issue, the latest is checked, and every folder under briefs/ that would never
    be built (not an issue id, or no date it can have) is an error too: otherwise the newest
    issue might be the one silently skipped."""
    from ..content.validate import invalid_issue_folders, latest_issue, load_issue
    folders = invalid_issue_folders(project) if issue_id is None else []
    try:
        chosen = issue_id or latest_issue(project)
    except BriefingError:
        chosen = None
    try:
        result = lint_issue(project, load_issue(project, issue_id))
    except BriefingError as exc:  # whatever stopped it, check ends with the count
        raise CheckFailed(list(dict.fromkeys([*exc.problems, *folders])), chosen) from None
    from .configcheck import with_config_warnings  # init's placeholders, reserved names
    result = with_config_warnings(project, result)
    warnings = list(result.problems)
    if strict:
        warnings = _as_errors(warnings)
    if folders or (strict and warnings):
        raise CheckFailed([*folders, *warnings], result.issue.id)
    return result


@dataclass(frozen=True)
class CheckAll:
    """Every issue's lint, in date order, and the warnings that belong to no one issue."""

    results: list[LintResult]
    problems: list[Problem]

    def all_problems(self) -> list[Problem]:
        found = [*self.problems, *(p for r in self.results for p in r.problems)]
        return sorted(dict.fromkeys(found), key=lambda p: (p.path, p.line, p.col, p.rule))


def check_all(project, strict: bool = False) -> CheckAll:
    """Validate and lint every issue under briefs/, reporting the problems of all of them.

    The issues are linted in date order with one History, so each is read once: the set
    costs about as much as checking each issue alone would without [earlier-url]."""
    from ..content.validate import invalid_issue_folders, issue_ids, latest_issue, load_issue
    from .history import for_all
    folders = invalid_issue_folders(project)
    if not issue_ids(project):
        latest_issue(project)  # raises: no issues yet
    issues, errors = [], []
    for issue_id in issue_ids(project):
        try:
            issues.append(load_issue(project, issue_id))
        except BriefingError as exc:
            errors.extend(exc.problems)
    history, left_out = for_all(project, issues, as_built=True)
    if issues:  # briefing.yaml's own warnings, once for the set (configcheck.py)
        from .configcheck import config_warnings
        config = issues[0].config
        left_out = [*left_out, *(p for p in config_warnings(project, config)
                                 if p.rule not in config.lint.disable)]
    issues.sort(key=lambda issue: (issue.date, issue.id))
    result = CheckAll([lint_issue(project, issue, history) for issue in issues], left_out)
    warnings = result.all_problems()
    if strict:
        warnings = _as_errors(warnings)
    if folders or errors or (strict and warnings):
        raise CheckFailed(list(dict.fromkeys([*folders, *errors, *warnings])), None)
    return result


def _problem_json(problems: list[Problem]) -> list[dict]:
    return [{"path": p.path, "line": p.line, "col": p.col, "severity": p.severity,
             "rule": p.rule or None, "message": p.message, "hint": p.hint or None}
            for p in problems]


def _summary_json(result: LintResult) -> dict:
    issue = result.issue
    return {"items": len(issue.items), "themes": len(issue.sections),
            "sources": len(issue.references), "words": result.words,
            "reading_minutes": result.minutes, "email_bytes": result.email_bytes}


def report_json(result: LintResult | None, error: BriefingError | None = None,
                strict: bool = False) -> str:
    """Machine-readable results for CI: the summary numbers and every problem."""
    problems = list(error.problems if error else (result.problems if result else ()))
    if strict:
        problems = _as_errors(problems)
    data: dict = {"ok": not any(p.severity == "error" for p in problems),
                  "issue": getattr(error, "issue", None), "summary": None}
    if result is not None:
        data["issue"] = result.issue.id
        data["summary"] = _summary_json(result)
    data["problems"] = _problem_json(problems)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def report_all_json(result: CheckAll | None, error: BriefingError | None = None,
                    strict: bool = False) -> str:
    """`check --all --format json`: each issue's summary (date order), and every problem."""
    problems = list(error.problems if error else (result.all_problems() if result else ()))
    if strict:
        problems = _as_errors(problems)
    data = {"ok": not any(p.severity == "error" for p in problems),
            "issues": [{"issue": r.issue.id, "summary": _summary_json(r)}
                       for r in (result.results if result else ())],
            "problems": _problem_json(problems)}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
