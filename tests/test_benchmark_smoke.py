"""Every benchmark runs end to end at a tiny size and prints its table (no timing assertions:
the figures themselves are taken by hand and kept in benchmarks/README.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from briefing.editorial.browser import find_chromium
from conftest import REPO


def _run(script: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_benchmark_smoke_produces_its_table(tmp_path) -> None:
    output = tmp_path / "results.md"
    stdout = _run("run.py", "--smoke", "--output", str(output))
    table = output.read_text(encoding="utf-8")
    assert "| what | median ms | min-max ms | CPU ms | peak RSS MB | notes |" in table
    for row in ("`briefing build` (sample issue)", "`python -c \"import yaml, jinja2, mjml\"`",
                "`briefing build` (sample issue), search index made again",
                "`briefing --help`", "`briefing check` (an issue of one item)",
                "`briefing send` dry run, sample issue to 10 readers",
                "`briefing check` (sample issue)",
                "`briefing build`, 40 items", "`briefing build`, 400 items",
                "`briefing archive`, 20 issues of 16 items"):
        assert f"| {row} |" in table, row
    assert "x the floor in CPU time" in table
    assert "x the check of the same issue in CPU time" in table
    assert table in stdout


def test_delivery_benchmark_smoke_produces_its_table() -> None:
    stdout = _run("delivery.py", "--smoke")
    assert "| what | median s | CPU s | peak RSS MB | notes |" in stdout
    for row in ("`subscribers import`, 2,000 readers (Mailchimp CSV, a new store)",
                "floor: csv + sqlite3 executemany into an indexed table",
                "`send` dry run over 2,002 readers",
                "floor: SELECT of the active readers + an HMAC each",
                "2,002 personal copies in memory (plan + copies)"):
        assert f"| {row} |" in stdout, row
    assert "USING INDEX subscribers_status" in stdout  # the query plans are shown


def test_scale_benchmark_smoke_produces_its_table() -> None:
    stdout = _run("scale.py", "--smoke")
    assert "| what | wall s | CPU s | peak RSS MB | notes |" in stdout
    for row in ("`briefing check --all`, 10 issues", "`briefing build --all`, 20 issues",
                "the same without lint, 20 issues", "`check --all`: 20 issues against 10",
                "`briefing archive`, 40 issues of 16 items",
                "Pagefind alone on the same 40 pages"):
        assert f"| {row} |" in stdout, row


def test_send_benchmark_smoke_produces_its_table() -> None:
    stdout = _run("send.py", "--smoke")
    assert ("| what | copies | median s | messages/s | readers/hour | peak RSS MB | notes |"
            in stdout)
    for row in ("`briefing send`, one connection, to an aiosmtpd sink | 200 |",
                "plain smtplib loop, same bytes, one connection, same kind of sink | 200 |"):
        assert f"| {row}" in stdout, row
    # Into the private Postfix with 1, 2, 4 and 8 connections, or skipped with the reason
    # (no postfix, not root).
    assert "into a private Postfix |" in stdout


@pytest.mark.skipif(find_chromium() is None, reason="needs Chromium (installed by .ci/run)")
def test_web_benchmark_smoke_produces_its_table() -> None:
    stdout = _run("web.py", "--smoke")
    for row in ("preview: save to new text in all 3 panes", "preview: CPU time while idle for 2 s",
                "preview: times woken while idle (context switches)"):
        assert f"| {row}" in stdout, row


def test_list_integrity_benchmark_smoke_produces_its_table() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks/list_integrity.py"),
                           "--smoke"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "| what | median ms | peak RSS MB | notes |" in proc.stdout
    for row in ("`subscribers sync`, 100 clicks and 100 proven bounces, 2,002 readers",
                "the same sync again",
                "one-click POST at `serve`, 200 idle connections held open"):
        assert f"| {row} |" in proc.stdout, row


def test_intake_benchmark_smoke_produces_its_table() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks/intake.py"), "--smoke"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for row in ("`add --dry-run`, 5 pages in one run", "`add --dry-run`, one page",
                "`sources --save`, 5 new pages", "`sources --save`, 5 pages unchanged",
                "`check`, 10 quotations with saved copies"):
        assert f"| {row} |" in proc.stdout, row


def test_themes_benchmark_smoke_produces_its_table() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks/themes.py"), "--smoke"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "| what | median ms | min-max ms | peak RSS MB | notes |" in proc.stdout
    for row in ("`send` dry run, 2,002 readers on every theme",
                "`send` dry run, 2,002 readers over 15 theme sets",
                "plan + every copy in memory, 2,002 readers on every theme",
                "plan + every copy in memory, 2,002 readers over 15 theme sets"):
        assert f"| {row} |" in proc.stdout, row


def test_signup_benchmark_smoke_produces_its_table() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks/signup.py"), "--smoke"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "| what | seconds | rate | notes |" in proc.stdout
    for row in ("| 50 posts of one address, 4 client threads |",
                "| 20 addresses under the cap: all answered / all mails at the sink |",
                "| `subscribers sync` of 200 sign-ups and 200 confirmations |"):
        assert row in proc.stdout, row
