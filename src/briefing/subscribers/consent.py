"""Consent records, access requests (`subscribers show`) and erasure (`subscribers forget`).

An access request (GDPR Art. 15) gets everything the store holds about one address: status,
every change of it, the consent record, every issue sent with its dates, what came back. An
erasure (Art. 17) deletes all of it and keeps only a keyed hash of the address (keyed with the
token key, so the store alone cannot tell whose it is): no later `add`, `import` or earlier
sign-up brings the reader back without their new, explicit consent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..content.schema import parse_mailbox
from ..content.validate import Project
from ..errors import BriefingError, Problem, count
from .store import Store, address_key, now


def erasure_hash(token_key: bytes, address: str) -> str:
    return hmac.new(token_key, b"briefing-erased\0" + address_key(address).encode("utf-8"),
                    hashlib.sha256).hexdigest()


def erased_at(store: Store, token_key: bytes, address: str) -> str | None:
    row = store.db.execute("SELECT erased_at FROM erased WHERE address_hash = ?",
                           (erasure_hash(token_key, address),)).fetchone()
    return row[0] if row else None


def forget_erasure(store: Store, token_key: bytes, address: str) -> None:
    """They gave their consent again (a confirmed sign-up, or the editor's --resubscribe)."""
    store.db.execute("DELETE FROM erased WHERE address_hash = ?",
                     (erasure_hash(token_key, address),))


def erased_before(project: Project, store: Store, address: str) -> str | None:
    """When the address was erased, if it was: for `add` and `import`, which must not bring it
    back quietly. No key is read (or made) while nothing was ever erased."""
    if store.db.execute("SELECT 1 FROM erased LIMIT 1").fetchone() is None:
        return None
    return erased_at(store, _erasure_key(project), address)


def lift_erasure(project: Project, store: Store, address: str) -> None:
    """The editor says the reader asked to come back (--resubscribe): the erasure's hash goes."""
    forget_erasure(store, _erasure_key(project), address)


def _erasure_key(project: Project) -> bytes:
    from .tokens import KEY_FILE, key_source, read_key
    key = read_key(project.root)
    if key is None:
        raise BriefingError(Problem(
            KEY_FILE, 0, 0, "is missing: the addresses erased at their readers' request are "
                            "kept as hashes keyed with it, so no one can be checked against "
                            "them; nothing was changed",
            f"restore {key_source(project.root)} from your backup of .briefing/"))
    return key


def record_consent(store: Store, address: str, source: str, signed_up_at: str,
                   confirmed_at: str = "", page: str = "", wording_hash: str = "",
                   ip_hash: str = "", themes: str = "") -> None:
    """The reader's consent, replacing the one before (call inside a transaction)."""
    store.db.execute(
        "INSERT OR REPLACE INTO consent (address_key, source, signed_up_at, confirmed_at, page, "
        "wording_hash, ip_hash, themes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (address_key(address), source, signed_up_at, confirmed_at, page, wording_hash, ip_hash,
         themes))


# -- access ----------------------------------------------------------------------------------


def _rows(store: Store, sql: str, args: tuple, names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [dict(zip(names, row, strict=True)) for row in store.db.execute(sql, args)]


def _keys(project: Project) -> tuple[bytes, Any] | None:
    """The token key and the sign-up keys, if this project has a key (never made here)."""
    from .signup import editor_keys
    from .tokens import read_key
    token_key = read_key(project.root)
    return (token_key, editor_keys(token_key)) if token_key is not None else None


def access_record(project: Project, store: Store, address: str) -> dict[str, Any]:
    """Everything the store holds about one address, as plain data."""
    key = address_key(address)
    reader = store.get(address)
    record: dict[str, Any] = {"address": reader.address if reader else address,
                              "held": reader is not None}
    if reader is not None:
        record.update(name=reader.name, status=reader.status, status_reason=reader.status_reason,
                      status_changed_at=reader.status_changed_at, added_at=reader.added_at,
                      source=reader.source)
    consent = store.db.execute(
        "SELECT source, signed_up_at, confirmed_at, page, wording_hash, ip_hash, themes "
        "FROM consent WHERE address_key = ?", (key,)).fetchone()
    if consent is not None:
        names = ("source", "signed_up_at", "confirmed_at", "page", "wording_hash", "ip_hash",
                 "themes")
        record["consent"] = dict(zip(names, consent, strict=True))
        wording = store.db.execute("SELECT text FROM consent_wordings WHERE hash = ?",
                                   (consent[4],)).fetchone() if consent[4] else None
        record["consent"]["wording"] = wording[0] if wording else ""
        record["consent"]["themes"] = [t for t in consent[6].split(",") if t]
    # Their choice of themes (subscribers/themes.py); none: every theme, new ones too.
    chosen = store.db.execute("SELECT themes, offered, changed_at, source FROM reader_themes "
                              "WHERE address_key = ?", (key,)).fetchone()
    record["themes"] = None if chosen is None else {
        "chosen": [t for t in chosen[0].split(".") if t],
        "offered": [t for t in chosen[1].split(".") if t], "chosen_at": chosen[2],
        "source": chosen[3]}
    record["history"] = _rows(store, "SELECT status, reason, at FROM status_history WHERE "
                              "address_key = ? ORDER BY id", (key,), ("status", "reason", "at"))
    record["deliveries"] = _rows(
        store, "SELECT issue, state, attempted_at, accepted_at, message_id FROM deliveries "
               "WHERE address_key = ? ORDER BY attempted_at, id", (key,),
        ("issue", "state", "attempted_at", "accepted_at", "message_id"))
    record["feedback"] = _rows(store, "SELECT issue, kind, reason, source, at FROM feedback "
                               "WHERE address_key = ? ORDER BY at, id", (key,),
                               ("issue", "kind", "reason", "source", "at"))
    keys = _keys(project)
    record["pending_signups"] = _rows(
        store, "SELECT signed_up_at, expires_at, page FROM signups_pending WHERE "
               "address_hash = ? AND expires_at >= ? ORDER BY signed_up_at",
        (keys[1].address_hash(address), now()), ("signed_up_at", "expires_at", "page")) \
        if keys else []
    record["erased_at"] = erased_at(store, keys[0], address) if keys else None
    record["held"] = bool(record["held"] or record["history"] or record["deliveries"]
                          or record["feedback"] or record["pending_signups"] or record["themes"])
    return record


def _safe(value: object) -> str:
    """Printable on a terminal whatever an import or a form put there (no escapes)."""
    return "".join(c if c.isprintable() else "?" for c in str(value))


def _source(value: str) -> str:
    kind, _, rest = value.partition(":")
    if kind == "import":
        layout, _, name = rest.partition(":")
        return f"imported from {name} ({layout} layout)"
    return {"cli": "added by the editor ('briefing subscribers add')",
            "signup": "the sign-up form, confirmed by the reader (double opt-in)",
            "sync": "recorded by sync (an unsubscribe, bounce or complaint that named it)",
            }.get(value, value)


def _themes(choice: dict[str, Any] | None) -> str:
    """Their choice of themes, and where and when they made it."""
    if choice is None:
        return "every theme (never chose: themes added later too)"
    kind, _, rest = choice["source"].partition(":")
    how = f"by import of {rest.partition(':')[2]}" if kind == "import" else {
        "cli": "by the editor", "page": "on the preference page",
        "signup": "on the sign-up form"}.get(kind, kind)
    return (f"{', '.join(choice['chosen']) or '(none)'} "
            f"(chosen {_safe(how)} at {choice['chosen_at']})")


def formatted_record(record: dict[str, Any]) -> str:
    """The access record as text, for the editor to read or send on."""
    lines = [_safe(record["address"])]
    if not record["held"]:
        lines.append("  the store holds nothing about this address")
        if record["erased_at"]:
            lines.append(f"  erased at their request on {record['erased_at']}; only a keyed "
                         "hash of the address is kept, so it is never added back quietly")
        return "\n".join(lines) + "\n"
    if "status" in record:
        why = f" ({record['status_reason']})" if record["status_reason"] else ""
        lines += [f"  name:        {_safe(record['name']) or '(none)'}",
                  f"  status:      {record['status']} since {record['status_changed_at']}"
                  f"{_safe(why)}",
                  f"  added:       {record['added_at']}"]
        lines.append(f"  themes:      {_themes(record['themes'])}")
    consent = record.get("consent")
    if consent:
        lines += ["consent", f"  source:      {_safe(_source(consent['source']))}",
                  f"  signed up:   {consent['signed_up_at']}"
                  + (f" on {_safe(consent['page'])}" if consent["page"] else "")]
        if consent["confirmed_at"]:
            lines.append(f"  confirmed:   {consent['confirmed_at']}")
        if consent["wording_hash"]:
            words = f"\"{_safe(consent['wording'])}\" " if consent["wording"] else ""
            lines.append(f"  agreed to:   {words}(sha256 {consent['wording_hash']})")
        if consent["source"] == "signup":
            lines.append("  IP address:  " + (f"keyed hash {consent['ip_hash']}"
                                              if consent["ip_hash"] else "not recorded"))
        if consent["themes"]:
            lines.append(f"  themes:      {', '.join(_safe(t) for t in consent['themes'])}")
    sections = (
        ("status history", record["history"],
         lambda r: f"{r['at']}  {r['status']:<12} {_safe(r['reason'])}".rstrip()),
        ("issues sent", record["deliveries"],
         lambda r: f"{_safe(r['issue'])}  {r['state']} {r['accepted_at'] or r['attempted_at']}"
                   f"  {_safe(r['message_id'])}"),
        ("what came back", record["feedback"],
         lambda r: f"{r['at']}  {r['kind']} {_safe(r['issue'])}  {_safe(r['reason'])}"),
        ("sign-ups waiting for confirmation", record["pending_signups"],
         lambda r: f"{r['signed_up_at']} on {_safe(r['page']) or '(no page)'}, expires "
                   f"{r['expires_at']}"),
    )
    for title, rows, line in sections:
        lines.append(f"{title} ({len(rows)})")
        lines += [f"  {line(row)}" for row in rows]
    return "\n".join(lines) + "\n"


def show(project: Project, value: str, output: str) -> str:
    """`briefing subscribers show ADDRESS`: the access record, as text or JSON."""
    from .manage import open_store
    _config, store = open_store(project)
    record = access_record(project, store, _parsed(value))
    if output == "json":
        return json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    return formatted_record(record)


def _parsed(value: str) -> str:
    try:
        return parse_mailbox(value).address
    except ValueError:
        raise BriefingError(Problem("ADDRESS", 0, 0, f"'{value}' is not a valid address",
                                    "write it as user@example.org")) from None


# -- erasure ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    """What `forget` deletes for one address, by table."""

    reader: int
    consent: int
    history: int
    deliveries: int
    feedback: int
    other: int  # temporary-failure counts and pending sign-ups
    themes: int = 0  # their choice of themes (subscribers/themes.py)

    def describe(self) -> str:
        parts = [("the reader's row (address, name, status)", self.reader),
                 ("the consent record", self.consent),
                 (count(self.history, "status change"), self.history),
                 (f"{self.deliveries} deliver{'y' if self.deliveries == 1 else 'ies'}",
                  self.deliveries),
                 (count(self.feedback, "feedback row"), self.feedback),
                 ("their choice of themes", self.themes),
                 (count(self.other, "other row"), self.other)]
        return ", ".join(text for text, n in parts if n) or "nothing was held"


_TABLES = (("subscribers", "address_key"), ("consent", "address_key"),
           ("status_history", "address_key"), ("deliveries", "address_key"),
           ("feedback", "address_key"), ("sync_transient", "address_key"),
           ("reader_themes", "address_key"))


def forget(project: Project, value: str, confirm: Callable[[str], bool]) -> list[str]:
    """`briefing subscribers forget ADDRESS`: erase everything held about the address, keep a
    keyed hash of it as a suppression. `confirm` is asked first, with what will be erased."""
    from .identity import list_tokens
    from .manage import open_store
    from .signup import editor_keys

    config, store = open_store(project)
    address = _parsed(value)
    key = address_key(address)
    list_tokens(project.root, store, config)  # the suppression is keyed with the token key:
    token_key = _erasure_key(project)         # made now if nothing was ever sent
    address_hash = editor_keys(token_key).address_hash(address)
    found = [store.db.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?",  # noqa: S608
                              (key,)).fetchone()[0] for table, column in _TABLES]
    pending = store.db.execute("SELECT count(*) FROM signups_pending WHERE address_hash = ?",
                               (address_hash,)).fetchone()[0]
    erasure = Erasure(found[0], found[1], found[2], found[3], found[4], found[5] + pending,
                      found[6])
    if not confirm(f"Erase {address}: {erasure.describe()}; and keep only a keyed hash of the "
                   "address, so that nothing brings it back without their new consent?"):
        return ["nothing erased"]
    # Deleted rows stay readable in free pages and in the WAL: overwrite them with zeros, and
    # empty the WAL once the erasure is in the database file.
    store.db.execute("PRAGMA secure_delete = ON")
    with store.transaction() as db:
        for table, column in _TABLES:
            db.execute(f"DELETE FROM {table} WHERE {column} = ?", (key,))  # noqa: S608
        db.execute("DELETE FROM signups_pending WHERE address_hash = ?", (address_hash,))
        db.execute("INSERT OR REPLACE INTO erased (address_hash, erased_at) VALUES (?, ?)",
                   (erasure_hash(token_key, address), now()))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    lines = [f"erased {address}: {erasure.describe()}; kept a keyed hash of the address as a "
             "suppression (add --resubscribe or import --resubscribe, with their new consent, "
             "or their own confirmed sign-up, lifts it)"]
    if any(address_key(r.address) == key for r in config.recipients):
        lines.append(Problem("briefing.yaml", 0, 0, f"{address} is also in recipients:, which "
                             "every send mails", "delete it there too",
                             severity="warning").format())
    if config.signup is not None:
        lines.append("the endpoint's events file may still hold their sealed confirmation link "
                     "(unreadable without the token key) until you rotate it")
    return lines
