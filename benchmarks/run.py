"""Benchmark runner: whole-process timings (median, min-max) with A/B pairs run in alternation.

    python benchmarks/run.py            # full run (installs Node's mjml CLI in benchmarks/.work)
    python benchmarks/run.py --smoke    # a few runs at small sizes; what CI runs

Prints a Markdown table; `--output FILE` also writes it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

PYTHON = sys.executable
BRIEFING = [PYTHON, "-m", "briefing"]


@dataclass
class Sample:
    seconds: list[float]
    peak_kb: list[int]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def span(self) -> str:
        return f"{min(self.seconds) * 1000:.0f}-{max(self.seconds) * 1000:.0f}"

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kb) / 1024


def run_once(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time and peak RSS of one process (os.wait4 gives that child's own rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[:500]}")
    return elapsed, usage.ru_maxrss


def measure(cmd: list[str], cwd: Path, runs: int, warmup: int = 1) -> Sample:
    for _ in range(warmup):
        run_once(cmd, cwd)
    sample = Sample([], [])
    for _ in range(runs):
        seconds, peak = run_once(cmd, cwd)
        sample.seconds.append(seconds)
        sample.peak_kb.append(peak)
    return sample


def pair(a: list[str], b: list[str], cwd: Path, runs: int) -> tuple[Sample, Sample]:
    """A and B alternate (A B A B ...), so drift in machine load hits both alike."""
    run_once(a, cwd)
    run_once(b, cwd)
    sa, sb = Sample([], []), Sample([], [])
    for _ in range(runs):
        for cmd, sample in ((a, sa), (b, sb)):
            seconds, peak = run_once(cmd, cwd)
            sample.seconds.append(seconds)
            sample.peak_kb.append(peak)
    return sa, sb


def sample_project() -> Path:
    """A copy of the repository's sample newsletter, so the benchmark never touches out/; one
    folder per benchmark script, since the smoke tests run several at once (pytest -n 2) and
    one script's fresh copy must not delete (or move away) another's."""
    root = WORK / f"sample-{Path(sys.argv[0]).stem}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copy(REPO / "briefing.yaml", root)
    shutil.copytree(REPO / "briefs", root / "briefs")
    return root


def node_mjml() -> list[str] | None:
    """The official Node MJML CLI, installed into benchmarks/.work (npm package `mjml`)."""
    binary = WORK / "node" / "node_modules" / ".bin" / "mjml"
    if not binary.exists():
        if not shutil.which("npm"):
            return None
        (WORK / "node").mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                        str(WORK / "node"), "mjml@5"], check=True, capture_output=True)
    return [str(binary)]


def machine() -> str:
    cores = os.cpu_count()
    try:
        with open("/proc/meminfo") as meminfo:
            kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    return (f"{platform.machine()}, {cores} cores, {memory} RAM, Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="few runs, small sizes (CI)")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--web", action="store_true",
                        help="only the preview latency and idle figures (benchmarks/web.py)")
    args = parser.parse_args()
    if args.web:
        import web
        return web.main()
    runs = args.runs or (2 if args.smoke else 10)
    sizes = (40, 400) if args.smoke else (40, 400, 4000)
    archive_issues = 20 if args.smoke else 500
    WORK.mkdir(exist_ok=True)
    rows: list[tuple[str, str, str, str, str]] = []

    def row(name: str, s: Sample, ratio: str = "", target: str = "") -> None:
        rows.append((name, f"{s.median * 1000:.0f}", s.span(), f"{s.peak_mb:.0f}",
                     " ".join(x for x in (ratio, target) if x)))

    sample = sample_project()
    build = BRIEFING + ["build", "--force"]

    # 1. cold build vs the floor of our own dependencies
    floor = [PYTHON, "-c", "import yaml, jinja2, mjml"]
    b, f = pair(build, floor, sample, runs)
    ratio = b.median / f.median
    row("`briefing build` (sample issue)", b)
    row("`python -c \"import yaml, jinja2, mjml\"`", f,
        f"build/floor = {ratio:.2f}x", "(target <= 1.5x)" + (" ok" if ratio <= 1.5 else " MISSED"))

    # 2. end to end vs the Node MJML CLI compiling the same MJML alone
    node = None if args.smoke else node_mjml()
    if node:
        mjml_file = WORK / "sample.mjml"
        subprocess.run(BRIEFING + ["build", "--force"], cwd=sample, check=True,
                       capture_output=True)
        dump = ("import sys; from pathlib import Path; from briefing.validate import Project, "
                "load_issue; from briefing.render.html import render_mjml; "
                "p = Project(Path('.')); sys.stdout.write(render_mjml(load_issue(p), None))")
        mjml_file.write_text(subprocess.run([PYTHON, "-c", dump], cwd=sample, check=True,
                                            capture_output=True, text=True).stdout)
        n = measure(node + [str(mjml_file), "-o", str(WORK / "node-out.html")], sample,
                    max(3, runs // 2))
        b2 = measure(build, sample, max(3, runs // 2))
        speedup = n.median / b2.median
        row("Node `mjml` CLI, same MJML only", n, f"briefing is {speedup:.1f}x faster",
            "(target >= 5x)" + (" ok" if speedup >= 5 else " MISSED"))
    else:
        rows.append(("Node `mjml` CLI", "skipped", "", "", "smoke run" if args.smoke
                     else "npm not found"))

    # 3. scaling
    per_item = []
    for items in sizes:
        root = WORK / f"items-{items}"
        shutil.rmtree(root, ignore_errors=True)
        generate(root, items)
        s = measure(BRIEFING + ["build", "--force"], root, max(2, runs // 2))
        per_item.append((items, s.median))
        target = "(target < 1 s)" + (" ok" if s.median < 1 else " MISSED") if items == 4000 else ""
        row(f"`briefing build`, {items} items", s, f"{s.median / items * 1e6:.0f} µs/item",
            target)
    # Marginal cost per item between consecutive sizes: constant when cost grows linearly.
    marginal = [(b_items, (t_b - t_a) / (b_items - a_items) * 1e6)
                for (a_items, t_a), (b_items, t_b) in itertools.pairwise(per_item)]

    # 4. archive over many issues
    root = WORK / f"archive-{archive_issues}"
    shutil.rmtree(root, ignore_errors=True)
    generate(root, 16, archive_issues)
    subprocess.run(BRIEFING + ["build", "--all"], cwd=root, check=True, capture_output=True)
    a = measure(BRIEFING + ["archive"], root, max(2, runs // 2))
    row(f"`briefing archive`, {archive_issues} issues of 16 items", a, "",
        "(target < 5 s)" + (" ok" if a.median < 5 else " MISSED") if archive_issues == 500 else "")

    # 5. start-up
    row("`briefing --help`", measure(BRIEFING + ["--help"], sample, runs))
    row("`briefing check` (sample issue)", measure(BRIEFING + ["check"], sample, runs))

    lines = [
        f"Measured {dt.date.today().isoformat()} on {machine()}; "
        f"{runs} runs after a warm-up{' (smoke)' if args.smoke else ''}.",
        "",
        "| what | median ms | min-max ms | peak RSS MB | notes |",
        "|---|---:|---:|---:|---|",
        *[f"| {' | '.join(r)} |" for r in rows],
        "",
        "Scaling, marginal cost per added item: " + ", ".join(
            f"up to {n} items {us:.0f} µs" for n, us in marginal)
        + " (about equal figures = linear growth).",
    ]
    table = "\n".join(lines)
    print(table)
    if args.output:
        args.output.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
