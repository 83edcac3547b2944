"""Benchmarks of the reader side: a large list, the dry run over it, personal copies.

    python benchmarks/delivery.py            # 100,000 readers (about a minute)
    python benchmarks/delivery.py --smoke    # 2,000 readers, one run each: what the tests run

Each step is a whole process (as an editor meets it), timed with its peak RSS from os.wait4.
Everything it writes stays in benchmarks/.work/delivery/.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import BRIEFING, PYTHON, WORK, machine, measure, sample_project  # noqa: E402

# Makes every reader's copy in memory, as `send` does just before handing each one over, and
# keeps none of them: the cost of personalising, without the network.
COPIES = textwrap.dedent("""
    import sys
    from pathlib import Path
    from briefing.content.validate import Project
    from briefing.deliver.plan import SendOptions, prepare
    plan = prepare(Project(Path.cwd()), None, SendOptions(smtp="smtp://127.0.0.1:9",
                                                          insecure=True))
    total = 0
    for reader in plan.todo:
        data, _ = plan.copy_for(reader.address)
        total += len(data)
    assert len(plan.todo) == int(sys.argv[1]), len(plan.todo)
    print(total)
""")


def readers_csv(path: Path, count: int) -> None:
    """A Mailchimp audience export of `count` readers."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('"Email Address","First Name","Last Name",MEMBER_RATING,OPTIN_TIME,LEID\n')
        for n in range(count):
            handle.write(f'reader{n}@example{n % 97}.org,Reader,{n},2,"2026-01-01 10:00:00",'
                         f'{n}\n')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="2,000 readers, one run each")
    parser.add_argument("--readers", type=int, default=None)
    args = parser.parse_args()
    count = args.readers or (2_000 if args.smoke else 100_000)
    runs = 1 if args.smoke else 3

    root = WORK / "delivery"
    shutil.rmtree(root, ignore_errors=True)
    project = sample_project()
    shutil.move(str(project), root)
    measure(BRIEFING + ["build"], root, runs=1, warmup=0)
    csv_path = root / "readers.csv"
    readers_csv(csv_path, count)

    rows: list[tuple[str, str, str, str]] = []
    sample = measure(BRIEFING + ["subscribers", "import", "readers.csv"], root, runs=1, warmup=0)
    rows.append((f"`subscribers import`, {count:,} readers (Mailchimp CSV)",
                 f"{sample.median * 1000:.0f}", f"{sample.peak_mb:.0f}", "one run: a new store"))
    dry = measure(BRIEFING + ["send", "--smtp", "smtp://127.0.0.1:9", "--insecure"], root,
                  runs=runs, warmup=0 if args.smoke else 1)
    rows.append((f"`send` dry run over {count + 2:,} readers", f"{dry.median * 1000:.0f}",
                 f"{dry.peak_mb:.0f}", f"median of {runs}, {dry.span()} ms"))
    copies = measure([PYTHON, "-c", COPIES, str(count + 2)], root, runs=runs,
                     warmup=0 if args.smoke else 1)
    per_copy = copies.median / (count + 2) * 1e6
    rows.append((f"{count + 2:,} personal copies in memory (plan + copies)",
                 f"{copies.median * 1000:.0f}", f"{copies.peak_mb:.0f}",
                 f"{per_copy:.1f} µs per copy, plan included"))

    print(f"Measured on {machine()}.\n")
    print("| what | median ms | peak RSS MB | notes |")
    print("|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
