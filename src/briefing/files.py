"""The one guarded write path (temp file in the same folder, fsync, os.replace; confined) and
the private folder: the bottom layer every writer uses, public out/ and private .briefing/ alike."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from .errors import BriefingError, Problem

TEMP_PREFIX = ".briefing-tmp-"
# Our temporaries carry the writing process's id, so a later write can tell the litter of a
# killed build (its process is gone) from the files of a build running right now.
_OURS = re.compile(re.escape(TEMP_PREFIX) + r"(?:(\d+)-(?:(\d+|x)-)?)?")


def confined_path(out_root: Path, relative: str, shown: str = "out") -> Path:
    """The target path, refused when it or any folder on the way is a link or leads outside out/."""
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise BriefingError(Problem(f"{shown}/{relative}", 0, 0,
                                    f"refusing to write outside {shown}/"))
    if out_root.is_symlink():
        raise BriefingError(Problem(shown, 0, 0, f"{shown}/ is a symbolic link; refusing to "
                                    "write through it", f"make {shown}/ a real folder"))
    current = out_root
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            raise BriefingError(Problem(f"{shown}/{relative}", 0, 0,
                                        "refusing to write through a symbolic link"))
    return current


def _start_time(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc), or None when it is not
    running: gone, or a zombie (killed, not yet reaped by its parent: it will never write
    again). Without /proc (macOS, BSD) only "is a process with that pid there" can be told."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except FileNotFoundError:
        return None
    except OSError:
        return _ALIVE_UNKNOWN if _pid_exists(pid) else None
    # The command name is in parentheses and may hold spaces or ')': split after the last ')'.
    fields = stat[stat.rindex(b")") + 2:].split()
    if fields[0] in (b"Z", b"X"):  # zombie or dead: killed, not reaped yet
        return None
    return fields[19].decode()  # field 22 of proc_pid_stat(5): starttime


_ALIVE_UNKNOWN = "x"  # a live process whose start time cannot be read


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, it is someone else's
        return True
    return True


def _own_tag() -> str:
    """This process in temp names: pid and start time, so a later process that reuses the pid
    is not taken for the writer (pids wrap around; containers start from 1)."""
    start = _start_time(os.getpid())
    return f"{os.getpid()}-{start if start and start != _ALIVE_UNKNOWN else 'x'}"


def _alive(pid: int, start: str | None) -> bool:
    """Whether the process that wrote a temp file may still be writing it."""
    if pid == os.getpid():
        return True
    now = _start_time(pid) if Path("/proc/self/stat").exists() else (
        _ALIVE_UNKNOWN if _pid_exists(pid) else None)
    if now is None:
        return False
    if start in (None, "x") or now == _ALIVE_UNKNOWN:
        return True  # cannot tell a reused pid apart: leave the file for a later write
    return now == start


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove our own temporaries left in `folder` by a write that was killed (SIGKILL, power
    loss): names starting with .briefing-tmp- whose process is gone. Only regular files, never
    through a link; anything that cannot be removed stays (the next write tries again)."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        found = _OURS.match(entry.name)
        if not found or not entry.is_file(follow_symlinks=False):
            continue
        if found.group(1) and _alive(int(found.group(1)), found.group(2)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def write_files(out_root: Path, files: dict[str, bytes], shown: str = "out",
                remove: tuple[str, ...] = ()) -> list[Path]:
    """Write every file or none: all are staged and synced first, then renamed into place.

    If anything fails, the temp files are removed and the previous outputs are put back: a
    file already renamed over is restored from a hard link to its old version taken just before.
    `remove` names files (relative to out_root) to delete once every write went through: files
    of an earlier set that the new one no longer has. `shown` is how out_root is named in
    messages ("out", ".briefing/drafts").
    """
    staged: list[tuple[Path, Path]] = []
    backups: dict[Path, Path | None] = {}  # replaced target -> link to its old version, or None
    current = ""
    prefix = f"{TEMP_PREFIX}{_own_tag()}-"
    try:
        for relative, data in files.items():
            current = relative
            target = confined_path(out_root, relative, shown)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=prefix, dir=target.parent)
            staged.append((Path(temp_name), target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp_name, 0o644)
        for temp, target in staged:
            current = target.relative_to(out_root).as_posix()
            backup = _backup(target, prefix)
            os.replace(temp, target)
            backups[target] = backup
        for directory in {target.parent for _, target in staged}:
            fsync_dir(directory)
    except BaseException as exc:
        not_restored = _restore(backups)
        for temp, target in staged:
            _unlink(temp)
            _unlink(target.with_name(f"{prefix}old-{target.name}"))
        if isinstance(exc, OSError):  # a full disk or a read-only folder is not a bug
            if not_restored:  # say exactly which files are not what they were
                names = ", ".join(f"{shown}/{p.relative_to(out_root).as_posix()}"
                                  for p in not_restored)
                hint = f"these could not be put back and are the new versions: {names}"
            else:
                hint = "nothing was changed: the previous outputs are as they were"
            raise BriefingError(Problem(
                f"{shown}/{current}", 0, 0, f"cannot write: {exc.strerror or exc}",
                hint)) from None
        raise
    for backup in backups.values():
        if backup is not None:
            _unlink(backup)
    for relative in remove:
        if relative not in files:
            with contextlib.suppress(OSError, BriefingError):
                _unlink(confined_path(out_root, relative, shown))
    # Litter of an earlier, killed write in the folders this one used (out/ is published as is).
    for directory in {target.parent for _, target in staged} | {out_root}:
        clean_stale_temps(directory)
    return [target for _, target in staged]


def _backup(target: Path, prefix: str) -> Path | None:
    """A hard link to the file about to be replaced, so a failed set can be put back."""
    if not target.exists():
        return None
    backup = target.with_name(f"{prefix}old-{target.name}")
    _unlink(backup)
    os.link(target, backup)
    return backup


def _restore(backups: dict[Path, Path | None]) -> list[Path]:
    """Put every replaced file back; return those that could not be (reported to the user)."""
    failed: list[Path] = []
    for target, backup in backups.items():
        try:
            if backup is None:
                _unlink(target)
            else:
                os.replace(backup, target)
        except OSError:  # pragma: no cover - needs a disk that fails twice in a row
            failed.append(target)
    return failed


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def write_text(out_root: Path, relative: str, text: str) -> Path:
    return write_files(out_root, {relative: text.encode("utf-8")})[0]


def write_private(target: Path, data: bytes, shown: str, public: Path | None = None,
                  what: str = "private data") -> Path:
    """Write a private file (mode 0600) atomically: an export, a key. Refused under `public`
    (out/), which is published as is, wherever a link would lead."""
    resolved = target.resolve() if target.is_absolute() else (Path.cwd() / target).resolve()
    if public is not None and resolved.is_relative_to(public.resolve()):
        raise BriefingError(Problem(shown, 0, 0, "is under out/, which is published as "
                                    f"is; {what} must not go there",
                                    "write it into .briefing/ or outside the project"))
    try:
        fd, temp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{_own_tag()}-", dir=resolved.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o600)
            os.replace(temp, resolved)
        except BaseException:
            _unlink(Path(temp))
            raise
    except OSError as exc:
        raise BriefingError(Problem(shown, 0, 0, f"cannot write: {exc.strerror or exc}")) \
            from None
    return resolved


def private_folder(folder: Path, public: Path | None = None) -> Path:
    """Make sure a folder of private state (.briefing/ and the folders in it) exists and
    nobody else can enter it (0700), whoever created it first. Refused when it is, or a link
    makes it, a folder under `public` (out/, published as is): a `.briefing` that is a link into
    out/ would publish the store and the key."""
    if public is not None:
        _not_public(folder, public)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
        if info.st_mode & 0o077 and info.st_uid == os.getuid():
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise BriefingError(Problem(str(folder.name), 0, 0, f"cannot create the private "
                                    f"folder: {exc.strerror}")) from None
    if public is not None:
        _not_public(folder, public)  # a link made meanwhile
    return folder


def _not_public(folder: Path, public: Path) -> None:
    # The nearest existing folder on the way, resolved: links anywhere on the path count.
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    resolved = existing.resolve()
    published = public.resolve()
    if resolved == published or resolved.is_relative_to(published):
        shown = folder.name if folder.name else str(folder)
        raise BriefingError(Problem(
            shown, 0, 0, f"leads into {public.name}/, which is published as is; private "
                         "state (the subscriber store, the token key) must not go there",
            f"make {shown} a real folder outside {public.name}/"))


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - some filesystems do not open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
