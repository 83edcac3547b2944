"""Hostile or broken input never crashes, injects or loses data: each case through the real CLI."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import BRIEF, CONFIG, ISSUE

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.add(tag)

    def handle_data(self, data) -> None:
        self.text.append(data)


def parse_html(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_refused(result, expected: str) -> None:
    assert result.code == 1, result
    assert result.err == expected + "\n", result.err
    assert "Traceback" not in result.err


def assert_invalid(result, expected: str) -> None:
    """A problem in the editor's files: its line, then the count."""
    assert_refused(result, expected + "\n1 error")


def test_markup_in_every_text_field_is_text_in_html_and_verbatim_in_digest(factory) -> None:
    brief = f"""\
items:
  - headline: '{SCRIPT} headline'
    summary: '{SCRIPT} summary'
    why: '{SCRIPT} why'
    sources:
      - url: https://example.org/a
        title: '{SCRIPT} title'
        publisher: '{SCRIPT} publisher'
"""
    config = CONFIG.replace("name: Test Briefing", f"name: '{SCRIPT} name'").replace(
        "tagline: A test newsletter", f"tagline: '{SCRIPT} tagline'")
    issue = ISSUE.replace("title: A test issue", f"title: '{SCRIPT} title'").replace(
        "preheader: Short preview text", f"preheader: '{SCRIPT} pre'").replace(
        "The editor's note", f"{SCRIPT} The editor's note")
    project = factory(config=config, issue=issue, briefs={"industry.yaml": brief})
    result = project.cli("build")
    assert result.code == 0, result.err
    page = (project.root / "out/2026-W07/email.html").read_text(encoding="utf-8")
    parsed = parse_html(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert "onerror" not in page.replace("onerror=alert(1)&gt;", "")
    text = "".join(parsed.text)
    for field in ("headline", "summary", "why", "title", "publisher", "name", "tagline", "pre"):
        assert f"{SCRIPT} {field}" in text, field
    digest = (project.root / "out/2026-W07/digest.txt").read_text(encoding="utf-8")
    for field in ("headline", "summary", "why", "title", "publisher", "tagline"):
        assert squash(f"{SCRIPT} {field}") in squash(digest), field


def test_jinja_syntax_in_content_is_printed_literally(factory) -> None:
    brief = BRIEF.replace("headline: First headline",
                          "headline: '{{ 7*7 }} {% include \"/etc/passwd\" %} {# c #}'")
    project = factory(briefs={"industry.yaml": brief})
    assert project.cli("build").code == 0
    for name in ("email.html", "digest.txt"):
        text = (project.root / "out/2026-W07" / name).read_text(encoding="utf-8")
        assert "{{ 7*7 }}" in text and "49" not in text
        assert '{% include "/etc/passwd" %}' in text.replace("&#34;", '"')
        assert "root:" not in text


@pytest.mark.parametrize("target, message", [
    ("javascript:alert(1)", "must be an http(s) URL, not 'javascript:' (write the full "
                            "https:// address)"),
    ("data:text/html;base64,PHNjcmlwdD4=", "must be an http(s) URL, not 'data:' (write the "
                                           "full https:// address)"),
    ("vbscript:msgbox(1)", "must be an http(s) URL, not 'vbscript:' (write the full https:// "
                           "address)"),
    ("//evil.example/x", "has no https:// or http:// at the start ('//evil.example/x') (write "
                         "the full address: https://evil.example/x)"),
    ("JaVaScRiPt:alert(1)", "must be an http(s) URL, not 'javascript:' (write the full "
                            "https:// address)"),
])
def test_dangerous_link_targets_are_refused(factory, target: str, message: str) -> None:
    brief = BRIEF.replace("[linked source](https://example.org/a)", f"[x]({target})")
    project = factory(briefs={"industry.yaml": brief})
    assert_invalid(project.cli("build"),
                   f"briefs/2026-W07/industry.yaml:3:14: error: link [x]({target}): {message}")
    assert not (project.root / "out").exists()


@pytest.mark.parametrize("field, value, message", [
    ("headline", '"a\\u0000b"', "'headline' must not contain control character U+0000"),
    ("headline", '"a\\rb"', "'headline' must not contain a carriage return"),
    ("why", '"a\\nb"', "'why' must not contain a line break"),
    ("why", '"a\\u001bb"', "'why' must not contain control character U+001B"),
    ("summary", '"a\\u0085b"', "'summary' must not contain control character U+0085"),
])
def test_control_characters_are_refused(factory, field: str, value: str, message: str) -> None:
    brief = """\
items:
  - headline: H
    summary: S
    why: W
    sources:
      - url: https://example.org/a
        title: A
        publisher: P
""".replace(f"    {field}: {field[0].upper()}\n", f"    {field}: {value}\n").replace(
        f"  - {field}: {field[0].upper()}\n", f"  - {field}: {value}\n")
    line = {"headline": 2, "summary": 3, "why": 4}[field]
    col = {"headline": 15, "summary": 14, "why": 10}[field]
    project = factory(briefs={"industry.yaml": brief})
    assert_invalid(project.cli("check"),
                   f"briefs/2026-W07/industry.yaml:{line}:{col}: error: {message}")


@pytest.mark.parametrize("where, config_line, expected", [
    ("name", "name: \"News =?UTF-8?Q?=0A?=Bcc: x@evil.example\"",
     "briefing.yaml:1:7: error: 'name' must not contain an encoded word ('=?UTF-8?Q?=0A?=') "
     "(write the characters themselves)"),
    ("sender", "sender: \"News\\r\\nBcc: x@evil.example <news@example.org>\"",
     "briefing.yaml:4:9: error: 'sender' must not contain a carriage return"),
])
def test_header_injection_is_refused(factory, where: str, config_line: str,
                                     expected: str) -> None:
    lines = CONFIG.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{where}:"))
    lines[index] = config_line
    project = factory(config="\n".join(lines) + "\n")
    assert_invalid(project.cli("check"), expected)


def test_encoded_newline_in_issue_title_is_refused(factory) -> None:
    project = factory(issue=ISSUE.replace("title: A test issue",
                                          "title: Hi =?utf-8?b?DQpCY2M6IHhAZXZpbA==?="))
    assert_invalid(project.cli("check"),
                   "briefs/2026-W07/issue.yaml:1:8: error: 'title' must not contain an encoded "
                   "word ('=?utf-8?b?DQpCY2M6IHhAZXZpbA==?=') (write the characters themselves)")


def test_alias_bomb_is_refused(factory) -> None:
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    project = factory(briefs={"industry.yaml": bomb})
    assert_invalid(project.cli("check"), "briefs/2026-W07/industry.yaml:1:4: error: YAML "
                                         "anchors (&a) are not allowed; write the value out")


def test_deep_nesting_is_refused_early(factory) -> None:
    project = factory(briefs={"industry.yaml": "items: " + "[" * 1000 + "]" * 1000 + "\n"})
    assert_invalid(project.cli("check"), "briefs/2026-W07/industry.yaml:1:39: error: nesting "
                                         "deeper than 32 levels")


def test_huge_brief_is_refused_without_reading_it(factory) -> None:
    project = factory()
    path = project.root / "briefs/2026-W07/industry.yaml"
    with open(path, "wb") as handle:  # 50 MB, sparse: the size alone refuses it
        handle.truncate(50 * 1024 * 1024)
    assert_invalid(project.cli("check"), "briefs/2026-W07/industry.yaml: error: file is "
                                         "52,428,800 bytes; the limit is 1,000,000 bytes")


def test_binary_file_named_yaml(factory) -> None:
    project = factory()
    (project.root / "briefs/2026-W07/industry.yaml").write_bytes(os.urandom(64) + b"\x00")
    result = project.cli("check")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.startswith("briefs/2026-W07/industry.yaml:")
    assert ("file is binary" in result.err) or ("not valid UTF-8" in result.err)


def test_markup_that_could_break_the_renderer_never_reaches_it(factory) -> None:
    nasty = "</mj-text></mj-column></mj-section><mj-raw><script>x</script></mj-raw>"
    brief = BRIEF.replace("headline: First headline", f"headline: '{nasty}'").replace(
        "A summary with", "<div>" * 500 + "**" * 300 + "[" * 300 + " summary with")
    project = factory(briefs={"industry.yaml": brief})
    result = project.cli("build")
    assert result.code == 0, result.err
    page = (project.root / "out/2026-W07/email.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;/mj-text&gt;" in page


def test_broken_template_override_is_reported_not_crashed(factory) -> None:
    project = factory()
    project.write("templates/email.mjml.j2", "<mjml><mj-body><mj-section>{{ issue.title }}\n")
    result = project.cli("build")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.startswith("templates/email.mjml.j2: error: the MJML renderer failed: ")
    assert not (project.root / "out").exists()


@pytest.mark.parametrize("theme", ["../x", "a/b", "/etc", ".."])
def test_path_tricks_in_theme_are_refused(factory, theme: str) -> None:
    project = factory(briefs={"industry.yaml": f"theme: '{theme}'\n" + BRIEF})
    assert_invalid(project.cli("check"), f"briefs/2026-W07/industry.yaml:1:8: error: 'theme' "
                                         f"'{theme}' is not valid")


@pytest.mark.parametrize("issue_id", ["..", "../../etc", "/etc", "a/b", ".hidden"])
def test_path_tricks_in_issue_id_are_refused(project, issue_id: str) -> None:
    assert_refused(project.cli("build", issue_id),
                   f"briefs: error: '{issue_id}' is not a valid issue id (letters, digits, '.', "
                   "'_', '-'; it must not start with '.' and has no '/')")


def test_symlinked_brief_leading_outside_is_refused(factory, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(BRIEF, encoding="utf-8")
    project = factory()
    os.symlink(outside, project.root / "briefs/2026-W07/policy.yaml")
    assert_invalid(project.cli("check"), "briefs/2026-W07/policy.yaml: error: brief is a link "
                                         "that leads outside the project")


def test_symlinked_issue_folder_leading_outside_is_refused(factory, tmp_path: Path) -> None:
    project = factory()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/industry.yaml").write_text(BRIEF, encoding="utf-8")
    os.symlink(tmp_path / "elsewhere", project.root / "briefs/2026-W08")
    assert_invalid(project.cli("check", "2026-W08"),
                   "briefs/2026-W08: error: issue folder is a link that leads outside the project")


def test_unicode_text_builds_and_wraps(factory) -> None:
    from wcwidth import wcswidth
    rtl = "שלום עולם مرحبا بالعالم"
    combining = "e\u0301te\u0301 cafe\u0301"
    emoji = "🎬🎥 film 👩🏽‍💻"
    cjk = "贾樟柯的新片《繁花》" * 6
    zero_width = "zero\u200bwidth\u200djoiner"
    summary = f"{rtl} {combining} {emoji} {cjk} {zero_width}"
    brief = BRIEF.replace("headline: First headline", f"headline: '{emoji} {rtl}'").replace(
        "A summary with *emphasis*, **strong** text and a", summary)
    project = factory(briefs={"industry.yaml": brief})
    assert project.cli("build").code == 0
    digest = (project.root / "out/2026-W07/digest.txt").read_text(encoding="utf-8")
    for part in (rtl, combining, emoji, zero_width):
        assert squash(part) in squash(digest)
    assert squash(cjk) in squash(digest)
    for line in digest.splitlines():
        if not re.fullmatch(r"\s*https?://\S+", line):
            assert wcswidth(line) <= 72, line
    page = (project.root / "out/2026-W07/email.html").read_text(encoding="utf-8")
    assert rtl in page and emoji in page and cjk in page


def test_editor_files_are_never_modified(project) -> None:
    """Only `new` and `init` create files outside out/ and .briefing/ (private state: what a
    build was made from, the search index's digest), and nothing edits an existing one."""
    def editor_files() -> dict:
        private = {"out", ".briefing"}
        return {p: p.read_bytes() for p in project.root.rglob("*")
                if p.is_file() and not private & set(p.relative_to(project.root).parts)}

    before = editor_files()
    for args in (("check",), ("check", "--strict"), ("check", "--format", "json"), ("build",),
                 ("build", "--force"), ("build", "--all"), ("archive",),
                 ("archive", "search", "headline"), ("send",), ("schema",)):
        result = project.cli(*args)
        assert "Traceback" not in result.err, args
    assert editor_files() == before
    private = sorted(p.relative_to(project.root).as_posix()
                     for p in (project.root / ".briefing").rglob("*") if p.is_file())
    assert private == [".briefing/builds/2026-W07.json", ".briefing/search-index.sha256"]
    assert all((project.root / p).stat().st_mode & 0o077 == 0 for p in private)
