"""`briefing schema`: JSON Schema derived from the validator's specs, committed under schema/, and
checked with the `jsonschema` package against the sample project (the way editors' tools see it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import BRIEF, CONFIG, ISSUE, REPO, run_cli

SCHEMA_DIR = REPO / "schema"


class _EditorLoader(yaml.SafeLoader):
    """YAML as the YAML editor extension reads it (YAML 1.2: a date is a string)."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def editor_data(text: str):
    return yaml.load(text, Loader=_EditorLoader)


def validator(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def errors(name: str, text: str) -> list[str]:
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.validator}"
                  for e in validator(name).iter_errors(editor_data(text)))


def test_committed_schemas_are_current(tmp_path: Path) -> None:
    """Like golden files: regenerate with `briefing schema --write schema`."""
    result = run_cli(REPO, "schema", "--write", str(tmp_path))
    assert result.code == 0, result
    generated = sorted(p.name for p in tmp_path.iterdir())
    assert generated == ["brief.schema.json", "config.schema.json", "issue.schema.json"]
    for name in generated:
        assert (SCHEMA_DIR / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"schema/{name} is stale: run 'briefing schema --write schema' and commit it")


def test_print_one_or_all() -> None:
    one = run_cli(REPO, "schema", "brief")
    assert one.code == 0
    assert one.out.encode() == (SCHEMA_DIR / "brief.schema.json").read_bytes()
    everything = json.loads(run_cli(REPO, "schema").out)
    assert sorted(everything) == ["brief", "config", "issue"]
    assert everything["config"]["$schema"] == "http://json-schema.org/draft-07/schema#"
    bad = run_cli(REPO, "schema", "briefs")
    assert bad.code == 2  # a usage error, from the declared choices
    assert bad.err.endswith("Error: Invalid value for '[WHICH]': 'briefs' is not one of 'all', "
                            "'brief', 'config', 'issue'.\n"), bad.err


@pytest.mark.parametrize("path", sorted(
    p.relative_to(REPO).as_posix()
    for p in [REPO / "briefing.yaml", *REPO.glob("briefs/*/*.yaml")]))
def test_sample_files_validate_and_point_at_their_schema(path: str) -> None:
    text = (REPO / path).read_text(encoding="utf-8")
    first = text.splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, f"{path} should start with a yaml-language-server $schema line"
    target = ((REPO / path).parent / match.group(1)).resolve()
    assert target.parent == SCHEMA_DIR and target.is_file()
    name = target.name.removesuffix(".schema.json")
    expected = {"briefing.yaml": "config", "issue.yaml": "issue"}.get(Path(path).name, "brief")
    assert name == expected
    assert errors(name, text) == []


def test_factory_files_validate() -> None:
    assert errors("config", CONFIG) == []
    assert errors("issue", ISSUE) == []
    assert errors("brief", BRIEF) == []


def test_bad_brief_is_rejected() -> None:
    bad = BRIEF.replace("headline: First headline", "headline: 12").replace(
        "    why: It matters.\n", "    wyh: It matters.\n").replace(
        "        publisher: Example News\n", "")
    assert errors("brief", bad) == [
        "items/0/headline: type",
        "items/0/sources/0: required",
        "items/0: additionalProperties",
    ]
    assert errors("brief", "items: []\n") == ["items: minItems"]
    assert errors("brief", "theme: Not A Slug\nitems: []\n") == ["items: minItems",
                                                                  "theme: pattern"]


def test_bad_config_is_rejected() -> None:
    assert errors("config", CONFIG + "lint:\n  publisher_share: 2\n  disable: [nope]\n") == [
        "lint/publisher_share: maximum"]  # rule ids are suggested as examples, checked by briefing
    assert errors("config", CONFIG.replace("name: Test Briefing\n", "")) == [": required"]


def test_init_and_new_files_validate(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init", "news").code == 0
    root = tmp_path / "news"
    assert run_cli(root, "new", "news", "--issue", "2026-W01", "--name", "extra").code == 0
    for path in sorted(root.rglob("*.yaml")):
        name = {"briefing.yaml": "config", "issue.yaml": "issue"}.get(path.name, "brief")
        assert errors(name, path.read_text(encoding="utf-8")) == [], path
    # init copies the same schemas the repo commits.
    for path in SCHEMA_DIR.iterdir():
        assert (root / "schema" / path.name).read_bytes() == path.read_bytes()
