"""Benchmarks of the sign-up pages: the endpoint under bursts, and sync applying sign-ups.

    python benchmarks/signup.py            # 1,000 posts, 1,000 mails, 10,000 confirmations
    python benchmarks/signup.py --smoke    # small sizes, one run: what the tests run

(a) `briefing subscribers serve` (waitress) with `signup:`, its confirmation mail going to a
local aiosmtpd sink: N posts of one address from 4 client threads (one mail goes out), then N
different addresses under a cap of N (timed until the last mail is at the sink: one SMTP
session per mail, one mail at a time). (b) `briefing subscribers sync` of E sign-ups and their
E confirmations (made with the project's own key, as the endpoint makes them), as a whole
process with its peak RSS. Everything it writes stays in benchmarks/.work/signup/.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent / "tests"))

from run import BRIEFING, WORK, machine, sample_project  # noqa: E402
from send import Sink, run_once  # noqa: E402

ROOT = WORK / "signup"


def project(port: int, cap: int) -> Path:
    """The sample newsletter with signup: on `port`, built, with a store and a key."""
    shutil.rmtree(ROOT, ignore_errors=True)
    shutil.move(str(sample_project()), ROOT)
    with open(ROOT / "briefing.yaml", "a", encoding="utf-8") as config:
        config.write(f"signup:\n  url: http://127.0.0.1:{port}/s\n"
                     f"  confirm_url: http://127.0.0.1:{port}/c/{{token}}\n"
                     f"  hourly_cap: {cap}\n")
    subprocess.run(BRIEFING + ["subscribers", "endpoint-key"], cwd=ROOT, check=True,
                   capture_output=True)
    return ROOT


def post(port: int, address: str) -> int:
    import http.client
    from urllib.parse import urlencode

    from briefing.content.model import consent_wording, wording_hash
    consent = wording_hash(consent_wording("Frame by Frame"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/s", urlencode({"address": address, "consent": consent}),
                           {"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def bursts(posts: int, mails: int) -> list[str]:
    from postfix import free_port
    port = free_port()
    root = project(port, mails + 1)  # the one mail of the first burst counts too
    rows = []
    with Sink() as sink:
        server = subprocess.Popen(BRIEFING + ["subscribers", "serve", "--port", str(port),
                                              "--smtp", f"smtp://127.0.0.1:{sink.port}",
                                              "--insecure"],
                                  cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True)
        try:
            assert server.stdout is not None
            while server.stdout.readline().strip() != "Ctrl-C stops it":
                pass
            with ThreadPoolExecutor(4) as pool:
                start = time.perf_counter()
                statuses = list(pool.map(lambda i: post(port, "same@example.org"),
                                         range(posts)))
                elapsed = time.perf_counter() - start
            assert statuses == [200] * posts
            rows.append(f"| {posts:,} posts of one address, 4 client threads | "
                        f"{elapsed:.2f} | {posts / elapsed:,.0f} posts/s | 1 mail sent |")
            time.sleep(1)
            before = sink.count
            with ThreadPoolExecutor(4) as pool:
                start = time.perf_counter()
                list(pool.map(lambda i: post(port, f"r{i}@example.org"), range(mails)))
                answered = time.perf_counter() - start
                deadline = time.monotonic() + 600
                while sink.count < before + mails:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"only {sink.count - before} of {mails} mails came")
                    time.sleep(0.01)
                elapsed = time.perf_counter() - start
            rows.append(f"| {mails:,} addresses under the cap: all answered / all mails at "
                        f"the sink | {answered:.2f} / {elapsed:.2f} | {mails / elapsed:,.0f} "
                        "mails/s | one SMTP session per mail |")
        finally:
            server.terminate()
            server.wait(timeout=60)
    return rows


def sync_of(count: int) -> str:
    """`subscribers sync` of `count` sign-ups and their confirmations."""
    import json

    from briefing.subscribers.signup import Joiner, editor_keys, make_token, stamp
    root = project(8080, 100)
    keys = editor_keys((root / ".briefing/token.key").read_text().strip().encode())
    now = int(time.time())
    lines = []
    for i in range(count):
        signup_id = f"{i:024x}"
        address = f"reader{i}@example.org"
        lines.append({"kind": "signup", "time": stamp(now), "token": signup_id,
                      "address": keys.address_hash(address), "expires": stamp(now + 86_400),
                      "page": "https://news.example.org/s", "consent": "0" * 64})
        lines.append({"kind": "confirm", "time": stamp(now + 1), "token": make_token(
            keys, Joiner(address, "", ()), now, now + 86_400, signup_id)})
    events = root / ".briefing" / "events.jsonl"
    events.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
    events.chmod(0o600)
    elapsed, peak_kb = run_once(BRIEFING + ["subscribers", "sync"], root)
    return (f"| `subscribers sync` of {count:,} sign-ups and {count:,} confirmations | "
            f"{elapsed:.2f} | {count / elapsed:,.0f} readers/s | peak RSS "
            f"{peak_kb / 1024:.0f} MB |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="small sizes, one run")
    args = parser.parse_args()
    posts, mails, confirmations = (50, 20, 200) if args.smoke else (1_000, 1_000, 10_000)
    rows = bursts(posts, mails) + [sync_of(confirmations)]
    print(f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.\n")
    print("| what | seconds | rate | notes |\n|---|---:|---:|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
