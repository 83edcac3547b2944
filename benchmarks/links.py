"""`briefing links` against a keep-alive HTTP server on 127.0.0.1: many URLs on one host.

    python benchmarks/links.py               # 200 URLs, 5 runs
    python benchmarks/links.py --urls 50 --runs 2

Each run is a whole `briefing links --no-cache` process; the table also shows how many TCP
connections the server accepted, which is what pooling per host saves.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"

CONFIG = """\
name: Links Bench
sender: Bench <bench@example.org>
recipients: [reader@example.org]
unsubscribe: {url: "https://example.org/u/{token}"}
address: 1 Bench Street
themes: [{id: industry, title: Industry}]
"""


class Server:
    """HTTP/1.1 with keep-alive, so a client that reuses connections can."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                server.connections += 1

            def log_message(self, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def project(root: Path, base: str, urls: int) -> None:
    shutil.rmtree(root, ignore_errors=True)
    (root / "briefs/2026-W07").mkdir(parents=True)
    (root / "briefing.yaml").write_text(CONFIG, encoding="utf-8")
    items = []
    for first in range(0, urls, 50):  # an item lists at most 50 sources
        sources = "".join(f"      - {{url: '{base}/page/{n}', title: Page {n}, publisher: Site}}\n"
                          for n in range(first, min(urls, first + 50)))
        items.append(f"  - headline: Links {first}\n    summary: Many links.\n    sources:\n"
                     + sources)
    (root / "briefs/2026-W07/industry.yaml").write_text("items:\n" + "".join(items),
                                                         encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = Server()
    root = WORK / "links"
    try:
        project(root, server.base, args.urls)
        times, connections = [], []
        command = [sys.executable, "-m", "briefing", "links", "--no-cache"]
        subprocess.run(command, cwd=root, check=True, capture_output=True)  # warm-up
        for _ in range(args.runs):
            before = server.connections
            start = time.perf_counter()
            subprocess.run(command, cwd=root, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
            connections.append(server.connections - before)
        print(f"| `briefing links --no-cache`, {args.urls} URLs on one host | "
              f"{statistics.median(times) * 1000:.0f} | "
              f"{min(times) * 1000:.0f}-{max(times) * 1000:.0f} | "
              f"{statistics.median(connections):.0f} connections |")
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
