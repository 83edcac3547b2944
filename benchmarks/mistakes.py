"""What explaining a YAML mistake costs: reading a brief of N items as it is, and with one key at
the wrong indentation in its last item (found, explained, fixed and read again), and with a
mistake in every item (explained up to the limit, then reading stops).

    python benchmarks/mistakes.py                 # 100, 1,000 and 4,000 items; best of 5
    python benchmarks/mistakes.py --items 50 --runs 1

The explanation tries its fixes on a window of lines around the mistake, not on the file before
it: with one mistake, reading costs about two reads of the file (the one that failed and the
one after the fix), whatever its size.
"""

from __future__ import annotations

import argparse
import time

from briefing.content.load import parse_yaml
from briefing.content.validate import _field_names
from briefing.errors import BriefingError

ITEM = ("  - headline: Item {n}\n    summary: What happened in story {n}.\n    why: W\n"
        "    sources:\n      - url: https://example.org/{n}\n        title: T\n"
        "        publisher: P\n")


def brief(items: int, wrong: int) -> str:
    """A brief of `items` items whose last `wrong` have 'summary' one space too far in."""
    parts = [ITEM.format(n=n) for n in range(items)]
    for n in range(max(0, items - wrong), items):
        parts[n] = parts[n].replace("    summary:", "     summary:")
    return "items:\n" + "".join(parts)


def best(text: str, runs: int) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(runs):
        problems: list = []
        start = time.perf_counter()
        try:
            parse_yaml(text, "brief.yaml", problems, _field_names())
        except BriefingError as exc:
            problems.extend(exc.problems)
        times.append(time.perf_counter() - start)
        found = len(problems)
    return min(times), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="*", default=[100, 1000, 4000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| items | KB | as written | one mistake | mistake in every item |")
    print("|---:|---:|---:|---:|---:|")
    for items in args.items:
        clean, _ = best(brief(items, 0), args.runs)
        one, found = best(brief(items, 1), args.runs)
        assert found == 1, found
        every, many = best(brief(items, items), args.runs)
        size = len(brief(items, 0).encode()) // 1024
        print(f"| {items:,} | {size:,} | {clean * 1000:.0f} ms | {one * 1000:.0f} ms | "
              f"{every * 1000:.0f} ms ({many} reported) |")


if __name__ == "__main__":
    main()
