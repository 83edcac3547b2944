"""Readers' theme choices: checked against briefing.yaml, kept in the store, applied by sync.

A reader who never chose has no row and gets every theme, including themes added to
briefing.yaml later. A reader who chose keeps exactly their choice: a theme added since is not
added to them silently (`send` counts them; `offered` says what briefing.yaml had when they
chose). A choice comes from the editor (`subscribers add --themes`, an `import` with a `themes`
column), from the reader's preference page or from the sign-up form (events, applied by
`sync`); the latest wins.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..content.model import Config
from ..content.variants import EVERY_THEME, in_config_order, parse_code, themes_code
from ..errors import BriefingError, Problem
from .store import Store, address_key, now

if TYPE_CHECKING:
    from .apply import Applier
    from .sources import Event, Source

EVERY = "every theme"
_CODE = re.compile(r"\*|[a-z0-9-]{1,40}(?:\.[a-z0-9-]{1,40}){0,199}")  # theme ids are slugs


@dataclass(frozen=True)
class Choice:
    themes: tuple[str, ...]   # as chosen (a theme removed from briefing.yaml since may be here)
    offered: tuple[str, ...]  # every theme briefing.yaml declared when they chose
    changed_at: str

    def current(self, config: Config) -> tuple[str, ...]:
        """Their themes that briefing.yaml still declares, in its order."""
        return in_config_order(config, self.themes)

    def new_since(self, config: Config) -> tuple[str, ...]:
        """Themes briefing.yaml declares now that it did not when they chose."""
        return tuple(t.id for t in config.themes if t.id not in self.offered)


def shown(themes: tuple[str, ...] | None) -> str:
    """'industry, policy', or 'every theme'."""
    return EVERY if themes is None else ", ".join(themes)


def check_themes(value: str, config: Config, where: str, line: int = 0) -> tuple[str, ...] | None:
    """A list of theme ids as an editor writes it ('industry,policy', spaces allowed), in
    briefing.yaml's order; '*' (or, in a file, an empty cell) is every theme: None. An id
    briefing.yaml does not declare is an error with the valid ids and a did-you-mean."""
    parts = [p for p in re.split(r"[\s,]+", value.strip()) if p]
    if parts == [EVERY_THEME]:
        return None
    valid = [t.id for t in config.themes]
    problems = []
    for part in dict.fromkeys(parts):
        if part not in valid:
            close = difflib.get_close_matches(part, valid, n=1)
            problems.append(Problem(
                where, line, 0, f"'{part}' is not a theme in briefing.yaml; its themes: "
                                f"{', '.join(valid)}",
                f"did you mean '{close[0]}'?" if close else f"'{EVERY_THEME}' is every theme"))
    if problems:
        raise BriefingError(problems)
    if not parts:
        raise BriefingError(Problem(where, line, 0, "names no theme",
                                    f"list theme ids ({', '.join(valid)}), or '{EVERY_THEME}' "
                                    "for every theme"))
    return in_config_order(config, tuple(parts))


def everything_offered(config: Config) -> tuple[str, ...]:
    return tuple(t.id for t in config.themes)


# -- the store ----------------------------------------------------------------------------------


def _choice(row: tuple) -> Choice:
    return Choice(parse_code(row[0]) or (), parse_code(row[1]) or (), row[2])


def choices(store: Store) -> dict[str, Choice]:
    """Every reader who chose, by address key (readers who did not have no entry)."""
    with store.lock:
        rows = store.db.execute("SELECT address_key, themes, offered, changed_at "
                                "FROM reader_themes").fetchall()
    return {row[0]: _choice(row[1:]) for row in rows}


def choice_of(store: Store, address: str) -> Choice | None:
    row = store.db.execute("SELECT themes, offered, changed_at FROM reader_themes WHERE "
                           "address_key = ?", (address_key(address),)).fetchone()
    return _choice(row) if row else None


def set_choice(store: Store, address: str, themes: tuple[str, ...] | None,
               offered: tuple[str, ...], source: str, when: str | None = None) -> None:
    """Record a choice (None: every theme again); call inside a transaction."""
    key = address_key(address)
    if themes is None:
        store.db.execute("DELETE FROM reader_themes WHERE address_key = ?", (key,))
        return
    store.db.execute(
        "INSERT INTO reader_themes (address_key, themes, offered, changed_at, source) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (address_key) DO UPDATE SET themes = "
        "excluded.themes, offered = excluded.offered, changed_at = excluded.changed_at, "
        "source = excluded.source",
        (key, themes_code(themes), themes_code(offered), when or now(), source))


def themes_of(choice: Choice | None) -> tuple[str, ...] | None:
    return None if choice is None else choice.themes


# -- sync: a choice made on the preference page ---------------------------------------------


def apply_choice(event: Event, source: Source, applier: Applier) -> str:
    """One POST of the preference page (subscribers/prefpage.py); the tally it counts under.
    The latest choice wins: one older than the reader's last change (by the editor, say)
    is not applied."""
    store, readers, run = applier.store, applier.readers, applier.run
    address = readers.by_token(event.token)
    if address is None:
        run.warn(source.value, f"token '{event.token[:40]}' is no known reader's; nothing "
                               "changed", line=event.line)
        return "unknown token"
    code, offered = event.entry.get("themes"), event.entry.get("offered", "")
    if not (isinstance(code, str) and isinstance(offered, str) and _CODE.fullmatch(code)
            and (not offered or _CODE.fullmatch(offered))):
        run.warn(source.value, "is a theme choice without its themes; skipped",
                 line=event.line)
        return "unreadable"
    existing = store.get(address)
    if existing is None:
        run.lines.append(f"{address} chose themes, but is a recipient in briefing.yaml, not a "
                         "subscriber: not kept (add them with 'briefing subscribers add "
                         f"{address} --themes ...')")
        return "not on the list"
    before = choice_of(store, address)
    if before is not None and before.changed_at > event.time:
        run.lines.append(f"{existing.address} chose themes at {event.time}, before their "
                         f"choice of {before.changed_at}; not applied")
        return "older than a later choice"
    chosen = parse_code(code)
    if chosen is not None:
        # Ids the page offered, so briefing.yaml had them; one removed since is dropped
        # when the copies are made, not here (the choice is kept as the reader made it).
        chosen = tuple(dict.fromkeys(chosen))
    # Every theme ticked ('*'): every theme again, new ones too (the page says so).
    set_choice(store, address, chosen, parse_code(offered) or (), "page", event.time)
    run.lines.append(f"themes of {existing.address}: {shown(chosen)} (chosen at {event.time})")
    run.changed["themes"] += 1
    return "theme choice"


# -- sync: the themes ticked on the sign-up form ----------------------------------------------


def apply_signup_choice(applier: Applier, address: str, themes: tuple[str, ...],
                        offered: tuple[str, ...], signed_up: str) -> None:
    """The themes a reader ticked on the sign-up form (signup.choose_themes), once their
    sign-up is confirmed (subscribers/joining.py): their choice, as if made on the preference
    page at the moment they signed up. Every theme the form offered ticked is every theme,
    new ones too (no row); a form without themes (`themes` empty) chose nothing and changes
    nothing. An id briefing.yaml no longer declares is kept as chosen and dropped when the
    copies are made, like the page's; a later choice (the page, the editor) wins."""
    if not themes:
        return
    store, run, config = applier.store, applier.run, applier.readers.config
    known = everything_offered(config)
    # A token made without them: today's. Kept in briefing.yaml's order, removed ids last.
    offered = in_config_order(config, offered) + tuple(t for t in offered if t not in known) \
        if offered else known
    chosen: tuple[str, ...] | None = tuple(dict.fromkeys(themes))
    if set(offered) <= set(chosen or ()):
        chosen = None
    before = choice_of(store, address)
    if before is not None and before.changed_at > signed_up:
        run.lines.append(f"{address} chose themes when signing up at {signed_up}, before their "
                         f"choice of {before.changed_at}; not applied")
        return
    if before is None and chosen is None:
        return  # every theme, as before: nothing to record
    set_choice(store, address, chosen, offered, "signup", signed_up)
    gone = [t for t in chosen or () if t not in known]
    run.lines.append(f"themes of {address}: {shown(chosen)} (chosen when signing up at "
                     f"{signed_up})" + (f"; no longer in briefing.yaml: {', '.join(gone)}"
                                        if gone else ""))
    run.changed["themes"] += 1
