"""`check`'s warnings about briefing.yaml itself: init's placeholders and reserved names, one
line per name, at the first place it is written."""

from __future__ import annotations

from ..content.load import Map, Node, Seq, load_yaml
from ..content.model import Config
from ..content.reserved import PLACEHOLDER, REFUSED_ON_LIST_SEND, Finding, config_findings
from ..errors import BriefingError, Problem

CONFIG_FILE = "briefing.yaml"


def _node_at(root: Node | None, field: str) -> Node | None:
    """The node of 'unsubscribe.url' or 'recipients[2]' in the loaded briefing.yaml."""
    node = root
    for part in field.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, Map):
            node = node.get(part)
        elif isinstance(node, Seq) and part.isdigit() and int(part) < len(node.items):
            node = node.items[int(part)]
        else:
            return None
    return node


def _names(findings: list[Finding]) -> str:
    """'sender, recipients (2) and archive_url'."""
    counts: dict[str, int] = {}
    for finding in findings:
        name = finding.field.split("[", 1)[0]
        counts[name] = counts.get(name, 0) + 1
    names = [f"{n} ({c})" if c > 1 else n for n, c in counts.items()]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def config_warnings(project, config: Config) -> list[Problem]:
    """One warning per reserved host (naming every key at it) and one for the postal line."""
    findings = config_findings(config)
    if not findings:
        return []
    try:
        root = load_yaml(project.config_path, CONFIG_FILE, [])
    except BriefingError:  # it validated a moment ago; without marks, point at the file
        root = None
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.kind, finding.host), []).append(finding)
    out = []
    for (kind, host), group in groups.items():
        node = _node_at(root, group[0].field)
        line, col = (node.mark.line, node.mark.col) if node is not None else (0, 0)
        if not host:
            out.append(Problem(CONFIG_FILE, line, col, "'address' is the placeholder postal "
                               "line 'briefing init' writes", "write the newsletter's real "
                               "postal address; the law in many countries, CAN-SPAM in the US "
                               "among them, wants one in every copy", "warning",
                               "init-placeholder"))
        elif kind == PLACEHOLDER:
            refused = [f.field for f in group if f.field in REFUSED_ON_LIST_SEND]
            out.append(Problem(CONFIG_FILE, line, col, f"{_names(group)} {_are(group)} at "
                               f"{host}, the placeholder 'briefing init' writes: nothing there "
                               "ever reaches anyone" + ("; a send to the list refuses it"
                                                        if refused else ""),
                               f"replace {host} with your own domain", "warning",
                               "init-placeholder"))
        else:
            out.append(Problem(CONFIG_FILE, line, col, f"{_names(group)} {_are(group)} at "
                               f"{host}, a reserved name (RFC 2606, RFC 6761) that never "
                               "receives mail: fine for tests and samples, not for a real list",
                               "", "warning", "reserved-name"))
    return out


def with_config_warnings(project, result):  # -> lint.LintResult, without importing lint
    """`check`'s result with briefing.yaml's own warnings in place (a build's warning count is
    the issue's)."""
    import dataclasses
    config = result.issue.config
    extra = [p for p in config_warnings(project, config) if p.rule not in config.lint.disable]
    problems = sorted([*result.problems, *extra], key=lambda p: (p.path, p.line, p.col, p.rule))
    return dataclasses.replace(result, problems=tuple(problems))


def _are(group: list[Finding]) -> str:
    return "is" if len(group) == 1 else "are"
