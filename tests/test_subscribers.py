"""`briefing subscribers add/remove/list/import/export` through the real CLI: the store in
.briefing/, suppressions that stay, every documented CSV layout and broken ones (all or
nothing, full messages)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "csv"
def today() -> str:
    """Read when asserting, not at import: a run that crosses midnight UTC stays right."""
    return dt.datetime.now(dt.UTC).date().isoformat()
KNOWN = ("briefing: 'address', 'status', 'added_at' and 'status_changed_at' (its own export); "
         "Mailchimp: 'Email Address' with MEMBER_RATING, OPTIN_TIME, LEID or EUID; Substack: "
         "'email' with 'active_subscription'; Buttondown: 'email' or 'email_address' with "
         "'creation_date' or 'subscriber_type'; listmonk: 'email', 'name' and 'attributes'")


def rows(project) -> dict[str, tuple[str, str, str, str]]:
    """address -> (name, status, source, reason), read from the store itself."""
    db = sqlite3.connect(project.root / ".briefing" / "state.sqlite3")
    try:
        found = db.execute("SELECT address, name, status, source, status_reason "
                           "FROM subscribers").fetchall()
    finally:
        db.close()
    return {a: (n, s, src, r) for a, n, s, src, r in found}


def imported(project, name: str, *args: str):
    shutil.copy(DATA / name, project.root / name)
    return project.cli("subscribers", "import", name, *args)


def test_add_remove_list_and_the_store_is_private(project) -> None:
    add = project.cli("subscribers", "add", "Ana Lima <Ana@Example.net>")
    assert (add.code, add.out, add.err) == (0, "added Ana@Example.net (Ana Lima)\n", "")
    assert project.cli("subscribers", "add", "bo@example.net", "--name", "Bo").code == 0
    again = project.cli("subscribers", "add", "ana@example.net")
    assert again.out == "Ana@Example.net is already subscribed\n"
    folder = project.root / ".briefing"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "state.sqlite3").stat().st_mode & 0o777 == 0o600
    assert not (project.root / "out").exists()  # nothing personal goes near out/

    removed = project.cli("subscribers", "remove", "ANA@example.net")
    assert removed.out == "removed Ana@Example.net (kept as unsubscribed, never mailed)\n"
    unknown = project.cli("subscribers", "remove", "cy@example.net")
    assert unknown.out == ("cy@example.net was not on the list; kept as unsubscribed so it is "
                           "never mailed\n")
    back = project.cli("subscribers", "add", "ana@example.net")
    assert (back.code, back.err) == (1, (
        f".briefing/state.sqlite3: error: Ana@Example.net is unsubscribed on {today()} (removed "
        "by the editor); not added back (only if they asked to come back: add --resubscribe)\n"))

    listed = project.cli("subscribers", "list")
    assert listed.out.splitlines() == [
        f"unsubscribed Ana@Example.net (Ana Lima)  since {today()}  removed by the editor",
        f"active       bo@example.net (Bo)  since {today()}",
        f"unsubscribed cy@example.net  since {today()}  removed by the editor",
    ]
    assert listed.err == ("3 addresses in .briefing/state.sqlite3: 1 active, 2 unsubscribed, "
                          "0 bounced, 0 complained\n")
    only = project.cli("subscribers", "list", "--status", "active", "--format", "json")
    data = json.loads(only.out)
    assert [(r["address"], r["name"], r["status"], r["source"]) for r in data] == [
        ("bo@example.net", "Bo", "active", "cli")]
    resubscribed = project.cli("subscribers", "add", "ana@example.net", "--resubscribe")
    assert resubscribed.out == (f"resubscribed Ana@Example.net (was unsubscribed on {today()} "
                                "(removed by the editor))\n")
    as_csv = project.cli("subscribers", "list", "--format", "csv", "--status", "unsubscribed")
    assert list(csv.reader(io.StringIO(as_csv.out)))[0] == [
        "address", "name", "status", "source", "added_at", "status_changed_at",
        "status_reason", "themes"]
    assert [r[0] for r in list(csv.reader(io.StringIO(as_csv.out)))[1:]] == ["cy@example.net"]


def test_bad_address_and_bad_status_are_usage_or_one_line_errors(project) -> None:
    bad = project.cli("subscribers", "add", "ana at example.net")
    assert (bad.code, bad.err) == (1, "ADDRESS: error: 'ana at example.net' is not a valid "
                                      "address (write it as user@example.org or 'Name "
                                      "<user@example.org>')\n")
    status = project.cli("subscribers", "list", "--status", "gone")
    assert status.code == 2
    assert status.err.endswith("Error: Invalid value for '--status': 'gone' is not one of "
                               "'active', 'unsubscribed', 'bounced', 'complained'.\n")


@pytest.mark.parametrize("name, layout, summary, expected", [
    ("mailchimp-subscribed.csv", "Mailchimp", "2 added, 0 updated, 0 unchanged, 0 suppressed", {
        "ana@example.net": ("Ana Lima", "active", "import:Mailchimp:mailchimp-subscribed.csv",
                            ""),
        "bo@example.net": ("Bo", "active", "import:Mailchimp:mailchimp-subscribed.csv", "")}),
    ("mailchimp-unsubscribed.csv", "Mailchimp", "0 added, 0 updated, 0 unchanged, 1 suppressed", {
        "cy@example.net": ("Cy", "unsubscribed", "import:Mailchimp:mailchimp-unsubscribed.csv",
                           "in the Mailchimp export as unsubscribed: I no longer want to "
                           "receive these emails")}),
    ("mailchimp-cleaned.csv", "Mailchimp", "0 added, 0 updated, 0 unchanged, 1 suppressed", {
        "dead@example.net": ("", "bounced", "import:Mailchimp:mailchimp-cleaned.csv",
                             "in the Mailchimp export as bounced")}),
    ("substack.csv", "Substack", "2 added, 0 updated, 0 unchanged, 1 suppressed", {
        "ana@example.net": ("", "active", "import:Substack:substack.csv", ""),
        "dee@example.net": ("", "active", "import:Substack:substack.csv", ""),
        "gone@example.net": ("", "bounced", "import:Substack:substack.csv",
                             "in the Substack export as bounced")}),
    ("buttondown.csv", "Buttondown", "1 added, 0 updated, 0 unchanged, 1 suppressed", {
        "eve@example.net": ("", "active", "import:Buttondown:buttondown.csv", ""),
        "fay@example.net": ("", "unsubscribed", "import:Buttondown:buttondown.csv",
                            "in the Buttondown export as unsubscribed")}),
    ("listmonk.csv", "listmonk", "1 added, 0 updated, 0 unchanged, 1 suppressed", {
        "gus@example.net": ("Gus Ortega", "active", "import:listmonk:listmonk.csv", ""),
        "hal@example.net": ("Hal", "unsubscribed", "import:listmonk:listmonk.csv",
                            "in the listmonk export as unsubscribed")}),
])
def test_each_documented_layout(project, name, layout, summary, expected) -> None:
    result = imported(project, name)
    assert result.code == 0, result.err
    line = f"imported {name} ({layout}): {summary}"
    if not summary.endswith(" 0 suppressed"):
        line += (" (unsubscribed, bounced or complained: not added back; --resubscribe "
                 "would)")
    assert result.out == line + "\n"
    assert rows(project) == expected


def test_any_csv_with_its_columns_named(project) -> None:
    unknown = imported(project, "any-layout.csv")
    assert (unknown.code, unknown.err) == (1, (
        "any-layout.csv:1:1: error: is not a layout briefing knows; its columns: 'Full name', "
        "'E-mail', 'Joined' (name the columns with --email-column (and --name-column); known "
        f"layouts: {KNOWN})\n"))
    result = project.cli("subscribers", "import", "any-layout.csv", "--email-column", "E-mail",
                         "--name-column", "Full name")
    assert result.out == ("imported any-layout.csv (CSV): 2 added, 0 updated, 0 unchanged, "
                          "0 suppressed\n")
    assert {a: r[0] for a, r in rows(project).items()} == {"ivy@example.net": "Ivy Chen",
                                                          "jun@example.net": "Jun Park"}
    wrong = project.cli("subscribers", "import", "any-layout.csv", "--email-column", "Mail")
    assert (wrong.code, wrong.err) == (1, "any-layout.csv:1:1: error: has no column 'Mail'; its "
                                          "columns: 'Full name', 'E-mail', 'Joined'\n")


def test_a_bad_row_imports_nothing(project) -> None:
    result = imported(project, "mailchimp-bad-address.csv")
    assert (result.code, result.err) == (1, (
        "mailchimp-bad-address.csv:3:1: error: 'not an address' is not a valid address (fix or "
        "delete the row; nothing was imported)\n"
        "mailchimp-bad-address.csv:4:1: error: 'also@bad' is not a valid address (fix or delete "
        "the row; nothing was imported)\n"
        "2 errors in 1 file\n"))
    assert not (project.root / ".briefing" / "state.sqlite3").exists() or rows(project) == {}


@pytest.mark.parametrize("name, message", [
    ("unknown-layout.csv",
     "unknown-layout.csv:1:1: error: is not a layout briefing knows; its columns: 'Name', "
     "'Mail', 'Joined' (name the columns with --email-column (and --name-column); known "
     f"layouts: {KNOWN})"),
    ("substack-ragged.csv",
     "substack-ragged.csv:2:1: error: has 4 fields but the header names 2"),
    ("substack-latin1.csv",
     "substack-latin1.csv:2:1: error: is not UTF-8 text (save it as CSV UTF-8)"),
])
def test_broken_files(project, name, message) -> None:
    result = imported(project, name)
    assert (result.code, result.err) == (1, message + "\n")
    assert "Traceback" not in result.err


def test_import_never_brings_back_who_left_unless_asked(project) -> None:
    assert imported(project, "mailchimp-unsubscribed.csv").code == 0  # cy left there
    assert project.cli("subscribers", "remove", "bo@example.net").code == 0  # bo left here
    (project.root / "again.csv").write_text("email,name,attributes\ncy@example.net,Cy,{}\n"
                                            "bo@example.net,Bo,{}\nnew@example.net,New,{}\n")
    plain = project.cli("subscribers", "import", "again.csv")
    assert plain.out == ("imported again.csv (listmonk): 1 added, 0 updated, 0 unchanged, "
                         "2 suppressed (unsubscribed, bounced or complained: not added back; "
                         "--resubscribe would)\n")
    assert {a: r[1] for a, r in rows(project).items()} == {
        "cy@example.net": "unsubscribed", "bo@example.net": "unsubscribed",
        "new@example.net": "active"}
    forced = project.cli("subscribers", "import", "again.csv", "--resubscribe")
    assert forced.out == ("imported again.csv (listmonk): 0 added, 2 updated, 1 unchanged, "
                          "0 suppressed\n")
    assert {r[1] for r in rows(project).values()} == {"active"}


def test_export_is_everything_and_never_goes_into_out(project) -> None:
    assert imported(project, "substack.csv").code == 0
    printed = project.cli("subscribers", "export")
    table = list(csv.reader(io.StringIO(printed.out)))
    assert [r[0] for r in table[1:]] == ["ana@example.net", "dee@example.net",
                                         "gone@example.net"]
    written = project.cli("subscribers", "export", "readers.csv")
    assert written.out == "exported 3 addresses -> readers.csv\n"
    target = project.root / "readers.csv"
    assert target.read_text() == printed.out
    assert target.stat().st_mode & 0o777 == 0o600
    (project.root / "out").mkdir()
    refused = project.cli("subscribers", "export", "out/readers.csv")
    assert (refused.code, refused.err) == (1, (
        "out/readers.csv: error: is under out/, which is published as is; readers' addresses "
        "must not go there (write it into .briefing/ or outside the project)\n"))
    assert not (project.root / "out" / "readers.csv").exists()


def test_state_setting_moves_the_store_but_never_under_out(factory) -> None:
    from conftest import CONFIG
    project = factory(config=CONFIG + "state: private/readers.sqlite3\n")
    assert project.cli("subscribers", "add", "ana@example.net").code == 0
    assert (project.root / "private" / "readers.sqlite3").is_file()
    bad = factory(config=CONFIG + "state: out/readers.sqlite3\n")
    result = bad.cli("subscribers", "list")
    assert (result.code, result.err) == (1, (
        "briefing.yaml:16:8: error: 'state' must not be under out/, which is published as is "
        "(keep it in .briefing/, which is private)\n1 error\n"))


def test_a_name_column_needs_the_email_column(project) -> None:
    shutil.copy(DATA / "any-layout.csv", project.root / "any-layout.csv")
    result = project.cli("subscribers", "import", "any-layout.csv", "--name-column", "Full name")
    assert result.code == 2
    assert result.err.endswith("Error: Invalid value for '--name-column': needs "
                               "--email-column too\n"), result.err


def test_a_store_that_is_not_a_regular_file_is_refused(project) -> None:
    (project.root / ".briefing" / "state.sqlite3").mkdir(parents=True)
    result = project.cli("subscribers", "list")
    assert (result.code, result.err) == (1, ".briefing/state.sqlite3: error: is not a regular "
                                            "file\n")


def test_a_private_folder_that_leads_into_out_is_refused(project) -> None:
    """`.briefing` as a link into out/ would publish the store and the key with the site."""
    (project.root / "out" / "private").mkdir(parents=True)
    (project.root / ".briefing").symlink_to("out/private")
    for args in (("subscribers", "add", "ana@example.net"), ("subscribers", "list")):
        result = project.cli(*args)
        assert (result.code, result.err) == (1, (
            ".briefing: error: leads into out/, which is published as is; private state (the "
            "subscriber store, the token key) must not go there (make .briefing a real folder "
            "outside out/)\n"))
    assert list((project.root / "out" / "private").iterdir()) == []
