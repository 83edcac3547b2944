"""The command line: each command parses options, calls one function and prints a summary.

Errors reach the user through Click: a BriefingError is a ClickException (exit 1), options with
a fixed set of values are Click choices, and a bug anywhere gets one line and exit 2 in main().
Each group of commands is a module of this package; importing it registers its commands.
"""

from __future__ import annotations

import sys

import typer

from . import (  # noqa: F401  (they register their commands)
    build,
    deliverability,
    editorial,
    intake,
    readers,
    send,
    subscribers,
)
from .common import app

__all__ = ["app", "main"]


def main() -> None:
    """Run the app. A bug (never bad input: that is a BriefingError) gets one line and exit 2;
    BRIEFING_DEBUG=1 shows the traceback."""
    import os
    try:
        app()
    except Exception as exc:  # the last line of defence against a traceback
        if os.environ.get("BRIEFING_DEBUG"):
            raise
        typer.echo(f"briefing: internal error: {type(exc).__name__}: {exc} (this is a bug; "
                   "rerun with BRIEFING_DEBUG=1 for details)", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
