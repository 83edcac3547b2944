"""Caps per issue, through the real CLI: a pile of files each within its own cap is refused
before it can exhaust memory (the child runs under a 1 GiB address-space cap)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

from conftest import make_project

GIB = 1024 ** 3


def capped_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))

    return subprocess.run([sys.executable, "-m", "briefing", *args], cwd=root, text=True,
                          capture_output=True, timeout=300, preexec_fn=cap,
                          env={"PATH": "/usr/bin:/bin", "MALLOC_ARENA_MAX": "2",
                               "BRIEFING_NO_CACHE": "1"})


def megabyte_brief(n: int) -> str:
    summary = json.dumps(("Seedance *2.0* reached [the studios](https://example.org/s). " * 90)
                         [:4850])
    items = "".join(f"  - headline: Item {n}-{i}\n    summary: {summary}\n    sources:\n"
                    f"      - {{url: 'https://example.org/{n}/{i}', title: T, publisher: P}}\n"
                    for i in range(200))
    return "items:\n" + items


def test_fourteen_megabyte_briefs_are_refused_by_the_issue_cap(tmp_path: Path) -> None:
    briefs = {f"industry-{n:02}.yaml": "theme: industry\n" + megabyte_brief(n)
              for n in range(14)}
    assert all(len(b.encode()) <= 1_000_000 for b in briefs.values())
    project = make_project(tmp_path / "news", briefs=briefs)
    result = capped_cli(project.root, "check")
    assert result.returncode == 1, result.stderr[-2000:]
    size = sum(len(briefs[f"industry-{n:02}.yaml"].encode()) for n in range(6)) + len(
        (project.root / "briefs/2026-W07/issue.yaml").read_bytes())
    assert result.stderr == (
        f"briefs/2026-W07/industry-05.yaml: error: with this file the issue comes to {size:,} "
        "bytes of YAML; the limit per issue is 5,000,000 (8 more briefs not read) (move some "
        "items to another issue)\n1 error\n")
    assert not (project.root / "out").exists()


def test_more_items_than_an_issue_takes_are_refused(tmp_path: Path) -> None:
    item = ("  - headline: H{n}\n    summary: S.\n    sources:\n"
            "      - {{url: 'https://example.org/{n}', title: T, publisher: P}}\n")
    briefs = {f"industry-{f:02}.yaml": "theme: industry\nitems:\n" + "".join(
        item.format(n=f * 500 + i) for i in range(500)) for f in range(11)}
    project = make_project(tmp_path / "news", briefs=briefs)
    result = capped_cli(project.root, "check")
    assert result.returncode == 1
    assert result.stderr == (
        "briefs/2026-W07/industry-10.yaml:3:3: error: with this file the issue has 5,500 items; "
        "the limit per issue is 5,000 (move some items to another issue)\n1 error\n")
