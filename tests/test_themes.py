"""The editor's hands on readers' themes, through the real CLI: `subscribers add --themes`,
`list` (text, csv, json), a `themes` column in `export` and `import`; a theme id that
briefing.yaml does not declare is an error with the valid ids and a did-you-mean; a store from
before theme choices is brought up to date."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3

from themes_helpers import themed_project

TODAY = dt.datetime.now(dt.UTC).date().isoformat()
VALID = "its themes: industry, ethics, policy, opinion"


def test_add_sets_and_changes_a_readers_themes(tmp_path) -> None:
    project = themed_project(tmp_path / "news")
    assert project.cli("subscribers", "add", "ana@example.net", "--themes",
                       "policy, industry").out == "added ana@example.net; themes: industry, " \
                                                  "policy\n"  # briefing.yaml's order
    assert project.cli("subscribers", "add", "bo@example.net").out == "added bo@example.net\n"
    assert project.cli("subscribers", "add", "Bo <bo@example.net>", "--themes",
                       "ethics").out == ("bo@example.net is already subscribed; name set to Bo "
                                         "and themes set to ethics\n")
    assert project.cli("subscribers", "add", "bo@example.net", "--themes", "ethics").out == \
        "bo@example.net is already subscribed\n"
    listed = project.cli("subscribers", "list")
    assert listed.out.splitlines() == [
        f"active       ana@example.net  since {TODAY}  themes: industry, policy",
        f"active       bo@example.net (Bo)  since {TODAY}  themes: ethics"]
    # '*' is every theme again, new ones too: as a reader who never chose.
    assert project.cli("subscribers", "add", "ana@example.net", "--themes", "*").out == \
        "ana@example.net is already subscribed; themes set to every theme\n"
    as_json = json.loads(project.cli("subscribers", "list", "--format", "json").out)
    assert [(r["address"], r["themes"]) for r in as_json] == [
        ("ana@example.net", ""), ("bo@example.net", "ethics")]
    as_csv = list(csv.reader(io.StringIO(project.cli("subscribers", "list", "--format",
                                                     "csv").out)))
    assert [(r[0], r[-1]) for r in as_csv] == [("address", "themes"), ("ana@example.net", ""),
                                              ("bo@example.net", "ethics")]


def test_unknown_theme_ids_are_errors_with_the_valid_ids(tmp_path) -> None:
    project = themed_project(tmp_path / "news")
    typo = project.cli("subscribers", "add", "ana@example.net", "--themes", "industy,polcy")
    assert (typo.code, typo.err) == (1, (
        f"--themes: error: 'industy' is not a theme in briefing.yaml; {VALID} (did you mean "
        "'industry'?)\n"
        f"--themes: error: 'polcy' is not a theme in briefing.yaml; {VALID} (did you mean "
        "'policy'?)\n"
        "2 errors in 1 file\n"))
    far = project.cli("subscribers", "add", "ana@example.net", "--themes", "sport")
    assert (far.code, far.err) == (1, (
        f"--themes: error: 'sport' is not a theme in briefing.yaml; {VALID} ('*' is every "
        "theme)\n"))
    empty = project.cli("subscribers", "add", "ana@example.net", "--themes", " , ")
    assert (empty.code, empty.err) == (1, (
        "--themes: error: names no theme (list theme ids (industry, ethics, policy, opinion), "
        "or '*' for every theme)\n"))
    # Nothing was added by the refused commands.
    assert project.cli("subscribers", "list").out == ""


def test_export_and_import_carry_the_themes(tmp_path) -> None:
    project = themed_project(tmp_path / "news")
    for args in (["ana@example.net", "--themes", "industry,policy"],
                 ["bo@example.net", "--themes", "ethics"], ["cy@example.net"]):
        assert project.cli("subscribers", "add", *args).code == 0
    exported = project.cli("subscribers", "export").out
    rows = list(csv.reader(io.StringIO(exported)))
    column = rows[0].index("themes")  # after the reader's own columns, before the consent ones
    assert rows[0][column - 1:column + 2] == ["status_reason", "themes", "signed_up_at"]
    assert [(r[0], r[column]) for r in rows] == [
        ("address", "themes"), ("ana@example.net", "industry,policy"),
        ("bo@example.net", "ethics"), ("cy@example.net", "")]
    # Into a new project: the same readers with the same themes, exactly.
    other = themed_project(tmp_path / "other")
    (other.root / "readers.csv").write_text(exported)
    imported = other.cli("subscribers", "import", "readers.csv")
    assert imported.out == ("imported readers.csv (briefing): 3 added, 0 updated, 0 unchanged, "
                            "0 suppressed\n")
    assert other.cli("subscribers", "export").out == exported
    # A file that changes the themes updates those readers, and only those.
    changed = exported.replace("industry,policy", "opinion").replace(
        "bo@example.net,,active", "bo@example.net,Bo,active")
    (other.root / "readers.csv").write_text(changed)
    again = other.cli("subscribers", "import", "readers.csv")
    assert again.out == ("imported readers.csv (briefing): 0 added, 2 updated, 1 unchanged, "
                         "0 suppressed\n")
    listed = other.cli("subscribers", "list").out.splitlines()
    assert [line.split("  ")[-1] for line in listed] == ["themes: opinion", "themes: ethics",
                                                         f"since {TODAY}"]


def test_an_import_naming_an_unknown_theme_imports_nothing(tmp_path) -> None:
    project = themed_project(tmp_path / "news")
    project.write("people.csv", """\
        E-mail,Name,themes
        ana@example.net,Ana,industry
        bo@example.net,Bo,"ethics, sience"
        cy@example.net,Cy,
        """)
    result = project.cli("subscribers", "import", "people.csv", "--email-column", "E-mail",
                         "--name-column", "Name")
    assert (result.code, result.err) == (1, (
        f"people.csv:3:1: error: 'sience' is not a theme in briefing.yaml; {VALID} ('*' is "
        "every theme)\n"))
    assert project.cli("subscribers", "list").out == ""
    project.write("people.csv", """\
        E-mail,Name,themes
        ana@example.net,Ana,industry
        bo@example.net,Bo,"ethics policy"
        cy@example.net,Cy,
        """)
    result = project.cli("subscribers", "import", "people.csv", "--email-column", "E-mail",
                         "--name-column", "Name")
    assert result.code == 0, result.err
    listed = project.cli("subscribers", "list").out.splitlines()
    assert [line.split("  ")[-1] for line in listed] == [
        "themes: industry", "themes: ethics, policy", f"since {TODAY}"]


def test_a_store_from_before_theme_choices_is_brought_up_to_date(tmp_path) -> None:
    from briefing.subscribers.store import MIGRATIONS, SCHEMA_VERSION, _statements
    project = themed_project(tmp_path / "news")
    store = project.root / ".briefing" / "state.sqlite3"
    store.parent.mkdir(mode=0o700)
    db = sqlite3.connect(store)
    for script in MIGRATIONS[:4]:  # up to the consent records (issue 21): version 4
        for statement in _statements(script):
            db.execute(statement)
    db.execute("INSERT INTO subscribers (address, address_key, name, status, source, added_at, "
               "status_changed_at) VALUES ('old@example.net', 'old@example.net', '', 'active', "
               "'cli', '2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z')")
    db.execute("INSERT INTO deliveries (issue, address, address_key, message_id, sha256, state, "
               "attempted_at, accepted_at) VALUES ('2026-W06', 'old@example.net', "
               "'old@example.net', '<old@example.org>', ?, 'accepted', '2026-02-06T09:00:00Z', "
               "'2026-02-06T09:00:01Z')", ("0" * 64,))
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()
    store.chmod(0o600)

    # Step 4 -> 5: the reader, who never chose, gets every theme; the old delivery carried ''.
    shown = json.loads(project.cli("subscribers", "show", "old@example.net", "--format",
                                   "json").out)
    assert shown["themes"] is None and shown["consent"]["source"] == "cli"
    assert [d["issue"] for d in shown["deliveries"]] == ["2026-W06"]
    assert project.cli("subscribers", "add", "old@example.net", "--themes", "ethics").out == (
        "old@example.net is already subscribed; themes set to ethics\n")
    db = sqlite3.connect(store)
    try:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("SELECT themes FROM deliveries").fetchall() == [("",)]
        assert db.execute("SELECT address_key, themes, source FROM reader_themes").fetchall() \
            == [("old@example.net", "ethics", "cli")]
    finally:
        db.close()
