"""What a built message.eml was made from, kept privately, so `send` can tell it is current.

A build writes .briefing/builds/<ISSUE>.json: a digest of everything rendering reads (briefing.yaml,
the issue's issue.yaml and briefs, the project's templates/, and which briefing and which template,
MJML and Markdown libraries are installed) and the sha256 of the message.eml it wrote. When both
still match, the message is what the briefs build today: `send` need not render the issue again
to prove it (about as long as the build itself). When either differs, or there is no record (an
issue built by an older briefing), `send` renders the issue and compares, as it always did.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..content.validate import CONFIG_FILE, ISSUE_FILE, Project, is_brief
from .issues import PRIVATE_DIR

BUILDS_DIR = f"{PRIVATE_DIR}/builds"
# Libraries whose upgrade can change the rendered bytes: their files' size and time are part of
# the digest (found, not imported: a send does not otherwise load them).
RENDERERS = ("jinja2", "markupsafe", "mjml", "markdown_it", "yaml")


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def inputs_digest(project: Project, issue_id: str) -> str:
    """One digest of the bytes rendering reads and of the code that renders them."""
    from importlib.util import find_spec

    from .. import __version__
    from ..render.templates import packaged_templates

    digest = hashlib.sha256(f"briefing {__version__}\0".encode())
    folder = project.briefs / issue_id
    read = [project.root / CONFIG_FILE, folder / ISSUE_FILE]
    read += sorted(p for p in folder.iterdir() if is_brief(p)) if folder.is_dir() else []
    read += _files(project.root / "templates")
    for path in read:
        digest.update(f"{project.show(path)}\0".encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\0missing\0")
    # The code: briefing's own files and templates, and the renderers', by size and time.
    code = _files(Path(__file__).resolve().parents[1]) + _files(packaged_templates())
    for name in RENDERERS:
        spec = find_spec(name)
        if spec is not None and spec.origin:
            code.append(Path(spec.origin))
    for path in code:
        try:
            info = os.stat(path)
        except OSError:
            continue
        digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def record(project: Project, issue_id: str, message: bytes) -> None:
    """After a build wrote message.eml: what it was made from (a record that cannot be written
    only costs the next send a render)."""
    from ..errors import BriefingError
    from ..files import private_folder, write_private
    data = {"inputs": inputs_digest(project, issue_id),
            "message.eml": hashlib.sha256(message).hexdigest()}
    try:
        folder = private_folder(project.root / BUILDS_DIR)
        write_private(folder / f"{issue_id}.json", json.dumps(data).encode(),
                      f"{BUILDS_DIR}/{issue_id}.json", project.out)
    except BriefingError:
        pass


def is_current(project: Project, issue_id: str, message: bytes) -> bool:
    """Whether the record says this message.eml is what the project's files build today."""
    try:
        data = json.loads((project.root / BUILDS_DIR / f"{issue_id}.json").read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) \
        and data.get("message.eml") == hashlib.sha256(message).hexdigest() \
        and data.get("inputs") == inputs_digest(project, issue_id)
