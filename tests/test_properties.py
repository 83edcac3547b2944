"""Property-based tests: any text in any field builds correctly or fails with file and line."""

from __future__ import annotations

import contextlib
import json
import os
import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefing.content.load import parse_yaml
from briefing.content.validate import Project, load_issue
from briefing.errors import BriefingError
from briefing.render.issue import render_issue
from conftest import make_project

# CI runs a short, repeatable smoke; `HYPOTHESIS_EXAMPLES=5000 HYPOTHESIS_RANDOM=1 pytest
# tests/test_properties.py` digs deeper with fresh examples.
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    derandomize="HYPOTHESIS_RANDOM" not in os.environ,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
FIELDS = ("headline", "summary", "why", "title", "publisher")
LOCATED = re.compile(r"^[^\s:][^:]*(:\d+:\d+)?: error: .+", re.M)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.add(tag)

    def handle_data(self, data) -> None:
        self.parts.append(data)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def brief_with(field: str, value: str) -> str:
    values = {f: f"plain {f}" for f in FIELDS}
    values[field] = value
    return "items:\n  - headline: {headline}\n    summary: {summary}\n    why: {why}\n" \
           "    sources:\n      - url: https://example.org/a\n        title: {title}\n" \
           "        publisher: {publisher}\n".format(
               **{k: json.dumps(v) for k, v in values.items()})


@SETTINGS
@given(field=st.sampled_from(FIELDS), value=st.text(max_size=200))
def test_any_text_in_any_field_builds_or_fails_cleanly(tmp_path_factory, field: str,
                                                       value: str) -> None:
    root = tmp_path_factory.mktemp("p")
    make_project(root, briefs={"industry.yaml": brief_with(field, value)})
    project = Project(root)
    try:
        issue = load_issue(project)
        files = render_issue(project, issue).files
    except BriefingError as exc:
        for problem in exc.problems:
            assert problem.path.startswith(("briefs/", "briefing.yaml")), problem
            assert problem.line > 0, problem
        assert all(LOCATED.match(line) for line in exc.report().splitlines()
                   if not re.fullmatch(r"\d+ errors?( in \d+ files?)?", line))
        return
    html = files["email.html"].decode("utf-8")
    parser = _Text()
    parser.feed(html)
    assert "script" not in parser.tags
    digest = files["digest.txt"].decode("utf-8")
    if field != "summary":  # summaries are Markdown: their markers are meant to be consumed
        assert squash(value) in squash("".join(parser.parts)), (field, value)
        assert squash(value) in squash(digest), (field, value)


@SETTINGS
@given(data=st.binary(max_size=400))
def test_loader_fuzz_bytes(tmp_path_factory, data: bytes) -> None:
    """The loader's whole contract on arbitrary bytes: nodes, or a BriefingError."""
    path = tmp_path_factory.mktemp("f") / "x.yaml"
    path.write_bytes(data)
    from briefing.content.load import load_yaml
    with contextlib.suppress(BriefingError):
        load_yaml(path, "x.yaml")


YAMLISH = st.recursive(
    st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none(),
              st.sampled_from(["&a x", "*a", "!!python/name:os.system", "---", "{", "[", ": :",
                               "? x", "\t", "%YAML 1.1", "<<: *a"])),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=20)


@SETTINGS
@given(doc=YAMLISH)
def test_loader_fuzz_structures(doc) -> None:
    """YAML-like documents, valid or not, through the loader: nodes or a BriefingError."""
    text = json.dumps(doc) if not isinstance(doc, str) else doc
    for candidate in (text, text.replace('"', "")):
        try:
            parse_yaml(candidate, "x.yaml")
        except BriefingError as exc:
            assert exc.problems[0].path == "x.yaml"


BRIEFISH = st.fixed_dictionaries({}, optional={
    "theme": st.one_of(st.sampled_from(["industry", "ethics", "nope", "../x"]), YAMLISH),
    "items": st.one_of(YAMLISH, st.lists(st.fixed_dictionaries({}, optional={
        "headline": YAMLISH, "summary": YAMLISH, "why": YAMLISH, "tags": YAMLISH,
        "stat": YAMLISH,
        "sources": st.one_of(YAMLISH, st.lists(st.fixed_dictionaries({}, optional={
            "url": st.one_of(st.sampled_from(["https://example.org/a", "javascript:x",
                                              "https://", "http://a b"]), YAMLISH),
            "title": YAMLISH, "publisher": YAMLISH, "date": YAMLISH}), max_size=3)),
    }), max_size=3)),
    "extra": YAMLISH,
})


@SETTINGS
@given(brief=BRIEFISH)
def test_yaml_to_model_fuzz(tmp_path_factory, brief) -> None:
    """The fuzz target for the whole loader: YAML text -> validated model, or located errors."""
    import yaml
    root = tmp_path_factory.mktemp("m")
    make_project(root, briefs={"industry.yaml": yaml.safe_dump(brief, allow_unicode=True)})
    try:
        issue = load_issue(Project(root))
    except BriefingError as exc:
        assert all(p.path for p in exc.problems)
        return
    assert issue.items
