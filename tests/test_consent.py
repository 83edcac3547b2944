"""The consent record, access requests (`subscribers show`) and erasure (`subscribers forget`)
through the real CLI; a sign-up made before an erasure stays out, a new one comes in; the IP
address only as a keyed hash; the themes a reader chose; an older store brought up to date."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

import pytest

from conftest import make_project
from endpoint_helpers import request
from signup_helpers import (
    FORM,
    confirm,
    confirmation_path,
    events,
    mails_to,
    sign_up,
    signup_endpoint,
    signup_project,
    wait_for,
)
from smtp_server import Server

STORE = ".briefing/state.sqlite3"


def test_forget_erases_everything_and_keeps_them_out(factory, tmp_path: Path) -> None:
    project = factory()
    assert project.cli("subscribers", "add", "Ann Gone <ann@example.org>").code == 0
    assert project.cli("subscribers", "remove", "ann@example.org").code == 0
    with Server() as mail:
        assert project.cli("build").code == 0
        assert project.cli("subscribers", "add", "ann@example.org", "--resubscribe",
                           "--themes", "ethics").code == 0
        sent = project.cli("send", "--no-dry-run", "--smtp", mail.url, "--insecure",
                           timeout=120)
        assert sent.code == 0, sent.err

    asked = project.cli("subscribers", "forget", "ann@example.org", input="n\n")
    assert asked.code == 0, asked.err
    assert asked.out == (
        "Erase ann@example.org: the reader's row (address, name, status), the consent record, "
        "3 status changes, 1 delivery, their choice of themes; and keep only a keyed hash of "
        "the address, so that "
        "nothing brings it back without their new consent? [y/N]: nothing erased\n")
    assert "ann@example.org" in project.cli("subscribers", "list").out

    erased = project.cli("subscribers", "forget", "ann@example.org", "--yes")
    assert erased.out == (
        "erased ann@example.org: the reader's row (address, name, status), the consent record, "
        "3 status changes, 1 delivery, their choice of themes; kept a keyed hash of the address "
        "as a suppression (add --resubscribe or import --resubscribe, with their new consent, or "
        "their own confirmed sign-up, lifts it)\n")
    db = sqlite3.connect(project.root / STORE)
    assert db.execute("SELECT count(*) FROM reader_themes").fetchone() == (0,)
    db.close()
    for path in (project.root / ".briefing").glob("state.sqlite3*"):  # the WAL too
        held = path.read_bytes()  # (reader_themes is keyed by the lower-cased address)
        assert b"ann@example.org" not in held.lower() and b"Ann Gone" not in held, path
    shown = project.cli("subscribers", "show", "ann@example.org")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert re.fullmatch(
        r"ann@example\.org\n  the store holds nothing about this address\n  erased at their "
        rf"request on {today}T\d\d:\d\d:\d\dZ; only a keyed hash of the address is kept, so it "
        r"is never added back quietly\n", shown.out), shown.out
    record = json.loads(project.cli("subscribers", "show", "ann@example.org", "--format",
                                    "json").out)
    assert record["held"] is False and record["erased_at"].startswith(today)

    # Nothing brings them back quietly...
    added = project.cli("subscribers", "add", "ANN@example.org")
    assert (added.code, added.err) == (1, (
        f".briefing/state.sqlite3: error: ANN@example.org was erased at their request on "
        f"{today}; not added back (only with their new, explicit consent: add "
        "--resubscribe)\n"))
    export = tmp_path / "list.csv"
    export.write_text("email,name,attributes\nann@example.org,Ann,{}\nbob@example.org,Bob,{}\n")
    imported = project.cli("subscribers", "import", str(export))
    assert "1 added, 0 updated, 0 unchanged, 1 suppressed" in imported.out, imported.out
    assert b"ann@example.org" not in (project.root / STORE).read_bytes().lower()
    # ...and their new consent, given to the editor, does.
    back = project.cli("subscribers", "import", str(export), "--resubscribe")
    assert "1 added, 0 updated, 1 unchanged, 0 suppressed" in back.out, back.out
    shown = project.cli("subscribers", "show", "ann@example.org").out
    assert "  source:      imported from list.csv (listmonk layout)\n" in shown
    assert "erased" not in shown


def test_a_sign_up_made_before_the_erasure_stays_out_a_new_one_comes_in(factory) -> None:
    from briefing.subscribers.signup import Joiner, editor_keys, make_token
    project, port = signup_project(factory)
    with Server() as mail, signup_endpoint(project, port, mail):
        assert sign_up(port, "erase.me@example.org").status == 200
        wait_for(lambda: mails_to(mail, "erase.me@example.org"), "the confirmation mail")
        old_link = confirmation_path(mails_to(mail, "erase.me@example.org")[0])
        # They write to the editor: erase me. The sign-up is still pending.
        assert project.cli("subscribers", "forget", "erase.me@example.org", "--yes").code == 0
        assert confirm(port, old_link).status == 200  # the link itself still works...
        assert project.cli("subscribers", "sync").out.splitlines()[0] == (
            "not subscribed: erase.me@example.org was erased at their request on "
            f"{time.strftime('%Y-%m-%d', time.gmtime())}, after this sign-up "
            f"({events(project)[0]['time']}) was made")  # ...but sync keeps them out
        # Later they sign up again and confirm: their own new consent.
        keys = editor_keys((project.root / ".briefing/token.key").read_text().strip().encode())
        later = int(time.time()) + 2
        token = make_token(keys, Joiner("erase.me@example.org", "", ()), later,
                           later + 86_400, "11" * 12)
        assert confirm(port, f"/c/{token}").status == 200
    lines = project.cli("subscribers", "sync").out.splitlines()
    assert lines[0].startswith("erase.me@example.org was erased on ")
    assert lines[1].startswith("subscribed erase.me@example.org (confirmed sign-up at ")
    assert "erase.me@example.org" in project.cli("subscribers", "list").out


def test_the_ip_address_only_as_a_keyed_hash_and_the_themes_chosen(factory,
                                                                    tmp_path: Path) -> None:
    project, port = signup_project(factory, extra="  record_ip: true\n  choose_themes: true\n")
    with Server() as mail, signup_endpoint(project, port, mail):
        form = request(port, "GET", "/s").text
        assert '<input type="checkbox" name="theme" value="ethics" checked>' in form
        chosen = [("address", "themed@example.org"), ("consent", re.search(
            r'name="consent" value="([0-9a-f]{64})"', form).group(1)), ("theme", "ethics")]
        from urllib.parse import urlencode
        answer = request(port, "POST", "/s", urlencode(chosen).encode(), {"Content-Type": FORM})
        assert answer.status == 200, answer.text
        none = request(port, "POST", "/s", urlencode(chosen[:2]).encode(),
                       {"Content-Type": FORM})
        assert (none.status, "Choose at least one theme." in none.text) == (400, True)
        wrong = request(port, "POST", "/s", urlencode(chosen[:2] + [("theme", "sport")])
                        .encode(), {"Content-Type": FORM})
        assert "&#x27;sport&#x27; is not one of this newsletter&#x27;s themes." in wrong.text
        wait_for(lambda: mails_to(mail, "themed@example.org"), "the confirmation mail")
        assert confirm(port, confirmation_path(mails_to(mail, "themed@example.org")[0])
                       ).status == 200
    assert project.cli("subscribers", "sync").code == 0
    shown = project.cli("subscribers", "show", "themed@example.org").out
    assert re.search(r"\n  IP address:  keyed hash [0-9a-f]{32}\n", shown), shown
    assert "\n  themes:      ethics\n" in shown
    record = json.loads(project.cli("subscribers", "show", "themed@example.org", "--format",
                                    "json").out)
    assert record["consent"]["themes"] == ["ethics"]
    # What they ticked is their choice of themes too (subscribers/themes.py).
    assert record["themes"] == {"chosen": ["ethics"], "offered": ["industry", "ethics"],
                                "chosen_at": record["consent"]["signed_up_at"],
                                "source": "signup"}
    assert (f"\n  themes:      ethics (chosen on the sign-up form at "
            f"{record['consent']['signed_up_at']})\n") in shown
    for private in (STORE, ".briefing/events.jsonl"):
        assert b"127.0.0.1" not in (project.root / private).read_bytes(), private

    # The consent record travels with the reader: export, then import into another project.
    exported = project.cli("subscribers", "export", "readers.csv")
    assert exported.code == 0, exported.err
    header = (project.root / "readers.csv").read_text().splitlines()[0]
    assert header == ("address,name,status,source,added_at,status_changed_at,status_reason,"
                      "themes,signed_up_at,confirmed_at,signup_page,consent_sha256,consent_wording,"
                      "ip_hash")
    other = make_project(tmp_path / "other")
    imported = other.cli("subscribers", "import", str(project.root / "readers.csv"))
    assert imported.out == (f"imported {project.root / 'readers.csv'} (briefing): 2 added, 0 "
                            "updated, 0 unchanged, 0 suppressed\n"), imported.err
    moved = json.loads(other.cli("subscribers", "show", "themed@example.org", "--format",
                                 "json").out)
    # The form's themes are not a column of their own: the reader's choice travels in the
    # `themes` column, and comes back as the import's.
    assert moved["consent"] == dict(record["consent"], themes=[])
    assert moved["themes"]["chosen"] == ["ethics"]
    assert moved["themes"]["source"] == "import:briefing:readers.csv"


def test_show_answers_for_any_address_and_refuses_a_malformed_one(factory) -> None:
    project = factory()
    assert project.cli("subscribers", "add", "cli@example.org").code == 0
    nobody = project.cli("subscribers", "show", "nobody@example.org")
    assert (nobody.code, nobody.out) == (0, "nobody@example.org\n  the store holds nothing "
                                            "about this address\n")
    shown = project.cli("subscribers", "show", "cli@example.org").out
    assert "  source:      added by the editor ('briefing subscribers add')\n" in shown
    assert "IP address" not in shown  # only sign-ups can have one
    bad = project.cli("subscribers", "show", "not an address")
    assert (bad.code, bad.err) == (1, "ADDRESS: error: 'not an address' is not a valid address "
                                      "(write it as user@example.org)\n")
    csv = project.cli("subscribers", "show", "cli@example.org", "--format", "csv")
    assert csv.code == 2 and "'--format': is text or json here" in csv.err


def test_a_store_from_before_consent_records_is_brought_up_to_date(factory) -> None:
    from briefing.subscribers.store import MIGRATIONS, _statements
    project = factory()
    store = project.root / STORE
    store.parent.mkdir(mode=0o700)
    db = sqlite3.connect(store)
    for script in MIGRATIONS[:3]:
        for statement in _statements(script):
            db.execute(statement)
    db.execute("INSERT INTO subscribers (address, address_key, name, status, source, added_at, "
               "status_changed_at, status_reason) VALUES ('old@example.org', 'old@example.org', "
               "'', 'unsubscribed', 'import:Mailchimp:old.csv', '2025-01-02T03:04:05Z', "
               "'2025-06-07T08:09:10Z', 'in the Mailchimp export as unsubscribed')")
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    store.chmod(0o600)
    record = json.loads(project.cli("subscribers", "show", "old@example.org", "--format",
                                    "json").out)
    assert record["consent"]["source"] == "import:Mailchimp:old.csv"
    assert record["consent"]["signed_up_at"] == "2025-01-02T03:04:05Z"
    assert record["history"] == [{"status": "unsubscribed", "at": "2025-06-07T08:09:10Z",
                                  "reason": "in the Mailchimp export as unsubscribed"}]


def test_an_import_with_a_bad_consent_column_imports_nothing(project) -> None:
    (project.root / "bad.csv").write_text(
        "address,name,signed_up_at,consent_sha256\n"
        "a@example.org,A,yesterday,abc\n"
        "b@example.org,B,2026-01-01T00:00:00Z,\n")
    result = project.cli("subscribers", "import", "bad.csv", "--email-column", "address")
    assert (result.code, result.err) == (1, (
        "bad.csv:2:1: error: 'signed_up_at' is not a UTC time like 2026-02-13T09:00:00Z: "
        "'yesterday'\n"
        "bad.csv:2:1: error: 'consent_sha256' is not 64 hex digits: 'abc'\n"
        "2 errors in 1 file\n"))
    assert project.cli("subscribers", "list").out == ""


def test_pending_sign_ups_are_shown_to_their_owner_and_go_when_they_expire(factory) -> None:
    from briefing.subscribers.signup import editor_keys, stamp
    project = factory()
    assert project.cli("subscribers", "endpoint-key").code == 0
    keys = editor_keys((project.root / ".briefing/token.key").read_text().strip().encode())
    now = int(time.time())

    def signup(number: int, address: str, made: int, expires: int) -> str:
        return json.dumps({"kind": "signup", "time": stamp(made), "token": f"{number:024x}",
                           "address": keys.address_hash(address), "expires": stamp(expires),
                           "page": "https://example.org/archive/", "consent": ""}) + "\n"

    events = project.root / ".briefing" / "events.jsonl"
    events.write_text(signup(1, "wait@example.org", now - 60, now + 86_400)
                      + signup(2, "old@example.org", now - 9 * 86_400, now - 2 * 86_400)
                      + signup(3, "gone@example.org", now - 60, now + 86_400))
    events.chmod(0o600)
    synced = project.cli("subscribers", "sync")
    assert synced.out == ("synced events .briefing/events.jsonl: 3 new events (2 sign-ups "
                          "waiting for confirmation, 1 expired sign-up)\n"
                          "sync: no reader changed\n"), synced.out
    shown = project.cli("subscribers", "show", "wait@example.org").out
    assert shown == ("wait@example.org\nstatus history (0)\nissues sent (0)\nwhat came back "
                     "(0)\nsign-ups waiting for confirmation (1)\n"
                     f"  {stamp(now - 60)} on https://example.org/archive/, expires "
                     f"{stamp(now + 86_400)}\n")
    # Each sync forgets the sign-ups whose link expired; forget takes a pending one too.
    events.write_text(events.read_text() + signup(4, "later@example.org", now, now + 86_400))
    assert project.cli("subscribers", "sync").code == 0
    held = sqlite3.connect(project.root / STORE).execute(
        "SELECT id FROM signups_pending ORDER BY id").fetchall()
    assert held == [(f"{1:024x}",), (f"{3:024x}",), (f"{4:024x}",)]  # 2 was never kept
    erased = project.cli("subscribers", "forget", "gone@example.org", "--yes")
    assert erased.out.startswith("erased gone@example.org: 1 other row; kept a keyed hash")
    held = sqlite3.connect(project.root / STORE).execute(
        "SELECT id FROM signups_pending ORDER BY id").fetchall()
    assert held == [(f"{1:024x}",), (f"{4:024x}",)]
    with sqlite3.connect(project.root / STORE) as db:  # a day later: the link of 4 expired
        db.execute("UPDATE signups_pending SET expires_at = ? WHERE id = ?",
                   (stamp(now - 1), f"{4:024x}"))
    assert project.cli("subscribers", "sync").code == 0
    held = sqlite3.connect(project.root / STORE).execute(
        "SELECT id FROM signups_pending ORDER BY id").fetchall()
    assert held == [(f"{1:024x}",)]


def test_behind_a_proxy_the_clients_address_is_hashed_and_a_forged_header_is_not(
        factory) -> None:
    from urllib.parse import urlencode

    from briefing.subscribers.signup import editor_keys
    from signup_helpers import CONSENT
    project, port = signup_project(factory, extra="  record_ip: true\n")
    keys = editor_keys((project.root / ".briefing/token.key").read_text().strip().encode())

    def post(address: str) -> None:
        body = urlencode({"address": address, "consent": CONSENT}).encode()
        answer = request(port, "POST", "/s", body, {"Content-Type": FORM,
                                                    "X-Forwarded-For": "198.51.100.7"})
        assert answer.status == 200, answer.text

    with Server() as mail:
        with signup_endpoint(project, port, mail):  # reached directly: the header is a lie
            post("direct@example.org")
            wait_for(lambda: len(events(project)) == 1, "the sign-up")
        with signup_endpoint(project, port, mail, "--proxy", "127.0.0.1"):  # our proxy's
            post("proxied@example.org")
            wait_for(lambda: len(events(project)) == 2, "the sign-up")
    assert [e["ip"] for e in events(project)] == [keys.ip_hash("127.0.0.1"),
                                                  keys.ip_hash("198.51.100.7")]


@pytest.mark.parametrize("readers", [999, 1000, 2500])  # either side of Store.insert_many's bulk
def test_every_imported_reader_has_a_consent_record_and_a_first_status(project,
                                                                       readers: int) -> None:
    """A large import writes the consent and status rows set-based, with the triggers set
    aside for the one insert: the rows are the same as the triggers write, and the triggers
    are back for the next reader."""
    rows = "".join(f"r{n}@example.org,Reader {n},2026-01-0{1 + n % 9} 10:00:00\n"
                   for n in range(readers))
    (project.root / "many.csv").write_text("Email Address,Name,OPTIN_TIME\n" + rows)
    result = project.cli("subscribers", "import", "many.csv", "--email-column",
                         "Email Address", "--name-column", "Name")
    assert result.code == 0, result.err
    assert project.cli("subscribers", "add", "late@example.org").code == 0
    db = sqlite3.connect(project.root / STORE)
    subscribers = db.execute("SELECT address_key, source, added_at, status, status_reason, "
                             "status_changed_at FROM subscribers ORDER BY id").fetchall()
    consent = dict(db.execute("SELECT address_key, source || ' ' || signed_up_at "
                              "FROM consent").fetchall())
    history = db.execute("SELECT address_key, status, reason, at FROM status_history "
                         "ORDER BY id").fetchall()
    triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = "
                                         "'trigger'")}
    db.close()
    assert len(subscribers) == readers + 1
    assert consent == {key: f"{source} {added}" for key, source, added, *_ in subscribers}
    assert history == [(key, status, reason, at) for key, _, _, status, reason, at
                       in subscribers]
    assert {"consent_of_new_reader", "status_of_new_reader", "status_change"} <= triggers
    shown = json.loads(project.cli("subscribers", "show", "r7@example.org", "--format",
                                   "json").out)
    assert shown["consent"]["source"] == "import:CSV:many.csv"
