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
from dataclasses import dataclass, field
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
    cpu: list[float] = field(default_factory=list)  # user + system seconds per run

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def span(self) -> str:
        return f"{min(self.seconds) * 1000:.0f}-{max(self.seconds) * 1000:.0f}"

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kb) / 1024

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else 0.0

    def add(self, wall: float, cpu: float, peak_kb: int) -> None:
        self.seconds.append(wall)
        self.cpu.append(cpu)
        self.peak_kb.append(peak_kb)


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system) and peak RSS (KB) of one process: os.wait4 gives
    that child's own rusage, with the children it waited for (Pagefind under `build`)."""
    start = time.perf_counter()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed briefing has its .pyc files
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[:500]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def run_once(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time and peak RSS of one process."""
    elapsed, _, peak = run_measured(cmd, cwd)
    return elapsed, peak


def measure(cmd: list[str], cwd: Path, runs: int, warmup: int = 1, before=None) -> Sample:
    for _ in range(warmup):
        run_once(cmd, cwd)
    sample = Sample([], [])
    for _ in range(runs):
        if before:
            before()
        sample.add(*run_measured(cmd, cwd))
    return sample


def pair(a: list[str], b: list[str], cwd: Path, runs: int,
         cwd_b: Path | None = None) -> tuple[Sample, Sample]:
    """A and B alternate (A B A B ...), so drift in machine load hits both alike."""
    run_once(a, cwd)
    run_once(b, cwd_b or cwd)
    sa, sb = Sample([], []), Sample([], [])
    for _ in range(runs):
        sa.add(*run_measured(a, cwd))
        sb.add(*run_measured(b, cwd_b or cwd))
    return sa, sb


def sample_project(name: str = "") -> Path:
    """A copy of the repository's sample newsletter as it is (briefs and the built out/), so
    the benchmark never touches the repository's own out/; one folder per benchmark script
    (and name), since the smoke tests run several at once (pytest -n 2) and one script's fresh
    copy must not delete (or move away) another's."""
    root = WORK / f"sample-{Path(sys.argv[0]).stem}{'-' + name if name else ''}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copy(REPO / "briefing.yaml", root)
    shutil.copytree(REPO / "briefs", root / "briefs")
    if (REPO / "out").is_dir():
        shutil.copytree(REPO / "out", root / "out", ignore=shutil.ignore_patterns("pagefind"))
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


def scaling_rows(sizes: tuple[int, ...], archive_issues: int, runs: int,
                 row) -> list[tuple[int, float]]:
    """Builds of 40 to 4,000 items and an archive of many issues; the marginal cost per item."""
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

    # an archive over many issues
    root = WORK / f"archive-{archive_issues}"
    shutil.rmtree(root, ignore_errors=True)
    generate(root, 16, archive_issues)
    subprocess.run(BRIEFING + ["build", "--all"], cwd=root, check=True, capture_output=True)
    a = measure(BRIEFING + ["archive"], root, max(2, runs // 2))
    row(f"`briefing archive`, {archive_issues} issues of 16 items", a, "",
        "(target < 5 s)" + (" ok" if a.median < 5 else " MISSED") if archive_issues == 500 else "")

    return marginal


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="few runs, small sizes (CI)")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--startup", action="store_true",
                        help="only the start-up rows (build, --help, check, send against their "
                             "baselines)")
    parser.add_argument("--web", action="store_true",
                        help="only the preview latency and idle figures (benchmarks/web.py)")
    args = parser.parse_args()
    if args.web:
        import web
        return web.main([])
    runs = args.runs or (2 if args.smoke else 10)
    sizes = (40, 400) if args.smoke else (40, 400, 4000)
    archive_issues = 20 if args.smoke else 500
    WORK.mkdir(exist_ok=True)
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(name: str, s: Sample, ratio: str = "", target: str = "") -> None:
        rows.append((name, f"{s.median * 1000:.0f}", s.span(), f"{s.cpu_median * 1000:.0f}",
                     f"{s.peak_mb:.0f}", " ".join(x for x in (ratio, target) if x)))

    def against(name: str, a: Sample, b: Sample, b_name: str, limit: float) -> None:
        """A row for each, the ratio of their median CPU times (wall in brackets)."""
        ratio = a.cpu_median / b.cpu_median
        row(name, a, f"{ratio:.2f}x {b_name} in CPU time (wall {a.median / b.median:.2f}x)",
            f"(target <= {limit:g}x)" + (" ok" if ratio <= limit else " MISSED"))

    sample = sample_project()
    build = BRIEFING + ["build", "--force"]
    floor = [PYTHON, "-c", "import yaml, jinja2, mjml"]
    floor_name = "`python -c \"import yaml, jinja2, mjml\"`"

    # 1. start-up: a cold build, --help and a check of one item against the floor of our own
    # dependencies, and a dry run to 10 readers against a check of the same issue
    b, f = pair(build, floor, sample, runs)
    against("`briefing build` (sample issue)", b, f, "the floor", 1.5)
    row(floor_name, f)
    stamp = sample / ".briefing" / "search-index.sha256"
    edited = measure(build, sample, max(2, runs // 2), before=lambda: stamp.unlink(
        missing_ok=True))
    row("`briefing build` (sample issue), search index made again", edited,
        f"{edited.cpu_median / f.cpu_median:.2f}x the floor in CPU time",
        "(as after an edit: Pagefind runs; counted in the CPU time)")
    h, f = pair(BRIEFING + ["--help"], floor, sample, runs)
    against("`briefing --help`", h, f, "the floor", 1.5)
    one = WORK / "one-item"
    shutil.rmtree(one, ignore_errors=True)
    generate(one, 1)
    c, f = pair(BRIEFING + ["check"], floor, one, runs)
    against("`briefing check` (an issue of one item)", c, f, "the floor", 1.5)
    readers = sample_project("send-start")
    run_once(BRIEFING + ["build"], readers)
    (readers / "readers.csv").write_text("email\n" + "".join(
        f"reader{n}@example.org\n" for n in range(8)), encoding="utf-8")
    run_once(BRIEFING + ["subscribers", "import", "readers.csv", "--email-column", "email"],
             readers)
    d, c = pair(BRIEFING + ["send", "--smtp", "smtp://127.0.0.1:9", "--insecure"],
                BRIEFING + ["check"], readers, runs)
    against("`briefing send` dry run, sample issue to 10 readers", d, c,
            "the check of the same issue", 1.3)
    row("`briefing check` (sample issue)", c)

    # 2. end to end vs the Node MJML CLI compiling the same MJML alone
    node = None if args.smoke or args.startup else node_mjml()
    if node:
        mjml_file = WORK / "sample.mjml"
        subprocess.run(BRIEFING + ["build", "--force"], cwd=sample, check=True,
                       capture_output=True)
        dump = ("import sys; from pathlib import Path; from briefing.content.validate import "
                "Project, load_issue; from briefing.render.html import render_mjml; "
                "p = Project(Path('.')); sys.stdout.write(render_mjml(load_issue(p), None))")
        mjml_file.write_text(subprocess.run([PYTHON, "-c", dump], cwd=sample, check=True,
                                            capture_output=True, text=True).stdout)
        n = measure(node + [str(mjml_file), "-o", str(WORK / "node-out.html")], sample,
                    max(3, runs // 2))
        b2 = measure(build, sample, max(3, runs // 2))
        speedup = n.median / b2.median
        row("Node `mjml` CLI, same MJML only", n, f"briefing is {speedup:.1f}x faster",
            "(target >= 5x)" + (" ok" if speedup >= 5 else " MISSED"))
    elif not args.startup:
        rows.append(("Node `mjml` CLI", "skipped", "", "", "", "smoke run" if args.smoke
                     else "npm not found"))

    marginal: list[tuple[int, float]] = []
    if not args.startup:
        marginal = scaling_rows(sizes, archive_issues, runs, row)

    with open("/proc/loadavg") as handle:
        load = " ".join(handle.read().split()[:3])
    lines = [
        f"Measured {dt.date.today().isoformat()} on {machine()}; load average {load} at the "
        f"end; {runs} runs after a warm-up{' (smoke)' if args.smoke else ''}.",
        "",
        "| what | median ms | min-max ms | CPU ms | peak RSS MB | notes |",
        "|---|---:|---:|---:|---:|---|",
        *[f"| {' | '.join(r)} |" for r in rows],
        "",
        *(["Scaling, marginal cost per added item: " + ", ".join(
            f"up to {n} items {us:.0f} µs" for n, us in marginal)
            + " (about equal figures = linear growth)."] if marginal else []),
    ]
    table = "\n".join(lines)
    print(table)
    if args.output:
        args.output.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
