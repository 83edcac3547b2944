"""Corrections and story threads as written (docs/record.md), checked against the issue's items."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable

from ..errors import Problems
from .load import Map, Node, Seq
from .model import Config, Correction, Item, Origin

# Folders the web edition writes at the top of out/ for the story threads (out/threads/<ID>/).
THREADS_DIR = "threads"


def check_annotations(project, issue_id: str, config: Config | None, meta,
                      by_theme: dict[str, list[Item]], problems: Problems
                      ) -> tuple[Correction, ...]:
    """What load_issue checks of the record: every item's thread is declared, every correction
    names an item (meta is validate.IssueMeta)."""
    items = [item for theme_items in by_theme.values() for item in theme_items]
    check_item_threads(config, items, problems)
    if not meta.corrections:
        return ()
    shown = project.show(project.briefs / issue_id / "issue.yaml")
    return check_corrections(meta.corrections, meta.node, shown, meta.date or dt.date.min,
                             items, problems)


def check_threads_declared(config: Config, shown: str, problems: Problems) -> bool:
    """Thread ids are unique in briefing.yaml (an item must name exactly one story)."""
    ok = True
    seen: set[str] = set()
    for thread in config.threads:
        if thread.id in seen and thread.origin is not None:
            problems.add(shown, thread.origin.line, thread.origin.col,
                         f"thread id '{thread.id}' is listed twice")
            ok = False
        seen.add(thread.id)
    return ok


def check_item_threads(config: Config | None, items: Iterable[Item], problems: Problems) -> None:
    """Every `thread:` names a thread declared in briefing.yaml, with a did-you-mean."""
    if config is None:
        return
    declared = [t.id for t in config.threads]
    for item in items:
        if not item.thread or item.thread in declared:
            continue
        where = item.mark("thread")
        close = difflib.get_close_matches(item.thread, declared, n=1)
        if close:
            hint = f"did you mean '{close[0]}'?"
        elif declared:
            hint = "threads in briefing.yaml: " + ", ".join(declared)
        else:
            hint = "declare it in briefing.yaml: threads: [{id: " + item.thread + \
                   ", title: ...}]"
        problems.add(where.path, where.line, where.col,
                     f"unknown thread '{item.thread}'; a thread is declared in briefing.yaml "
                     "'threads:' before items name it", hint)


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _meant(written: str, headlines: list[str]) -> str:
    """The headline an editor most likely meant: the same in another case or spacing, else a
    near spelling; '' when none is close."""
    folded = _fold(written)
    for headline in headlines:
        if _fold(headline) == folded:
            return headline
    by_fold = {_fold(h): h for h in headlines}
    close = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.5)
    return by_fold[close[0]] if close else ""


def _entry_nodes(node: Map | None) -> list[Node | None]:
    listed = node.get("corrections") if node is not None else None
    return list(listed.items) if isinstance(listed, Seq) else []


def check_corrections(raw: tuple[dict, ...], node: Map | None, shown: str, issue_date: dt.date,
                      items: list[Item], problems: Problems) -> tuple[Correction, ...]:
    """issue.yaml's `corrections:` as Correction models: each names an item of the issue by its
    headline (else an error with a did-you-mean), is dated on or after the issue, and its text
    is inline Markdown whose links are checked like a summary's."""
    from .markdown import LinkTargetError, parse_inline
    from .schema import check_link

    headlines = [item.headline for item in items]
    nodes = _entry_nodes(node)
    out: list[Correction] = []
    for index, entry in enumerate(raw):
        entry_node = nodes[index] if index < len(nodes) else None
        where = _where(entry_node, shown)

        def at(key: str, where: Origin = where, entry_node: Node | None = entry_node) -> Origin:
            value = entry_node.get(key) if isinstance(entry_node, Map) else None
            return Origin(shown, value.mark.line, value.mark.col) if value is not None else where

        ok = True
        if entry["item"] not in headlines:
            meant = _meant(entry["item"], headlines)
            place = at("item")
            problems.add(place.path, place.line, place.col,
                         f"correction of '{entry['item']}': no item of this issue has that "
                         "headline", f"did you mean '{meant}'?" if meant else
                         "write the corrected item's headline exactly as it was sent")
            ok = False
        if entry["date"] < issue_date:
            place = at("date")
            problems.add(place.path, place.line, place.col,
                         f"correction dated {entry['date']}, before the issue itself "
                         f"({issue_date})", "date it the day the correction is made")
            ok = False
        try:
            text = parse_inline(entry["text"], check_link)
        except LinkTargetError as exc:
            message, _, hint = str(exc).partition("|")
            place = at("text")
            problems.add(place.path, place.line, place.col, message, hint)
            ok = False
        if ok:
            out.append(Correction(date=entry["date"], item=entry["item"], text=text,
                                  text_source=entry["text"], source=entry["source"],
                                  origin=where))
    return tuple(out)


def _where(node: Node | None, shown: str) -> Origin:
    return Origin(shown, node.mark.line, node.mark.col) if node is not None else \
        Origin(shown, 0, 0)


def correction_key(correction_date: dt.date, headline: str, ordinal: int = 1) -> str:
    """A correction's identity in the ledger of correction notices: its date and the item it
    corrects (editing its wording later does not make it a new correction)."""
    import hashlib
    digest = hashlib.sha256(f"{correction_date.isoformat()}\0{headline}".encode()).hexdigest()
    return f"{correction_date.isoformat()}-{digest[:10]}" + (f"-{ordinal}" if ordinal > 1 else "")


def anchor_slug(headline: str) -> str:
    """An item's anchor from its headline: letters and digits of any script, '-' between words
    (an id in HTML may hold any character but a space; links percent-encode the rest)."""
    text = unicodedata.normalize("NFKC", headline).casefold()
    text = re.sub(r"[\W_]+", "-", text).strip("-")
    return text[:60].rstrip("-") or "item"


def item_anchors(themes: list[tuple[str, list[str]]]) -> list[list[str]]:
    """The anchor of every item of an issue, theme by theme in reading order: its headline's
    slug, made unique on the page (theme ids are the sections' anchors)."""
    used = {theme_id for theme_id, _ in themes}
    out: list[list[str]] = []
    for _, headlines in themes:
        anchors = []
        for headline in headlines:
            base = anchor_slug(headline)
            anchor, number = base, 2
            while anchor in used:
                anchor, number = f"{base}-{number}", number + 1
            used.add(anchor)
            anchors.append(anchor)
        out.append(anchors)
    return out
