"""Compiled templates are code: none is ever loaded from the project, out/ or a shared folder."""

from __future__ import annotations

import hashlib
import io
import marshal
import os
from pathlib import Path

import jinja2.bccache

from conftest import ProjectFactory

EMAIL = "email.mjml.j2"


def _packaged(name: str) -> Path:
    from briefing.render.templates import packaged_templates
    return packaged_templates() / name


def planted_bytecode(marker: Path, name: str = EMAIL) -> tuple[str, bytes]:
    """A cache entry an attacker could write: the right key and source checksum (both public),
    and code that creates `marker` when loaded and run."""
    path = _packaged(name)
    source = path.read_text(encoding="utf-8")
    key = hashlib.sha1(f"{name}|{path}".encode()).hexdigest()
    checksum = hashlib.sha1(source.encode("utf-8")).hexdigest()
    code = compile(f"open({str(marker)!r}, 'w').close()\n"
                   "def root(context, missing=None, environment=None):\n    yield ''\n"
                   "blocks = {}\ndebug_info = ''\n", str(path), "exec")
    buffer = io.BytesIO()
    buffer.write(jinja2.bccache.bc_magic)
    import pickle
    pickle.dump(checksum, buffer, 2)
    marshal.dump(code, buffer)
    return key, buffer.getvalue()


def test_planted_cache_in_out_is_never_loaded(project: ProjectFactory, tmp_path: Path) -> None:
    marker = tmp_path / "planted-code-ran"
    key, data = planted_bytecode(marker)
    cache = project.root / "out" / ".cache" / "jinja"  # where an earlier version kept them
    cache.mkdir(parents=True)
    (cache / f"{key}.bin").write_bytes(data)
    user_cache = tmp_path / "user-cache"
    for command in (("check",), ("build",), ("archive",)):
        result = project.cli(*command, env={"XDG_CACHE_HOME": str(user_cache)})
        assert result.code == 0, result.err
    assert not marker.exists()


def test_user_cache_is_used_only_when_nobody_else_can_write_to_it(
        project: ProjectFactory, tmp_path: Path) -> None:
    marker = tmp_path / "planted-code-ran"
    key, data = planted_bytecode(marker)
    user_cache = tmp_path / "user-cache"
    folder = user_cache / "briefing" / f"jinja-{__import__('sys').implementation.cache_tag}"
    folder.mkdir(parents=True)
    (folder / f"__jinja2_{key}.cache").write_bytes(data)
    env = {"XDG_CACHE_HOME": str(user_cache)}

    os.chmod(folder, 0o777)  # anyone could have planted it: not loaded
    assert project.cli("build", env=env).code == 0
    assert not marker.exists()

    # The control: the same entry in a private folder is loaded, so the plant above was real
    # (a private cache folder is the user's own, like their shell profile).
    os.chmod(folder, 0o700)
    project.cli("build", env=env)
    assert marker.exists()


def test_cache_folder_is_private_and_holds_the_compiled_templates(
        project: ProjectFactory, tmp_path: Path) -> None:
    user_cache = tmp_path / "user-cache"
    assert project.cli("build", env={"XDG_CACHE_HOME": str(user_cache)}).code == 0
    folders = list((user_cache / "briefing").iterdir())
    assert len(folders) == 1
    assert folders[0].stat().st_mode & 0o777 == 0o700
    assert any(folders[0].iterdir())
    assert not (project.root / "out" / ".cache").exists()
