"""One error type for everything an editor can get wrong, with compiler-style messages."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

# Click's own exception base, whichever Click Typer runs on: Typer 0.26 and later carry their
# own copy of Click (typer._click), earlier ones use the click package. Typer exports only its
# subclasses, so take the base from one of them rather than importing a private module.
_ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


@dataclass(frozen=True, order=True)
class Problem:
    """One finding at a place in a file: `path:line:col: severity: message`."""

    path: str
    line: int = 0
    col: int = 0
    message: str = ""
    hint: str = ""
    severity: str = "error"
    rule: str = ""

    def format(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}:{self.col or 1}"
        text = f"{where}: {self.severity}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        if self.rule:
            text += f" [{self.rule}]"
        return text


class BriefingError(_ClickException):  # type: ignore[misc,valid-type]  # base found at run time
    """Any problem the user can fix. Click prints it (every problem, then a count) on stderr and
    exits 1, as mkdocs does with MkDocsException: no command catches it to do that job."""

    exit_code = 1

    def __init__(self, problems: Problem | list[Problem] | str, counted: bool = False) -> None:
        # counted: the problems found in the editor's files ("every problem at once") end
        # with a count line, a single one too; an error about one operation is its own line.
        self.counted = counted
        if isinstance(problems, str):
            problems = [Problem(path="briefing", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self.report())

    def show(self, file: object = None) -> None:
        # Click's default prefixes "Error: "; ours are compiler-style lines already.
        typer.echo(self.report(), err=True)

    def report(self) -> str:
        lines = [p.format() for p in self.problems]
        errors = [p for p in self.problems if p.severity == "error"]
        if len(errors) > 1 or (self.counted and errors):
            lines.append(count_line(errors))
        return "\n".join(lines)


def count(n: int, noun: str) -> str:
    """'1 error', '3 errors'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def count_line(errors: list[Problem]) -> str:
    """'1 error', or '3 errors in 2 files' (one error names its file on its own line)."""
    if len(errors) == 1:
        return "1 error"
    return f"{count(len(errors), 'error')} in {count(len({p.path for p in errors}), 'file')}"


@dataclass
class Problems:
    """A collector: validators add to it, and `raise_if_any` fails once with all of them."""

    items: list[Problem] = field(default_factory=list)

    def add(self, path: str, line: int, col: int, message: str, hint: str = "") -> None:
        self.items.append(Problem(path, line, col, message, hint))

    def extend(self, problems: list[Problem]) -> None:
        self.items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise BriefingError(sorted(set(self.items), key=_order), counted=True)


def _order(p: Problem) -> tuple:
    return (p.path, p.line, p.col, p.message)
