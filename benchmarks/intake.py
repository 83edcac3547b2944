"""Benchmarks of the editor's week: `add` over the saved article pages, saving copies, and
`check` with quotations to look for.

    python benchmarks/intake.py            # all 47 pages, 5 runs each
    python benchmarks/intake.py --smoke    # 5 pages, one run each: what the tests run

The pages are served by the tests' article server on 127.0.0.1 (tests/article_server.py), so
no time goes to the network. Each step is a whole process, timed with its peak RSS (os.wait4).
Everything it writes stays in benchmarks/.work/intake/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from run import BRIEFING, WORK, machine, measure  # noqa: E402

from article_server import ArticleServer, pages  # noqa: E402

CONFIG = """\
name: Bench
sender: Bench <news@example.org>
unsubscribe:
  url: https://example.org/u/{token}
address: 1 Test Street
themes:
  - id: industry
    title: Industry
"""


def quoting_brief(server: ArticleServer, entries: list[dict]) -> str:
    """One item per page, each quoting the first words of the page's own text twice (in the
    summary and as the source's quote:), as an editor quoting every source would."""
    from html import unescape
    from re import findall
    lines = ["items:"]
    for entry in entries:
        text = (Path(HERE.parent / "tests/data/articles" / entry["file"])).read_text()
        first = unescape(findall(r"<p>(.*?)</p>", text)[0]).replace('"', "")
        words = " ".join(first.split()[:8])
        summary = json.dumps('It said "' + words + '".', ensure_ascii=False)
        lines += [f"  - headline: {entry['kind']}",
                  f"    summary: {summary}",
                  "    sources:",
                  f"      - url: {server.url(entry['path'])}",
                  "        title: Page",
                  "        publisher: Site",
                  f"        quote: {json.dumps(words, ensure_ascii=False)}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="5 pages, one run each")
    args = parser.parse_args()
    runs, warmup = (1, 0) if args.smoke else (5, 1)
    entries = [e for e in pages() if e["kind"] not in ("redirect", "403", "pdf")]
    entries = entries[:5] if args.smoke else entries
    root = WORK / "intake"
    shutil.rmtree(root, ignore_errors=True)
    (root / "briefs/2026-W07").mkdir(parents=True)
    (root / "briefing.yaml").write_text(CONFIG)
    (root / "briefs/2026-W07/issue.yaml").write_text("title: Bench\ndate: 2026-02-13\n")
    server = ArticleServer()
    rows = []
    try:
        (root / "briefs/2026-W07/industry.yaml").write_text(quoting_brief(server, entries))
        urls = [server.url(e["path"]) for e in entries]
        add = measure(BRIEFING + ["add", "--dry-run", "--theme", "industry", "--issue",
                                  "2026-W08", *urls], root, runs, warmup)
        rows.append((f"`add --dry-run`, {len(urls)} pages in one run", add,
                     f"{add.median / len(urls) * 1000:.0f} ms a page, start-up included"))
        one = measure(BRIEFING + ["add", "--dry-run", "--theme", "industry", "--issue",
                                  "2026-W08", urls[0]], root, runs, warmup)
        rows.append(("`add --dry-run`, one page", one, "start-up and imports included"))
        save = measure(BRIEFING + ["sources", "--save"], root, 1, 0)
        rows.append((f"`sources --save`, {len(urls)} new pages", save, "one run: new copies"))
        again = measure(BRIEFING + ["sources", "--save"], root, runs, warmup)
        rows.append((f"`sources --save`, {len(urls)} pages unchanged", again, ""))
        check = measure(BRIEFING + ["check"], root, runs, warmup)
        rows.append((f"`check`, {2 * len(urls)} quotations with saved copies", check,
                     "main texts read from the .txt beside each copy"))
    finally:
        server.close()
    print(f"{machine()}; median of {runs} runs after {warmup} warm-up\n")
    print("| what | median ms | min-max ms | peak RSS MB | notes |")
    print("|---|---:|---:|---:|---|")
    for name, sample, note in rows:
        print(f"| {name} | {sample.median * 1000:.0f} | {sample.span()} | "
              f"{sample.peak_mb:.0f} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
