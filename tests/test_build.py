"""`briefing build` end to end through the real CLI: what it writes and what the files hold."""

from __future__ import annotations

import html as html_lib
import re
import shutil
from pathlib import Path

from wcwidth import wcswidth

from conftest import BRIEF, ISSUE, make_project

OUT = "out/2026-W07"


def read(project, name: str) -> str:
    return (project.root / OUT / name).read_text(encoding="utf-8")


def test_build_writes_outputs_and_summary(project) -> None:
    result = project.cli("build")
    assert result.code == 0, result.err
    assert result.out.startswith("built 2026-W07 (2026-02-13): 2 items (industry 1, ethics 1); "
                                 "email.html ")
    assert result.out.rstrip().endswith("-> out/2026-W07/")
    for name in ("email.html", "digest.txt", "message.eml", "issue.json"):
        assert (project.root / OUT / name).stat().st_size > 0


def test_email_html_content(project) -> None:
    assert project.cli("build").code == 0
    page = read(project, "email.html")
    assert '<html lang="en"' in page
    for text in ("Test Briefing", "A test newsletter", "A test issue", "Friday 13 February 2026",
                 "Short preview text", "First headline", "Second headline", "It matters.",
                 "Example News", "1 Test Street, Testville"):
        assert text in page, text
    assert '<a href="https://example.org/a"' in page
    assert 'href="https://example.org/u/ARCHIVE-COPY-NOT-A-TOKEN"' in page
    assert 'href="https://example.org/archive/"' in page
    assert "<em>emphasis</em>" in page and "<strong>strong</strong>" in page
    # themes in config order, not file-name order
    assert page.index("Industry") < page.index("Ethics")


def test_brief_content_is_escaped_in_html(factory) -> None:
    brief = BRIEF.replace("headline: First headline", 'headline: "<script>x</script> & <b>"')
    project = factory(briefs={"industry.yaml": brief})
    assert project.cli("build").code == 0
    page = read(project, "email.html")
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt; &amp; &lt;b&gt;" in page
    digest = read(project, "digest.txt")
    assert "<script>x</script> & <b>" in digest


def test_digest_is_plain_wrapped_text(factory) -> None:
    long_summary = ("Director Jia Zhangke (贾樟柯) answered with a short film; viewers compared "
                    "it with the series 繁花 and argued about **what** cinema is for, in a long "
                    "paragraph that must wrap across several lines of the digest. " * 3)
    brief = BRIEF.replace("A summary with *emphasis*, **strong** text and a",
                          long_summary.replace("\n", " "))
    project = factory(briefs={"industry.yaml": brief})
    assert project.cli("build").code == 0
    digest = read(project, "digest.txt")
    for line in digest.splitlines():
        if re.fullmatch(r"\s*https?://\S+", line):
            continue  # a URL is never cut; it gets a line of its own
        assert wcswidth(line) <= 72, line
    assert "贾樟柯" in digest
    assert "<" not in digest and "&amp;" not in digest and "&#" not in digest
    assert "**" not in digest and "*emphasis*" not in digest and "](" not in digest
    # an inline link is numbered where it stands, and the summary ends with all its sources
    assert "linked source [2]. [2]\n" in digest
    # heading underlined to its width
    assert "Industry\n========\n" in digest


def test_references_number_each_url_once(factory) -> None:
    second = BRIEF.replace("First headline", "Second headline")  # cites the same URL
    project = factory(briefs={"industry.yaml": BRIEF, "ethics.yaml": second})
    assert project.cli("build").code == 0
    digest = read(project, "digest.txt")
    sources = digest[digest.index("Sources\n=======\n"):]
    assert sources.count("https://example.org/a\n") == 1
    assert "[1] link\n    example.org\n    https://example.org/intro" in sources
    assert ("[2] Article A\n    Example News, 10 February 2026\n    https://example.org/a"
            in sources)
    assert "[3]" not in digest


def test_files_sharing_a_theme_merge_in_file_name_order(factory) -> None:
    b = BRIEF.replace("First headline", "From file b")
    a = BRIEF.replace("First headline", "From file a")
    project = factory(briefs={"b.yaml": "theme: industry\n" + b,
                              "a.yaml": "theme: industry\n" + a})
    assert project.cli("build").code == 0
    digest = read(project, "digest.txt")
    assert digest.index("From file a") < digest.index("From file b")


def test_build_is_deterministic_across_runs_and_folders(tmp_path: Path) -> None:
    one = make_project(tmp_path / "one")
    two = make_project(tmp_path / "elsewhere" / "two")
    assert one.cli("build").code == 0
    first = {p.name: p.read_bytes() for p in (one.root / OUT).iterdir()}
    assert one.cli("build").code == 0
    assert two.cli("build").code == 0
    assert {p.name: p.read_bytes() for p in (one.root / OUT).iterdir()} == first
    assert {p.name: p.read_bytes() for p in (two.root / OUT).iterdir()} == first


def test_default_issue_is_latest_by_date(factory) -> None:
    project = factory(issue_id="2026-W07", issue=ISSUE.replace("2026-02-13", "2026-03-20"))
    project.write("briefs/2026-W09/issue.yaml", ISSUE.replace("2026-02-13", "2026-02-27"))
    project.write("briefs/2026-W09/industry.yaml", BRIEF)
    result = project.cli("build")
    assert result.out.startswith("built 2026-W07 (2026-03-20)")


def test_date_from_folder_name(factory) -> None:
    project = factory(issue_id="2026-W10", issue=None)
    assert project.cli("build").out.startswith("built 2026-W10 (2026-03-02)")
    project = make_project(project.root.parent / "dated", issue_id="2026-02-20", issue=None)
    result = project.cli("build")
    assert result.out.startswith("built 2026-02-20 (2026-02-20)"), result.err
    assert "Friday 20 February 2026" in (project.root / "out/2026-02-20/digest.txt").read_text()


def test_theme_defaults_to_file_stem(factory) -> None:
    project = factory(briefs={"ethics.yaml": BRIEF})
    assert project.cli("build").out.startswith("built 2026-W07 (2026-02-13): 1 item (ethics 1)")


def test_sample_project_builds(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    root = tmp_path / "sample"
    root.mkdir()
    shutil.copy(repo / "briefing.yaml", root)
    shutil.copytree(repo / "briefs", root / "briefs")
    result = make_project.__globals__["run_cli"](root, "build", "2026-W10")
    assert result.code == 0, result.err
    digest = (root / "out/2026-W10/digest.txt").read_text(encoding="utf-8")
    assert "贾樟柯" in digest
    page = (root / "out/2026-W10/email.html").read_text(encoding="utf-8")
    assert html_lib.escape("Jia Zhangke") in page
