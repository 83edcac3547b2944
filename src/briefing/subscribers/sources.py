"""Reading what `sync` applies: the endpoint's events (a file or its /events URL) and a mailbox
(mbox or Maildir), each read whole and left unchanged.

A source that cannot be read at all (missing, locked, the URL refuses) is a BriefingError: the
caller decides whether a send may go on without it. One message that cannot be parsed is not:
each is kept as bytes with its place (Maildir name, or mbox number and byte offset) and parsed
later inside its own guard (subscribers/mail.py), since the bounce address is public and anyone
can send any bytes there.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..content.validate import Project
from ..errors import BriefingError, Problem

MAX_EVENTS = 256 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One place unsubscribes come from, as the editor named it."""

    kind: str   # "events" or "mailbox"
    value: str  # a path (relative to the project) or, for events, a URL
    where: str  # where it was named, for messages: --events, briefing.yaml sync.mailbox, ...

    @property
    def key(self) -> str:
        """Its row in sync_runs."""
        return f"{self.kind} {self.value}"

    @property
    def shown(self) -> str:
        return f"{self.kind} {self.value}"


@dataclass(frozen=True)
class Event:
    """One line of the events file. `kind` is "unsubscribe" for the lines the endpoint has
    always written ({"time", "token"}); new kinds carry their own fields in `entry`."""

    kind: str
    token: str
    time: str
    line: int
    entry: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Mail:
    """One message, unparsed: its bytes and where it is, for reports."""

    where: str  # "inbox message 1771229012.M5P7Q1.mail", "bounces.mbox message 3 (byte 1042)"
    data: bytes

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


def read_events(project: Project, source: Source, secret_env: str) -> tuple[list[Event],
                                                                           list[str]]:
    """The events and a warning per line that is not one (a torn last line, say)."""
    if "://" in source.value:
        data = _fetch(source.value, secret_env, source)
    else:
        path = local(project, source)
        try:
            if path.stat().st_size > MAX_EVENTS:
                raise BriefingError(Problem(source.value, 0, 0, f"is over {MAX_EVENTS:,} bytes",
                                            "sync it, then rotate it"))
            data = path.read_bytes()
        except OSError as exc:
            raise BriefingError(Problem(source.value, 0, 0, f"cannot read the events: "
                                        f"{exc.strerror}", where(source))) from None
    events, warnings = [], []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
            token, time = entry["token"], entry["time"]
            kind = entry.get("kind", "unsubscribe")
            if not (isinstance(token, str) and isinstance(time, str) and isinstance(kind, str)):
                raise TypeError
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            warnings.append(Problem(source.value, number, 1, "is not an event (a JSON object "
                                    "with 'token' and 'time'); skipped",
                                    severity="warning").format())
            continue
        events.append(Event(kind, token, time, number, entry))
    return events, warnings


def _fetch(url: str, secret_env: str, source: Source) -> bytes:
    """GET the endpoint's /events with the bearer secret; never follow a redirect (it could
    carry the secret elsewhere)."""
    import urllib.error
    import urllib.request

    secret = os.environ.get(secret_env, "")
    if not secret:
        raise BriefingError(Problem(f"${secret_env}", 0, 0, f"is not set; it holds the bearer "
                                    f"secret for {url}", "set it to the secret the endpoint "
                                    "was started with"))

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}",
                                                   "User-Agent": "briefing-sync"})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            data: bytes = response.read(MAX_EVENTS + 1)
    except urllib.error.HTTPError as exc:
        hint = {401: f"the endpoint refused the secret in ${secret_env}",
                404: f"is ${secret_env} set where the endpoint runs? without it there is no "
                     "/events"}.get(exc.code, where(source))
        raise BriefingError(Problem(url, 0, 0, f"answered {exc.code} {exc.reason}", hint)) \
            from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BriefingError(Problem(url, 0, 0, f"cannot fetch the events: {reason}",
                                    where(source))) from None
    if len(data) > MAX_EVENTS:
        raise BriefingError(Problem(url, 0, 0, f"sent over {MAX_EVENTS:,} bytes"))
    return data


def read_mailbox(project: Project, source: Source) -> list[Mail]:
    """Every message of an mbox file or a Maildir folder (new/ and cur/), as bytes: the
    mailbox is only read, never marked or moved."""
    import mailbox

    path = local(project, source)
    box: mailbox.Mailbox
    if path.is_dir():
        if not ((path / "cur").is_dir() and (path / "new").is_dir()):
            raise BriefingError(Problem(source.value, 0, 0, "is a folder but not a Maildir "
                                        "(it has no cur/ and new/)", where(source)))
        box = mailbox.Maildir(path, factory=None, create=False)
        locked = False
    elif path.is_file():
        try:
            with open(path, "rb") as handle:
                start = handle.read(5)
        except OSError as exc:
            raise BriefingError(Problem(source.value, 0, 0, f"cannot read the mailbox: "
                                        f"{exc.strerror}", where(source))) from None
        if start and start != b"From ":
            raise BriefingError(Problem(source.value, 0, 0, "is neither an mbox file (it does "
                                        "not start with 'From ') nor a Maildir folder",
                                        where(source)))
        box = mailbox.mbox(path, factory=None, create=False)
        try:  # the delivery agent may be appending: read between its writes
            box.lock()
            locked = True
        except mailbox.ExternalClashError:
            raise BriefingError(Problem(source.value, 0, 0, "is locked by another program",
                                        "try again in a moment")) from None
        except OSError:
            locked = False  # no right to make a dot-lock beside it: read as it is
    else:
        raise BriefingError(Problem(source.value, 0, 0, "no such mbox file or Maildir folder",
                                    where(source)))
    mails = []
    try:
        if isinstance(box, mailbox.Maildir):
            # Maildir names start with the delivery time: sorted, they are in order of arrival.
            for key in sorted(box.keys()):
                mails.append(Mail(f"{source.value} message {key}", box.get_bytes(key)))
        else:
            for position, key in enumerate(box.keys(), 1):
                # The offset lets the editor find the message with any tool; mailbox keeps it
                # in its table of contents (private, so read defensively).
                start = getattr(box, "_toc", {}).get(key, (None,))[0]
                at = f" (byte {start})" if isinstance(start, int) else ""
                mails.append(Mail(f"{source.value} message {position}{at}", box.get_bytes(key)))
    except (OSError, mailbox.Error) as exc:
        raise BriefingError(Problem(source.value, 0, 0, f"cannot read the mailbox: {exc}",
                                    where(source))) from None
    finally:
        if locked:
            box.unlock()
        box.close()
    return mails


def local(project: Project, source: Source) -> Path:
    """A file source: relative to the project, or absolute, `~` meaning the home folder."""
    return project.root / Path(source.value).expanduser()


def where(source: Source) -> str:
    return f"named by {source.where}" if source.where else ""
