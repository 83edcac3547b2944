"""The one guarded write path: temp file in the same folder, fsync, os.replace; nothing outside out/."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import BriefingError, Problem

TEMP_PREFIX = ".briefing-tmp-"


def _confined(out_root: Path, relative: str) -> Path:
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

    If anything fails before the renames, the temp files are removed and the previous outputs
    are untouched. The renames themselves are atomic per file.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for relative, data in files.items():
            target = _confined(out_root, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
            staged.append((Path(temp), target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o644)
        for temp, target in staged:
            os.replace(temp, target)
        for directory in {target.parent for _, target in staged}:
            _fsync_dir(directory)
    except BaseException:
        for temp, _ in staged:
            try:
                temp.unlink()
            except FileNotFoundError:
                pass
        raise
    return [target for _, target in staged]


def write_text(out_root: Path, relative: str, text: str) -> Path:
    return write_files(out_root, {relative: text.encode("utf-8")})[0]


def _fsync_dir(directory: Path) -> None:
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
