"""`briefing init` and `briefing new`: a working project at once, briefs from a template, never
overwriting anything."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import run_cli

INIT_FILES = [".gitignore", "README.md", "briefing.yaml", "briefs/{week}/ideas.yaml",
              "briefs/{week}/issue.yaml", "briefs/{week}/news.yaml", "schema/brief.schema.json",
              "schema/config.schema.json", "schema/issue.schema.json"]


def this_week() -> set[str]:
    """The current ISO week, twice: the CLI may run just after midnight on a Sunday."""
    def week(day: dt.date) -> str:
        year, number, _ = day.isocalendar()
        return f"{year}-W{number:02d}"
    return {week(dt.date.today()), week(dt.date.today() + dt.timedelta(minutes=5))}


def files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_init_makes_a_project_that_builds_at_once(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init", "news", "--name", "Weekly Frames")
    assert result.code == 0, result
    root = tmp_path / "news"
    weeks = [w for w in this_week() if (root / "briefs" / w).is_dir()]
    assert len(weeks) == 1
    week = weeks[0]
    assert files(root) == [f.format(week=week) for f in INIT_FILES]
    assert (root / "templates").is_dir() and not any((root / "templates").iterdir())
    assert result.out.splitlines()[-1] == (f"next: cd news && briefing check && briefing build "
                                           f"{week}")
    assert "name: \"Weekly Frames\"" in (root / "briefing.yaml").read_text()
    # Clean: no errors, and no warning but the two about init's own placeholders (example.org
    # and the postal line), which `check` names until the editor replaces them.
    check = run_cli(root, "check")
    assert check.code == 0, check
    assert [line.rsplit(" [", 1)[1] for line in check.err.splitlines()] == [
        "init-placeholder]", "init-placeholder]"]
    assert check.out.startswith(f"ok: {week}: 3 items in 2 themes, 4 sources, ")
    assert check.out.endswith("; 2 warnings\n")
    build = run_cli(root, "build")
    assert build.code == 0, build
    for name in ("email.html", "digest.txt", "message.eml", "issue.json"):
        assert (root / "out" / week / name).stat().st_size > 0
    assert "Weekly Frames" in (root / "out" / week / "digest.txt").read_text()
    # The schema files are the ones `briefing schema` prints.
    schemas = json.loads(run_cli(root, "schema").out)
    assert json.loads((root / "schema/brief.schema.json").read_text()) == schemas["brief"]


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "news"
    root.mkdir()
    (root / "README.md").write_text("mine\n")
    (root / "schema").mkdir()
    (root / "schema" / "brief.schema.json").symlink_to(tmp_path / "elsewhere.json")  # dangling
    result = run_cli(tmp_path, "init", "news")
    assert result.code == 1
    assert result.err.splitlines() == [
        "news/README.md: error: already exists; 'briefing init' never overwrites a file "
        "(choose a new or empty folder)",
        "news/schema/brief.schema.json: error: already exists; 'briefing init' never "
        "overwrites a file (choose a new or empty folder)",
        "2 errors in 2 files",
    ]
    assert "Traceback" not in result.err
    assert (root / "README.md").read_text() == "mine\n"
    assert files(root) == ["README.md"]
    assert not (tmp_path / "elsewhere.json").exists()


def test_init_into_an_existing_empty_folder_and_a_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert run_cli(tmp_path, "init", "empty").code == 0
    (tmp_path / "plain").write_text("x")
    result = run_cli(tmp_path, "init", "plain")
    assert (result.code, result.err) == (1, "plain: error: exists and is not a folder\n")


def test_init_refuses_a_name_that_cannot_be_a_sender(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init", "news", "--name", "News: daily")
    assert result.code == 1
    assert result.err == ("news: error: --name 'News: daily' is not a usable newsletter name "
                          "(one line without < > \" @ , ; : or \\)\n")
    assert not (tmp_path / "news").exists()


def test_init_with_unicode_name(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init", "news", "--name", "Café «Cinéma» 电影").code == 0
    check = run_cli(tmp_path / "news", "check")
    assert check.code == 0, check
    assert "briefing.yaml:17:10: warning: 'address' is the placeholder postal line" in check.err


def test_new_brief_from_the_template(project) -> None:
    result = project.cli("new", "ethics", "--issue", "2026-W08")
    assert result.code == 0, result
    assert result.out == (
        "created briefs/2026-W08/issue.yaml (draft: true: builds go to .briefing/drafts/"
        "2026-W08/ until you remove that line)\n"
        "created briefs/2026-W08/ethics.yaml (theme ethics); replace its TODOs, "
        "then run 'briefing check 2026-W08'\n")
    assert "\ndraft: true\n" in (project.root / "briefs/2026-W08/issue.yaml").read_text()
    # a second brief in the same issue leaves its issue.yaml alone
    again = project.cli("new", "industry", "--issue", "2026-W08")
    assert again.out == ("created briefs/2026-W08/industry.yaml (theme industry); replace its "
                         "TODOs, then run 'briefing check 2026-W08'\n")
    (project.root / "briefs/2026-W08/industry.yaml").unlink()
    text = (project.root / "briefs/2026-W08/ethics.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schema/brief.schema.json\n"
                           "# Ethics for issue 2026-W08.")
    assert "        date: 2026-02-16  #" in text  # the Monday of that week
    # It validates; lint lists every TODO left, at its place.
    check = project.cli("check", "2026-W08")
    assert check.code == 0, check
    p = "briefs/2026-W08/ethics.yaml"
    assert check.err.splitlines() == [
        "briefing.yaml:4:9: warning: sender, recipients, unsubscribe.url and archive_url are at "
        "example.org, the placeholder 'briefing init' writes: nothing there ever reaches anyone; "
        "a send to the list refuses it (replace example.org with your own domain) "
        "[init-placeholder]",
        "briefing.yaml:12:5: warning: theme 'industry' has no items in 2026-W08 (add a brief "
        "with 'briefing new industry --issue 2026-W08') [empty-theme]",
        f"{p}:6:15: warning: placeholder 'TODO' left in the headline [placeholder]",
        f"{p}:10:7: warning: placeholder 'TODO' left in the summary [placeholder]",
        f"{p}:12:10: warning: placeholder 'TODO' left in the why [placeholder]",
        f"{p}:15:34: warning: placeholder 'TODO' left in the source url [placeholder]",
        f"{p}:16:16: warning: placeholder 'TODO' left in the source title [placeholder]",
        f"{p}:17:20: warning: placeholder 'TODO' left in the source publisher [placeholder]",
    ]
    assert project.cli("check", "2026-W08", "--strict").code == 1


def test_new_defaults_to_this_week(project) -> None:
    result = project.cli("new", "industry")
    assert result.code == 0, result
    created = [w for w in this_week() if (project.root / "briefs" / w / "industry.yaml").exists()]
    assert len(created) == 1


def test_new_never_overwrites_and_suggests_a_free_name(project) -> None:
    before = (project.root / "briefs/2026-W07/ethics.yaml").read_bytes()
    result = project.cli("new", "ethics", "--issue", "2026-W07")
    assert result.code == 1
    assert result.err == (
        "briefs/2026-W07/ethics.yaml: error: already exists; 'briefing new' never overwrites a "
        "brief (several briefs may share a theme: 'briefing new ethics --issue 2026-W07 --name "
        "ethics-2' creates ethics-2.yaml)\n")
    assert (project.root / "briefs/2026-W07/ethics.yaml").read_bytes() == before
    assert project.cli("new", "ethics", "--issue", "2026-W07", "--name", "ethics-2").code == 0
    again = project.cli("new", "ethics", "--issue", "2026-W07")
    assert "--name ethics-3' creates ethics-3.yaml)" in again.err
    # The second file shares the theme: its items follow the first file's.
    check = project.cli("check", "2026-W07")
    assert check.out.startswith("ok: 2026-W07: 3 items in 2 themes"), check


def test_new_unknown_theme_lists_the_configured_ones(project) -> None:
    result = project.cli("new", "ethic", "--issue", "2026-W07")
    assert result.code == 1
    assert result.err == ("briefing.yaml: error: unknown theme 'ethic'; themes in briefing.yaml: "
                          "industry, ethics (did you mean 'ethics'?)\n")


def test_new_refuses_bad_issue_ids_and_names(project) -> None:
    bad_issue = project.cli("new", "ethics", "--issue", "../outside")
    assert bad_issue.code == 1
    assert bad_issue.err == (
        "briefs: error: '../outside' is not a valid issue id (letters, digits, '.', '_', '-'; it "
        "must not start with '.' and has no '/') (use the ISO week (2026-W07) or the date "
        "(2026-02-13))\n")
    bad_name = project.cli("new", "ethics", "--issue", "2026-W07", "--name", "../x")
    assert bad_name.code == 1
    assert bad_name.err == ("briefs: error: '../x' is not a valid file name (letters, digits, "
                            "'-' and '_', e.g. ethics-2)\n")
    assert not (project.root.parent / "outside").exists()


def test_new_outside_a_project(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "new", "ethics")
    assert result.code == 1
    assert result.err == ("briefing.yaml: error: no briefing.yaml here; run 'briefing init DIR' "
                          "to start a project, or run briefing in the project folder\n")


def test_project_template_overrides_the_brief_skeleton(project) -> None:
    project.write("templates/new-brief.yaml.j2",
                  "theme: {{ theme.id }}\nitems:\n  - headline: Ours\n    summary: S.\n"
                  "    sources:\n      - {url: 'https://example.org/x', title: T, publisher: P}\n")
    assert project.cli("new", "ethics", "--issue", "2026-W09").code == 0
    assert (project.root / "briefs/2026-W09/ethics.yaml").read_text().startswith(
        "theme: ethics\nitems:\n  - headline: Ours\n")


def test_init_and_new_never_write_through_a_link_outside(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "briefs").symlink_to(elsewhere)
    result = run_cli(tmp_path, "init", "news")
    assert result.code == 1
    assert result.err == ("news/briefs: error: is a link that leads outside the folder; refusing "
                          "to write through it\n")
    assert files(tmp_path / "news") == [] and not any(elsewhere.iterdir())
    (tmp_path / "news" / "briefs").unlink()
    assert run_cli(tmp_path, "init", "news").code == 0
    (tmp_path / "news" / "briefs" / "2026-W30").symlink_to(elsewhere)
    new = run_cli(tmp_path / "news", "new", "news", "--issue", "2026-W30")
    assert new.code == 1
    assert new.err == ("briefs/2026-W30: error: issue folder is a link that leads outside the "
                       "project\n")
    assert not any(elsewhere.iterdir())
