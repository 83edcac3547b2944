"""Never two at once, never a copy without a record, never silent: `briefing send` under
faults made real (a second send, SIGINT/SIGTERM/SIGKILL, a full or read-only disk, hostile
SMTP servers, a lying sendmail command), through the real CLI on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import CONFIG
from smtp_server import HOST, Behaviour, Server

READERS = [f"reader{n}@example.org" for n in range(1, 11)]
MANY = CONFIG.replace("  - Reader One <one@example.org>\n",
                      "".join(f"  - {a}\n" for a in READERS))
FAST = {"BRIEFING_RETRY_DELAY": "0.01"}


@pytest.fixture
def ten(factory):
    """A built issue with ten readers (in briefing.yaml)."""
    project = factory(config=MANY)
    assert project.cli("build").code == 0
    return project


def send(project, *args: str, timeout: float = 120):
    return project.cli("send", "--no-dry-run", *args, env=FAST, timeout=timeout)


def start_send(project, *args: str) -> subprocess.Popen:
    env = {**os.environ, **FAST}
    env.pop("BRIEFING_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "briefing", "send", "--no-dry-run", *args],
                            cwd=project.root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def deliveries(project) -> list[tuple[str, str]]:
    """(address, state) of every delivery row of 2026-W07."""
    db = sqlite3.connect(project.root / ".briefing" / "state.sqlite3")
    try:
        return db.execute("SELECT address, state FROM deliveries WHERE issue = '2026-W07' "
                          "ORDER BY id").fetchall()
    finally:
        db.close()


def wait_for(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def copies(server: Server) -> Counter:
    return Counter(m.rcpt_tos[0] for m in server.received)


# --- never two at once ---------------------------------------------------------------------

def test_a_second_send_refuses_at_once_naming_the_running_one(ten) -> None:
    # The relay holds the first copy until the second send has run, however slow the machine:
    # the first send is certainly still running when the second one starts.
    second_done = threading.Event()
    hold_first = Behaviour(on_data=lambda n: second_done.wait(60) if n == 1 else None)
    with Server(behaviour=hold_first) as server:
        first = start_send(ten, "--smtp", server.url, "--insecure")
        lock = ten.root / ".briefing" / "send.lock"
        wait_for(lambda: lock.exists() and lock.read_text().strip(), "the first send's lock")
        holder = json.loads(lock.read_text())
        try:
            second = send(ten, "--smtp", server.url, "--insecure")
        finally:
            second_done.set()
        assert second.code == 1
        assert second.err == (
            f".briefing/send.lock: error: another send is running: process {first.pid}, issue "
            f"2026-W07, since {holder['since']}; this one sent nothing (wait for it to finish "
            "(or stop it), then run this command again)\n")
        assert first.wait(60) == 0, first.stderr.read() if first.stderr else ""
        assert copies(server) == Counter(READERS)  # each reader once, from the first send
    assert lock.read_text() == ""  # released


def test_a_stale_lock_is_taken_over_and_said_so(ten) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    folder = ten.root / ".briefing"
    folder.mkdir(mode=0o700, exist_ok=True)
    (folder / "send.lock").write_text(json.dumps(
        {"pid": pid, "issue": "2026-W07", "since": "2026-11-29T08:00:00Z"}) + "\n")
    with Server() as server:
        result = send(ten, "--smtp", server.url, "--insecure")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f"took over the send lock left by process {pid}, issue 2026-W07, since "
        "2026-11-29T08:00:00Z, which is no longer running")
    assert copies(server) == Counter(READERS)


# --- signals -------------------------------------------------------------------------------

@pytest.mark.parametrize("number, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_stop_cleanly_and_say_how_to_resume(ten, number, code) -> None:
    with Server(behaviour=Behaviour(data_delay=0.2)) as server:
        running = start_send(ten, "--smtp", server.url, "--insecure")
        wait_for(lambda: len(server.received) >= 2, "two copies")
        running.send_signal(number)
        out, err = running.communicate(timeout=60)
        assert running.returncode == code, err
        sent = len(server.received)
        name = "SIGINT" if number == signal.SIGINT else "SIGTERM"
        assert err.splitlines()[-1] == (
            f"{server.url}: error: interrupted by {name}: sent {sent} of 10 recipients; the "
            f"ledger is saved; {10 - sent} not sent (to resume, run: briefing send 2026-W07 "
            f"--no-dry-run --smtp {server.url} --insecure)")
        assert "Traceback" not in err
        assert [state for _, state in deliveries(ten)] == ["accepted"] * sent
        rerun = send(ten, "--smtp", server.url, "--insecure")
        assert rerun.code == 0, rerun.err
        assert copies(server) == Counter(READERS)  # each exactly once, over both runs


def test_with_rate_no_new_copy_starts_after_the_signal(ten) -> None:
    """--rate 1 over three connections: two connections are waiting for their slot when the
    signal comes. Neither starts its copy: no MAIL FROM reaches the server after the signal."""
    with Server() as server:
        running = start_send(ten, "--smtp", server.url, "--insecure", "--rate", "1",
                             "--connections", "3")
        wait_for(lambda: len(server.received) >= 1, "the first copy")
        running.send_signal(signal.SIGINT)
        started = len(server.behaviour.mail_froms)
        out, err = running.communicate(timeout=60)
        assert running.returncode == 130, err
        assert len(server.behaviour.mail_froms) == started == len(server.received) == 1
    assert err.splitlines()[-1] == (
        f"{server.url}: error: interrupted by SIGINT: sent 1 of 10 recipients; the ledger is "
        f"saved; 9 not sent (to resume, run: briefing send 2026-W07 --no-dry-run --smtp "
        f"{server.url} --insecure --rate 1 --connections 3)")


def test_sigkill_at_any_moment_never_gives_anyone_two_copies(ten) -> None:
    """SMTP cannot tell whether the copy in flight at the kill arrived: that reader is left
    unconfirmed (0 or 1 copies, never 2); everyone else gets exactly one."""
    with Server(behaviour=Behaviour(data_delay=0.05)) as server:
        for kill_after in (1, 4, 7):
            running = start_send(ten, "--smtp", server.url, "--insecure")
            wait_for(lambda n=kill_after: len(server.received) >= n, f"{kill_after} copies")
            running.kill()
            running.wait(30)
        rerun = send(ten, "--smtp", server.url, "--insecure")
        assert rerun.code == 0, rerun.err
        got = copies(server)
        unsure = [a for a, state in deliveries(ten) if state == "attempted"]
        assert all(got[a] == 1 for a in READERS if a not in unsure), got
        assert all(got[a] <= 1 for a in unsure), (got, unsure)
        assert len(unsure) <= 3  # at most one per kill
        if unsure:
            assert "unconfirmed: " in rerun.out


# --- recording: a full or read-only disk ---------------------------------------------------

@contextlib.contextmanager
def small_disk(folder: Path, size: str):
    """A tmpfs of `size` mounted at `folder` (root only), unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                              str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"needs to mount a tmpfs (root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> None:
    """Write until the disk is full."""
    with contextlib.suppress(OSError), open(folder / "filler", "wb") as handle:
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()


def test_a_disk_too_full_to_record_stops_before_the_first_copy(factory) -> None:
    project = factory(config=MANY + "state: store/state.sqlite3\n")
    assert project.cli("build").code == 0
    with small_disk(project.root / "store", "600k"), Server() as server:
        result = send(project, "--smtp", server.url, "--insecure")
        assert result.code == 1
        errors = "".join(line for line in result.err.splitlines(keepends=True)
                         if not line.startswith("warning: "))  # the preflight's (example.org)
        assert re.fullmatch(
            r"store/state\.sqlite3: error: the disk has [\d,]+ bytes free; recording this "
            r"send needs about 1,020,000; nothing was sent \(make room first: a copy that "
            r"cannot be recorded could be sent twice\)\n", errors), result.err
        assert server.received == []


def test_a_read_only_store_stops_before_the_first_copy(factory) -> None:
    project = factory(config=MANY + "state: store/state.sqlite3\n")
    assert project.cli("build").code == 0
    with small_disk(project.root / "store", "4m") as folder, Server() as server:
        assert project.cli("subscribers", "list").code == 0  # the store exists
        remount = subprocess.run(["mount", "-o", "remount,ro", str(folder)],
                                 capture_output=True, text=True)
        assert remount.returncode == 0, remount.stderr
        result = send(project, "--smtp", server.url, "--insecure")
        assert result.code == 1
        assert result.err.startswith("store/state.sqlite3: error: ")
        assert "nothing was sent" in result.err and "Traceback" not in result.err
        assert server.received == []


def test_a_disk_filling_up_mid_send_stops_at_once_and_never_sends_twice(factory) -> None:
    project = factory(config=MANY + "state: store/state.sqlite3\n")
    assert project.cli("build").code == 0
    with small_disk(project.root / "store", "2m") as folder:
        def on_data(number: int) -> None:
            if number == 3:  # the third copy arrives: the disk fills before its 250
                fill(folder)
        with Server(behaviour=Behaviour(on_data=on_data)) as server:
            result = send(project, "--smtp", server.url, "--insecure")
            assert result.code == 1
            assert "Traceback" not in result.err
            third = server.received[2].rcpt_tos[0]
            assert (f"{third}'s copy was accepted (250 2.0.0 OK queued as T3) but could not "
                    "be recorded") in result.err
            assert len(server.received) == 3  # it stopped at once
            (folder / "filler").unlink()  # room again
            rerun = send(project, "--smtp", server.url, "--insecure")
            assert rerun.code == 0, rerun.err
            assert f"unconfirmed: 1: {third}: a copy was handed over when an earlier send " \
                "stopped, so they may have it; not sent again (--force sends again)" \
                in rerun.out.splitlines()
            assert copies(server) == Counter(READERS)  # the third reader too: once


# --- hostile or broken SMTP servers --------------------------------------------------------

class Raw:
    """A TCP server on 127.0.0.1 that runs `script(conn)` for each connection."""

    def __init__(self, script) -> None:
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.url = f"smtp://{HOST}:{self.port}"
        self.stop = threading.Event()
        self.script = script
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            self.script(conn, self.stop)

    def __enter__(self) -> Raw:
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


def lines(conn: socket.socket):
    buffer = b""
    while True:
        while b"\r\n" not in buffer:
            data = conn.recv(65536)
            if not data:
                return
            buffer += data
        line, buffer = buffer.split(b"\r\n", 1)
        yield line


def smtp_until(stage: str, then):
    """A minimal SMTP server that behaves until `stage` (MAIL, RCPT, DATA, END) and then
    calls `then(conn, stop)`."""
    def script(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"220 ready\r\n")
        reading = lines(conn)
        for line in reading:
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250 hello\r\n")
            elif verb == b"MAIL":
                if stage == "MAIL":
                    return then(conn, stop)
                conn.sendall(b"250 OK\r\n")
            elif verb == b"RCPT":
                if stage == "RCPT":
                    return then(conn, stop)
                conn.sendall(b"250 OK\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go on\r\n")
                for body in reading:
                    if body == b".":
                        break
                if stage == "END":
                    return then(conn, stop)
                conn.sendall(b"250 OK queued\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            elif verb == b"RSET":
                conn.sendall(b"250 OK\r\n")
    return script


def endless_greeting(conn: socket.socket, stop: threading.Event) -> None:
    while not stop.is_set():
        conn.sendall(b"220-still greeting you\r\n")
        time.sleep(0.05)


def dripping_greeting(conn: socket.socket, stop: threading.Event) -> None:
    for byte in b"220 a very slow hello that never ends" * 100:
        if stop.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(0.1)


def garbage_greeting(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"\x16\x03\x01 this is not SMTP\r\n")
    time.sleep(1)


def stall(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(30)


def drop(conn: socket.socket, stop: threading.Event) -> None:
    conn.close()


def reply(text: bytes):
    def answer(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(text + b"\r\n")
        stop.wait(0.5)
    return answer


@pytest.mark.parametrize("script, message", [
    (endless_greeting, "stopped after 0 of 10 recipients: could not connect (timed out); 10 "
                       "not tried"),
    (dripping_greeting, "stopped after 0 of 10 recipients: could not connect (timed out); 10 "
                        "not tried"),
    (garbage_greeting, "stopped after 0 of 10 recipients: could not connect (-1 this is not "
                       "SMTP); 10 not tried"),
])
def test_a_hostile_greeting_is_cut_off_by_the_deadline(ten, script, message) -> None:
    with Raw(script) as server:
        started = time.monotonic()
        result = send(ten, "--smtp", server.url, "--insecure", "--timeout", "1")
        assert time.monotonic() - started < 20
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"{server.url}: error: {message} (to resume, run: briefing send 2026-W07 --no-dry-run "
        f"--smtp {server.url} --insecure --timeout 1)")
    assert "Traceback" not in result.err


def test_a_server_that_stalls_after_data_leaves_the_reader_unconfirmed(ten) -> None:
    with Raw(smtp_until("END", stall)) as server:
        result = send(ten, "--smtp", server.url, "--insecure", "--timeout", "1")
    assert result.code == 1
    assert result.err.splitlines()[-3:] == [
        f"{server.url}: error: reader1@example.org may have received the issue: the transport "
        "failed after the message was handed over, so it is recorded as unconfirmed and a "
        "rerun does not send it again (send it again only if you know it did not arrive: "
        f"briefing send 2026-W07 --no-dry-run --to reader1@example.org --smtp {server.url} "
        "--insecure --force --timeout 1)",
        f"{server.url}: error: stopped after 0 of 10 recipients: lost the connection (timed "
        f"out); 9 not tried (to resume, run: briefing send 2026-W07 --no-dry-run --smtp "
        f"{server.url} --insecure --timeout 1)",
        "2 errors in 1 file"]
    assert deliveries(ten) == [("reader1@example.org", "attempted")]


@pytest.mark.parametrize("stage, script, reason, recorded", [
    ("RCPT", drop, "lost the connection (connection unexpectedly closed)", []),
    ("RCPT", reply(b"421 4.3.2 shutting down"),
     "the server closed the connection (421 4.3.2 shutting down)", []),
])
def test_a_connection_lost_before_data_records_nothing(ten, stage, script, reason,
                                                         recorded) -> None:
    with Raw(smtp_until(stage, script)) as server:
        result = send(ten, "--smtp", server.url, "--insecure", "--timeout", "2")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"{server.url}: error: stopped after 0 of 10 recipients: {reason}; 10 not tried (to "
        f"resume, run: briefing send 2026-W07 --no-dry-run --smtp {server.url} --insecure "
        "--timeout 2)")
    assert deliveries(ten) == recorded


def test_552_after_data_names_the_reader_and_records_nothing_for_them(ten) -> None:
    behaviour = Behaviour(data_replies={"reader2@example.org": ["552 5.3.4 message too big"]})
    with Server(behaviour=behaviour) as server:
        result = send(ten, "--smtp", server.url, "--insecure")
    assert result.code == 1
    assert (f"{server.url}: error: reader2@example.org was not delivered: 552 5.3.4 message "
            "too big") in result.err.splitlines()
    assert "reader2@example.org" not in [a for a, _ in deliveries(ten)]
    assert len(deliveries(ten)) == 9


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_a_usage_error(ten, value) -> None:
    result = ten.cli("send", "--smtp", "smtp://127.0.0.1:9", "--timeout", value)
    assert result.code == 2
    assert result.err.endswith(f"Error: Invalid value for '--timeout': {float(value)!r} is "
                               "not a number of seconds above 0\n"), result.err
    assert "Traceback" not in result.err


# --- several connections, the envelope sender ----------------------------------------------

def test_several_connections_keep_the_ledger_exact(ten) -> None:
    with Server(behaviour=Behaviour(data_delay=0.1)) as server:
        dry = ten.cli("send", "--smtp", server.url, "--insecure", "--connections", "4")
        assert ("would send: 10 messages (one SMTP transaction per recipient, 4 connections at "
                "once) and record each accepted one; a 4xx reply is tried up to 4 times in all"
                ) in dry.out.splitlines()
        result = send(ten, "--smtp", server.url, "--insecure", "--connections", "4")
        assert result.code == 0, result.err
        assert server.behaviour.most_at_once == 4
    assert copies(server) == Counter(READERS)
    assert sorted(a for a, _ in deliveries(ten)) == sorted(READERS)
    assert {state for _, state in deliveries(ten)} == {"accepted"}


def test_bounce_address_is_the_envelope_sender(factory) -> None:
    project = factory(config=MANY + "bounce_address: bounces@example.org\n")
    assert project.cli("build").code == 0
    with Server() as server:
        dry = project.cli("send", "--smtp", server.url, "--insecure")
        assert ("from:       Test Briefing <news@example.org> (bounces to bounces@example.org)"
                ) in dry.out.splitlines()
        assert send(project, "--smtp", server.url, "--insecure").code == 0
    assert set(server.behaviour.mail_froms) == {"bounces@example.org"}
    assert {m.mail_from for m in server.received} == {"bounces@example.org"}


# --- a sendmail command that lies or hangs ---------------------------------------------------

def command(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_a_command_that_exits_0_without_reading_is_not_delivered(ten, tmp_path) -> None:
    liar = command(tmp_path, "liar", "exit 0\n")
    result = send(ten, "--sendmail", liar)
    assert result.code == 1
    size = (ten.root / "out/2026-W07/message.eml").stat().st_size
    assert "liar exited 0 but read only 0 of the " in result.err
    assert "so it is not counted as delivered" in result.err
    assert [state for _, state in deliveries(ten)] == ["attempted"]  # unconfirmed, not sent
    assert size > 0


def test_a_command_that_times_out_is_killed_with_its_children(ten, tmp_path) -> None:
    late = tmp_path / "delivered-late"
    slow = command(tmp_path, "slow", f"cat > /dev/null\n(sleep 3; touch {late}) &\nsleep 30\n")
    started = time.monotonic()
    result = send(ten, "--sendmail", slow, "--timeout", "1")
    assert time.monotonic() - started < 20
    assert result.code == 1
    assert ("slow did not finish within 1 s (stopped, with the processes it started)"
            in result.err)
    time.sleep(4)  # past the moment the orphan would have delivered
    assert not late.exists()
