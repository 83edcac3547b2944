"""out/archive.txt: the plain-text table of contents of every built issue."""

from __future__ import annotations

import datetime as dt

from .issues import Entry, base_url


def render_toc(entries: list[Entry]) -> str:
    """out/archive.txt: every issue's date, title and headlines, wrapped like the digest."""
    from ..content.dates import long_date
    from ..render.text import RULE, THIN_RULE, WIDTH
    from ..render.wrap import wrap

    newsletter = entries[0].newsletter
    base = base_url(entries)
    lines: list[str] = []
    lines.extend(wrap(newsletter["name"].upper(), WIDTH))
    if newsletter["tagline"]:
        lines.extend(wrap(newsletter["tagline"], WIDTH))
    lines += [RULE, ""]
    issues = f"{len(entries)} issue" + ("" if len(entries) == 1 else "s")
    lines.extend(wrap(f"Archive: {issues}, newest first.", WIDTH))
    for entry in entries:
        lines += ["", THIN_RULE]
        lines.append(f"{long_date(entry.date)} · {entry.id}")
        lines.extend(wrap(entry.title, WIDTH))
        if "digest.txt" in entry.files:
            lines.append(f"{base}{entry.id}/digest.txt")
        for theme in entry.themes:
            lines.append("")
            lines.extend(wrap(f"{theme.title} ({theme.count})", WIDTH))
            for headline in theme.headlines:
                lines.extend(wrap(headline, WIDTH, "  • ", "    "))
        corrections = entry.data.get("corrections") or ()
        if corrections:  # docs/record.md: a correction is listed, the headline is kept
            lines.append("")
            lines.extend(wrap(f"Corrections ({len(corrections)})", WIDTH))
            for c in corrections:
                date = long_date(dt.date.fromisoformat(c["date"]))
                lines.extend(wrap(f"{date}, {c['item']}: {c['text_plain'] or c['text']}",
                                  WIDTH, "  • ", "    "))
    lines += ["", RULE]
    return "\n".join(line.rstrip() for line in lines) + "\n"
