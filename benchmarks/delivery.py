"""Benchmarks of the reader side at a million readers, each beside its floor in one run.

    python benchmarks/delivery.py                     # 1,000,000 readers (a few minutes)
    python benchmarks/delivery.py --readers 100000    # a tenth
    python benchmarks/delivery.py --smoke             # 2,000 readers, one run each (the tests)

- `subscribers import` of a generated Mailchimp CSV into a new store, alternated with its floor:
  a plain csv + sqlite3 executemany loop into an indexed table (target: within 3x, and 1 GB);
- the `send` dry run over the whole list, alternated with its floor: a plain SELECT of the
  active readers and an HMAC per reader (target: within 1.5x, and 600 MB);
- every reader's personal copy made in memory, as `send` makes it before handing it over
  (target: under 60 s);
- EXPLAIN QUERY PLAN of every query the send plan and a sync put to the store.

Each step is a whole process (as an editor meets it), timed with its peak RSS from os.wait4.
Everything it writes stays in benchmarks/.work/delivery/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import BRIEFING, PYTHON, WORK, Sample, machine, run_measured, run_once, sample_project  # noqa: E402

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

# The import's floor: the same CSV read by the csv module, one executemany into a table with a
# unique index on the lower-cased address, in one transaction, WAL as the store has it.
IMPORT_FLOOR = textwrap.dedent("""
    import csv, sqlite3, sys
    db = sqlite3.connect(sys.argv[2], isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("CREATE TABLE readers (id INTEGER PRIMARY KEY, address TEXT NOT NULL, "
               "address_key TEXT NOT NULL UNIQUE, name TEXT NOT NULL)")
    with open(sys.argv[1], newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        next(rows)
        db.execute("BEGIN")
        db.executemany("INSERT INTO readers (address, address_key, name) VALUES (?, ?, ?)",
                       ((r[0], r[0].lower(), f"{r[1]} {r[2]}") for r in rows))
        db.execute("COMMIT")
""")

# The dry run's floor: every active reader read from the store, and an HMAC of each address.
DRY_RUN_FLOOR = textwrap.dedent("""
    import hashlib, hmac, sqlite3, sys
    key = b"k" * 32
    db = sqlite3.connect(sys.argv[1])
    n = 0
    for (address,) in db.execute("SELECT address FROM subscribers WHERE status = 'active' "
                                 "ORDER BY id"):
        hmac.new(key, address.lower().encode(), hashlib.sha256).digest()
        n += 1
    print(n)
""")

# The queries of a send plan and a sync, caught as they run, then explained.
PLANS = textwrap.dedent("""
    import sqlite3, sys
    from pathlib import Path
    from briefing.content.validate import Project, load_config
    from briefing.subscribers import store as store_module
    seen = []
    opened = store_module.Store.open.__func__
    def watched(cls, root, relative):
        store = opened(cls, root, relative)
        store.db.set_trace_callback(seen.append)
        return store
    store_module.Store.open = classmethod(watched)
    from briefing.deliver.plan import SendOptions, prepare
    from briefing.subscribers.apply import Readers
    from briefing.subscribers.records import issues_sent_to
    project = Project(Path.cwd())
    plan = prepare(project, None, SendOptions(smtp="smtp://127.0.0.1:9", insecure=True))
    readers = Readers(project, load_config(project), plan.store, plan.tokens)
    readers.copy("<x@example.org>")
    issues_sent_to(plan.store.db, "a@example.org")
    readers.known()
    db = sqlite3.connect(".briefing/state.sqlite3")
    for sql in dict.fromkeys(s for s in seen if s.lstrip().upper().startswith("SELECT")):
        plan = db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        print(" ".join(sql.split()) + "  ->  " + "; ".join(row[-1] for row in plan))
""")


def readers_csv(path: Path, count: int) -> None:
    """A Mailchimp audience export of `count` readers."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('"Email Address","First Name","Last Name",MEMBER_RATING,OPTIN_TIME,LEID\n')
        for n in range(count):
            handle.write(f'reader{n}@example{n % 97}.org,Reader,{n},2,"2026-01-01 10:00:00",'
                         f'{n}\n')


def cpu_of(cmd: list[str], cwd: Path, before=None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (KB) of one process."""
    if before:
        before()
    return run_measured(cmd, cwd)


def alternate(a: list[str], b: list[str], cwd: Path, runs: int, before_a=None,
              before_b=None) -> tuple[Sample, Sample, list[float], list[float]]:
    """A and B in turns, so the load of a shared machine falls on both alike."""
    sa, sb, ca, cb = Sample([], []), Sample([], []), [], []
    for _ in range(runs):
        for cmd, sample, cpu, before in ((a, sa, ca, before_a), (b, sb, cb, before_b)):
            wall, used, peak = cpu_of(cmd, cwd, before)
            sample.seconds.append(wall)
            sample.peak_kb.append(peak)
            cpu.append(used)
    return sa, sb, ca, cb


def main() -> int:
    import statistics
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="2,000 readers, one run each")
    parser.add_argument("--readers", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    count = args.readers or (2_000 if args.smoke else 1_000_000)
    runs = args.runs or (1 if args.smoke else 2)

    root = WORK / "delivery"
    shutil.rmtree(root, ignore_errors=True)
    project = sample_project()
    shutil.move(str(project), root)
    run_once(BRIEFING + ["build"], root)
    csv_path = root / "readers.csv"
    readers_csv(csv_path, count)
    store = root / ".briefing" / "state.sqlite3"

    def fresh_store() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)

    def fresh_floor() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{root / 'floor.sqlite3'}{suffix}").unlink(missing_ok=True)

    rows: list[tuple[str, str, str, str, str]] = []

    def row(name: str, s: Sample, cpu: list[float], notes: str = "") -> None:
        rows.append((name, f"{s.median:.2f}", f"{statistics.median(cpu):.2f}",
                     f"{s.peak_mb:.0f}", notes))

    imported, floor, ci, cf = alternate(
        BRIEFING + ["subscribers", "import", "readers.csv"],
        [PYTHON, "-c", IMPORT_FLOOR, "readers.csv", "floor.sqlite3"], root, runs,
        fresh_store, fresh_floor)
    ratio = imported.median / floor.median
    row(f"`subscribers import`, {count:,} readers (Mailchimp CSV, a new store)", imported, ci,
        f"import/floor = {ratio:.2f}x (target <= 3x)" + (" ok" if ratio <= 3 else " MISSED")
        + f"; peak {imported.peak_mb:.0f} MB (target < 1 GB)"
        + (" ok" if imported.peak_mb < 1024 else " MISSED"))
    row("floor: csv + sqlite3 executemany into an indexed table", floor, cf)
    # The last import left the store in place: the dry run reads it.
    dry, dry_floor, cd, cdf = alternate(
        BRIEFING + ["send", "--smtp", "smtp://127.0.0.1:9", "--insecure"],
        [PYTHON, "-c", DRY_RUN_FLOOR, str(store)], root, runs + 1)
    ratio = dry.median / dry_floor.median
    row(f"`send` dry run over {count + 2:,} readers", dry, cd,
        f"dry run/floor = {ratio:.2f}x (target <= 1.5x)" + (" ok" if ratio <= 1.5 else " MISSED")
        + f"; peak {dry.peak_mb:.0f} MB (target < 600 MB)"
        + (" ok" if dry.peak_mb < 600 else " MISSED"))
    row("floor: SELECT of the active readers + an HMAC each", dry_floor, cdf)
    copies = Sample([], [])
    wall, used, peak = cpu_of([PYTHON, "-c", COPIES, str(count + 2)], root)
    copies.seconds.append(wall)
    copies.peak_kb.append(peak)
    row(f"{count + 2:,} personal copies in memory (plan + copies)", copies, [used],
        f"{wall / (count + 2) * 1e6:.1f} µs per copy, plan included (target < 60 s)"
        + (" ok" if wall < 60 else " MISSED"))
    with open("/proc/loadavg") as handle:
        load = " ".join(handle.read().split()[:3])
    print(f"Measured on {machine()}; {os.cpu_count()} cores; load average {load} at the end; "
          f"median of {runs} alternated runs (the dry run {runs + 1}).\n")
    print("| what | median s | CPU s | peak RSS MB | notes |")
    print("|---|---:|---:|---:|---|")
    for each in rows:
        print("| " + " | ".join(each) + " |")
    print("\nThe store's queries for the send plan and sync (EXPLAIN QUERY PLAN):\n")
    result = __import__("subprocess").run([PYTHON, "-c", PLANS], cwd=root, check=True,
                                          capture_output=True, text=True)
    for line in result.stdout.splitlines():
        print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
