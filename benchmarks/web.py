"""Web-edition and preview figures: `python benchmarks/web.py` (also `run.py --web`).

- preview latency: from saving a brief to the new text in all three panes, 20 edits, measured
  in headless Chromium (the page records Date.now() when the last pane shows it; the script
  records the clock just before the write: one machine, one clock);
- preview idle CPU: the server's own CPU time over 30 s with nothing saved (target < 0.05 s),
  and how often it was woken meanwhile (context switches, from /proc/PID/status);
- feed and search index sizes at 500 issues (benchmarks/generate.py, 12 items each).
"""

from __future__ import annotations

import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from conftest import BRIEF, make_project  # noqa: E402

WATCH = """(() => {
  window.doneAt = 0;
  const frames = ['desktop', 'mobile', 'digest'].map((id) => document.getElementById(id));
  const timer = setInterval(() => {
    const all = frames.every((f) => { const d = f.contentDocument;
      return d && d.body && d.body.innerText.toUpperCase().includes(window.expected); });
    if (all) { window.doneAt = Date.now(); clearInterval(timer); }
  }, 1);
})()"""


IDLE_SECONDS = 30


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wakeups(pid: int) -> int:
    """Context switches of every thread of the process: each is a time it slept and woke."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def preview_figures(edits: int = 20, idle_seconds: float = IDLE_SECONDS) -> dict:
    from briefing.editorial.browser import Browser
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp) / "news")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        process = subprocess.Popen([sys.executable, "-m", "briefing", "preview", "--port", "0"],
                                   cwd=project.root, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        try:
            select.select([process.stdout], [], [], 30)
            url = process.stdout.readline().split()[2]
            time.sleep(2)  # first lint done
            before, woken = cpu_seconds(process.pid), wakeups(process.pid)
            time.sleep(idle_seconds)
            idle = cpu_seconds(process.pid) - before
            woken = wakeups(process.pid) - woken
            latencies = []
            with Browser(offline=True) as browser:
                page = browser.new_page()
                page.viewport(1400, 900)
                page.open(url)
                time.sleep(1)
                brief = project.root / "briefs/2026-W07/industry.yaml"
                for n in range(edits):
                    marker = f"EDIT NUMBER {n} MARKER"
                    page.evaluate(f"window.expected = {marker!r}")
                    page.evaluate(WATCH)
                    start = time.time() * 1000
                    brief.write_text(BRIEF.replace("First headline", marker.title()))
                    deadline = time.monotonic() + 10
                    while not (done := page.evaluate("window.doneAt")):
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"edit {n} never showed")
                        time.sleep(0.005)
                    latencies.append(done - start)
                    time.sleep(0.6)  # let the lint pass after the edit finish
        finally:
            process.terminate()
            process.wait(10)
    return {"median_ms": statistics.median(latencies), "worst_ms": max(latencies),
            "best_ms": min(latencies), "idle_cpu_s": idle, "idle_wakeups": woken,
            "idle_seconds": idle_seconds, "edits": edits}


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="3 edits, 2 idle seconds")
    args = parser.parse_args(argv)
    figures = preview_figures(3, 2) if args.smoke else preview_figures()
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[0]
    print(f"{os.cpu_count()} cores, load average {load} at the end\n")
    print("| what | value |\n|---|---|")
    print(f"| preview: save to new text in all 3 panes, median of {figures['edits']} | "
          f"{figures['median_ms']:.0f} ms |")
    print(f"| preview: worst of {figures['edits']} (best) | {figures['worst_ms']:.0f} ms "
          f"({figures['best_ms']:.0f} ms) |")
    idle = figures["idle_cpu_s"]
    print(f"| preview: CPU time while idle for {figures['idle_seconds']:g} s | {idle:.3f} s "
          f"(target < 0.05 s for 30 s){' ok' if idle < 0.05 else ' MISSED'} |")
    print(f"| preview: times woken while idle (context switches) | {figures['idle_wakeups']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
