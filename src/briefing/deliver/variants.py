"""One built message per distinct theme choice among the readers; each copy is made from its own.

A reader who never chose gets the built message.eml (every theme). Every other choice is
rendered once (content/variants.py's `restrict`, then the same HTML, digest and .eml renderers
as the build), in memory; each reader's copy is then made from their variant's bytes by
substitution (deliver/personal.py), so the cost grows with the number of distinct choices, not
with readers. A reader whose themes hold no item of this issue gets no copy: `for_reader`
says None, and the plan counts them. `out/<ISSUE>/` keeps every theme.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..content.model import Config, Issue
from ..content.validate import Project
from ..content.variants import in_config_order, parse_code, restrict, themes_code
from ..errors import count
from ..subscribers.store import Store, address_key
from ..subscribers.themelink import LinkSigner
from ..subscribers.themes import check_themes, shown
from ..subscribers.tokens import Tokens
from .personal import CopyMaker

if TYPE_CHECKING:
    from .dkim import SigningKeys

Chosen = tuple[str, ...] | None  # a reader's themes in briefing.yaml's order; None: every theme


@dataclass
class Variant:
    chosen: Chosen                # what the reader chose (the link carries it)
    carried: tuple[str, ...]      # the themes of this issue the copy holds
    maker: CopyMaker

    @property
    def ledger_themes(self) -> str:
        """What the ledger records: the theme ids the copy carried."""
        return ",".join(self.carried)


def render_variant(project: Project, issue: Issue, chosen: tuple[str, ...]) -> bytes:
    """The message of one choice, built as `briefing build` builds message.eml (pure)."""
    from ..render.eml import render_eml
    from ..render.html import render_html
    from ..render.text import render_text
    variant = restrict(issue, chosen)
    html = render_html(variant, project.root / "templates")
    text = render_text(variant)
    return render_eml(variant, text, html)


def preview_choice(value: str | None, config: Config) -> Chosen:
    """`send --to X --themes a,b`: the choice to preview, checked like `add --themes`."""
    return None if value is None else check_themes(value, config, "--themes")


@dataclass(eq=False)  # compared and hashed by identity: one per distinct stored choice
class Slot:
    """What readers with one stored choice share: their current themes, the themes added to
    briefing.yaml since they chose, and (once built) their variant."""

    chosen: Chosen
    new: tuple[str, ...] = ()
    variant: Variant | None = None
    ready: bool = False


class Variants:
    """The readers' choices (read once from the store) and the messages built for them."""

    def __init__(self, project: Project, issue: Issue, built: bytes, digest: str, shown: str,
                 tokens: Tokens, store: Store, keys: SigningKeys | None = None) -> None:
        self.project, self.issue, self.tokens = project, issue, tokens
        self.keys = keys  # DKIM: every variant's copies are signed (deliver/dkim.py)
        self.config = issue.config
        self.digest, self.shown = digest, shown
        self.sections = tuple(s.theme.id for s in issue.sections)
        self.signer = LinkSigner(tokens.check) if self.config.preferences else None
        self._built: dict[Chosen, Variant | None] = {}
        self._built[None] = self._variant(None, built)
        self.every = Slot(None)  # a reader who never chose
        # address key -> the Slot of their stored choice; one Slot per distinct choice
        slots: dict[tuple[str, str], Slot] = {}
        self._by_key: dict[str, Slot] = {}
        with store.lock:
            rows = store.db.execute("SELECT address_key, themes, offered FROM reader_themes")
            for key, code, offered in rows:
                slot = slots.get((code, offered))
                if slot is None:
                    slot = slots[(code, offered)] = self._slot(code, offered)
                self._by_key[key] = slot
        self._resolved: dict[str, Slot] = {}  # address -> Slot, for the readers of a send

    def _slot(self, code: str, offered: str) -> Slot:
        chosen = set(parse_code(code) or ())
        known = set(parse_code(offered) or ())
        return Slot(in_config_order(self.config, chosen),
                    tuple(t.id for t in self.config.themes
                          if t.id not in known and t.id not in chosen))

    def _variant(self, chosen: Chosen, data: bytes | None = None) -> Variant | None:
        carried = self.sections if chosen is None else tuple(
            theme for theme in self.sections if theme in chosen)
        if not carried:
            return None
        if data is None:
            data = render_variant(self.project, self.issue, chosen or ())
        sign = None if self.signer is None else _signing(self.signer, themes_code(chosen))
        maker = CopyMaker(data, self.config.unsubscribe, self.digest, self.shown, sign)
        if self.keys is not None:
            maker.sign_with(self.keys)
        return Variant(chosen, carried, maker)

    def get(self, chosen: Chosen) -> Variant | None:
        """The variant of a choice, built on first use; None when it holds nothing."""
        if chosen not in self._built:
            self._built[chosen] = self._variant(chosen)
        return self._built[chosen]

    def resolve(self, addresses: list[str]) -> None:
        """Look these readers' choices up once (a send's readers), so that every later
        question about them is one dictionary lookup."""
        by_key, every = self._by_key, self.every
        if not by_key:  # nobody has chosen: every reader gets every theme
            self._resolved = dict.fromkeys(addresses, every)
            return
        self._resolved = {a: by_key.get(address_key(a), every) for a in addresses}

    def slot(self, address: str) -> Slot:
        found = self._resolved.get(address)
        return found if found is not None else self._by_key.get(address_key(address),
                                                                 self.every)

    def for_reader(self, address: str) -> Variant | None:
        """The variant a reader's copy is made from; None: nothing in their themes."""
        slot = self.slot(address)
        if not slot.ready:
            slot.variant, slot.ready = self.get(slot.chosen), True
        return slot.variant

    def _slots(self, addresses: list[str]) -> Counter[Slot]:
        return Counter(map(self.slot, addresses))

    def sets(self, addresses: list[str]) -> Counter[Chosen]:
        """How many of these readers have each choice."""
        sets: Counter[Chosen] = Counter()
        for slot, n in self._slots(addresses).items():
            sets[slot.chosen] += n
        return sets

    def missing_new(self, addresses: list[str]) -> dict[str, int]:
        """Per theme added to briefing.yaml since a reader chose: how many of these readers
        chose before it and so do not get it (a choice never grows silently)."""
        missing: Counter[str] = Counter()
        for slot, n in self._slots(addresses).items():
            for theme in slot.new:
                missing[theme] += n
        return {t.id: missing[t.id] for t in self.config.themes if missing[t.id]}


def _signing(signer: LinkSigner, code: str) -> Callable[[str], str]:
    """token -> the signature of the preference link of a copy of this choice."""
    return lambda token: signer.sign(token, code)


SETS_SHOWN = 5


def theme_lines(variants: Variants, todo: list[str], nothing: list[str], previewing: bool,
                preview: Chosen) -> list[str]:
    """What the dry run says of themes: nothing at all while no reader has chosen."""
    if previewing:
        return [f"themes:     a preview of {shown(preview)} (--themes)"]
    sets = variants.sets(todo)
    lines = []
    if set(sets) != {None} and sets:
        ordered = sorted(sets.items(), key=lambda kv: (-kv[1], themes_code(kv[0])))
        parts = [f"{shown(chosen)} ({n})" for chosen, n in ordered[:SETS_SHOWN]]
        more = f" and {len(ordered) - SETS_SHOWN} more" if len(ordered) > SETS_SHOWN else ""
        lines.append(f"themes:     {count(len(sets), 'theme set')} among the readers, one "
                     f"message for each: {'; '.join(parts)}{more}")
    if nothing:
        lines.append(f"no copy:    {count(len(nothing), 'reader')}: nothing in their themes "
                     "this week")
    label = "new themes:"
    for theme, n in variants.missing_new(todo + nothing).items():
        lines.append(f"{label} {count(n, 'reader')} chose their themes before '{theme}' was "
                     "added: they do not get it (they can tick it from \"Choose what you "
                     "get\")" if variants.config.preferences else
                     f"{label} {count(n, 'reader')} chose their themes before '{theme}' was "
                     "added: they do not get it ('briefing subscribers add ADDRESS --themes' "
                     "changes a choice)")
        label = " " * len(label)
    return lines
