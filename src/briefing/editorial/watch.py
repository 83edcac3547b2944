"""Waiting for a save: the OS's file notifications, asleep until one comes (no periodic wake-up).

On Linux the preview reads inotify's descriptor itself and blocks on it with no timeout: an idle
preview is never scheduled. (watchfiles' watch() loop wakes every `step` milliseconds to look
at what its thread collected: 0.7% of a core at 8 ms.) Elsewhere, watchfiles' public watch()
does the waiting; without either, file times are compared every POLL_SECONDS.
"""

from __future__ import annotations

import contextlib
import os
import select
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

POLL_SECONDS = 0.3  # only when no notifications can be had
# The events of one save (editors write, rename and chmod in a burst) are taken together: the
# rebuild starts STEP_SECONDS after the last event, at most DEBOUNCE_SECONDS after the first.
STEP_SECONDS, DEBOUNCE_SECONDS = 0.008, 0.06

# <sys/inotify.h>
IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF, IN_Q_OVERFLOW, IN_IGNORED = 0x400, 0x800, 0x4000, 0x8000
IN_ONLYDIR, IN_ISDIR = 0x01000000, 0x40000000
CHANGES = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
           | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)
EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name


class Inotify:
    """inotify watches on folders (each one: inotify is not recursive), read without a timeout.

    `wait()` sleeps until something under the folders changes or `stop()` is called."""

    def __init__(self, root: Path, names: tuple[str, ...]) -> None:
        import ctypes
        self.root, self.names = root, names  # watched in root: only these entries matter
        self._libc = ctypes.CDLL(None, use_errno=True)
        fd = self._libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        if fd < 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        self.fd = fd
        self._closing = threading.Lock()  # stop() from another thread never writes to a
        self._closed = False              # descriptor number that close() gave back
        self._wakeup_r = self._wakeup_w = -1
        self._folders: dict[int, Path] = {}
        try:
            self._wakeup_r, self._wakeup_w = os.pipe()
            self._add(root, recursive=False)
            for name in names:
                if (root / name).is_dir():
                    self._add(root / name)
        except OSError:
            self.close()
            raise

    def _add(self, folder: Path, recursive: bool = True) -> None:
        """Watch a folder (and, recursively, the folders in it); a folder that is gone by now
        is left out. No watch or descriptor left (ENOSPC, EMFILE) raises OSError."""
        import ctypes
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(folder), CHANGES | IN_ONLYDIR)
        if wd < 0:
            error = ctypes.get_errno()
            if error in (2, 20):  # ENOENT, ENOTDIR: removed or replaced meanwhile
                return
            raise OSError(error, os.strerror(error), str(folder))
        self._folders[wd] = folder
        if recursive:
            with contextlib.suppress(OSError):
                for entry in os.scandir(folder):
                    if entry.is_dir(follow_symlinks=False):
                        self._add(Path(entry.path))

    def _read(self) -> bool:
        """Take the events waiting; True when one is about a file a build may read."""
        relevant = False
        try:
            data = os.read(self.fd, 64 * 1024)
        except BlockingIOError:
            return False
        offset = 0
        while offset + EVENT.size <= len(data):
            wd, mask, _cookie, length = EVENT.unpack_from(data, offset)
            name = os.fsdecode(data[offset + EVENT.size:offset + EVENT.size + length]
                               .rstrip(b"\0"))
            offset += EVENT.size + length
            if mask & IN_Q_OVERFLOW:  # events were lost: rebuild, and look at every folder
                relevant = True
                self._rescan()
                continue
            if mask & IN_IGNORED:
                self._folders.pop(wd, None)
                continue
            folder = self._folders.get(wd)
            if folder is None:
                continue
            if folder == self.root and name not in self.names:
                continue  # out/, .briefing/, .git/: the build's own writes are not edits
            if mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
                self._add(folder / name)  # a new folder: its files are watched too
            relevant = relevant or not _scratch(name)
        return relevant

    def _rescan(self) -> None:
        known = set(self._folders.values())
        for name in self.names:
            folder = self.root / name
            if folder.is_dir() and folder not in known:
                self._add(folder)

    def wait(self) -> bool:
        """Sleep until a change (True) or stop() (False); then gather the rest of the burst."""
        ready: list = []
        while True:
            ready, _, _ = select.select([self.fd, self._wakeup_r], [], [])
            if self._wakeup_r in ready:
                return False
            if self._read():
                break
        deadline = time.monotonic() + DEBOUNCE_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd, self._wakeup_r], [], [], min(STEP_SECONDS, left))
            if self._wakeup_r in ready:
                return False
            if not ready:
                break  # quiet for a step: the save is complete
            self._read()
        return True

    def stop(self) -> None:
        with self._closing, contextlib.suppress(OSError):
            if not self._closed:
                os.write(self._wakeup_w, b"x")

    def close(self) -> None:
        with self._closing:
            if self._closed:
                return
            self._closed = True
            for fd in (self.fd, self._wakeup_r, self._wakeup_w):
                with contextlib.suppress(OSError):
                    os.close(fd)


def _scratch(name: str) -> bool:
    """An editor's own working files (.industry.yaml.swp, industry.yaml~): never a brief."""
    return name.startswith(".") or name.endswith("~")


class Watch:
    """Changes under root's `names` (briefing.yaml, briefs/, templates/), one item per save.

    Watching starts when this is made, so a save between then and the first wait is seen.
    `how` says how changes are seen, for the preview to tell the editor."""

    def __init__(self, root: Path, names: tuple[str, ...]) -> None:
        self.root, self.names = root, names
        self.stopping = threading.Event()
        self.notify: Inotify | None = None
        self.seen: dict[str, tuple[int, int]] = {}
        try:
            if os.uname().sysname != "Linux":  # FSEvents, kqueue, ReadDirectoryChanges...
                raise LookupError("no inotify")
            self.notify = Inotify(root, names)
            self.how = "notifications"
        except LookupError:  # pragma: no cover - other systems: watchfiles' public API
            self.how = "notifications (watchfiles)"
        except OSError as exc:  # no inotify instance, watch or descriptor left
            self.how = f"polling ({type(exc).__name__}: {exc})"
            self.seen = _files(root, names)

    def __iter__(self) -> Iterator[None]:
        try:
            if self.notify is not None:
                while self.notify.wait():
                    yield None
                return
            if self.how.startswith("notifications"):  # pragma: no cover - not Linux
                yield from self._watchfiles()
                if self.stopping.is_set():
                    return
            while not self.stopping.wait(POLL_SECONDS):
                now = _files(self.root, self.names)
                if now != self.seen:
                    self.seen = now
                    yield None
        finally:
            self.close()

    def _watchfiles(self) -> Iterator[None]:  # pragma: no cover - not Linux
        paths = [str(self.root / n) for n in self.names if (self.root / n).exists()]
        try:
            import watchfiles
            for _ in watchfiles.watch(*(paths or [str(self.root)]), stop_event=self.stopping,
                                      debounce=int(DEBOUNCE_SECONDS * 1000),
                                      raise_interrupt=False):
                yield None
        except Exception as exc:  # noqa: BLE001 - the watcher failed: poll instead
            self.how = f"polling ({type(exc).__name__}: {exc})"
            self.seen = _files(self.root, self.names)

    def stop(self) -> None:
        self.stopping.set()
        if self.notify is not None:
            self.notify.stop()

    def close(self) -> None:
        if self.notify is not None:
            self.notify.close()


def _files(root: Path, names: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file under root's `names` (the polling fallback's view)."""
    found: dict[str, tuple[int, int]] = {}
    for name in names:
        top = root / name
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            with contextlib.suppress(OSError):
                info = path.stat()
                if path.is_file():
                    found[str(path)] = (info.st_mtime_ns, info.st_size)
    return found
