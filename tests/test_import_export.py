"""Export and import round-trip losslessly (status, dates, reasons, sources; briefing's own
export recognised), other services' dates and reasons are kept, both of Buttondown's spellings
are read, export neutralises formula cells (OWASP CSV injection) and names with control
characters are refused, all through the real CLI."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3

from conftest import make_project
from test_subscribers import DATA

FORMULAS = ["=HYPERLINK(\"https://example.net/x\",\"click\")", "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "'already quoted"]


def export(project, *args: str) -> str:
    result = project.cli("subscribers", "export", *args)
    assert result.code == 0, result.err
    return result.out


def test_export_then_import_gives_back_the_same_list(factory, tmp_path) -> None:
    project = factory()
    for n, name in enumerate(FORMULAS):
        assert project.cli("subscribers", "add", f"f{n}@example.net", "--name", name).code == 0
    assert project.cli("subscribers", "add", "--", "-dash@example.net").code == 0
    assert project.cli("subscribers", "add", "f0@example.net", "--themes", "ethics").code == 0
    assert project.cli("subscribers", "remove", "f1@example.net").code == 0
    for name in ("mailchimp-unsubscribed.csv", "mailchimp-cleaned.csv", "substack.csv"):
        shutil.copy(DATA / name, project.root / name)
        assert project.cli("subscribers", "import", name).code == 0
    first = export(project)

    # What a spreadsheet would run is neutralised: a quote in front (OWASP).
    table = list(csv.reader(io.StringIO(first)))
    # One file: the reader's columns, their themes (issue 22), their consent record (issue 21).
    assert table[0] == ["address", "name", "status", "source", "added_at", "status_changed_at",
                        "status_reason", "themes", "signed_up_at", "confirmed_at",
                        "signup_page", "consent_sha256", "consent_wording", "ip_hash"]
    assert [row[7] for row in table if row[0] == "f0@example.net"] == ["ethics"]
    assert all(row[8] for row in table[1:])  # every reader has a consent record: when added
    names = {row[0]: row[1] for row in table[1:]}
    assert [names[f"f{n}@example.net"] for n in range(len(FORMULAS))] == [
        "'" + name for name in FORMULAS]
    assert "'-dash@example.net" in names
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
               for row in table for cell in row)

    # Restored on another machine from the export: the same list, byte for byte.
    (project.root / "backup.csv").write_text(first)
    other = make_project(tmp_path / "other")
    shutil.copy(project.root / "backup.csv", other.root / "backup.csv")
    restored = other.cli("subscribers", "import", "backup.csv")
    assert restored.out == (
        "imported backup.csv (briefing): 7 added, 0 updated, 0 unchanged, 4 suppressed "
        "(unsubscribed, bounced or complained: not added back; --resubscribe would)\n")
    assert export(other) == first
    assert other.cli("subscribers", "list").out == project.cli("subscribers", "list").out
    # Imported again, nothing changes.
    again = other.cli("subscribers", "import", "backup.csv")
    assert again.out == ("imported backup.csv (briefing): 0 added, 0 updated, 11 unchanged, "
                         "0 suppressed\n")
    assert export(other) == first


def test_the_dates_and_reasons_of_an_export_are_kept(project) -> None:
    for name in ("mailchimp-unsubscribed.csv", "mailchimp-cleaned.csv",
                 "mailchimp-subscribed.csv", "listmonk.csv"):
        shutil.copy(DATA / name, project.root / name)
        assert project.cli("subscribers", "import", name).code == 0
    rows = {row[0]: row for row in csv.reader(io.StringIO(export(project)))}
    # address, name, status, source, added_at, status_changed_at, status_reason, themes, then
    # the consent columns (signed_up_at, confirmed_at, signup_page, consent_sha256, ...)
    assert rows["cy@example.net"][2:7] == [
        "unsubscribed", "import:Mailchimp:mailchimp-unsubscribed.csv", "2025-11-01T09:00:00Z",
        "2026-02-01T08:00:00Z",
        "in the Mailchimp export as unsubscribed: I no longer want to receive these emails"]
    assert rows["dead@example.net"][4:7] == ["2025-10-01T09:00:00Z", "2026-01-10T08:00:00Z",
                                            "in the Mailchimp export as bounced"]
    assert rows["ana@example.net"][4:6] == ["2026-01-04T10:00:00Z", "2026-01-04T10:01:00Z"]
    assert rows["hal@example.net"][4:6] == ["2026-01-02T10:00:00Z", "2026-01-02T10:00:00Z"]


def test_buttondown_exports_in_both_spellings(project) -> None:
    shutil.copy(DATA / "buttondown-email.csv", project.root / "subscribers.csv")
    result = project.cli("subscribers", "import", "subscribers.csv")
    assert result.out.startswith("imported subscribers.csv (Buttondown): 1 added, 0 updated, "
                                 "0 unchanged, 1 suppressed")
    rows = {row[0]: row for row in csv.reader(io.StringIO(export(project)))}
    assert rows["ida@example.net"][2:6] == ["active", "import:Buttondown:subscribers.csv",
                                            "2025-11-03T09:15:00Z", "2025-11-03T09:15:00Z"]
    assert rows["jo@example.net"][2:7] == [
        "unsubscribed", "import:Buttondown:subscribers.csv", "2025-11-04T09:15:00Z",
        "2026-01-20T18:02:11Z", "in the Buttondown export as unsubscribed: Too many emails"]
    shutil.copy(DATA / "buttondown.csv", project.root / "older.csv")
    assert project.cli("subscribers", "import", "older.csv").out.startswith(
        "imported older.csv (Buttondown)")


def test_names_with_control_characters_are_refused(project) -> None:
    (project.root / "people.csv").write_text(
        "email,name,attributes\nok@example.net,Ok,{}\n"
        "two@example.net,\"Two\nactive       forged@example.net\",{}\n"
        "esc@example.net,\"\x1b[31mred\",{}\n"
        "rtl@example.net,\"abc\u202edcba\",{}\n")
    result = project.cli("subscribers", "import", "people.csv")
    assert (result.code, result.err) == (1, (
        "people.csv:4:1: error: the name of two@example.net has a control character (U+000A); "
        "a name is one line of text (fix the row; nothing was imported)\n"
        "people.csv:5:1: error: the name of esc@example.net has a control character (U+001B); "
        "a name is one line of text (fix the row; nothing was imported)\n"
        "people.csv:6:1: error: the name of rtl@example.net has a control character (U+202E); "
        "a name is one line of text (fix the row; nothing was imported)\n"
        "3 errors in 1 file\n"))
    added = project.cli("subscribers", "add", "two@example.net", "--name", "Two\nforged")
    assert (added.code, added.err) == (1, "--name: error: has a control character (U+000A); a "
                                          "name is one line of text\n")
    inline = project.cli("subscribers", "add", "Two\x1b[2J <two@example.net>")
    assert (inline.code, inline.err) == (1, "ADDRESS: error: has a control character (U+001B); "
                                            "a name and an address are one line of text\n")
    assert project.cli("subscribers", "list").out == ""


def test_a_name_stored_with_a_line_break_cannot_forge_a_line(project) -> None:
    """A store written by an earlier briefing may hold one: the listing shows its code."""
    assert project.cli("subscribers", "add", "two@example.net").code == 0
    db = sqlite3.connect(project.root / ".briefing" / "state.sqlite3")
    with db:
        db.execute("UPDATE subscribers SET name = ?", ("Two\nactive       forged@example.net",))
    db.close()
    listed = project.cli("subscribers", "list").out.splitlines()
    assert len(listed) == 1
    assert listed[0].startswith("active       two@example.net (Two\\u000aactive       forged")


def test_a_date_that_is_not_one_imports_nothing(project) -> None:
    (project.root / "mc.csv").write_text(
        '"Email Address",MEMBER_RATING,OPTIN_TIME\nok@example.net,2,"2026-01-04 10:00:00"\n'
        'bad@example.net,2,"last tuesday"\n')
    result = project.cli("subscribers", "import", "mc.csv")
    assert (result.code, result.err) == (1, (
        "mc.csv:3:1: error: 'OPTIN_TIME' is not a date ('last tuesday') (write it as 2026-02-16 "
        "or 2026-02-16T09:00:00Z; nothing was imported)\n"))
