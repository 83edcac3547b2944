"""The one guarded write path: temp file in the same folder, fsync, os.replace; confined."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ..errors import BriefingError, Problem

TEMP_PREFIX = ".briefing-tmp-"


def confined_path(out_root: Path, relative: str) -> Path:
    """The target path, refused when it or any folder on the way is a link or leads outside out/."""
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise BriefingError(Problem(f"out/{relative}", 0, 0, "refusing to write outside out/"))
    if out_root.is_symlink():
        raise BriefingError(Problem("out", 0, 0, "out/ is a symbolic link; refusing to write "
                                    "through it", "make out/ a real folder"))
    current = out_root
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            raise BriefingError(Problem(f"out/{relative}", 0, 0,
                                        "refusing to write through a symbolic link"))
    return current


def write_files(out_root: Path, files: dict[str, bytes]) -> list[Path]:
    """Write every file or none: all are staged and synced first, then renamed into place.

    If anything fails, the temp files are removed and the previous outputs are put back: a
    file already renamed over is restored from a hard link to its old version taken just before.
    """
    staged: list[tuple[Path, Path]] = []
    backups: dict[Path, Path | None] = {}  # replaced target -> link to its old version, or None
    current = ""
    try:
        for relative, data in files.items():
            current = relative
            target = confined_path(out_root, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
            staged.append((Path(temp_name), target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp_name, 0o644)
        for temp, target in staged:
            current = target.relative_to(out_root).as_posix()
            backup = _backup(target)
            os.replace(temp, target)
            backups[target] = backup
        for directory in {target.parent for _, target in staged}:
            fsync_dir(directory)
    except BaseException as exc:
        _restore(backups)
        for temp, target in staged:
            _unlink(temp)
            _unlink(target.with_name(f"{TEMP_PREFIX}old-{target.name}"))
        if isinstance(exc, OSError):  # a full disk or a read-only folder is not a bug
            raise BriefingError(Problem(
                f"out/{current}", 0, 0, f"cannot write: {exc.strerror or exc}",
                "nothing was changed: the previous outputs are as they were")) from None
        raise
    for backup in backups.values():
        if backup is not None:
            _unlink(backup)
    return [target for _, target in staged]


def _backup(target: Path) -> Path | None:
    """A hard link to the file about to be replaced, so a failed set can be put back."""
    if not target.exists():
        return None
    backup = target.with_name(f"{TEMP_PREFIX}old-{target.name}")
    _unlink(backup)
    os.link(target, backup)
    return backup


def _restore(backups: dict[Path, Path | None]) -> None:
    for target, backup in backups.items():
        try:
            if backup is None:
                _unlink(target)
            else:
                os.replace(backup, target)
        except OSError:  # pragma: no cover - best effort; the error is being reported anyway
            pass


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def write_text(out_root: Path, relative: str, text: str) -> Path:
    return write_files(out_root, {relative: text.encode("utf-8")})[0]


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
