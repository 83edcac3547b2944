"""Benchmarks of sending: briefing against a plain smtplib loop, and into a private Postfix.

    python benchmarks/send.py            # 10,000 copies, 2 alternated runs each (~17 min here)
    python benchmarks/send.py --smoke    # 200 copies, one run each: what the tests run

(a) `briefing send` of N personal copies to a local aiosmtpd sink over one connection, side by
side with a plain smtplib loop sending the same built bytes (CRLF converted once, up front, as a
careful script would) over one connection to the same kind of sink; the runs alternate.
(b) `briefing send --connections 1` and `--connections 4` into a private Postfix on 127.0.0.1
(tests/postfix.py) that relays to a sink; timed until briefing has handed every copy over (the
queue is left to drain before the next run). Needs root and Debian's postfix, else skipped.
(c) DKIM signing: `briefing send` to the sink with and without `dkim:` (a key made by `briefing
dkim keygen`), alternated; the CPU time of each whole process (user + system, from os.wait4)
gives the CPU signing adds per copy (target <= 1.5 ms). In the benchmark's own process, the CPU
of making N copies with and without the signer, and dkimpy's own sign() for reference.
Every figure is a whole process, timed with its peak RSS from os.wait4, unless it says
otherwise. Everything it writes stays in benchmarks/.work/send/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent / "tests"))  # the private Postfix helper

from delivery import readers_csv  # noqa: E402
from run import BRIEFING, PYTHON, WORK, machine, sample_project  # noqa: E402

if TYPE_CHECKING:
    from postfix import Postfix

SENDER = "briefing@framebyframe.example.org"  # the sample's sender: the envelope of both sides
YAML_READERS = ["editors@framebyframe.example.org", "archive@framebyframe.example.org"]

# The plain loop: what a careful script does with the same built message. CRLF once, up front
# (smtplib sends bytes as they are); one connection, one transaction per recipient.
LOOP = textwrap.dedent("""
    import smtplib, sys
    port, message, recipients, sender = sys.argv[1:5]
    with open(message, "rb") as handle:
        data = handle.read().replace(b"\\r\\n", b"\\n").replace(b"\\n", b"\\r\\n")
    with open(recipients, encoding="utf-8") as handle:
        addresses = handle.read().split()
    smtp = smtplib.SMTP("127.0.0.1", int(port))
    for address in addresses:
        smtp.sendmail(sender, [address], data)
    smtp.quit()
""")


class CountingHandler:
    """An aiosmtpd handler that accepts everything and keeps only a count (10,000 copies of a
    20 KB message would otherwise sit in the benchmark's memory)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 2.0.0 OK"


class Sink:
    """`with Sink() as sink:` an aiosmtpd server on 127.0.0.1:sink.port that counts messages."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        from postfix import free_port

        self.handler = CountingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10)

    @property
    def count(self) -> int:
        return self.handler.count

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kb) / 1024


def run_once(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time and peak RSS of one process. Its output goes to a file, not a pipe nobody
    reads while it runs (a full pipe would stall it and count as its time)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            text = err.read().decode(errors="replace").strip()[-800:]
            raise RuntimeError(f"{' '.join(cmd)} failed ({code}): {text}")
    return elapsed, usage.ru_maxrss


class Project:
    """The sample issue built once, its readers imported once; each briefing run starts from a
    copy of that store, so every run sends to everyone (and the ledger starts empty)."""

    def __init__(self, count: int) -> None:
        self.root = WORK / "send"
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.move(str(sample_project()), self.root)
        subprocess.run(BRIEFING + ["build"], cwd=self.root, check=True, capture_output=True)
        readers_csv(self.root / "readers.csv", count - len(YAML_READERS))
        subprocess.run(BRIEFING + ["subscribers", "import", "readers.csv"], cwd=self.root,
                       check=True, capture_output=True)
        self.pristine = self.root / "pristine-store"
        shutil.copytree(self.root / ".briefing", self.pristine)
        self.message = max((self.root / "out").glob("*/message.eml"))
        addresses = YAML_READERS + [
            line.split(",", 1)[0] for line in
            (self.root / "readers.csv").read_text(encoding="utf-8").splitlines()[1:]]
        self.recipients = self.root / "recipients.txt"
        self.recipients.write_text("\n".join(addresses) + "\n", encoding="utf-8")
        self.count = len(addresses)

    def fresh_store(self) -> None:
        shutil.rmtree(self.root / ".briefing")
        shutil.copytree(self.pristine, self.root / ".briefing")


def has_connections_option() -> bool:
    """--connections N is being added to `briefing send`; until then (b) says so."""
    help_text = subprocess.run(BRIEFING + ["send", "--help"], capture_output=True, text=True,
                               check=True).stdout
    return "--connections" in help_text


def briefing_send(url: str, *extra: str) -> list[str]:
    return BRIEFING + ["send", "--no-dry-run", "--smtp", url, "--insecure", *extra]


def timed_send(project: Project, cmd: list[str], sink: Sink, runs: Runs,
               mta: Postfix | None = None) -> None:
    """One timed run, from a fresh store; then check that every copy reached the sink. Through
    Postfix, the wait for it to relay them all is not timed, and the next run starts with an
    empty queue."""
    from postfix import wait_until

    project.fresh_store()
    before = sink.count
    seconds, peak = run_once(cmd, project.root)
    wait_until(lambda: sink.count - before >= project.count
               and (mta is None or mta.queue_is_empty()), 600, "every copy at the sink", mta)
    if sink.count - before != project.count:
        raise RuntimeError(f"{' '.join(cmd)}: {sink.count - before} copies arrived, "
                           f"{project.count} sent")
    runs.seconds.append(seconds)
    runs.peak_kb.append(peak)


def run_cpu(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one process."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        done = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(done.pid, 0)
        elapsed = time.perf_counter() - start
        done.returncode = os.waitstatus_to_exitcode(status)
        if done.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed: "
                               f"{err.read().decode(errors='replace')[-800:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def signing_rows(project: Project, runs: int, copies_in_process: int) -> list[tuple[str, ...]]:
    """(c): the CPU that DKIM signing adds to a send, per copy, two ways."""
    config = project.root / "briefing.yaml"
    plain = config.read_text(encoding="utf-8")
    if not (project.pristine / "dkim/bench.pem").exists():
        subprocess.run(BRIEFING + ["dkim", "keygen", "--selector", "bench", "--ed25519"],
                       cwd=project.root, check=True, capture_output=True)
        # Every run starts from the pristine .briefing/: the keys go there too.
        shutil.copytree(project.root / ".briefing/dkim", project.pristine / "dkim")
    signed = plain + ("dkim:\n  domain: framebyframe.example.org\n  selector: bench\n"
                      "  key: .briefing/dkim/bench.pem\n")
    both = signed + "  ed25519_key: .briefing/dkim/bench-ed25519.pem\n"
    names = ("plain", "rsa", "both")
    cpu: dict[str, list[float]] = {n: [] for n in names}
    dry: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    try:
        with Sink() as sink:
            url = f"smtp://127.0.0.1:{sink.port}"
            for _ in range(runs):
                for name, text in zip(names, (plain, signed, both), strict=True):
                    config.write_text(text, encoding="utf-8")
                    project.fresh_store()
                    # The dry run: everything but the copies (imports, the key, the self-check
                    # that signs and verifies one copy), so the difference is per copy.
                    dry[name].append(run_cpu(BRIEFING + ["send", "--smtp", url, "--insecure"],
                                             project.root)[1])
                    before = sink.count
                    seconds, used = run_cpu(briefing_send(url), project.root)
                    if sink.count - before != project.count:
                        raise RuntimeError(f"{name}: {sink.count - before} copies arrived")
                    cpu[name].append(used)
                    wall[name].append(seconds)
    finally:
        config.write_text(plain, encoding="utf-8")
    n = project.count
    median = statistics.median
    base_copies = median(cpu["plain"]) - median(dry["plain"])
    rows = []
    for name, what in (("plain", "`briefing send` to the sink, no `dkim:`"),
                       ("rsa", "`briefing send` to the sink, `dkim:` rsa-sha256 2048"),
                       ("both", "`briefing send` to the sink, `dkim:` rsa-sha256 + ed25519")):
        used = median(cpu[name])
        note = f"CPU {used:.2f} s in all"
        if name != "plain":
            fixed = median(dry[name]) - median(dry["plain"])
            added = ((used - median(dry[name])) - base_copies) / n * 1000
            note += (f"; signing adds {added:.2f} ms CPU per copy (target <= 1.5 ms)"
                     + (" ok" if added <= 1.5 else " MISSED")
                     + f", and {fixed * 1000:.0f} ms once (imports, key, self-check)")
        rows.append((what, f"{n:,}", f"{median(wall[name]):.2f}",
                     f"{n / median(wall[name]):,.0f}", "", note))
    rows += in_process_rows(project, copies_in_process)
    return rows


def in_process_rows(project: Project, count: int) -> list[tuple[str, ...]]:
    """Making copies in this process: the CPU per copy without and with the signer (best of
    3), and dkimpy's own sign() on the same copies."""
    import datetime as dt
    import hashlib

    import dkim

    from briefing.content.model import DkimSettings, Unsubscribe
    from briefing.deliver.dkim import MessageSigner, load_keys
    from briefing.deliver.personal import CopyMaker

    data = project.message.read_bytes()
    unsubscribe = Unsubscribe("https://framebyframe.example.org/u/{token}",
                              "mailto:unsubscribe+{token}@framebyframe.example.org")
    settings = DkimSettings(domain="framebyframe.example.org", selector="bench",
                            key=".briefing/dkim/bench.pem",
                            ed25519_key=".briefing/dkim/bench-ed25519.pem")
    rsa_only = DkimSettings(domain=settings.domain, selector="bench", key=settings.key)
    tokens = [f"{n:024d}" for n in range(count)]
    when = dt.datetime(2026, 3, 6, tzinfo=dt.UTC)

    def per_copy(keys) -> float:
        copies = CopyMaker(data, unsubscribe, hashlib.sha256(data).hexdigest(), "message.eml")
        if keys is not None:
            copies.signer = MessageSigner(keys, copies.body).header
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            for token in tokens:
                copies.copy(token, when)
            best = min(best, (time.process_time() - start) / count * 1000)
        return best

    plain = per_copy(None)
    rsa = per_copy(load_keys(project.root, rsa_only))
    both = per_copy(load_keys(project.root, settings))
    pem = (project.root / rsa_only.key).read_bytes()
    sample = CopyMaker(data, unsubscribe, "x", "message.eml").copy(tokens[0], when)[0]
    few = max(5, count // 100)
    start = time.process_time()
    for _ in range(few):
        dkim.sign(sample, b"bench", b"framebyframe.example.org", pem,
                  canonicalize=(b"relaxed", b"relaxed"))
    dkimpy = (time.process_time() - start) / few * 1000
    size = f"{len(data) / 1024:.0f} KB message"
    return [
        ("in process: a copy, unsigned", f"{count:,}", "", "", "", f"{plain:.3f} ms CPU/copy"),
        ("in process: a copy, signed rsa-sha256", f"{count:,}", "", "", "",
         f"{rsa:.3f} ms CPU/copy: signing {rsa - plain:.3f} ms ({size})"),
        ("in process: a copy, signed rsa-sha256 + ed25519", f"{count:,}", "", "", "",
         f"{both:.3f} ms CPU/copy: signing {both - plain:.3f} ms"),
        ("in process: dkimpy's own dkim.sign(), for reference", f"{few:,}", "", "", "",
         f"{dkimpy:.3f} ms CPU/copy (pure-Python RSA, key parsed per call)"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="200 copies, one run each")
    parser.add_argument("--copies", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    count = args.copies or (200 if args.smoke else 10_000)
    runs = args.runs or (1 if args.smoke else 2)

    project = Project(count)
    n = f"{project.count:,}"
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(what: str, r: Runs | None, note: str = "") -> None:
        if r is None:
            rows.append((what, n, "", "", "", note))
            return
        rows.append((what, n, f"{r.median:.2f}", f"{project.count / r.median:,.0f}",
                     f"{r.peak_mb:.0f}", note))

    # (a) briefing vs the plain loop, one connection each, alternated: B L B L ...
    ours, loop = Runs(), Runs()
    with Sink() as sink:
        loop_cmd = [PYTHON, "-c", LOOP, str(sink.port), str(project.message),
                    str(project.recipients), SENDER]
        for _ in range(runs):
            timed_send(project, briefing_send(f"smtp://127.0.0.1:{sink.port}"), sink, ours)
            timed_send(project, loop_cmd, sink, loop)
    ratio = ours.median / loop.median
    row("`briefing send`, one connection, to an aiosmtpd sink", ours,
        f"briefing/loop = {ratio:.2f}x (target <= 1.3x)" + (" ok" if ratio <= 1.3 else " MISSED"))
    row("plain smtplib loop, same bytes, one connection, same kind of sink", loop)

    # (b) into a private Postfix, one connection against four.
    from postfix import Postfix, unavailable

    reason = unavailable()
    if reason:
        row("`briefing send` into a private Postfix", None, f"skipped: {reason}")
    else:
        with Sink() as sink, Postfix(sink.port) as mta:
            if has_connections_option():
                one, four = Runs(), Runs()
                for _ in range(runs):
                    timed_send(project, briefing_send(mta.url, "--connections", "1"), sink, one,
                               mta)
                    timed_send(project, briefing_send(mta.url, "--connections", "4"), sink,
                               four, mta)
                speedup = one.median / four.median
                row("`briefing send --connections 1` into a private Postfix", one)
                row("`briefing send --connections 4` into a private Postfix", four,
                    f"4/1 = {speedup:.2f}x the messages per second (target >= 1.5x)"
                    + (" ok" if speedup >= 1.5 else " MISSED"))
            else:
                one = Runs()
                for _ in range(runs):
                    timed_send(project, briefing_send(mta.url), sink, one, mta)
                row("`briefing send` (one connection) into a private Postfix", one)
                row("`briefing send --connections 4` into a private Postfix", None,
                    "not yet available (no --connections option in this briefing)")

    # (c) DKIM signing: with and without dkim:, alternated.
    rows.extend(signing_rows(project, runs, 200 if args.smoke else 2000))

    print(f"Measured on {machine()}; median of {runs} run{'s' if runs > 1 else ''}"
          f"{' (smoke)' if args.smoke else ''}, alternated.\n")
    print("| what | copies | median s | messages/s | peak RSS MB | notes |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
