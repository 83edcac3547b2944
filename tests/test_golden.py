"""The sample issues' committed outputs under out/ are rebuilt byte for byte from briefs/."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REPO, run_cli

SAMPLE_ISSUES = ("2026-W07", "2026-W10")
# Not outputs of `build`: screenshots differ by machine, the ledger and link cache by time,
# (compiled templates are cached in the user cache folder, never in out/). The search index
# is Pagefind's bundle, rebuilt by every build (test_web.py checks it works and is stable).
SKIP = {"preview", "sent.jsonl", ".linkcache.json", "pagefind"}


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*"))
            if p.is_file() and not SKIP.intersection(p.relative_to(out).parts)}


def test_sample_outputs_match_committed_golden_files(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    root.mkdir()
    shutil.copy(REPO / "briefing.yaml", root)
    shutil.copytree(REPO / "briefs", root / "briefs")
    if (REPO / "templates").is_dir():
        shutil.copytree(REPO / "templates", root / "templates")
    for issue in SAMPLE_ISSUES:
        result = run_cli(root, "build", issue)
        assert result.code == 0, result.err
    golden, rebuilt = _files(REPO / "out"), _files(root / "out")
    assert sorted(rebuilt) == sorted(golden), "out/ has missing or extra files: regenerate it"
    for name, data in golden.items():
        assert rebuilt[name] == data, (
            f"out/{name} differs from a fresh build; if the change is deliberate, run "
            f"'briefing build 2026-W07 && briefing build 2026-W10' and commit out/")
