"""`python -m briefing` runs the CLI."""

from .cli import main

main()
