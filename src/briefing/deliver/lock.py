"""One send at a time per project: a lock file beside the store, held with flock(2).

The kernel drops an flock when its process dies, however it dies, so the lock cannot outlive
a killed send. The file also says who holds it (process, issue, since when): a second send
names the running one, and a send that finds the file left by a dead one says it took over.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from ..errors import BriefingError, Problem
from ..subscribers.store import now

LOCK_FILE = "send.lock"


class SendLock:
    """Held from before the ledger is read until the send ends."""

    def __init__(self, folder: Path, shown_folder: str, issue_id: str) -> None:
        self.path = folder / LOCK_FILE
        self.shown = f"{shown_folder}/{LOCK_FILE}" if shown_folder else LOCK_FILE
        self.issue_id = issue_id
        self.fd: int | None = None
        self.note = ""  # said when a stale lock was taken over

    def acquire(self) -> SendLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise BriefingError(Problem(self.shown, 0, 0, f"cannot open the send lock: "
                                        f"{exc.strerror}; nothing was sent")) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise BriefingError(Problem(
                self.shown, 0, 0, f"another send is running: {_describe(holder)}; this one "
                                  "sent nothing",
                "wait for it to finish (or stop it), then run this command again")) from None
        holder = _read(fd)
        if holder:  # the process that wrote it is gone: the kernel released its lock
            self.note = (f"took over the send lock left by {_describe(holder)}, which is no "
                         "longer running")
        record = {"pid": os.getpid(), "issue": self.issue_id, "since": now()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode() + b"\n", 0)
        self.fd = fd
        return self

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # an empty file: nobody holds it, nobody died holding it
        os.close(fd)  # closing drops the flock


def _read(fd: int) -> dict:
    try:
        data = os.pread(fd, 4096, 0)
        found = json.loads(data) if data.strip() else {}
    except (OSError, ValueError):
        return {"pid": "?", "issue": "?", "since": "?"}
    return found if isinstance(found, dict) else {}


def _describe(holder: dict) -> str:
    return (f"process {holder.get('pid', '?')}, issue {holder.get('issue', '?')}, since "
            f"{holder.get('since', '?')}")
