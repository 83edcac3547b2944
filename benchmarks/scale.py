"""Lint and the archive at scale, each beside its baseline in one run.

    python benchmarks/scale.py             # 500 and 1,000 issues; archive of 2,500-10,000
    python benchmarks/scale.py --smoke     # 10 and 20 issues; archive of 20 and 40
    python benchmarks/scale.py --lint      # the lint rows only
    python benchmarks/scale.py --archive   # the archive rows only

Lint: `briefing check --all` and `briefing build --all` over generated issues (12 items each,
every fourth item also citing the previous issue's story, so [earlier-url] has work), each
alternated with the same command without lint (the lint step replaced by nothing, in the same
process: the difference is what lint costs). Targets: within 2x of that; 1,000 issues within
2.2x of 500 (linear).

Archive: `briefing archive` of out/ holding N built issues of 16 items (benchmarks/generate.py
--built), with its wall and CPU time, the peak RSS of briefing and Pagefind together (their
resident sizes summed every 20 ms) and of the largest alone (os.wait4), beside Pagefind alone
on the same pages. Target at 10,000 issues: about 1.3 GiB and 30 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import textwrap
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import built_archive, generate  # noqa: E402
from run import BRIEFING, PYTHON, WORK, machine, run_measured  # noqa: E402

# The same CLI run with lint taken out: check --all validates every issue and prints the same
# lines (with no warnings); build --all renders and writes everything, with no warning counts.
WITHOUT_LINT = textwrap.dedent("""
    import collections, sys
    from briefing.editorial import check, history, lint
    from briefing import pipeline
    check.lint_issue = lambda project, issue, history=None, html=None: lint.LintResult(
        issue, (), 0, 1)
    history.for_all = lambda project, issues, as_built: (history.History([], []), [])
    pipeline._lint_all = lambda project, rendered: collections.defaultdict(int)
    from briefing.cli import main
    sys.argv = ["briefing", *sys.argv[1:]]
    main()
""")


def alternate(a: list[str], b: list[str], cwd: Path, runs: int) -> tuple[list, list]:
    """(wall, cpu, peak KB) of A and B, in turns A B A B."""
    first: list = []
    second: list = []
    for _ in range(runs):
        first.append(run_measured(a, cwd))
        second.append(run_measured(b, cwd))
    return first, second


def med(runs: list, index: int) -> float:
    return statistics.median(r[index] for r in runs)


def lint_rows(sizes: tuple[int, int], runs: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    check_all: dict[int, float] = {}
    for issues in sizes:
        root = WORK / f"lint-{issues}"
        shutil.rmtree(root, ignore_errors=True)
        generate(root, 12, issues, earlier=True)
        for command in (["check", "--all"], ["build", "--all"]):
            with_lint, without = alternate(BRIEFING + command,
                                           [PYTHON, "-c", WITHOUT_LINT, *command], root, runs)
            ratio = med(with_lint, 0) / med(without, 0)
            cpu_ratio = med(with_lint, 1) / med(without, 1)
            name = f"`briefing {' '.join(command)}`, {issues:,} issues"
            rows.append((name, f"{med(with_lint, 0):.1f}", f"{med(with_lint, 1):.1f}",
                         f"{max(r[2] for r in with_lint) / 1024:.0f}",
                         f"with/without lint = {ratio:.2f}x (CPU {cpu_ratio:.2f}x; target <= 2x)"
                         + (" ok" if ratio <= 2 else " MISSED")))
            rows.append((f"the same without lint, {issues:,} issues", f"{med(without, 0):.1f}",
                         f"{med(without, 1):.1f}", f"{max(r[2] for r in without) / 1024:.0f}",
                         ""))
            if command[0] == "check":
                check_all[issues] = med(with_lint, 0)
    small, large = sizes
    growth = check_all[large] / check_all[small]
    rows.append((f"`check --all`: {large:,} issues against {small:,}", "", "", "",
                 f"{growth:.2f}x for {large / small:g}x the issues (target <= 2.2x)"
                 + (" ok" if growth <= 2.2 else " MISSED")))
    return rows


def tree_peak(pid: int, stop: threading.Event, found: list[int]) -> None:
    """The largest sum of VmRSS over a process and its descendants, sampled every 20 ms."""
    def family(p: int) -> list[int]:
        out = [p]
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as handle:
                    for child in handle.read().split():
                        out += family(int(child))
        except OSError:
            pass
        return out

    def rss(p: int) -> int:
        try:
            with open(f"/proc/{p}/status") as handle:
                return next((int(line.split()[1]) for line in handle
                             if line.startswith("VmRSS:")), 0)
        except OSError:
            return 0
    while not stop.is_set():
        found[0] = max(found[0], sum(rss(p) for p in family(pid)))
        time.sleep(0.02)


def measured_tree(cmd: list[str], cwd: Path) -> tuple[float, float, int, int]:
    """Wall, CPU, peak RSS of the largest process (KB) and of the tree together (KB)."""
    import subprocess
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
    stop, found = threading.Event(), [0]
    sampler = threading.Thread(target=tree_peak, args=(proc.pid, stop, found))
    sampler.start()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    stop.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.strip()[:500]}")
    return (time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
            found[0])


def archive_rows(sizes: tuple[int, ...]) -> list[tuple[str, ...]]:
    from briefing.publish.pagefind import executable
    rows: list[tuple[str, ...]] = []
    for issues in sizes:
        root = WORK / f"archive-{issues}"
        shutil.rmtree(root, ignore_errors=True)
        built_archive(root, issues, 16)
        wall, cpu, largest, together = measured_tree(BRIEFING + ["archive"], root)
        target = ""
        if issues == 10_000:
            target = ("(target about 1.3 GiB and 30 s) "
                      + ("ok" if together <= 1.35 * 1024 * 1024 and wall <= 30 else "MISSED"))
        rows.append((f"`briefing archive`, {issues:,} issues of 16 items", f"{wall:.1f}",
                     f"{cpu:.1f}", f"{largest / 1024:.0f}",
                     f"{together / 1024:.0f} MB with Pagefind together {target}".strip()))
        index = WORK / f"pagefind-{issues}"
        shutil.rmtree(index, ignore_errors=True)
        wall, cpu, largest, _ = measured_tree(
            [executable(), "--site", "out", "--glob", "*/index.html", "--output-path",
             str(index), "--silent"], root)
        rows.append((f"Pagefind alone on the same {issues:,} pages", f"{wall:.1f}", f"{cpu:.1f}",
                     f"{largest / 1024:.0f}", ""))
        shutil.rmtree(index, ignore_errors=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    parser.add_argument("--lint", action="store_true", help="the lint rows only")
    parser.add_argument("--archive", action="store_true", help="the archive rows only")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    both = not (args.lint or args.archive)
    runs = args.runs or (1 if args.smoke else 2)
    WORK.mkdir(exist_ok=True)
    rows: list[tuple[str, ...]] = []
    if args.lint or both:
        rows += lint_rows((10, 20) if args.smoke else (500, 1000), runs)
    if args.archive or both:
        rows += archive_rows((20, 40) if args.smoke else (2_500, 5_000, 10_000))
    with open("/proc/loadavg") as handle:
        load = " ".join(handle.read().split()[:3])
    print(f"Measured on {machine()}; {os.cpu_count()} cores; load average {load} at the end"
          f"{'; smoke sizes' if args.smoke else ''}; lint rows: median of {runs} alternated "
          "runs.\n")
    print("| what | wall s | CPU s | peak RSS MB | notes |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
