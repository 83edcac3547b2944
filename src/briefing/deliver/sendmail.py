"""A sendmail-compatible command (sendmail, msmtp, Postfix's sendmail) run once per recipient."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import BriefingError, Problem
from .transport import Lost, Rejected, why

# sysexits.h: a sendmail-compatible command signals "try again later" with these. msmtp exits 75
# when it cannot connect and 69 when the server answers 4xx; 5xx gives 65 (measured, msmtp 1.8).
TEMPORARY_EXITS = {69, 75}


@dataclass
class SendmailTransport:
    """`sendmail -i -f SENDER -- RECIPIENT` with the message on stdin, once per recipient."""

    argv: list[str]
    timeout: float
    dropped: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return Path(self.argv[0]).name

    def describe(self) -> str:
        text = f"the command {shlex.join(self.argv)} (message on stdin, one run per recipient)"
        if self.dropped:
            text += (f"; {' '.join(self.dropped)} left out: briefing gives the command each "
                     "recipient itself, and reading them from the message would also mail the "
                     "To header (the list) once per reader")
        return text

    def open(self) -> None:
        pass

    def deliver(self, sender: str, recipient: str, data: bytes) -> str:
        argv = list(self.argv)
        if not any(a in ("-f", "--from") or a.startswith(("-f", "--from=")) for a in argv[1:]):
            argv += ["-f", sender]
        argv += ["-i", "--", recipient]  # -i: a line with a single '.' is not the end
        try:
            proc = subprocess.run(argv, input=data, capture_output=True, timeout=self.timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise Lost(f"{self.name} did not finish within {self.timeout:g} s",
                       maybe_delivered=True) from None
        except OSError as exc:
            raise Lost(f"could not run {self.name}: {why(exc)}") from None
        said = " ".join((proc.stderr or proc.stdout).decode("utf-8", "replace").split())[:300]
        reply = f"exit {proc.returncode}" + (f": {said}" if said else "")
        if proc.returncode:
            raise Rejected(reply, temporary=proc.returncode in TEMPORARY_EXITS)
        return reply

    def close(self) -> None:
        pass


def sendmail_transport(command: str, timeout: float) -> SendmailTransport:
    try:
        argv = shlex.split(command)  # no shell: the command line is split, never interpreted
    except ValueError as exc:
        raise BriefingError(Problem("--sendmail", 0, 0, f"cannot split '{command}': {exc}")) \
            from None
    if not argv:
        raise BriefingError(Problem("--sendmail", 0, 0, "the command is empty",
                                    "write e.g. --sendmail 'msmtp -a work'"))
    # `msmtp -t` / `sendmail -t` read recipients from the headers *in addition* to those on
    # the command line: with To set to the list, every run would also mail the list. The
    # command is still the right tool, so -t is left out (and the dry run says so).
    dropped = tuple(a for a in argv[1:] if a in ("-t", "--read-recipients"))
    argv = [argv[0]] + [a for a in argv[1:] if a not in ("-t", "--read-recipients")]
    if shutil.which(argv[0]) is None:
        raise BriefingError(Problem("--sendmail", 0, 0, f"command '{argv[0]}' not found"))
    return SendmailTransport(argv, timeout, dropped)
