"""Generate synthetic newsletter projects for the benchmarks: N items over four themes, M issues."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

THEMES = ("industry", "ethics", "policy", "public-opinion")
ITEMS_PER_FILE = 200  # several files may share a theme; keeps each brief under the size cap

CONFIG = """\
name: Benchmark Briefing
tagline: Synthetic issues for timing
language: en
sender: Bench <bench@example.org>
recipients:
  - One <one@example.org>
  - Two <two@example.org>
unsubscribe:
  url: https://example.org/u/{token}
archive_url: https://example.org/archive/
address: 1 Bench Street
themes:
  - {id: industry, title: Industry}
  - {id: ethics, title: Ethics}
  - {id: policy, title: Policy}
  - {id: public-opinion, title: Public opinion}
"""


def _item(issue: int, n: int, date: dt.date, earlier: bool = False) -> str:
    url = f"https://news{n % 7}.example.org/{issue}/story-{n}"
    # With `earlier`, every fourth item also cites the story the previous issue cited (lint's
    # [earlier-url] then has something to find in every issue but the first).
    again = (f"      - url: https://news{n % 7}.example.org/{issue - 1}/story-{n}\n"
             f"        title: Story {n} again\n        publisher: Outlet {(n + 1) % 5}\n"
             if earlier and issue and n % 4 == 0 else "")
    summary = (f"Item {n} of issue {issue}: a studio, a regulator and a platform disagree about "
               f"synthetic video, likeness and licensing, while viewers in 上海 and Los Angeles "
               f"weigh in. See the [report]({url}) and *what* it means for **editors**.")
    stat = ("    stat:\n      - {label: China, value: 69, unit: \"%\"}\n"
            "      - {label: United States, value: 35, unit: \"%\"}\n") if n % 10 == 0 else ""
    return (f"  - headline: {json.dumps(f'Headline number {n} about AI video and cinema')}\n"
            f"    summary: {json.dumps(summary, ensure_ascii=False)}\n"
            f"    why: Because item {n} changes what readers expect.\n"
            f"    sources:\n"
            f"      - url: {url}\n        title: Story {n}\n        publisher: Outlet {n % 5}\n"
            f"        date: {date.isoformat()}\n"
            f"{again}{stat}")


def generate(root: Path, items: int, issues: int = 1,
             start: dt.date = dt.date(2026, 1, 5), earlier: bool = False) -> list[str]:
    """Write a project at root; return its issue ids (ISO weeks, oldest first)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "briefing.yaml").write_text(CONFIG, encoding="utf-8")
    ids = []
    for index in range(issues):
        monday = start + dt.timedelta(weeks=index)
        year, week, _ = monday.isocalendar()
        issue_id = f"{year}-W{week:02d}"
        folder = root / "briefs" / issue_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "issue.yaml").write_text(
            f"title: Synthetic issue {index + 1}\ndate: {monday + dt.timedelta(days=4)}\n"
            f"intro: An editor's note for issue {index + 1}.\n", encoding="utf-8")
        per_theme: dict[str, list[str]] = {t: [] for t in THEMES}
        for n in range(items):
            per_theme[THEMES[n % len(THEMES)]].append(_item(index, n, monday, earlier))
        for theme, entries in per_theme.items():
            for part in range(0, max(len(entries), 1), ITEMS_PER_FILE):
                chunk = entries[part:part + ITEMS_PER_FILE]
                if chunk:
                    name = f"{theme}-{part // ITEMS_PER_FILE + 1:02d}.yaml"
                    (folder / name).write_text(f"theme: {theme}\nitems:\n" + "".join(chunk),
                                               encoding="utf-8")
        ids.append(issue_id)
    return ids


def built_archive(root: Path, issues: int, items: int = 16,
                  start: dt.date = dt.date(2026, 1, 5)) -> list[str]:
    """A project whose out/ holds `issues` built issues, fast: one issue is generated and built
    by `briefing build`, and its issue.json is copied for every week with the id, date, title,
    headlines, texts and URLs made the week's own (`briefing archive` reads only issue.json).
    Building each issue would take about 20 ms an issue."""
    import copy
    import subprocess
    import sys

    first = generate(root, items, 1, start)[0]
    subprocess.run([sys.executable, "-m", "briefing", "build", first], cwd=root, check=True,
                   capture_output=True)
    model = json.loads((root / "out" / first / "issue.json").read_text(encoding="utf-8"))
    ids = [first]
    for index in range(1, issues):
        monday = start + dt.timedelta(weeks=index)
        year, week, _ = monday.isocalendar()
        issue_id = f"{year}-W{week:02d}"
        data = copy.deepcopy(model)
        data.update(id=issue_id, date=(monday + dt.timedelta(days=4)).isoformat(),
                    title=f"Synthetic issue {index + 1}",
                    intro=f"An editor's note for issue {index + 1}.")
        for theme in data["themes"]:
            for item in theme["items"]:
                for key in ("headline", "summary", "summary_text", "why"):
                    item[key] = item[key].replace("of issue 0", f"of issue {index}") \
                        .replace("number", f"{index} number")
                for source in item["sources"]:
                    source["url"] = source["url"].replace("/0/", f"/{index}/")
                    source["date"] = monday.isoformat()
        for ref in data["references"]:
            ref["url"] = ref["url"].replace("/0/", f"/{index}/")
            ref["date"] = monday.isoformat()
        folder = root / "out" / issue_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "issue.json").write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
        ids.append(issue_id)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--issues", type=int, default=1)
    parser.add_argument("--built", action="store_true",
                        help="out/ holding that many built issues (issue.json copies), for "
                             "'briefing archive'; briefs/ holds the first only")
    parser.add_argument("--earlier", action="store_true",
                        help="every fourth item also cites the previous issue's story")
    args = parser.parse_args()
    if args.built:
        ids = built_archive(args.root, args.issues, args.items)
    else:
        ids = generate(args.root, args.items, args.issues, earlier=args.earlier)
    print(f"{args.root}: {len(ids)} issues of {args.items} items")


if __name__ == "__main__":
    main()
