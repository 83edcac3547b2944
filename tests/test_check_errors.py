"""Every kind of bad input gives one clear compiler-style line through the real CLI, no output."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import BRIEF, CONFIG, make_project

CASES = Path(__file__).parent / "cases" / "briefs"
BRIEF_CASES = sorted(p.stem for p in CASES.glob("*.yaml"))
CONFIG_CASES = sorted(p.stem for p in (CASES.parent / "config").glob("*.yaml"))


def assert_fails(result, expected: str) -> None:
    assert result.code == 1, result
    assert result.err == expected + "\n", result.err
    assert "Traceback" not in result.err + result.out


@pytest.mark.parametrize("case", BRIEF_CASES)
def test_broken_brief(tmp_path: Path, case: str) -> None:
    """One data file per broken-input case; its .expected file is the whole of stderr."""
    brief = (CASES / f"{case}.yaml").read_text(encoding="utf-8")
    expected = (CASES / f"{case}.expected").read_text(encoding="utf-8").rstrip("\n")
    project = make_project(tmp_path / "news", briefs={"industry.yaml": brief,
                                                      "ethics.yaml": BRIEF})
    assert_fails(project.cli("check"), expected)
    # build runs the same validation first and writes nothing at all
    assert_fails(project.cli("build"), expected)
    assert not (project.root / "out").exists()


@pytest.mark.parametrize("case", CONFIG_CASES)
def test_broken_config(tmp_path: Path, case: str) -> None:
    """One briefing.yaml per broken-input case; its .expected file is the whole of stderr."""
    folder = CASES.parent / "config"
    config = (folder / f"{case}.yaml").read_text(encoding="utf-8")
    expected = (folder / f"{case}.expected").read_text(encoding="utf-8").rstrip("\n")
    project = make_project(tmp_path / "news", config=config)
    assert_fails(project.cli("check"), expected)
    assert_fails(project.cli("build"), expected)
    assert not (project.root / "out").exists()


def test_every_problem_is_reported_at_once(factory) -> None:
    bad = BRIEF.replace("headline: First headline", "headline: 12").replace(
        "    why: It matters.\n", "    wyh: It matters.\n")
    project = factory(briefs={"industry.yaml": bad, "ethics.yaml": "items: []\n"})
    assert_fails(project.cli("check"), "\n".join([
        "briefs/2026-W07/ethics.yaml:1:8: error: 'items' needs at least one item",
        "briefs/2026-W07/industry.yaml:2:15: error: 'headline' should be text, not a number "
        "(put it in quotes if you meant it as text)",
        "briefs/2026-W07/industry.yaml:6:5: error: unknown key 'wyh' (did you mean 'why'?)",
        "3 errors in 2 files",
    ]))


def test_not_utf8(project) -> None:
    (project.root / "briefs/2026-W07/industry.yaml").write_bytes(
        b"items:\n  - headline: caf\xe9\n")
    assert_fails(project.cli("check"), "briefs/2026-W07/industry.yaml:2:18: error: file is not "
                                       "valid UTF-8 (byte 0xe9); save it as UTF-8\n1 error")


def test_binary_file(project) -> None:
    (project.root / "briefs/2026-W07/industry.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert_fails(project.cli("check"), "briefs/2026-W07/industry.yaml:3:1: error: file is binary, "
                                       "not YAML text (NUL byte)\n1 error")


def test_missing_issue_folder_lists_existing(project) -> None:
    assert_fails(project.cli("check", "2026-W08"),
                 "briefs/2026-W08: error: issue folder does not exist; issues: 2026-W07 "
                 "(did you mean '2026-W07'?)\n1 error")


def test_issue_id_with_path_is_refused(project) -> None:
    assert_fails(project.cli("build", "../etc"),
                 "briefs: error: '../etc' is not a valid issue id (letters, digits, '.', '_', "
                 "'-'; it must not start with '.' and has no '/')")


def test_issue_without_date(factory) -> None:
    project = factory(issue_id="special", issue="title: Special\n")
    assert_fails(project.cli("check", "special"),
                 "briefs/special/issue.yaml: error: the issue has no date (add 'date: "
                 "YYYY-MM-DD' to issue.yaml, or name the folder YYYY-MM-DD or YYYY-Www)\n1 error")


def test_malformed_sender_is_refused_not_guessed(factory) -> None:
    project = factory(config=CONFIG.replace("sender: Test Briefing <news@example.org>",
                                            "sender: Test Briefing news@example.org"))
    assert_fails(project.cli("check"),
                 "briefing.yaml:4:9: error: 'sender' is not a valid address ('Test Briefing "
                 "news@example.org') (write it as Name <user@example.org>)\n1 error")


def test_missing_config(tmp_path: Path) -> None:
    project = make_project(tmp_path / "news", config=None)
    assert_fails(project.cli("check"),
                 "briefing.yaml: error: no briefing.yaml in this folder or any folder above it "
                 "(start a project with 'briefing init DIR', run briefing inside one, or name it "
                 "with -C DIR)\n1 error")


def test_config_problems_and_brief_problems_together(factory) -> None:
    project = factory(config=CONFIG.replace("language: en", "language: 1"),
                      briefs={"industry.yaml": "items: []\n"})
    assert_fails(project.cli("check"), "\n".join([
        "briefing.yaml:3:11: error: 'language' should be text, not a number (put it in quotes "
        "if you meant it as text)",
        "briefs/2026-W07/industry.yaml:1:8: error: 'items' needs at least one item",
        "2 errors in 2 files",
    ]))


def test_failed_build_leaves_previous_outputs_untouched(project) -> None:
    assert project.cli("build").code == 0
    before = {p.name: p.read_bytes() for p in (project.root / "out/2026-W07").iterdir()}
    project.write("briefs/2026-W07/industry.yaml", "items: []\n")
    assert project.cli("build").code == 1
    after = {p.name: p.read_bytes() for p in (project.root / "out/2026-W07").iterdir()}
    assert after == before


def test_empty_folder_names_both_missing_pieces(tmp_path: Path) -> None:
    from conftest import run_cli
    result = run_cli(tmp_path, "build")
    assert_fails(result, "\n".join([
        "briefing.yaml: error: no briefing.yaml in this folder or any folder above it (start a "
        "project with 'briefing init DIR', run briefing inside one, or name it with -C DIR)",
        "briefs: error: no issues yet; create briefs/<ISSUE>/ with 'briefing new THEME'",
        "2 errors in 2 files",
    ]))


@pytest.mark.parametrize("brief, expected", [
    ("theme: Industry\n" + BRIEF,
     "briefs/2026-W07/notes.yaml:1:8: error: unknown theme 'Industry'; themes in briefing.yaml: "
     "industry, ethics (did you mean 'industry'? A brief names its theme by its id)"),
    ("theme: ETHICS\n" + BRIEF,
     "briefs/2026-W07/notes.yaml:1:8: error: unknown theme 'ETHICS'; themes in briefing.yaml: "
     "industry, ethics (did you mean 'ethics'? A brief names its theme by its id)"),
    (BRIEF,
     "briefs/2026-W07/notes.yaml:1:1: error: no 'theme:' here, so the theme comes from the "
     "file name, and 'notes' is not a theme; themes in briefing.yaml: industry, ethics (add "
     "'theme:' and one of those ids at the top, or rename the file after one)"),
])
def test_theme_mistakes(factory, brief: str, expected: str) -> None:
    project = factory(briefs={"notes.yaml": brief, "industry.yaml": BRIEF.replace(
        "example.org/a", "example.org/c")})
    assert_fails(project.cli("check"), expected + "\n1 error")


def test_theme_from_a_misspelt_file_name(factory) -> None:
    project = factory(briefs={"industri.yaml": BRIEF})
    assert_fails(project.cli("check"),
                 "briefs/2026-W07/industri.yaml:1:1: error: no 'theme:' here, so the theme "
                 "comes from the file name, and 'industri' is not a theme; themes in "
                 "briefing.yaml: industry, ethics (add 'theme: industry' at the top, or rename "
                 "the file industry.yaml)\n1 error")


def test_usage_lines_name_arguments_plainly(tmp_path: Path) -> None:
    from conftest import run_cli
    for args, usage in ((("init",), "Usage: briefing init [OPTIONS] DIR"),
                        (("new",), "Usage: briefing new [OPTIONS] THEME"),
                        (("archive", "search"),
                         "Usage: briefing archive search [OPTIONS] TERMS...")):
        result = run_cli(tmp_path, *args)
        assert result.code == 2
        assert result.err.splitlines()[0] == usage.replace("briefing", "python -m briefing", 1)
