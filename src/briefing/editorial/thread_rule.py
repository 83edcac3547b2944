"""The quiet-thread lint rule: a story thread declared in briefing.yaml with no item in the last
N issues (lint.thread_quiet_issues), so a story that went quiet is noticed (docs/record.md)."""

from __future__ import annotations

from ..content.model import Issue, Origin
from ..errors import Problem

RULE = "quiet-thread"


def quiet_threads(project, issue: Issue) -> list[Problem]:
    """One warning per declared thread that none of the last N published issues up to this
    one has an item in; nothing while there are fewer than N issues."""
    from ..content.record import load_record
    config = issue.config
    if not config.threads:
        return []
    quiet_after = int(config.lint.thread_quiet_issues)
    earlier = load_record(project.out, leave_out=issue.id).before(issue.date, issue.id)
    if len(earlier) + 1 < quiet_after:
        return []
    recent = {item.thread for item in issue.items} | {
        item.thread for recorded in earlier[:quiet_after - 1] for item in recorded.items}
    shown = project.show(project.config_path)
    problems = []
    for thread in config.threads:
        if thread.id in recent:
            continue
        last = next((r for r in earlier if any(i.thread == thread.id for i in r.items)), None)
        since = f"its last item was in {last.id} ({last.date})" if last else "it has none yet"
        where = thread.origin or Origin(shown, 0, 0)
        problems.append(Problem(
            where.path, where.line, where.col,
            f"thread '{thread.id}' has no item in the last {quiet_after} issues up to "
            f"{issue.id}; {since}",
            "add `thread: " + thread.id + "` to an item if the story goes on; if it is over, "
            "'lint: thread_quiet_issues' sets how long a thread may stay quiet",
            severity="warning", rule=RULE))
    return problems
