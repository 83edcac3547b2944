"""A private Postfix on 127.0.0.1 for tests and benchmarks: its own configuration, queue and data
folders in a temporary folder, relaying everything to a sink, bounces delivered to a Maildir."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HOST = "127.0.0.1"
POSTFIX = "/usr/sbin/postfix"
SENDMAIL = "/usr/sbin/sendmail"
BOUNCE_DOMAIN = "bounces.test"
BOUNCE_ADDRESS = f"bounces@{BOUNCE_DOMAIN}"
HOSTNAME = "postfix.test"  # myhostname: the name in Received and in MAILER-DAEMON@ of a DSN
SKIP_REASON = "needs Debian postfix, installed by .ci/run"

# Every service the instance uses, none chrooted: Debian's own master.cf chroots most of them into
# the queue folder, which would need copies of /etc files there. `local` is left out on purpose:
# nothing is delivered to a local user (local_transport below refuses it).
MASTER_CF = """\
# service   type  private unpriv  chroot  wakeup  maxproc command
{listen}    inet  n       -       n       -       -       smtpd
pickup      unix  n       -       n       60      1       pickup
cleanup     unix  n       -       n       -       0       cleanup
qmgr        unix  n       -       n       300     1       qmgr
rewrite     unix  -       -       n       -       -       trivial-rewrite
bounce      unix  -       -       n       -       0       bounce
defer       unix  -       -       n       -       0       bounce
trace       unix  -       -       n       -       0       bounce
verify      unix  -       -       n       -       1       verify
flush       unix  n       -       n       1000?   0       flush
proxymap    unix  -       -       n       -       -       proxymap
smtp        unix  -       -       n       -       -       smtp
relay       unix  -       -       n       -       -       smtp
showq       unix  n       -       n       -       -       showq
error       unix  -       -       n       -       -       error
retry       unix  -       -       n       -       -       error
discard     unix  -       -       n       -       -       discard
virtual     unix  -       n       n       -       -       virtual
anvil       unix  -       -       n       -       1       anvil
scache      unix  -       -       n       -       1       scache
postlog     unix-dgram n  -       n       -       1       postlogd
"""


def unavailable() -> str | None:
    """Why a private Postfix cannot run here (None when it can)."""
    if not (Path(POSTFIX).exists() and Path(SENDMAIL).exists()
            and Path("/usr/lib/postfix/sbin/master").exists()):
        return f"{SKIP_REASON}: {POSTFIX} not found"
    if os.geteuid() != 0:
        # postfix start-fg and the master daemon must run as root (postfix(1)).
        return f"{SKIP_REASON}: it must run as root"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return f"{SKIP_REASON}: no 'postfix' user"
    return None


def skip_unless_available() -> None:
    """In a test: skip it, saying why, when a private Postfix cannot run here."""
    reason = unavailable()
    if reason:
        import pytest  # here, so that the benchmarks can use this module without pytest

        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, what: str,
               postfix: Postfix | None = None) -> None:
    """Poll `condition` every 50 ms; fail with `what` (and the end of Postfix's log) on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tail = f"\n--- Postfix log (end) ---\n{postfix.log_tail()}" if postfix else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{tail}")
        time.sleep(0.05)


class Postfix:
    """`with Postfix(sink_port) as mta:` runs a private Postfix: smtpd on 127.0.0.1:mta.port,
    everything relayed to 127.0.0.1:sink_port except mail for BOUNCE_DOMAIN, which lands in the
    Maildir mta.maildir. Stopped, and its folder removed, on the way out, whatever happened."""

    def __init__(self, sink_port: int, *, settings: dict[str, str] | None = None) -> None:
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        self.sink_port = sink_port
        self.port = free_port()
        self.settings = settings or {}
        # Not pytest's tmp_path: Postfix's unprivileged processes (virtual(8) writing the
        # Maildir, postlogd, the data folder's users) must be able to walk down to their folders,
        # and /tmp/pytest-of-root is 0700 root. mkdtemp's own folder is 0700, opened up below.
        self.root = Path(tempfile.mkdtemp(prefix="briefing-postfix-"))
        self.config_dir = self.root / "config"
        self.queue_dir = self.root / "queue"
        self.data_dir = self.root / "data"
        self.mail_dir = self.root / "mail"
        self.maildir = self.mail_dir / "bounces"  # BOUNCE_ADDRESS's Maildir (virtual(8))
        self.log = self.root / "maillog"
        self._process: subprocess.Popen | None = None
        self.master_pid: int | None = None  # from pid/master.pid once it runs

    # --- what tests use ------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    # Measured with Debian's Postfix 3.7 as root: `sendmail -C DIR` (or -C DIR/main.cf, or
    # MAIL_CONFIG=DIR) is honoured, and postdrop drops the message into DIR's queue, where this
    # instance's pickup finds it. Neither `postfix -c` nor `sendmail -C` needs DIR listed in
    # alternate_config_directories of /etc/postfix/main.cf when run as root: the check
    # (mail_conf_checkdir) applies only when the effective uid is not 0. As another user, sendmail
    # stops at "open file /etc/postfix/main.cf" (or "untrusted configuration directory name"),
    # which is why this helper needs root, and never touches the machine-wide main.cf.
    def sendmail(self, *args: str) -> list[str]:
        """Postfix's own sendmail command for this instance (postdrop -> pickup -> cleanup)."""
        return [SENDMAIL, "-C", str(self.config_dir), *args]

    def log_text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def queue_is_empty(self) -> bool:
        """No message waiting anywhere in the queue (submitted, being delivered or deferred)."""
        for name in ("maildrop", "incoming", "active", "deferred", "hold"):
            folder = self.queue_dir / name
            if folder.exists() and any(p.is_file() for p in folder.rglob("*")):
                return False
        return True

    def bounce_files(self) -> list[Path]:
        """The messages delivered to BOUNCE_ADDRESS's Maildir (new/: nobody has read them),
        oldest first."""
        folder = self.maildir / "new"
        return sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns) \
            if folder.exists() else []

    # --- setting up ----------------------------------------------------------------------

    def main_cf(self) -> dict[str, str]:
        postfix = pwd.getpwnam("postfix")
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue_dir),
            "data_directory": str(self.data_dir),
            "myhostname": HOSTNAME,
            "mydomain": "test",
            "myorigin": "$myhostname",
            # Listen on the loopback interface only; IPv4 only, since a container may have no ::1.
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            # 127.0.0.1 is named by /etc/hosts; nothing to gain from a lookup per connection.
            "smtpd_peername_lookup": "no",
            # Nothing is delivered locally: no local domain, no aliases, no local(8) service.
            "mydestination": "",
            "local_transport": "error:5.1.1 this test instance delivers nothing locally",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            # Everything else goes to the sink, by IP address: no DNS at all.
            "relayhost": f"[{HOST}]:{self.sink_port}",
            "smtp_dns_support_level": "disabled",
            "smtp_host_lookup": "native",
            # The one final destination: bounces@bounces.test, a Maildir (trailing '/') under
            # mail/, written by virtual(8) as the postfix user.
            "virtual_mailbox_domains": BOUNCE_DOMAIN,
            "virtual_mailbox_base": str(self.mail_dir),
            "virtual_mailbox_maps": f"inline:{{ {BOUNCE_ADDRESS}=bounces/ }}",
            "virtual_uid_maps": f"static:{postfix.pw_uid}",
            "virtual_gid_maps": f"static:{postfix.pw_gid}",
            "virtual_minimum_uid": "1",  # the postfix user's uid may be below the default 100
            # Tests wait seconds, not the defaults' minutes and days: a deferred message is
            # retried after 1-2 s and given up (and bounced) after 30 s.
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "maximal_queue_lifetime": "30s",
            "bounce_queue_lifetime": "30s",
            "delay_warning_time": "0h",
            "smtp_connect_timeout": "5s",
            # Postfix slows senders down (up to 1 s a message) when mail arrives faster than it
            # leaves; a test or a benchmark wants the real speed of each side.
            "in_flow_delay": "0",
            # The log on stdout (postfix start-fg), which the helper captures to a file.
            "maillog_file": "/dev/stdout",
            "biff": "no",
        }
        settings.update(self.settings)
        return settings

    def _write_config(self) -> None:
        postfix = pwd.getpwnam("postfix")
        self.root.chmod(0o755)
        # Root-owned and not group/world writable: `postfix check` warns otherwise.
        self.config_dir.mkdir(mode=0o755)
        # The queue folder is root's (start-fg's checks make its subfolders); the data folder
        # is the postfix user's, and so is mail/, where virtual(8) makes the Maildir.
        self.queue_dir.mkdir(mode=0o755)
        for folder in (self.data_dir, self.mail_dir):
            folder.mkdir(mode=0o700)
            os.chown(folder, postfix.pw_uid, postfix.pw_gid)
        main = "".join(f"{name} = {value}\n" for name, value in self.main_cf().items())
        (self.config_dir / "main.cf").write_text(main, encoding="utf-8")
        (self.config_dir / "master.cf").write_text(
            MASTER_CF.format(listen=f"{HOST}:{self.port}".ljust(9)), encoding="utf-8")
        # Postfix rereads a configuration file whose mtime is within the last second or so,
        # sleeping 300 ms between reads until it is "cold" (dict_load_file: it may be being
        # edited). Every Postfix program, postconf and sendmail alike, would wait 1-2 s.
        cold = time.time() - 60
        for name in ("main.cf", "master.cf"):
            os.utime(self.config_dir / name, (cold, cold))

    def start(self) -> Postfix:
        self._write_config()
        with open(self.log, "ab") as log:  # append: postlogd reopens /dev/stdout itself
            # Its own session, so that a Ctrl-C of pytest reaches Postfix only through stop().
            self._process = subprocess.Popen(
                [POSTFIX, "-c", str(self.config_dir), "start-fg"], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(self._listening, 30, f"Postfix's smtpd on {HOST}:{self.port}", self)
        except BaseException:
            self.stop()
            raise
        return self

    def _listening(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise AssertionError(f"postfix start-fg exited ({self._process.returncode}):\n"
                                 f"{self.log_tail()}")
        self._read_master_pid()
        try:
            with socket.create_connection((HOST, self.port), timeout=2) as s:
                s.settimeout(5)
                ready = s.recv(4).startswith(b"220")
                s.sendall(b"QUIT\r\n")  # a clean session, not "lost connection" in the log
                return ready
        except OSError:
            return False

    def _read_master_pid(self) -> None:
        if self.master_pid is None:
            with contextlib.suppress(OSError, ValueError):
                self.master_pid = int((self.queue_dir / "pid" / "master.pid").read_text())

    # --- stopping ------------------------------------------------------------------------

    def stop(self) -> None:
        """`postfix stop`, wait, then kill whatever of the instance is left; remove the folder."""
        try:
            self._read_master_pid()
            if self._process is not None:
                subprocess.run([POSTFIX, "-c", str(self.config_dir), "stop"],
                               capture_output=True, timeout=30, check=False)
                try:
                    self._process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    # postfix-script is waiting for a master that would not stop: kill both.
                    if self.master_pid:
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(self.master_pid, signal.SIGKILL)
                    os.killpg(self._process.pid, signal.SIGKILL)
                    self._process.wait(timeout=5)
            self._kill_leftovers()
        finally:
            self._process = None
            shutil.rmtree(self.root, ignore_errors=True)

    def _kill_leftovers(self) -> None:
        """The master makes its own process group; any process still in it (a daemon that did
        not exit on the master's SIGTERM) is killed, so nothing of the instance keeps running."""
        if self.master_pid is None:
            return
        deadline = time.monotonic() + 5
        while True:
            left = group_members(self.master_pid)
            if not left:
                return
            if time.monotonic() > deadline:
                for pid in left:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    def __enter__(self) -> Postfix:
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            # The folder (and the log) is about to go: show the log with the failure.
            print(f"--- Postfix log ({self.log}) ---\n{self.log_tail(200)}")
        self.stop()


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group `pgid`, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members
