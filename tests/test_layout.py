"""The package's layout shows its architecture: imports point one way, left to right.

    cli -> pipeline -> deliver -> subscribers -> editorial -> publish -> render -> content
        -> files -> errors      (and __main__ -> cli)

A module may import from its own folder and from folders to its right, never from one to its
left. Every import counts, those inside functions too (lazy imports keep start-up fast, they do
not make a dependency go away).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "briefing"
# Left to right: each layer may use only itself and the layers after it.
LAYERS = ["__main__", "cli", "pipeline", "deliver", "subscribers", "editorial", "publish",
          "render", "content", "files", "errors"]
TOP_LEVEL = {"__init__"}  # the package itself (its version) may be read by anyone


def layer_of(module: str) -> str:
    """'briefing.render.html' -> 'render'; 'briefing.cli' -> 'cli'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every briefing import in one file."""
    module = "briefing." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import x: x is a module, or a name in the package
                    for alias in node.names:
                        sub = PACKAGE.joinpath(*f"{target}.{alias.name}".split(".")[1:])
                        is_module = sub.is_dir() or sub.with_suffix(".py").is_file()
                        found.append((node.lineno,
                                      f"{target}.{alias.name}" if is_module else target))
                    continue
            else:
                target = node.module or ""
            if target == "briefing" or target.startswith("briefing."):
                found.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names
                      if a.name == "briefing" or a.name.startswith("briefing.")]
    return found


def test_every_module_is_in_a_known_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        name = layer_of("briefing." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        assert name in LAYERS or name in TOP_LEVEL, f"{path}: not in a layer of LAYERS"


def test_imports_point_one_way() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = layer_of("briefing." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        if own in TOP_LEVEL:
            continue
        for line, target in imports_of(path):
            other = layer_of(target)
            if other in TOP_LEVEL or other == own:
                continue
            if LAYERS.index(other) < LAYERS.index(own):
                wrong.append(f"{path.relative_to(PACKAGE)}:{line}: {own} imports {target}")
    assert wrong == []


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    """The test itself works: an import from the left is found (relative and absolute)."""
    global PACKAGE
    saved = PACKAGE
    PACKAGE = tmp_path / "briefing"
    try:
        (PACKAGE / "render").mkdir(parents=True)
        (PACKAGE / "render" / "html.py").write_text(
            "def f():\n    from ..deliver.send import deliver\n    import briefing.cli\n")
        assert imports_of(PACKAGE / "render" / "html.py") == [
            (2, "briefing.deliver.send"), (3, "briefing.cli")]
    finally:
        PACKAGE = saved
