"""Inline Markdown on its worst shapes: best time per summary at 5,000 and 20,000 characters (linear
growth shows as a ratio near 4), and a whole `briefing check` of a 1 MB brief of nested markers.

    python benchmarks/markdown.py            # 5 runs each
    python benchmarks/markdown.py --runs 2
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"

# The shapes that make inline parsers backtrack: unmatched and nested delimiters, brackets
# that never close, backtick runs of every length.
SHAPES = {
    "plain prose": "The film opened in 300 cinemas and took 40 million yuan. ",
    "nested *a **b": "*a **b ",
    "open brackets [": "[",
    "unclosed links [a](": "[a](",
    "stars and brackets *[": "*[",
    "backtick runs": "` `` ```",
    "underscores _a __b": "_a __b ",
    "escapes \\*": "\\*",
    "links [a](url)": "[a](https://example.org/x) ",
}

CONFIG = """\
name: Markdown Bench
sender: Bench <bench@example.org>
recipients: [reader@example.org]
unsubscribe: {url: "https://example.org/u/{token}"}
address: 1 Bench Street
themes: [{id: industry, title: Industry}]
"""


def text_of(shape: str, length: int) -> str:
    return (shape * (length // len(shape) + 1))[:length]


def per_summary(shape: str, length: int, runs: int) -> float:
    from briefing.content.markdown import parse_inline
    from briefing.content.schema import check_url
    text = text_of(shape, length)
    parse_inline(text, check_url)  # warm-up: imports and the parser's set-up
    times = []
    gc.disable()  # a collection landing in one run would look like non-linear growth
    try:
        for _ in range(runs):
            start = time.perf_counter()
            parse_inline(text, check_url)
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return min(times)  # the least disturbed run: what the parser itself costs


def megabyte_check(shape: str, runs: int) -> tuple[float, int]:
    root = WORK / "markdown-1mb"
    shutil.rmtree(root, ignore_errors=True)
    (root / "briefs/2026-W07").mkdir(parents=True)
    (root / "briefing.yaml").write_text(CONFIG, encoding="utf-8")
    summary = json.dumps(text_of(shape, 4880))
    items = "".join(f"  - headline: Item {n}\n    summary: {summary}\n    sources:\n"
                    f"      - {{url: 'https://example.org/{n}', title: T, publisher: P}}\n"
                    for n in range(200))
    brief = root / "briefs/2026-W07/industry.yaml"
    brief.write_text("items:\n" + items, encoding="utf-8")
    command = [sys.executable, "-m", "briefing", "check"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=root, check=False, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), brief.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| shape | 5,000 chars ms | 20,000 chars ms | ratio |")
    print("|---|---:|---:|---:|")
    for name, shape in SHAPES.items():
        short = per_summary(shape, 5000, args.runs)
        long = per_summary(shape, 20000, args.runs)
        print(f"| {name} | {short * 1000:.1f} | {long * 1000:.1f} | {long / short:.1f} |")
    runs = max(1, args.runs // 2)
    print()
    for name in ("nested *a **b", "plain prose"):
        seconds, size = megabyte_check(SHAPES[name], runs)
        print(f"`briefing check` of a {size:,}-byte brief, 200 summaries of {name}: "
              f"{seconds:.2f} s (median of {runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
