"""`briefing subscribers add/remove/list/import/export`: the editor's hands on the list.

An address is never deleted: a reader who left stays as a suppression (unsubscribed, bounced,
complained), so no later import or add quietly brings them back; --resubscribe does, on
purpose.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..content.model import Config
from ..content.schema import parse_mailbox
from ..content.validate import Project, load_config
from ..errors import BriefingError, Problem
from .consent import erased_before, lift_erasure
from .importer import control_in, neutralised, read_csv
from .store import STATUSES, Store, Subscriber, address_key, now

EXPORT_COLUMNS = ("address", "name", "status", "source", "added_at", "status_changed_at",
                  "status_reason")


def open_store(project: Project) -> tuple[Config, Store]:
    config = load_config(project)
    assert config is not None  # load_config raises when briefing.yaml is not valid
    return config, Store.open(project.root, config.state)


def _address(value: str, where: str = "ADDRESS") -> tuple[str, str]:
    if any(c in value for c in "\r\n\0"):
        raise BriefingError(Problem(where, 0, 0, "an address must not contain a line break"))
    if control_in(value):
        raise BriefingError(Problem(where, 0, 0, f"has a control character ({control_in(value)})"
                                    "; a name and an address are one line of text"))
    try:
        mailbox = parse_mailbox(value)
    except ValueError:
        raise BriefingError(Problem(where, 0, 0, f"'{value}' is not a valid address",
                                    "write it as user@example.org or 'Name <user@example.org>'"))\
            from None
    return mailbox.address, mailbox.name


def add(project: Project, value: str, name: str | None, resubscribe: bool) -> list[str]:
    """Add one reader; lines for the editor (the store's own notes first)."""
    address, parsed_name = _address(value)
    if name is not None and control_in(name):
        raise BriefingError(Problem("--name", 0, 0, f"has a control character "
                                    f"({control_in(name)}); a name is one line of text"))
    name = (name if name is not None else parsed_name).strip()
    _config, store = open_store(project)
    lines = list(store.notes)
    with store.transaction():
        existing = store.get(address)
        erased = erased_before(project, store, address) if existing is None else None
        if erased and not resubscribe:
            raise BriefingError(Problem(
                store.shown, 0, 0, f"{address} was erased at their request on {erased[:10]}; "
                                   "not added back", "only with their new, explicit consent: "
                                                     "add --resubscribe"))
        if existing is None:
            if erased:
                lift_erasure(project, store, address)
            store.insert(address, name, "active", "cli")
            lines.append(f"added {address}" + (f" ({name})" if name else "")
                         + (f"; it was erased on {erased[:10]}" if erased else ""))
        elif existing.status == "active":
            if name and name != existing.name:
                store.set_name(address, name)
                lines.append(f"{existing.address} is already subscribed; name set to {name}")
            else:
                lines.append(f"{existing.address} is already subscribed")
        elif resubscribe:
            store.set_status(address, "active", f"resubscribed by the editor (was "
                                                f"{existing.status})")
            if name:
                store.set_name(address, name)
            lines.append(f"resubscribed {existing.address} (was {existing.why()})")
        else:
            raise BriefingError(Problem(
                store.shown, 0, 0, f"{existing.address} is {existing.why()}; not added back",
                "only if they asked to come back: add --resubscribe"))
    return lines


def remove(project: Project, value: str) -> list[str]:
    """Mark a reader unsubscribed; an unknown address is kept as a suppression too."""
    _config, store = open_store(project)
    address, _name = _address(value)
    lines = list(store.notes)
    with store.transaction():
        existing = store.get(address)
        if existing is None:
            store.insert(address, "", "unsubscribed", "cli", "removed by the editor")
            lines.append(f"{address} was not on the list; kept as unsubscribed so it is never "
                         "mailed")
        elif existing.status != "active":
            lines.append(f"{existing.address} is already {existing.why()}")
        else:
            store.set_status(address, "unsubscribed", "removed by the editor")
            lines.append(f"removed {existing.address} (kept as unsubscribed, never mailed)")
    return lines


def subscribers(project: Project, status: str | None) -> tuple[Store, list[Subscriber]]:
    _config, store = open_store(project)
    return store, store.subscribers(status)


def formatted(readers: list[Subscriber], output: str) -> str:
    """The list as text (a table), csv or json."""
    if output == "json":
        return json.dumps([{c: getattr(s, c) for c in EXPORT_COLUMNS} for s in readers],
                          ensure_ascii=False, indent=2) + "\n"
    if output == "csv":
        return to_csv(readers)
    lines = []
    for s in readers:
        name = f" ({_shown(s.name)})" if s.name else ""
        why = f"  {_shown(s.status_reason)}" if s.status != "active" and s.status_reason else ""
        lines.append(f"{s.status:<12} {s.address}{name}  since {s.status_changed_at[:10]}{why}")
    return "\n".join(lines) + ("\n" if lines else "")


def _shown(text: str) -> str:
    """A value on one line of the listing: a control character (in a name stored by an older
    briefing) is written as its code, never acted on."""
    return "".join(f"\\u{ord(c):04x}" if control_in(c) else c for c in text)


def to_csv(readers: list[Subscriber], consent: dict[str, list[str]] | None = None) -> str:
    """CSV with every cell that a spreadsheet would take for a formula (starting with =, +,
    -, @, tab or CR; OWASP "CSV injection") prefixed with a quote; import undoes it. With
    `consent` (consent_csv.exported), the consent columns too."""
    from . import consent_csv
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS + (consent_csv.COLUMNS if consent is not None else ()))
    blank = [""] * len(consent_csv.COLUMNS)
    for s in readers:
        extra = consent.get(address_key(s.address), blank) if consent is not None else []
        writer.writerow([neutralised(str(getattr(s, c))) for c in EXPORT_COLUMNS]
                        + [neutralised(cell) for cell in extra])
    return buffer.getvalue()


def export(project: Project, target: Path | None) -> tuple[str, int]:
    """Every reader, all statuses (a suppression list is part of the list), as CSV: to the
    file given, written privately (0600, never under out/), or returned for stdout."""
    _config, store = open_store(project)
    from .consent_csv import exported
    readers = store.subscribers()
    text = to_csv(readers, exported(store))
    if target is not None:
        _write_private(project, target, text.encode("utf-8"))
    return text, len(readers)


def _write_private(project: Project, target: Path, data: bytes) -> None:
    from ..files import write_private
    write_private(target, data, str(target), public=project.out, what="readers' addresses")


@dataclass
class ImportResult:
    layout: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)  # kept out: they had left
    notes: list[str] = field(default_factory=list)

    def summary(self, shown: str) -> str:
        line = (f"imported {shown} ({self.layout}): {len(self.added)} added, "
                f"{len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.suppressed)} suppressed")
        if self.suppressed:
            line += (" (unsubscribed, bounced or complained: not added back; --resubscribe "
                     "would)")
        return line


def import_file(project: Project, path: Path, email_column: str | None,
                name_column: str | None, resubscribe: bool) -> ImportResult:
    """Read the whole file, then apply it in one transaction (all or nothing)."""
    shown = str(path)
    layout, rows = read_csv(path, shown, email_column, name_column)
    from . import consent_csv
    consent = consent_csv.read(path, shown)  # our own export's consent columns, if it has them
    _config, store = open_store(project)
    result = ImportResult(layout, notes=list(store.notes))
    source = f"import:{layout}:{path.name}"
    stamp = now()
    seen: dict[str, str] = {}
    with store.transaction():
        for row in rows:
            key = address_key(row.address)
            if key in seen:  # the same reader twice in one file: the first row counts
                result.unchanged.append(row.address)
                continue
            seen[key] = row.address
            existing = store.get(row.address)
            erased = erased_before(project, store, row.address) if existing is None else None
            if erased and not resubscribe:
                result.suppressed.append(row.address)  # erased at their request: kept out
                continue
            if erased:
                lift_erasure(project, store, row.address)
            # Our own export carries its reasons and sources as they were; another's says what
            # the reader's status is there, and why if it says.
            own = layout == "briefing"
            reason = row.reason if own else (
                f"in the {layout} export as {row.status}" + (f": {row.reason}" if row.reason
                                                             else "")
                if row.status != "active" else "")
            changed = row.changed_at or stamp
            if existing is None:
                store.insert(row.address, row.name, row.status, row.source or source, reason,
                             row.added_at or stamp, changed)
                if consent is not None and key in consent:
                    consent_csv.restore(store, row.address, consent[key], row.source or source)
                (result.added if row.status == "active" else result.suppressed).append(
                    row.address)
            elif existing.suppressed and row.status == "active":
                if resubscribe:
                    store.set_status(row.address, "active", f"resubscribed by import of "
                                     f"{path.name} (was {existing.status})", stamp)
                    result.updated.append(row.address)
                else:
                    result.suppressed.append(row.address)
            elif existing.status == "active" and row.status != "active":
                # The export says they left there: honour it here too.
                store.set_status(row.address, row.status, reason, changed)
                result.updated.append(row.address)
            elif row.name and row.name != existing.name:
                store.set_name(row.address, row.name)
                result.updated.append(row.address)
            else:
                result.unchanged.append(row.address)
    return result


def endpoint_key(project: Project) -> list[str]:
    """`briefing subscribers endpoint-key`: write the endpoint key now (a project that never
    sent has no token key yet: it is made first), for an endpoint that must run before the
    first send, such as the sign-up form's."""
    from .identity import ENDPOINT_KEY_FILE, list_tokens
    from .tokens import key_source
    config, store = open_store(project)
    list_tokens(project.root, store, config)  # writes the endpoint key when it is out of date
    return list(store.notes) + [
        f"{ENDPOINT_KEY_FILE} is up to date, from the token key in {key_source(project.root)}: "
        "it checks unsubscribe links and makes sign-up confirmation links, and can read "
        "neither; copy it beside the endpoint if that runs on another host"]


def new_key(project: Project) -> list[str]:
    """`briefing subscribers new-key`."""
    from .identity import new_key as make_new_key
    config, store = open_store(project)
    return list(store.notes) + make_new_key(project.root, store, config)


def counts_line(store: Store) -> str:
    c = store.counts()
    total = sum(c.values())
    return (f"{total} address{'' if total == 1 else 'es'} in {store.shown}: "
            + ", ".join(f"{c[s]} {s}" for s in STATUSES))
