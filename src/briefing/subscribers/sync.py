"""`briefing subscribers sync`: unsubscribes, bounces and complaints applied to the list, once.

Two kinds of source, each read whole before anything changes (subscribers/sources.py), then
applied in one transaction (subscribers/apply.py for the endpoint's events, subscribers/mail.py
for a mailbox, with the reports read by subscribers/reports.py):

- the endpoint's events (a JSON-lines file, or its /events URL with a bearer secret): each
  token is mapped back to its reader by computing the token of every address we know (the
  store, briefing.yaml's recipients, the deliveries); an unknown token is reported once, never
  guessed;
- a mailbox (mbox or Maildir, fetched by the editor's own tools), holding mail sent to the
  unsubscribe address (`unsubscribe+TOKEN@...`), mail from a reader asking to unsubscribe,
  delivery status notifications (RFC 3464, and other formats through flufl.bounce) and abuse
  reports (RFC 5965), each applied only when it proves which copy it is about.

Every applied event and message is remembered in sync_seen, so syncing twice changes nothing
the second time, even after the editor resubscribed someone. `send` syncs first
(`sync_before_send`) and refuses when a source cannot be read, unless its last good read is
under 24 hours old.
"""

from __future__ import annotations

import datetime as dt

from ..content.model import Config
from ..content.schema import check_events_source
from ..content.validate import Project
from ..errors import BriefingError, Problem, count
from .apply import Applier, Readers, Run, apply_events
from .identity import list_tokens
from .joining import forget_expired_signups
from .mail import apply_mail
from .sources import Source, read_events, read_mailbox
from .store import Store, now

DEFAULT_EVENTS = ".briefing/events.jsonl"
FRESH_FOR = dt.timedelta(hours=24)  # a source that cannot be read may be skipped this long


# -- the commands -----------------------------------------------------------------------------


def _event_source(value: str, where: str) -> Source:
    try:
        check_events_source(value)
    except ValueError as exc:
        message, _, hint = str(exc).partition("|")
        raise BriefingError(Problem(where, 0, 0, f"'{value}' {message}", hint)) from None
    return Source("events", value, where)


def configured_sources(project: Project, config: Config) -> list[Source]:
    """The sources in briefing.yaml's `sync:`; without `events:`, the endpoint's default file
    if it exists (an endpoint run in this project writes there)."""
    sources = []
    if config.sync.events:
        sources.append(_event_source(config.sync.events, "briefing.yaml sync.events"))
    elif (project.root / DEFAULT_EVENTS).is_file():
        sources.append(Source("events", DEFAULT_EVENTS, ""))
    if config.sync.mailbox:
        sources.append(Source("mailbox", config.sync.mailbox, "briefing.yaml sync.mailbox"))
    return sources


def _sync_source(project: Project, config: Config, store: Store, readers: Readers,
                 source: Source, run: Run) -> None:
    """Read one source whole (raising BriefingError if it cannot be), then apply it and note
    the good read, all in one transaction."""
    if source.kind == "events":
        events, warnings = read_events(project, source, config.sync.events_secret_env)
        run.lines += warnings
        with store.transaction():
            summary = apply_events(events, source, Applier(store, readers, run))
            forget_expired_signups(store)
            _record_run(store, source)
    else:
        mails = read_mailbox(project, source)
        with store.transaction():
            summary = apply_mail(mails, source, Applier(store, readers, run))
            _record_run(store, source)
    run.lines.append(summary)


def _readers(project: Project, config: Config, store: Store) -> Readers:
    """Who is who; the list's tokens when it has a key (none before the first send)."""
    return Readers(project, config, store, list_tokens(project.root, store, config,
                                                       create=False))


def _record_run(store: Store, source: Source) -> None:
    store.db.execute("INSERT INTO sync_runs (source, succeeded_at) VALUES (?, ?) "
                     "ON CONFLICT (source) DO UPDATE SET succeeded_at = excluded.succeeded_at",
                     (source.key, now()))


def _changes(run: Run) -> str:
    parts = [f"{run.changed[s]} {s}" for s in ("subscribed", "unsubscribed", "bounced",
                                               "complained") if run.changed[s]]
    if run.changed["themes"]:
        parts.append(count(run.changed["themes"], "theme choice") + " applied")
    if run.changed["temporary"]:
        parts.append(count(run.changed["temporary"], "temporary failure") + " counted")
    return "sync: " + (", ".join(parts) if parts else "no reader changed")


def sync(project: Project, events: str | None, mailbox: str | None) -> list[str]:
    """`briefing subscribers sync`: the sources given, or those in briefing.yaml."""
    from .manage import open_store

    config, store = open_store(project)
    if events is not None or mailbox is not None:
        sources = ([_event_source(events, "--events")] if events is not None else []) + \
            ([Source("mailbox", mailbox, "--mailbox")] if mailbox is not None else [])
    else:
        sources = configured_sources(project, config)
    if not sources:
        raise BriefingError(Problem("briefing.yaml", 0, 0, "nothing to sync from: no sync.events "
                                    f"or sync.mailbox, and no {DEFAULT_EVENTS}",
                                    "pass --events PATH_OR_URL or --mailbox PATH, or set them "
                                    "under sync: in briefing.yaml"))
    run = Run(lines=list(store.notes))
    readers = _readers(project, config, store)
    for source in sources:
        _sync_source(project, config, store, readers, source, run)
    run.lines.append(_changes(run))
    return run.lines


def sync_before_send(project: Project, config: Config, store: Store) -> list[str]:
    """Sync the configured sources before a send (the dry run too: it shows what changed).
    A source that cannot be read stops the send, unless its last good read is under 24 hours
    old; the lines say which source and why."""
    sources = configured_sources(project, config)
    if not sources:
        return []
    run = Run()
    readers = _readers(project, config, store)
    for source in sources:
        try:
            _sync_source(project, config, store, readers, source, run)
        except BriefingError as exc:
            reason = "; ".join(
                p.message + (f" ({p.hint})" if p.hint and p.path == source.value else "")
                if p.path == source.value else p.format() for p in exc.problems)
            row = store.db.execute("SELECT succeeded_at FROM sync_runs WHERE source = ?",
                                   (source.key,)).fetchone()
            last = _parse_time(row[0]) if row else None
            age = dt.datetime.now(dt.UTC) - last if last else None
            if age is not None and age < FRESH_FOR:
                run.lines.append(f"sync: warning: {source.shown} cannot be read ({reason}); "
                                 f"sending on its last good sync, {_ago(age)} ago "
                                 f"({row[0]}), under 24 hours")
                continue
            when = (f"its last good sync was {_ago(age)} ago ({row[0]})" if age is not None
                    else "it was never synced")
            raise BriefingError(Problem(
                source.value, 0, 0, f"cannot sync {source.kind} before sending: {reason}; "
                                    f"{when}, so unsubscribes may be missing: not sending",
                "fix the source, or remove it from sync: in briefing.yaml; a send goes ahead "
                "on a good sync under 24 hours old")) from None
    run.lines.append(_changes(run))
    return run.lines


def _parse_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _ago(age: dt.timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return count(minutes, "minute")
    hours = minutes // 60
    return count(hours, "hour") if hours < 48 else count(hours // 24, "day")
