"""Benchmark of copies per theme choice: readers spread over many theme sets against everyone on
every theme.

    python benchmarks/themes.py            # 100,000 readers over 15 theme sets, 3 runs each
    python benchmarks/themes.py --smoke    # 2,000 readers, one run each: what the tests run

Two copies of the sample newsletter (four themes, `preferences:` set in both, so both copies
carry the signed "Choose what you get" link), each with the same readers imported from a CSV in
briefing's own layout: in one every reader is on every theme (no choice), in the other the
readers are spread round-robin over the 15 non-empty sets of the four themes. For each: the
`send` dry run, and a process that plans the send and makes every reader's copy in memory, as
`send` does just before handing each over (`plan.copy_for`). The two projects' runs alternate
(A B A B), so drift in machine load hits both alike; each figure is a whole process, timed with
its peak RSS from os.wait4. Everything it writes stays in benchmarks/.work/themes/.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import BRIEFING, PYTHON, WORK, Sample, machine, run_once, sample_project  # noqa: E402

THEMES = ("industry", "ethics", "policy", "public-opinion")
SETS = [",".join(c) for n in range(1, len(THEMES) + 1)
        for c in itertools.combinations(THEMES, n)]
assert len(SETS) == 15
TARGET = 1.5

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


def readers_csv(path: Path, count: int, spread: bool) -> None:
    """`count` readers in briefing's own export layout; with `spread`, each on one of the 15
    theme sets in turn, else every one on every theme (an empty cell)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("address,name,status,source,added_at,status_changed_at,status_reason,"
                     "themes\n")
        for n in range(count):
            themes = f'"{SETS[n % len(SETS)]}"' if spread else ""
            handle.write(f"reader{n}@example{n % 97}.org,Reader {n},active,cli,"
                         f"2026-01-01T10:00:00Z,2026-01-01T10:00:00Z,,{themes}\n")


def project(name: str, count: int, spread: bool) -> Path:
    root = WORK / "themes" / name
    shutil.rmtree(root, ignore_errors=True)
    source = sample_project()
    root.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), root)
    config = root / "briefing.yaml"
    config.write_text(config.read_text(encoding="utf-8") + (
        "preferences:\n  url: https://framebyframe.example.org/p/{token}\n"), encoding="utf-8")
    run_once(BRIEFING + ["build"], root)
    readers_csv(root / "readers.csv", count, spread)
    run_once(BRIEFING + ["subscribers", "import", "readers.csv"], root)
    return root


def alternate(cmd: list[str], a: Path, b: Path, runs: int, warmup: int
              ) -> tuple[Sample, Sample]:
    """The same command in project A, then in B, `runs` times (after `warmup` of each)."""
    for _ in range(warmup):
        run_once(cmd, a)
        run_once(cmd, b)
    sa, sb = Sample([], []), Sample([], [])
    for _ in range(runs):
        for cwd, sample in ((a, sa), (b, sb)):
            seconds, peak = run_once(cmd, cwd)
            sample.seconds.append(seconds)
            sample.peak_kb.append(peak)
    return sa, sb


def verdict(ratio: float) -> str:
    return f"{ratio:.2f}x (target <= {TARGET}x) " + ("ok" if ratio <= TARGET else "MISSED")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="2,000 readers, one run each")
    parser.add_argument("--readers", type=int, default=None)
    args = parser.parse_args()
    count = args.readers or (2_000 if args.smoke else 100_000)
    runs, warmup = (1, 0) if args.smoke else (3, 1)
    every = project("every", count, spread=False)
    spread = project("spread", count, spread=True)
    recipients = count + 2  # and the sample's two briefing.yaml recipients

    dry_cmd = BRIEFING + ["send", "--smtp", "smtp://127.0.0.1:9", "--insecure"]
    dry_every, dry_spread = alternate(dry_cmd, every, spread, runs, warmup)
    copies_cmd = [PYTHON, "-c", COPIES, str(recipients)]
    copies_every, copies_spread = alternate(copies_cmd, every, spread, runs, warmup)

    rows = []
    for what, a, b in (("`send` dry run", dry_every, dry_spread),
                       ("plan + every copy in memory", copies_every, copies_spread)):
        rows.append((f"{what}, {recipients:,} readers on every theme",
                     f"{a.median * 1000:.0f}", a.span(), f"{a.peak_mb:.0f}", ""))
        rows.append((f"{what}, {recipients:,} readers over 15 theme sets",
                     f"{b.median * 1000:.0f}", b.span(), f"{b.peak_mb:.0f}",
                     f"time {verdict(b.median / a.median)}; memory "
                     f"{verdict(b.peak_mb / a.peak_mb)}"))
    print(f"Measured on {machine()}; median of {runs} alternated run(s).\n")
    print("| what | median ms | min-max ms | peak RSS MB | notes |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
