"""The depth cap gives our own message with the oldest and the newest PyYAML pyproject allows.

PyYAML 6.0.4's libyaml stops deep flow nesting with its own error before our check runs; 6.0.2
does not. Each version is installed into a throwaway venv (from PyPI, or pip's configured
indexes) and runs the loader from this checkout.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys, yaml
from briefing.content.load import parse_yaml
from briefing.errors import BriefingError
assert hasattr(yaml, "CSafeLoader"), "this PyYAML has no libyaml"
assert "/venv/" in yaml.__file__, yaml.__file__
try:
    parse_yaml("items: " + "[" * 1000 + "]" * 1000 + "\\n", "f.yaml")
except BriefingError as exc:
    print(yaml.__version__, exc.report())
"""


def _pyyaml_range() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return next(d for d in project["dependencies"] if d.lower().startswith("pyyaml"))


def _oldest(requirement: str) -> str:
    lower = re.search(r">=\s*([0-9.]+)", requirement)
    assert lower, f"pyproject's PyYAML range has no lower bound: {requirement}"
    return f"pyyaml=={lower.group(1)}"


@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_deep_nesting_message_with_oldest_and_newest_pyyaml(tmp_path: Path, which: str) -> None:
    requirement = _pyyaml_range()
    wanted = _oldest(requirement) if which == "oldest" else requirement.replace(" ", "")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The rest of briefing's dependencies come from this test run's environment, after the
    # throwaway venv's own site-packages (a .pth entry is appended), so its PyYAML wins.
    own = Path(subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                              capture_output=True, text=True, check=True).stdout.strip())
    (own / "briefing-test-parent.pth").write_text(
        "\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    install = subprocess.run([python, "-m", "pip", "install", "-q", "--ignore-installed",
                              "--no-deps", "--only-binary", ":all:",
                              wanted], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    probe = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=60,
                           env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert probe.returncode == 0, probe.stderr
    version, message = probe.stdout.strip().split(" ", 1)
    if which == "oldest":
        assert version == wanted.split("==")[1]
    assert message == "f.yaml:1:39: error: nesting deeper than 32 levels", (version, message)
    print(sys.version, version)
