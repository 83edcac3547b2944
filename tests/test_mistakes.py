"""The mistakes editors make most, through the real CLI: each is named at its line, with the fix,
and none hides the others."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import BRIEF, CONFIG, ISSUE, make_project, run_cli

ITEM = """\
items:
  - headline: Holiday films
    summary: Holiday films lift the numbers.
    why: It matters.
    sources:
      - url: https://example.org/a
        title: T
        publisher: P
"""
WHERE = "briefs/2026-W07/industry.yaml"


def check(tmp_path: Path, brief: str, *args: str):
    project = make_project(tmp_path / "news", briefs={"industry.yaml": brief,
                                                      "ethics.yaml": BRIEF})
    return project.cli("check", *args)


def fails_with(result, *lines: str) -> None:
    assert result.code == 1, result
    assert result.err == "\n".join(lines) + "\n", result.err
    assert "Traceback" not in result.err + result.out


# -- indentation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("spaces", [0, 1, 2, 3, 5, 6, 7, 8, 9, 10])
def test_a_key_off_by_one_to_six_spaces_is_an_indentation_problem(tmp_path: Path,
                                                                 spaces: int) -> None:
    """`summary` belongs at 4 spaces, beside `headline`: 1 to 6 spaces more, 1 to 4 less."""
    brief = ITEM.replace("    summary:", " " * spaces + "summary:")
    fails_with(check(tmp_path, brief),
               f"{WHERE}:3:{spaces + 1}: error: wrong indentation of 'summary': expected 4 "
               f"spaces, as 'headline' above it has; found {spaces} (indent it by 4 spaces)",
               "1 error")


@pytest.mark.parametrize("spaces", [3, 5])
def test_a_whole_block_at_the_wrong_indentation(tmp_path: Path, spaces: int) -> None:
    """`sources:` and its list moved together: the line to fix is `sources:`."""
    lines = ITEM.splitlines(keepends=True)
    shift = spaces - 4
    moved = [(" " * (len(x) - len(x.lstrip()) + shift) + x.lstrip()) if n >= 4 else x
             for n, x in enumerate(lines)]
    fails_with(check(tmp_path, "".join(moved)),
               f"{WHERE}:5:{spaces + 1}: error: wrong indentation of 'sources': expected 4 "
               f"spaces, as 'why' above it has; found {spaces} (indent it by 4 spaces)",
               "1 error")


def test_keys_that_all_moved_are_fixed_together(tmp_path: Path) -> None:
    moved = ITEM.replace("    summary:", "     summary:").replace("    why:", "     why:") \
        .replace("    sources:", "     sources:")
    fails_with(check(tmp_path, moved),
               f"{WHERE}:3:6: error: wrong indentation of 'summary': expected 4 spaces, as "
               "'headline' above it has; found 5 (indent it by 4 spaces, and move the 5 lines "
               "under it 1 space left too)", "1 error")


def test_a_list_item_at_the_wrong_indentation(tmp_path: Path) -> None:
    brief = ITEM + "       - url: https://example.org/b\n         title: T\n" \
                   "         publisher: P\n"
    fails_with(check(tmp_path, brief),
               f"{WHERE}:9:8: error: wrong indentation of this list item: expected 6 spaces, as "
               "the list items before it have; found 7 (indent it by 6 spaces, and move the 2 "
               "lines under it 1 space left too)", "1 error")


@pytest.mark.parametrize("indent, found", [
    ("\t", "1 tab"), ("\t\t", "2 tabs"), ("  \t", "2 spaces and 1 tab"),
    ("\t  ", "2 spaces and 1 tab"),
])
def test_tabs_mixed_into_indentation(tmp_path: Path, indent: str, found: str) -> None:
    brief = ITEM.replace("    summary:", indent + "summary:")
    column = indent.index("\t") + 1
    fails_with(check(tmp_path, brief),
               f"{WHERE}:3:{column}: error: a tab is used for indentation (expected 4 spaces, "
               f"found {found}): YAML indents with spaces only and cannot read past a tab, so "
               "later problems in this file may be hidden (indent it by 4 spaces instead)",
               "1 error")


def test_no_indentation_mistake_gets_a_quoting_hint(tmp_path: Path) -> None:
    """The issue's report: 5 spaces got "put the whole value in quotes"; following it gave the
    same error with more quotes."""
    for spaces in (3, 5):
        result = check(tmp_path / str(spaces), ITEM.replace("    summary:",
                                                            " " * spaces + "summary:"))
        assert "quote" not in result.err and "wrong indentation" in result.err


# -- quotes -------------------------------------------------------------------------------------

QUOTED = [
    ('summary: "A summary with a "quoted" word."', "summary", 'A summary with a "quoted" word.'),
    ('headline: "Blue tickets" arrive in Tokyo', "headline", '"Blue tickets" arrive in Tokyo'),
    ('headline: "Blue tickets" arrive in "Tokyo"', "headline",
     '"Blue tickets" arrive in "Tokyo"'),
    ("headline: 'It's here'", "headline", "It's here"),
    ("headline: Seedance 2.0: the launch", "headline", "Seedance 2.0: the launch"),
    ("headline: Seedance's answer: more", "headline", "Seedance's answer: more"),
]


@pytest.mark.parametrize("line, key, meant", QUOTED)
def test_a_quoting_hint_is_read_by_yaml_as_meant(tmp_path: Path, line: str, key: str,
                                                 meant: str) -> None:
    """Apply the hint to the file: YAML reads exactly the text the editor meant, and the
    brief passes."""
    original = f"    {key}: " if key != "headline" else f"  - {key}: "
    brief = ITEM.replace(next(x for x in ITEM.splitlines() if x.startswith(original)),
                         original[: original.index(key)] + line)
    result = check(tmp_path, brief)
    assert result.code == 1
    hint = re.search(r"\(put the whole value in quotes: (.*)\)\n1 error\n$", result.err)
    assert hint, result.err
    fixed = brief.replace(line, hint.group(1))
    assert yaml.safe_load(fixed)["items"][0][key] == meant
    project = make_project(tmp_path / "fixed", briefs={"industry.yaml": fixed,
                                                       "ethics.yaml": BRIEF})
    assert project.cli("check").code == 0


# -- every problem at once ------------------------------------------------------------------------

def test_a_pasted_markdown_link_hides_nothing_else_in_its_file(tmp_path: Path) -> None:
    """The issue's report: three rounds of `check` to see these three."""
    brief = ITEM.replace("      - url: https://example.org/a",
                         "      - url: [Article A](https://example.org/a)") \
        + "        date: 2026-02-30\n      - title: B\n        publisher: P\n"
    fails_with(check(tmp_path, brief),
               f"{WHERE}:6:14: error: 'url' is a Markdown link, which YAML reads as a list; "
               "write only the address (url: https://example.org/a)",
               f"{WHERE}:9:15: error: 'date' 2026-02-30 does not exist: February 2026 has 28 "
               "days",
               f"{WHERE}:10:9: error: missing required key 'url' in a source",
               "3 errors in 1 file")


def test_mistakes_of_every_stage_in_one_report(factory) -> None:
    """A syntax mistake in briefing.yaml, an indentation mistake and a schema problem in one
    brief, a quoting mistake in another: one run of check shows all of them."""
    brief = ITEM.replace("    summary:", "     summary:").replace("    why: It matters.",
                                                                  "    wyh: It matters.")
    project = factory(config=CONFIG.replace("address: 1 Test Street, Testville",
                                            "address: Office: 1 Test Street"),
                      briefs={"industry.yaml": brief, "ethics.yaml": BRIEF.replace(
                          "headline: First headline",
                          'headline: "First" headline')})
    fails_with(project.cli("check"),
               "briefing.yaml:10:10: error: the ': ' inside the value of 'address' makes YAML "
               "read a new key (put the whole value in quotes: address: 'Office: 1 Test "
               "Street')",
               "briefs/2026-W07/ethics.yaml:2:15: error: text after the closing quote: YAML "
               "ends the value at the quote (put the whole value in quotes: headline: "
               "'\"First\" headline')",
               f"{WHERE}:3:6: error: wrong indentation of 'summary': expected 4 spaces, as "
               "'headline' above it has; found 5 (indent it by 4 spaces)",
               f"{WHERE}:4:5: error: unknown key 'wyh' (did you mean 'why'?)",
               "4 errors in 3 files")


def test_what_yaml_cannot_read_past_says_so(tmp_path: Path) -> None:
    fails_with(check(tmp_path, "items:\n  - headline: [unclosed\n"),
               f"{WHERE}:3:1: error: YAML syntax error: did not find expected ',' or ']' (while "
               "parsing a flow sequence at line 2); later problems in this file may be hidden",
               "1 error")


# -- where the project is -------------------------------------------------------------------------

def test_commands_find_briefing_yaml_upward(project) -> None:
    inside = project.root / "briefs/2026-W07"
    result = run_cli(inside, "check")
    assert result.code == 0, result.err
    assert result.out.startswith("ok: 2026-W07: 2 items")
    assert run_cli(inside, "build").code == 0
    assert (project.root / "out/2026-W07/email.html").is_file()
    assert not (inside / "out").exists()


def test_dash_c_runs_any_command_in_that_folder(project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli(elsewhere, "-C", str(project.root), "check")
    assert result.code == 0 and result.out.startswith("ok: 2026-W07"), result.err
    # Paths given to the command start there too, as with git -C and make -C.
    (project.root / "readers.csv").write_text("email,active_subscription\na@example.net,true\n",
                                              encoding="utf-8")
    result = run_cli(elsewhere, "-C", "../news", "subscribers", "import", "readers.csv")
    assert result.code == 0, result.err
    assert result.out == ("imported readers.csv (Substack): 1 added, 0 updated, 0 unchanged, "
                          "0 suppressed\n")
    # After the command's name too, on every command and subcommand.
    result = run_cli(elsewhere, "check", "-C", str(project.root))
    assert result.code == 0 and result.out.startswith("ok: 2026-W07"), result.err
    result = run_cli(elsewhere, "subscribers", "list", "-C", "../news", "--format", "csv")
    assert result.code == 0, result.err
    assert "a@example.net" in result.out
    assert "-C DIR" in run_cli(elsewhere, "archive", "search", "--help").out
    missing = run_cli(elsewhere, "-C", "nowhere", "check")
    assert missing.code == 2
    assert missing.err.splitlines()[-1] == ("Error: Invalid value for '-C': cannot enter "
                                            "'nowhere': No such file or directory")


def test_outside_any_project_says_where_it_looked(tmp_path: Path) -> None:
    fails_with(run_cli(tmp_path, "check"),
               "briefing.yaml: error: no briefing.yaml in this folder or any folder above it "
               "(start a project with 'briefing init DIR', run briefing inside one, or name it "
               "with -C DIR)",
               "briefs: error: no issues yet; create briefs/<ISSUE>/ with 'briefing new THEME'",
               "2 errors in 2 files")


# -- the smaller items ----------------------------------------------------------------------------

def test_a_url_without_a_scheme(tmp_path: Path) -> None:
    brief = ITEM.replace("url: https://example.org/a", "url: example.org/a")
    fails_with(check(tmp_path, brief),
               f"{WHERE}:6:14: error: 'url' has no https:// or http:// at the start "
               "('example.org/a') (write the full address: https://example.org/a)", "1 error")


def test_names_servers_look_for_are_not_called_files_the_site_writes(project) -> None:
    project.write("briefs/robots.txt/industry.yaml", BRIEF)
    fails_with(project.cli("check", "robots.txt"),
               "briefs/robots.txt: error: 'robots.txt' is a name web servers and crawlers look "
               "for at the top of a site, so it cannot be an issue id (rename the folder)",
               "1 error")


def test_send_help_shows_each_default_once(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "send", "--help", env={"COLUMNS": "200"})
    assert result.code == 0
    assert "At most N messages per second (default: no limit).\n" in result.out
    assert "[default: 0.0]" not in result.out and "[default: dry-run]" not in result.out


def test_the_sendmail_dry_run_names_what_it_retries(project) -> None:
    assert project.cli("build").code == 0
    result = project.cli("send", "--sendmail", "msmtp")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-2] == (
        "would send: 1 message (one run of the command per recipient) and record each accepted "
        "one; an exit status 75 or 69 (try again later) is tried up to 4 times in all")


def test_links_with_no_host_answering_asks_if_the_machine_is_offline(factory) -> None:
    """Names under .invalid never resolve (RFC 6761): what an offline machine sees."""
    brief = BRIEF.replace("https://example.org/a", "https://news.invalid/a")
    project = factory(issue=ISSUE.replace("https://example.org/intro", "https://news.invalid/"),
                      briefs={"industry.yaml": brief, "ethics.yaml": BRIEF.replace(
                          "https://example.org/a", "https://press.invalid/b")})
    result = project.cli("links", "--timeout", "5", timeout=120)
    assert result.code == 1
    assert result.out == ("checked 3 links in 2026-W07 (0 from cache): 0 ok, 0 moved, 3 broken; "
                          "no answer from any of the 2 hosts: is this machine offline?\n")
    assert result.err.splitlines()[0].startswith(
        "briefs/2026-W07/ethics.yaml:5:23: error: cannot connect: host not found")


def test_the_digest_keeps_a_name_in_parentheses_together(factory) -> None:
    """'Spring Festival Gala (春晚)' at every position around the 72nd column."""
    items = "".join(f"""\
  - headline: H{n}
    summary: {"x" * n} The gala (春晚) would use it, and more words follow here.
    sources:
      - url: https://example.org/{n}
        title: T
        publisher: P
""" for n in range(40, 72))
    project = factory(briefs={"industry.yaml": "items:\n" + items, "ethics.yaml": BRIEF})
    assert project.cli("build").code == 0
    digest = (project.root / "out/2026-W07/digest.txt").read_text(encoding="utf-8")
    assert digest.count("(春晚)") == 32


def test_drafts_are_private(factory) -> None:
    project = factory(issue="title: T\ndate: 2026-02-13\ndraft: true\n")
    assert project.cli("build").code == 0
    for folder in (".briefing", ".briefing/drafts"):
        assert (project.root / folder).stat().st_mode & 0o777 == 0o700, folder


def test_init_keeps_screenshots_out_of_git(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init", "news").code == 0
    git = shutil.which("git")
    ignore = (tmp_path / "news/.gitignore").read_text(encoding="utf-8")
    assert ".briefing/\n" in ignore
    if git:  # git itself says the screenshots' folder is ignored
        subprocess.run([git, "init", "-q"], cwd=tmp_path / "news", check=True)
        done = subprocess.run([git, "check-ignore", ".briefing/screenshots/2026-W07/x.png"],
                              cwd=tmp_path / "news", capture_output=True, text=True)
        assert done.returncode == 0, done


def test_pyproject_names_nothing_outside_the_repository() -> None:
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert "DESIGN.md" not in text and "../" not in text


# -- the preview's digest pane --------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or os.environ.get("BRIEFING_CHROMIUM")


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (installed by .ci/run)")
def test_the_preview_digest_pane_holds_72_columns_at_1400_px(project, tmp_path: Path) -> None:
    from briefing.editorial.browser import Browser
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("BRIEFING_DEBUG", None)
    server = subprocess.Popen([sys.executable, "-m", "briefing", "preview", "--port", "0"],
                              cwd=project.root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        url = re.search(r"http://\S+/", server.stdout.readline()).group()
        with Browser(offline=True, profile_parent=tmp_path) as browser:
            page = browser.new_page()
            page.viewport(1400, 900)
            page.open(url)
            measure = ("(() => { const d = document.getElementById('digest').contentDocument;"
                       " const pre = d && d.querySelector('pre'); if (!pre) return null;"
                       " const wrapped = pre.getBoundingClientRect().height;"
                       " pre.style.whiteSpace = 'pre';"
                       " const unwrapped = pre.getBoundingClientRect().height;"
                       " return [wrapped, unwrapped, pre.scrollWidth, pre.clientWidth]; })()")
            deadline = time.monotonic() + 30
            while (sizes := page.evaluate(measure)) is None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert sizes is not None
            wrapped, unwrapped, needed, width = sizes
            assert wrapped == unwrapped and needed <= width, sizes  # no line wraps again
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_mistakes_benchmark_runs_small() -> None:
    """benchmarks/mistakes.py at a tiny size (timings are the benchmark's business)."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1]
                                               / "benchmarks/mistakes.py"),
                           "--items", "30", "--runs", "1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "| 30 |" in done.stdout and "(21 reported)" in done.stdout


def test_a_big_brief_gets_fewer_fixes_than_a_small_one(tmp_path: Path) -> None:
    """Each fix reads the file again: past 2,000,000 bytes of that, reading stops. A 480 KB
    brief with 12 mistakes: 4 are read past, the 5th stops it."""
    item = ITEM.replace("    summary:", "     summary:").replace("items:\n", "")
    padding = "# " + "x" * 998 + "\n"
    brief = "items:\n" + (padding * 40 + item) * 12
    assert 400_000 < len(brief) < 500_000
    result = check(tmp_path, brief)
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[-1] == "5 errors in 1 file", lines[-1]
    assert lines[-2].endswith("; later problems in this file may be hidden (indent it by 4 "
                              "spaces)")

