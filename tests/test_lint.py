"""Editorial lint in `briefing check`: every rule with its exact place, --strict, --format json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import BRIEF, REPO, run_cli
from conftest import CONFIG as EXAMPLE_CONFIG
from conftest import make_project as make_example_project

# The test project is at example.org, init's placeholder domain: `check` names that in one
# warning (tests/test_reserved.py), which these tests of the editorial rules turn off.
QUIET = "lint:\n  disable: [init-placeholder]\n"
CONFIG = EXAMPLE_CONFIG + QUIET


def make_project(root: Path, config: str | None = CONFIG, **kwargs):
    return make_example_project(root, config=config, **kwargs)


@pytest.fixture
def factory(tmp_path: Path):
    def make(**overrides):
        return make_project(tmp_path / "news", **overrides)
    return make


@pytest.fixture
def project(factory):
    return factory()

# A brief that breaks every per-item rule once; limits are lowered in the config so it stays short.
MESSY = """\
items:
  - headline: TODO A headline that runs on and on
    summary: >-
      One two three four five six seven eight nine ten eleven, see
      [the piece](https://example.org/c?utm_source=news&id=3&utm_medium=mail).
    why: TK
    sources:
      - url: http://bit.ly/abc
        title: Short link
        publisher: Wire
        date: 2026-02-20
      - url: https://example.org/d?fbclid=123
        title: Old piece
        publisher: Wire
        date: 2026-01-02
      - url: http://bit.ly/abc
        title: Short link again
        publisher: Wire
"""

LIMITS = EXAMPLE_CONFIG + """\
  - id: policy
    title: Policy
lint:
  headline_max_chars: 30
  summary_max_words: 10
  disable: [init-placeholder]
"""


def test_every_rule_points_at_the_value(factory) -> None:
    project = factory(config=LIMITS, briefs={"industry.yaml": MESSY, "ethics.yaml": BRIEF})
    result = project.cli("check")
    assert result.code == 0, result
    p = "briefs/2026-W07/industry.yaml"
    assert result.err.splitlines() == [
        "briefing.yaml:16:5: warning: theme 'policy' has no items in 2026-W07 "
        "(add a brief with 'briefing new policy --issue 2026-W07') [empty-theme]",
        f"{p}:2:15: warning: headline is 35 characters (limit 30) [headline-length]",
        f"{p}:2:15: warning: placeholder 'TODO' left in the headline [placeholder]",
        f"{p}:3:14: warning: summary is 14 words (limit 10); briefs are short [summary-length]",
        f"{p}:5:19: warning: URL has tracking parameters (utm_source, utm_medium) "
        "(link to https://example.org/c?id=3) [tracking-params]",
        f"{p}:6:10: warning: placeholder 'TK' left in the why [placeholder]",
        f"{p}:8:14: warning: http:// link (use https:// if the site supports it) [insecure-url]",
        f"{p}:8:14: warning: URL goes through the shortener bit.ly "
        "(link to the address it leads to) [url-shortener]",
        f"{p}:11:15: warning: source date 2026-02-20 is after the issue date 2026-02-13 "
        "[source-future]",
        f"{p}:12:14: warning: URL has tracking parameters (fbclid) "
        "(link to https://example.org/d) [tracking-params]",
        f"{p}:15:15: warning: source date 2026-01-02 is older than the issue window "
        "(14 days before 2026-02-13) [source-stale]",
        f"{p}:16:14: warning: this source is listed twice in the same item [duplicate-url]",
        f"{p}:16:14: warning: http:// link (use https:// if the site supports it) [insecure-url]",
        f"{p}:16:14: warning: URL goes through the shortener bit.ly "
        "(link to the address it leads to) [url-shortener]",
    ]
    assert result.out.startswith("ok: 2026-W07: 2 items in 2 themes, 5 sources, ")
    assert result.out.rstrip().endswith("; 14 warnings")


def test_strict_turns_warnings_into_errors(factory) -> None:
    project = factory(config=LIMITS, briefs={"industry.yaml": MESSY, "ethics.yaml": BRIEF})
    result = project.cli("check", "--strict")
    assert result.code == 1
    lines = result.err.splitlines()
    assert len(lines) == 15 and lines[-1] == "14 errors in 2 files"
    assert lines[1] == ("briefs/2026-W07/industry.yaml:2:15: error: headline is 35 characters "
                        "(limit 30) [headline-length]")
    assert "Traceback" not in result.err
    assert result.out == ""


def test_clean_issue_passes_strict(project) -> None:
    result = project.cli("check", "--strict")
    assert result.code == 0, result
    assert result.err == ""
    # Headlines 2 + 2 words, summaries 10 + 10, whys 2 + 2, intro 6.
    assert result.out == ("ok: 2026-W07: 2 items in 2 themes, 3 sources, 34 words, about 1 min "
                          "to read (230 words a minute)\n")


def test_json_for_ci(factory) -> None:
    project = factory(config=LIMITS, briefs={"industry.yaml": MESSY, "ethics.yaml": BRIEF})
    result = project.cli("check", "--format", "json")
    assert result.code == 0, result
    data = json.loads(result.out)
    assert data["ok"] is True and data["issue"] == "2026-W07"
    assert data["summary"] == {"items": 2, "themes": 2, "sources": 5, "words": 43,
                               "reading_minutes": 1}
    assert len(data["problems"]) == 14
    assert data["problems"][1] == {
        "path": "briefs/2026-W07/industry.yaml", "line": 2, "col": 15, "severity": "warning",
        "rule": "headline-length", "message": "headline is 35 characters (limit 30)",
        "hint": None}
    strict = project.cli("check", "--format", "json", "--strict")
    assert strict.code == 1
    data = json.loads(strict.out)
    assert data["ok"] is False and {p["severity"] for p in data["problems"]} == {"error"}


def test_json_reports_validation_errors(factory) -> None:
    project = factory(briefs={"industry.yaml": "items: []\n"})
    result = project.cli("check", "--format", "json")
    assert result.code == 1
    assert json.loads(result.out) == {
        "ok": False, "issue": "2026-W07", "summary": None, "problems": [{
        "path": "briefs/2026-W07/industry.yaml", "line": 1, "col": 8, "severity": "error",
        "rule": None, "message": "'items' needs at least one item", "hint": None}]}


def test_unknown_format(project) -> None:
    result = project.cli("check", "--format", "xml")
    assert result.code == 2  # a usage error, reported by Click from the declared choices
    assert result.err.endswith("\nError: Invalid value for '--format': 'xml' is not one of "
                               "'text', 'json'.\n"), result.err


def test_default_limits(factory) -> None:
    long_headline = "A" + " very" * 18 + " long headline"  # 105 characters
    words = " ".join(["word"] * 81)
    brief = BRIEF.replace("First headline", long_headline).replace(
        "A summary with *emphasis*, **strong** text and a\n      [linked source]"
        "(https://example.org/a).", words)
    project = factory(briefs={"industry.yaml": brief, "ethics.yaml": BRIEF.replace(
        "example.org/a", "example.org/b")})
    result = project.cli("check")
    assert result.err.splitlines() == [
        "briefs/2026-W07/industry.yaml:2:15: warning: headline is 105 characters (limit 90) "
        "[headline-length]",
        "briefs/2026-W07/industry.yaml:3:14: warning: summary is 81 words (limit 80); briefs are "
        "short [summary-length]",
    ]


def test_disable_rules_and_limits_in_config(factory) -> None:
    config = LIMITS.replace("disable: [init-placeholder]", "disable: [init-placeholder, "
                            "placeholder, url-shortener, insecure-url, empty-theme]")
    project = factory(config=config, briefs={"industry.yaml": MESSY, "ethics.yaml": BRIEF})
    rules = {line.rsplit("[", 1)[1] for line in project.cli("check").err.splitlines()}
    assert rules == {"headline-length]", "summary-length]", "tracking-params]", "source-future]",
                     "source-stale]", "duplicate-url]"}


def test_bad_lint_config(factory) -> None:
    config = EXAMPLE_CONFIG + "lint:\n  publisher_share: 2\n  disable: [placeholders]\n  max: 3\n"
    result = factory(config=config).cli("check")
    assert result.code == 1
    assert result.err.splitlines() == [
        "briefing.yaml:17:20: error: 'publisher_share' must be at most 1",
        "briefing.yaml:18:13: error: 'disable'[1] 'placeholders' is not a lint rule "
        "(did you mean 'placeholder'?)",
        "briefing.yaml:19:3: error: unknown key 'max' (known keys: headline_max_chars, "
        "summary_max_words, window_days, publisher_share, words_per_minute, recurring_urls, "
        "thread_quiet_issues, disable)",
        "3 errors in 1 file",
    ]


def test_cross_item_duplicate_and_earlier_issue(tmp_path: Path) -> None:
    project = make_project(tmp_path / "news")
    # An earlier issue cited example.org/b; this issue cites it in two items.
    project.write("briefs/2026-W06/issue.yaml", "date: 2026-02-06\n")
    project.write("briefs/2026-W06/industry.yaml", BRIEF.replace("example.org/a", "example.org/b"))
    project.write("briefs/2026-W07/industry.yaml", BRIEF + BRIEF.replace(
        "items:\n", "").replace("First headline", "Third headline").replace(
        "example.org/a", "example.org/b"))
    result = project.cli("check", "2026-W07")
    assert result.err.splitlines() == [
        "briefs/2026-W07/ethics.yaml:5:23: warning: link already cited in this issue by "
        "'Third headline' (briefs/2026-W07/industry.yaml:15) [duplicate-url]",
        "briefs/2026-W07/industry.yaml:15:23: warning: link already cited in issue 2026-W06 "
        "[earlier-url]",
    ]
    # The earlier issue itself knows nothing of later ones.
    assert "earlier-url" not in project.cli("check", "2026-W06").err


def test_window_after_a_break_and_week_folders(tmp_path: Path) -> None:
    """After a gap, news since the last issue is fair; a dateless week folder covers its week."""
    project = make_project(tmp_path / "news", issue=None, briefs={})
    project.write("briefs/2026-W01/industry.yaml", BRIEF.replace("2026-02-10", "2026-01-02"))
    # W01 is dated Monday 29 December 2025. W07 has no issue.yaml, so it is dated Monday
    # 9 February but covers 9-15 February; its window reaches back to W01.
    project.write("briefs/2026-W07/industry.yaml", BRIEF.replace("2026-02-10", "2026-01-10"))
    project.write("briefs/2026-W07/ethics.yaml", BRIEF.replace("2026-02-10", "2026-02-15").replace(
        "example.org/a", "example.org/b"))
    result = project.cli("check", "2026-W07")
    assert result.code == 0, result
    assert result.err.splitlines() == [
        "briefs/2026-W07/industry.yaml:5:23: warning: link already cited in issue 2026-W01 "
        "[earlier-url]"]
    project.write("briefs/2026-W07/industry.yaml", BRIEF.replace("2026-02-10", "2025-12-20"))
    assert project.cli("check", "2026-W07").err.splitlines()[-1] == (
        "briefs/2026-W07/industry.yaml:11:15: warning: source date 2025-12-20 is older than the "
        "issue window (since the previous issue, 2025-12-29) [source-stale]")


def test_publisher_share(factory) -> None:
    items = "items:\n" + "".join(
        BRIEF.replace("items:\n", "").replace("example.org/a", f"example.org/{n}")
        .replace("Example News", publisher).replace("First headline", f"Headline {n}")
        for n, publisher in enumerate(["Wire", "Wire", "wire ", "Other"]))
    project = factory(briefs={"industry.yaml": items, "ethics.yaml": BRIEF})
    # Sources: Wire 3 (publisher names compared without case), Other 1, Example News 1.
    assert project.cli("check").err.splitlines() == [
        "briefs/2026-W07/industry.yaml:10:20: warning: 'Wire' supplies 3 of the issue's 5 "
        "sources (60%; limit 50%) (look for other reporting on the same stories) "
        "[publisher-share]"]


def test_placeholders_in_issue_yaml_and_sources(factory) -> None:
    issue = "title: TK title\ndate: 2026-02-13\nintro: >-\n  All good, TK,\n  FIXME later.\n"
    brief = BRIEF.replace("title: Article A", "title: Article TODO")
    project = factory(issue=issue, briefs={"industry.yaml": brief, "ethics.yaml": BRIEF.replace(
        "example.org/a", "example.org/b")})
    assert project.cli("check").err.splitlines() == [
        "briefs/2026-W07/industry.yaml:9:24: warning: placeholder 'TODO' left in the source "
        "title [placeholder]",
        "briefs/2026-W07/issue.yaml:1:8: warning: placeholder 'TK' left in the title "
        "[placeholder]",
        "briefs/2026-W07/issue.yaml:4:13: warning: placeholder 'TK' left in the intro "
        "[placeholder]",
        "briefs/2026-W07/issue.yaml:5:3: warning: placeholder 'FIXME' left in the intro "
        "[placeholder]",
    ]


def test_cjk_words_count_for_reading_time(factory) -> None:
    brief = BRIEF.replace("A summary with", "贾樟柯" * 100 + " and")
    result = factory(briefs={"industry.yaml": brief, "ethics.yaml": BRIEF.replace(
        "example.org/a", "example.org/b")}).cli("check")
    assert "summary is 308 words (limit 80)" in result.err
    assert ", 332 words, about 2 min to read" in result.out


def test_sample_issues() -> None:
    """The repo's sample issues: no errors; the warnings are deliberate (see README, Lint): the
    sample is at a reserved name and keeps init's postal line, on purpose."""
    w07 = run_cli(REPO, "check", "2026-W07")
    assert w07.code == 0, w07
    # quote-unchecked: the sample keeps no saved copies (its sources are real pages, and
    # copies of them are not ours to publish in a repository).
    assert [line.rsplit(" [", 1)[1] for line in w07.err.splitlines()] == [
        "reserved-name]", "init-placeholder]", "duplicate-url]", "duplicate-url]", "duplicate-url]",
        "duplicate-url]", "quote-unchecked]", "insecure-url]", "insecure-url]", "quote-unchecked]",
        "duplicate-url]", "insecure-url]"]
    w10 = run_cli(REPO, "check", "2026-W10")
    assert w10.code == 0, w10
    assert [line.rsplit(" [", 1)[1] for line in w10.err.splitlines()] == [
        "reserved-name]", "init-placeholder]", "quote-unchecked]", "duplicate-url]",
        "duplicate-url]", "publisher-share]", "quote-unchecked]"]


def test_brand_contrast_and_email_size_are_lint_warnings(factory) -> None:
    """check renders the email: a weak brand colour and Gmail's clip limit are warnings with
    rule ids, turned into errors by --strict and listed in --format json."""
    config = EXAMPLE_CONFIG + "brand:\n  accent: \"#8ab4f8\"\n" + QUIET
    project = factory(config=config)
    result = project.cli("check")
    assert result.code == 0, result.err
    line = [x for x in result.err.splitlines() if x.endswith("[brand-contrast]")]
    assert line and line[0].startswith("briefing.yaml:17:11: warning: brand colour accent "
                                       "#8ab4f8 on background #ffffff has a contrast of 2.1:1")
    assert result.out.rstrip().endswith("; 1 warning")
    strict = project.cli("check", "--strict")
    assert strict.code == 1 and "briefing.yaml:17:11: error: brand colour accent" in strict.err
    import json
    data = json.loads(project.cli("check", "--format", "json").out)
    assert [p["rule"] for p in data["problems"]] == ["brand-contrast"]
    project.write("briefing.yaml", config.replace("[init-placeholder]",
                                                  "[init-placeholder, brand-contrast]"))
    assert project.cli("check").err == ""


def test_files_that_are_not_read_are_named(factory) -> None:
    """Nothing an editor wrote is silently left out: a brief saved under the wrong name is
    warned about, and an upper-case .YAML is read like .yaml."""
    from conftest import BRIEF
    shouting = BRIEF.replace("First headline", "Shouting suffix").replace(
        "example.org/a", "example.org/b")
    project = factory(briefs={"industry.yaml": BRIEF, "ethics.YAML": shouting,
                              "policy.yaml.txt": BRIEF, "notes/draft.yaml": BRIEF})
    result = project.cli("check")
    assert result.code == 0, result.err
    assert result.err.splitlines() == [
        "briefs/2026-W07/notes: warning: this folder is not read: only *.yaml and *.yml files "
        "in briefs/2026-W07/ are briefs (rename it to .yaml if it is a brief) [unread-file]",
        "briefs/2026-W07/policy.yaml.txt: warning: this file is not read: only *.yaml and *.yml "
        "files in briefs/2026-W07/ are briefs (rename it to .yaml if it is a brief) "
        "[unread-file]",
    ]
    assert project.cli("build").code == 0
    assert "Shouting suffix" in (project.root / "out/2026-W07/digest.txt").read_text()


WARNING_CASES = sorted((Path(__file__).parent / "cases" / "warnings").glob("*.yaml"))


def test_warning_cases(tmp_path: Path) -> None:
    """One brief per warning case in tests/cases/warnings/; its .expected file is the whole of
    stderr of `check`, which still succeeds."""
    assert WARNING_CASES
    for case in WARNING_CASES:
        project = make_project(tmp_path / case.stem, briefs={
            "industry.yaml": case.read_text(encoding="utf-8"), "ethics.yaml": BRIEF})
        result = project.cli("check")
        expected = case.with_suffix(".expected").read_text(encoding="utf-8")
        assert (result.code, result.err) == (0, expected), case.stem


def test_duplicate_recipients_are_a_warning_not_silently_merged(factory) -> None:
    config = CONFIG.replace("  - Reader One <one@example.org>\n",
                            "  - Editors <one@example.org>\n  - Two <two@example.org>\n"
                            "  - ONE@example.org\n")
    project = factory(config=config)
    result = project.cli("check")
    assert result.code == 0
    assert result.err == (
        "briefing.yaml:8:5: warning: recipient ONE@example.org is the same address as Editors "
        "<one@example.org> (line 6); it gets one copy (remove one of them) "
        "[duplicate-recipient]\n")


def test_a_brief_saved_under_both_extensions_is_a_warning(factory) -> None:
    project = factory(briefs={"industry.yaml": BRIEF, "ethics.yaml": BRIEF.replace(
        "example.org/a", "example.org/c"), "industry.yml": BRIEF.replace(
        "example.org/a", "example.org/b")})
    result = project.cli("check")
    assert result.code == 0
    assert result.err == (
        "briefs/2026-W07/industry.yml: warning: industry.yaml and industry.yml are both read as "
        "briefs, so their items appear twice if one is a copy of the other (keep one of them, "
        "or rename one to say what it adds) [duplicate-brief]\n")


def test_recurring_links_are_not_earlier_urls(tmp_path: Path) -> None:
    """A 'write to us' link in every issue: allowed by URL, or by a prefix ending in '*'."""
    config = EXAMPLE_CONFIG + (QUIET + "  recurring_urls:\n    - https://example.org/b\n"
                       "    - https://example.org/letters/*\n")
    project = make_project(tmp_path / "news", config=config)
    project.write("briefs/2026-W06/issue.yaml", "date: 2026-02-06\n")
    project.write("briefs/2026-W06/industry.yaml", BRIEF.replace("example.org/a",
                                                                 "example.org/b").replace(
        "date: 2026-02-10", "date: 2026-02-05").replace(
        "[linked source](https://example.org/b)", "[letters](https://example.org/letters/1)"))
    project.write("briefs/2026-W07/industry.yaml", BRIEF.replace(
        "[linked source](https://example.org/a)", "[letters](https://example.org/letters/1)"))
    result = project.cli("check", "2026-W07")
    assert (result.code, result.err) == (0, "")
    project.write("briefing.yaml", CONFIG)
    assert "[earlier-url]" in project.cli("check", "2026-W07").err


def test_strict_prints_the_count_even_for_one(factory) -> None:
    project = factory(briefs={"industry.yaml": BRIEF.replace("First headline", "TODO later"),
                              "ethics.yaml": BRIEF.replace("example.org/a", "example.org/b")})
    result = project.cli("check", "--strict")
    assert result.code == 1
    assert result.err == (
        "briefs/2026-W07/industry.yaml:2:15: error: placeholder 'TODO' left in the headline "
        "[placeholder]\n1 error in 1 file\n")


def test_check_without_an_issue_reports_folders_never_built(factory) -> None:
    project = factory()
    for name in ("week 49", "2026-w49", "2026-02-30", "2026-W54"):
        project.write(f"briefs/{name}/industry.yaml", BRIEF)
    project.write("briefs/.drafts/industry.yaml", BRIEF)  # hidden: the editor's own
    result = project.cli("check")
    assert result.code == 1
    assert result.err.splitlines() == [
        "briefs/2026-02-30: error: the folder name is not a date the issue can have: 2026-02-30 "
        "does not exist: February 2026 has 28 days (rename the folder, or add 'date: "
        "YYYY-MM-DD' to issue.yaml)",
        "briefs/2026-W54: error: the folder name is not a date the issue can have: there is no "
        "week 54 in 2026: it has 53 ISO weeks (rename the folder, or add 'date: YYYY-MM-DD' to "
        "issue.yaml)",
        "briefs/2026-w49: error: the folder name is not a date the issue can have: an ISO week "
        "is written with a capital W: 2026-W49 (rename the folder, or add 'date: YYYY-MM-DD' "
        "to issue.yaml)",
        "briefs/week 49: error: not an issue folder: an issue id has only letters, digits, '.', "
        "'_' and '-' (at most 64), so this folder is never built (rename it, e.g. 2026-W49 or "
        "2026-12-04)",
        "4 errors in 4 files",
    ]
    # Named, the issue is checked on its own, as before.
    assert project.cli("check", "2026-W07").code == 0


def test_a_date_that_does_not_exist_says_so(factory) -> None:
    project = factory(issue="title: T\ndate: 2026-11-31\n")
    result = project.cli("check", "2026-W07")
    assert result.err == ("briefs/2026-W07/issue.yaml:2:7: error: 'date' 2026-11-31 does not "
                          "exist: November 2026 has 30 days\n")
