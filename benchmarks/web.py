"""Web-edition and preview figures: `python benchmarks/web.py` (also `run.py --web`).

- preview latency: from saving a brief to the new text in all three panes, 20 edits, measured
  in headless Chromium (the page records Date.now() when the last pane shows it; the script
  records the clock just before the write: one machine, one clock);
- preview idle CPU: the server's own CPU time over 10 s with nothing saved;
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


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def preview_figures(edits: int = 20) -> dict:
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
            before = cpu_seconds(process.pid)
            time.sleep(10)
            idle = cpu_seconds(process.pid) - before
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
            "best_ms": min(latencies), "idle_cpu_s_per_10s": idle}


def main() -> int:
    figures = preview_figures()
    print("| what | value |\n|---|---|")
    print(f"| preview: save to new text in all 3 panes, median of 20 | "
          f"{figures['median_ms']:.0f} ms |")
    print(f"| preview: worst of 20 (best) | {figures['worst_ms']:.0f} ms "
          f"({figures['best_ms']:.0f} ms) |")
    print(f"| preview: CPU time while idle for 10 s | {figures['idle_cpu_s_per_10s']:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
