"""What the published record costs a build (docs/record.md): `python benchmarks/record.py`.

Each `briefing build` (and `check`, `send`) reads every out/*/issue.json once for the story
threads' "Previously" lines and the corrections the issue announces (content/record.py). This
measures that read in-process over an archive of N issues (benchmarks/generate.py, 16 items
each, every item of a thread), and the whole `briefing build` of the latest issue beside it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

BRIEFING = [sys.executable, "-m", "briefing"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from briefing.content import record as record_module
    from briefing.content.record import load_record
    with tempfile.TemporaryDirectory() as work:
        root = Path(work) / "archive"
        ids = generate(root, 16, args.issues)
        config = root / "briefing.yaml"
        config.write_text(config.read_text() + "threads:\n  - id: story\n    title: A story\n")
        for issue_id in ids:  # one threaded item per issue: the worst case for "Previously"
            brief = next((root / "briefs" / issue_id).glob("*.yaml"))
            if brief.name == "issue.yaml":
                brief = sorted((root / "briefs" / issue_id).glob("*-01.yaml"))[0]
            text = brief.read_text()
            head, sep, rest = text.partition("\n  - headline:")
            rest_first, sep2, others = rest.partition("\n  - headline:")
            brief.write_text(head + sep + rest_first + "\n    thread: story" + sep2 + others)
        subprocess.run(BRIEFING + ["build", "--all"], cwd=root, check=True, capture_output=True)
        reads = []
        for _ in range(args.runs):
            record_module._LAST.clear()  # a fresh process reads the files; measure that
            start = time.perf_counter()
            record = load_record(root / "out")
            reads.append(time.perf_counter() - start)
        assert len(record.issues) == args.issues
        builds = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(BRIEFING + ["build", ids[-1]], cwd=root, check=True,
                           capture_output=True)
            builds.append(time.perf_counter() - start)
        read, build = statistics.median(reads), statistics.median(builds)
        print(f"{args.issues} issues of 16 items: reading the record {read * 1000:.0f} ms "
              f"(min {min(reads) * 1000:.0f}), `briefing build` of the latest issue "
              f"{build * 1000:.0f} ms (min {min(builds) * 1000:.0f}): the record is "
              f"{read / build:.0%} of the build")


if __name__ == "__main__":
    main()
