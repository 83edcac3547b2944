"""Benchmarks of list integrity: a sync that maps clicks and proves bounces, and a real
one-click POST while idle connections are held open at the endpoint.

    python benchmarks/list_integrity.py            # 100,000 readers, 1,000 clicks and bounces
    python benchmarks/list_integrity.py --smoke    # 2,000 readers, 100 each: what tests run

The ledger is filled as `send` fills it (the plan's own copies and Message-IDs, recorded
through the ledger), without the network. Everything it writes stays in
benchmarks/.work/integrity/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import mailbox
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from delivery import readers_csv  # noqa: E402
from run import BRIEFING, PYTHON, WORK, machine, measure, sample_project  # noqa: E402

DSN = HERE.parent / "tests" / "data" / "mail" / "postfix-bounce.eml"
SAMPLE_ID = b"<2026-W07.9b0d595f061f77cb.1f2e3d4c5b6a7988@example.org>"

# Records every reader's copy in the ledger as `send` does (attempt, accept), and prints the
# tokens and Message-IDs of the first N, for the clicks and the bounces.
RECORD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from briefing.content.validate import Project
    from briefing.deliver.plan import SendOptions, prepare
    plan = prepare(Project(Path.cwd()), None, SendOptions(smtp="smtp://127.0.0.1:9",
                                                          insecure=True))
    wanted = int(sys.argv[1])
    out = []
    for n, reader in enumerate(plan.todo):
        data, message_id = plan.copy_for(reader.address)
        row = plan.ledger.attempt(reader.address, message_id, plan.sha256, "benchmark")
        plan.ledger.accept(row, "250 ok")
        if n < wanted:
            out.append([reader.address, plan.tokens.token(reader.address), message_id])
    plan.store.checkpoint()
    print(json.dumps(out))
""")


def fill(root: Path, events: int) -> list[list[str]]:
    proc = subprocess.run([PYTHON, "-c", RECORD, str(events * 2)], cwd=root,
                          capture_output=True, text=True, check=True, timeout=3600)
    return json.loads(proc.stdout)


def inputs(root: Path, copies: list[list[str]], count: int) -> None:
    """`count` clicks (the first readers) and `count` bounces quoting real copies (the next)."""
    with open(root / ".briefing" / "events.jsonl", "w") as handle:
        for _address, token, _ in copies[:count]:
            handle.write(json.dumps({"time": "2026-03-09T08:00:00Z", "token": token}) + "\n")
    template = DSN.read_bytes()
    box = mailbox.mbox(root / "bounces.mbox", create=True)
    for n, (address, _, message_id) in enumerate(copies[count:count * 2]):
        box.add(template.replace(SAMPLE_ID, message_id.encode())
                .replace(b"gone@example.net", address.encode())
                .replace(b"7C2E81A0B3F@", f"{n:011X}@".encode()))
    box.close()


def post_latency(root: Path, held: int, tries: int) -> list[float]:
    """Seconds a real one-click POST takes while `held` idle connections are open."""
    token = json.loads((root / ".briefing" / "events.jsonl").read_text().splitlines()[0])[
        "token"]
    server = subprocess.Popen(BRIEFING + ["subscribers", "serve", "--port", "0", "--events",
                                          ".briefing/bench-events.jsonl"],
                              cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    assert server.stdout is not None
    port = int(re.search(r":(\d+)/u/", server.stdout.readline()).group(1))  # type: ignore
    sockets = []
    try:
        for _ in range(held):
            sockets.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(0.5)
        seconds = []
        for _ in range(tries):
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            connection.request("POST", f"/u/{token}", b"List-Unsubscribe=One-Click",
                               {"Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            response.read()
            connection.close()
            assert response.status == 200, response.status
            seconds.append(time.perf_counter() - started)
        return seconds
    finally:
        for sock in sockets:
            sock.close()
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="2,000 readers, 100 events")
    args = parser.parse_args()
    readers = 2_000 if args.smoke else 100_000
    count = 100 if args.smoke else 1_000
    holds = (0, 200) if args.smoke else (0, 200, 700)

    root = WORK / "integrity"
    shutil.rmtree(root, ignore_errors=True)
    shutil.move(str(sample_project()), root)
    measure(BRIEFING + ["build"], root, runs=1, warmup=0)
    readers_csv(root / "readers.csv", readers)
    measure(BRIEFING + ["subscribers", "import", "readers.csv"], root, runs=1, warmup=0)
    copies = fill(root, count)
    inputs(root, copies, count)

    rows: list[tuple[str, str, str, str]] = []
    both = ["subscribers", "sync", "--events", ".briefing/events.jsonl", "--mailbox",
            "bounces.mbox"]
    sync = measure(BRIEFING + both, root, runs=1, warmup=0)
    rows.append((f"`subscribers sync`, {count:,} clicks and {count:,} proven bounces, "
                 f"{readers + 2:,} readers", f"{sync.median * 1000:.0f}",
                 f"{sync.peak_mb:.0f}", "one run: everything new"))
    again = measure(BRIEFING + both, root, runs=1, warmup=0)
    rows.append(("the same sync again", f"{again.median * 1000:.0f}", f"{again.peak_mb:.0f}",
                 "everything seen before"))
    for held in holds:
        seconds = post_latency(root, held, 5 if args.smoke else 20)
        rows.append((f"one-click POST at `serve`, {held} idle connections held open",
                     f"{statistics.median(seconds) * 1000:.1f}", "",
                     f"max {max(seconds) * 1000:.1f} ms of {len(seconds)}"))

    print(f"Measured on {machine()}.\n")
    print("| what | median ms | peak RSS MB | notes |")
    print("|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
