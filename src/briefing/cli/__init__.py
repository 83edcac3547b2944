"""The command line: each command parses options, calls one function and prints a summary.

Errors reach the user through Click: a BriefingError is a ClickException (exit 1), options with
a fixed set of values are Click choices, and a bug anywhere gets one line and exit 2 in main().
Each group of commands is a module of this package; importing it registers its commands.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

__all__ = ["GROUPS", "app", "main"]

# The module of this package that registers each top-level command. main() imports only the
# one of the command being run: Typer inspects the signature of every registered command at
# each start (16 commands took about 40 ms here, under load), and a module registers only what
# it imports lazily anyway. --help, --version, a typo or no command at all import every module.
# tests/test_startup.py checks this table against the commands the modules register.
GROUPS = {
    "build": "build", "check": "build", "archive": "build",
    "init": "editorial", "new": "editorial", "schema": "editorial", "links": "editorial",
    "preview": "editorial",
    "add": "intake", "sources": "intake",
    "send": "send",
    "doctor": "deliverability", "dkim": "deliverability",
    "subscribers": "subscribers",
}


def _app(modules: list[str]) -> typer.Typer:
    for module in modules:  # __import__, not importlib: -X importtime lists these too
        __import__(f"{__name__}.{module}")
    from .common import app
    return app


def __getattr__(name: str) -> object:
    """`briefing.cli.app`: the whole app, every command registered (docs, tests)."""
    if name == "app":
        return _app(sorted(set(GROUPS.values())))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Run the app. A bug (never bad input: that is a BriefingError) gets one line and exit 2;
    BRIEFING_DEBUG=1 shows the traceback."""
    import os
    # The first word that is not an option names the command (the app's own options,
    # --help and --version, take no value).
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    group = GROUPS.get(command or "")
    app = _app([group] if group else sorted(set(GROUPS.values())))
    try:
        app()
    except Exception as exc:  # the last line of defence against a traceback
        if os.environ.get("BRIEFING_DEBUG"):
            raise
        import typer
        typer.echo(f"briefing: internal error: {type(exc).__name__}: {exc} (this is a bug; "
                   "rerun with BRIEFING_DEBUG=1 for details)", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
