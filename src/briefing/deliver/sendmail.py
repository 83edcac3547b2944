"""A sendmail-compatible command (sendmail, msmtp, Postfix's sendmail) run once per recipient."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
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

    def another(self) -> SendmailTransport:
        return dataclasses.replace(self)

    def open(self) -> None:
        pass

    def deliver(self, sender: str, recipient: str, data: bytes) -> str:
        argv = list(self.argv)
        if not any(a in ("-f", "--from") or a.startswith(("-f", "--from=")) for a in argv[1:]):
            argv += ["-f", sender]
        argv += ["-i", "--", recipient]  # -i: a line with a single '.' is not the end
        # The copy goes in through an unlinked temporary file, not a pipe: the command shares
        # the file's offset, so afterwards we know how much of it the command read. A pipe
        # would take a whole message into its buffer from a command that never reads it and
        # still exits 0 (then it would count as delivered).
        with tempfile.TemporaryFile() as message:
            message.write(data)
            message.flush()
            message.seek(0)
            try:
                # Its own process group, so a command that times out is killed with every
                # child it started (a sendmail's helper could otherwise still deliver).
                proc = subprocess.Popen(argv, stdin=message, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, start_new_session=True)
            except OSError as exc:
                raise Lost(f"could not run {self.name}: {why(exc)}") from None
            try:
                out, err = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise Lost(f"{self.name} did not finish within {self.timeout:g} s (stopped, "
                           "with the processes it started)", maybe_delivered=True) from None
            read = os.lseek(message.fileno(), 0, os.SEEK_CUR)
        said = " ".join((err or out).decode("utf-8", "replace").split())[:300]
        reply = f"exit {proc.returncode}" + (f": {said}" if said else "")
        if proc.returncode:
            raise Rejected(reply, temporary=proc.returncode in TEMPORARY_EXITS, stage="command")
        if read < len(data):
            raise Lost(f"{self.name} exited 0 but read only {read:,} of the {len(data):,} "
                       "bytes of the message, so it is not counted as delivered",
                       maybe_delivered=True)
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
