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
from .importer import Row, control_in, neutralised, read_csv
from .store import STATUSES, Store, Subscriber, address_key, now
from .themes import Choice, check_themes, choice_of, choices, everything_offered, set_choice, shown

EXPORT_COLUMNS = ("address", "name", "status", "source", "added_at", "status_changed_at",
                  "status_reason")
# Then each reader's chosen themes, comma-separated; empty: every theme (subscribers/themes.py).
THEMES_COLUMN = "themes"


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


def add(project: Project, value: str, name: str | None, resubscribe: bool,
        themes: str | None = None) -> list[str]:
    """Add one reader (with `themes`, their choice of themes); lines for the editor (the
    store's own notes first)."""
    address, parsed_name = _address(value)
    if name is not None and control_in(name):
        raise BriefingError(Problem("--name", 0, 0, f"has a control character "
                                    f"({control_in(name)}); a name is one line of text"))
    name = (name if name is not None else parsed_name).strip()
    config = load_config(project)
    assert config is not None
    chosen = check_themes(themes, config, "--themes") if themes is not None else None
    store = Store.open(project.root, config.state)
    lines = list(store.notes)
    with store.transaction():
        existing = store.get(address)
        erased = erased_before(project, store, address) if existing is None else None
        if erased and not resubscribe:
            raise BriefingError(Problem(
                store.shown, 0, 0, f"{address} was erased at their request on {erased[:10]}; "
                                   "not added back", "only with their new, explicit consent: "
                                                     "add --resubscribe"))
        said = ""
        if themes is not None:
            before = choice_of(store, address)
            if (before.themes if before is not None else None) != chosen:
                set_choice(store, address, chosen, everything_offered(config), "cli")
                said = f"themes: {shown(chosen)}"
        if existing is None:
            if erased:
                lift_erasure(project, store, address)
            store.insert(address, name, "active", "cli")
            lines.append(f"added {address}" + (f" ({name})" if name else "")
                         + (f"; {said}" if said else "")
                         + (f"; it was erased on {erased[:10]}" if erased else ""))
        elif existing.status == "active":
            changes = ([f"name set to {name}"] if name and name != existing.name else []) + \
                ([said.replace(": ", " set to ", 1)] if said else [])
            if name and name != existing.name:
                store.set_name(address, name)
            lines.append(f"{existing.address} is already subscribed"
                         + (f"; {' and '.join(changes)}" if changes else ""))
        elif resubscribe:
            store.set_status(address, "active", f"resubscribed by the editor (was "
                                                f"{existing.status})")
            if name:
                store.set_name(address, name)
            lines.append(f"resubscribed {existing.address} (was {existing.why()})"
                         + (f"; {said}" if said else ""))
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


def subscribers(project: Project, status: str | None
                ) -> tuple[Store, list[Subscriber], dict[str, Choice]]:
    _config, store = open_store(project)
    return store, store.subscribers(status), choices(store)


def _themes_cell(s: Subscriber, chosen: dict[str, Choice]) -> str:
    """A reader's themes as export and list write them: '' when they never chose."""
    choice = chosen.get(address_key(s.address))
    return ",".join(choice.themes) if choice is not None else ""


def formatted(readers: list[Subscriber], output: str,
              chosen: dict[str, Choice] | None = None) -> str:
    """The list as text (a table), csv or json, with each reader's chosen themes."""
    chosen = chosen or {}
    if output == "json":
        return json.dumps([{c: getattr(s, c) for c in EXPORT_COLUMNS}
                           | {THEMES_COLUMN: _themes_cell(s, chosen)} for s in readers],
                          ensure_ascii=False, indent=2) + "\n"
    if output == "csv":
        return to_csv(readers, chosen)
    lines = []
    for s in readers:
        name = f" ({_shown(s.name)})" if s.name else ""
        why = f"  {_shown(s.status_reason)}" if s.status != "active" and s.status_reason else ""
        choice = chosen.get(address_key(s.address))
        themes = f"  themes: {shown(choice.themes)}" if choice is not None else ""
        lines.append(f"{s.status:<12} {s.address}{name}  since {s.status_changed_at[:10]}"
                     f"{why}{themes}")
    return "\n".join(lines) + ("\n" if lines else "")


def _shown(text: str) -> str:
    """A value on one line of the listing: a control character (in a name stored by an older
    briefing) is written as its code, never acted on."""
    return "".join(f"\\u{ord(c):04x}" if control_in(c) else c for c in text)


def to_csv(readers: list[Subscriber], chosen: dict[str, Choice],
           consent: dict[str, list[str]] | None = None) -> str:
    """CSV with every cell that a spreadsheet would take for a formula (starting with =, +,
    -, @, tab or CR; OWASP "CSV injection") prefixed with a quote; import undoes it. With
    `consent` (consent_csv.exported), the consent columns too."""
    from . import consent_csv
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((*EXPORT_COLUMNS, THEMES_COLUMN)
                    + (consent_csv.COLUMNS if consent is not None else ()))
    blank = [""] * len(consent_csv.COLUMNS)
    for s in readers:
        extra = consent.get(address_key(s.address), blank) if consent is not None else []
        writer.writerow([neutralised(str(getattr(s, c))) for c in EXPORT_COLUMNS]
                        + [neutralised(_themes_cell(s, chosen))]
                        + [neutralised(cell) for cell in extra])
    return buffer.getvalue()


def export(project: Project, target: Path | None) -> tuple[str, int]:
    """Every reader, all statuses (a suppression list is part of the list), as CSV: to the
    file given, written privately (0600, never under out/), or returned for stdout."""
    _config, store = open_store(project)
    from .consent_csv import exported
    readers = store.subscribers()
    text = to_csv(readers, choices(store), exported(store))
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
    config = load_config(project)
    assert config is not None
    wanted = _imported_themes(rows, config, shown)
    from . import consent_csv
    consent = consent_csv.read(path, shown)  # our own export's consent columns, if it has them
    store = Store.open(project.root, config.state)
    result = ImportResult(layout, notes=list(store.notes))
    source = f"import:{layout}:{path.name}"
    stamp = now()
    seen: dict[str, str] = {}
    keys = [address_key(row.address) for row in rows]
    known = store.get_many(keys)  # one query per 500 rows
    new: list[tuple[str, str, str, str, str, str, str, str]] = []
    restores: list[tuple[str, dict[str, str], str]] = []  # consent records, once rows exist
    # Whether anyone was ever erased, asked once (not once per new row of a large file).
    erasures = store.db.execute("SELECT 1 FROM erased LIMIT 1").fetchone() is not None
    with store.transaction():
        for row, key in zip(rows, keys, strict=True):
            if key in seen:  # the same reader twice in one file: the first row counts
                result.unchanged.append(row.address)
                continue
            seen[key] = row.address
            existing = known.get(key)
            erased = erased_before(project, store, row.address) \
                if existing is None and erasures else None
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
            themes_changed = False
            if row.line in wanted:
                before = choice_of(store, row.address)
                if (before.themes if before is not None else None) != wanted[row.line]:
                    set_choice(store, row.address, wanted[row.line],
                               everything_offered(config), source, stamp)
                    themes_changed = True
            if existing is None:
                new.append((row.address, key, row.name, row.status, row.source or source,
                            row.added_at or stamp, changed, reason))
                if consent is not None and key in consent:
                    restores.append((row.address, consent[key], row.source or source))
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
            elif themes_changed:
                result.updated.append(row.address)
            else:
                result.unchanged.append(row.address)
        store.insert_many(new)  # in file order, as one statement
        for address, values, came in restores:
            consent_csv.restore(store, address, values, came)
    return result


def _imported_themes(rows: list[Row], config: Config, shown: str
                     ) -> dict[int, tuple[str, ...] | None]:
    """line -> the themes of each row with a `themes` cell ('' is every theme), checked
    against briefing.yaml: every unknown id is an error, and nothing is imported."""
    wanted: dict[int, tuple[str, ...] | None] = {}
    problems: list[Problem] = []
    for row in rows:
        if row.themes is None:
            continue
        try:
            wanted[row.line] = check_themes(row.themes, config, shown, row.line) \
                if row.themes else None
        except BriefingError as exc:
            problems.extend(exc.problems)
    if problems:
        raise BriefingError(problems[:20])
    return wanted


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
