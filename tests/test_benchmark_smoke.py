"""The benchmark runs end to end in its smoke size and prints its table (no timing assertions)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_benchmark_smoke_produces_its_table(tmp_path) -> None:
    output = tmp_path / "results.md"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks/run.py"), "--smoke",
                           "--output", str(output)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    table = output.read_text(encoding="utf-8")
    assert "| what | median ms | min-max ms | peak RSS MB | notes |" in table
    for row in ("`briefing build` (sample issue)", "`python -c \"import yaml, jinja2, mjml\"`",
                "`briefing build`, 40 items", "`briefing build`, 400 items",
                "`briefing archive`, 20 issues of 16 items", "`briefing --help`",
                "`briefing check` (sample issue)"):
        assert f"| {row} |" in table, row
    assert table in proc.stdout


def test_delivery_benchmark_smoke_produces_its_table() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks/delivery.py"), "--smoke"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "| what | median ms | peak RSS MB | notes |" in proc.stdout
    for row in ("`subscribers import`, 2,000 readers (Mailchimp CSV)",
                "`send` dry run over 2,002 readers",
                "2,002 personal copies in memory (plan + copies)"):
        assert f"| {row} |" in proc.stdout, row


def test_send_benchmark_smoke_produces_its_table() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks/send.py"), "--smoke"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "| what | copies | median s | messages/s | peak RSS MB | notes |" in proc.stdout
    for row in ("`briefing send`, one connection, to an aiosmtpd sink | 200 |",
                "plain smtplib loop, same bytes, one connection, same kind of sink | 200 |"):
        assert f"| {row}" in proc.stdout, row
    # Into the private Postfix: measured, or skipped with the reason (no postfix, not root);
    # the four-connection row says "not yet available" until send has --connections.
    assert "into a private Postfix |" in proc.stdout


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
