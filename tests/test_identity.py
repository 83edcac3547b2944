"""Tokens outlive renames and keys outlive accidents: the list identity and the token key are
fixed in the store at first use. Copies sent by the earlier briefing (run from its git commit)
keep working after the upgrade and a rename, at the endpoint and in sync; a missing or changed
key when the store holds deliveries is an error naming the file and how to restore it."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from endpoint_helpers import (
    DONE_PAGE,
    TOKEN_CONFIG,
    add_issue,
    endpoint,
    gmail_one_click,
    one_click_path,
)
from smtp_server import Server

# The last briefing before the list identity: tokens were 18 bytes of one HMAC over a label
# made from `name:`, and the store had schema 2.
EARLIER = "94575e3"
FAST = {"BRIEFING_RETRY_DELAY": "0.01"}
DRY = ("--smtp", "smtp://127.0.0.1:2525", "--insecure")
KEY = ".briefing/token.key"
STORE = ".briefing/state.sqlite3"
RESTORE = ("restore .briefing/token.key from your backup of .briefing/ (.briefing/state.sqlite3 "
           "and the key belong together); only if it is lost for good: 'briefing subscribers "
           "new-key' (the unsubscribe links already sent then stop working)")


@pytest.fixture(scope="session")
def earlier(tmp_path_factory) -> Path:
    """The earlier briefing's source, from git, to run with PYTHONPATH."""
    folder = tmp_path_factory.mktemp("earlier-briefing")
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", EARLIER, "src",
                                  "templates"], capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"needs briefing's git history (commit {EARLIER}): {exc}")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True,
                   timeout=60)
    return folder / "src"


def token_of(data: bytes) -> str:
    return one_click_path(data).removeprefix("/u/")


def meta(project) -> tuple[int, dict[str, str]]:
    db = sqlite3.connect(project.root / STORE)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        return version, dict(db.execute("SELECT key, value FROM meta"))
    finally:
        db.close()


def sent(project, *args: str, env: dict | None = None) -> dict[str, bytes]:
    with Server() as server:
        result = project.cli("send", *args, "--no-dry-run", "--smtp", server.url, "--insecure",
                             env={**FAST, **(env or {})}, timeout=180)
        assert result.code == 0, result.err
        return {m.rcpt_tos[0]: m.data for m in server.received}


def rename(project, name: str, rebuild: str | None = None) -> None:
    """A new `name:` in briefing.yaml (and the issue rebuilt: the name is in it)."""
    path = project.root / "briefing.yaml"
    path.write_text(re.sub(r"(?m)^name: .*$", f"name: {name}", path.read_text()))
    if rebuild:
        assert project.cli("build", rebuild).code == 0


def test_links_sent_by_the_earlier_briefing_work_after_the_upgrade_and_a_rename(
        factory, earlier) -> None:
    project = factory(config=TOKEN_CONFIG)
    old = {"PYTHONPATH": str(earlier)}
    for address in ("two@example.org", "three@example.org"):
        assert project.cli("subscribers", "add", address, env=old).code == 0
    assert project.cli("build", env=old).code == 0
    before = sent(project, env=old)
    legacy = {address: token_of(data) for address, data in before.items()}
    assert meta(project)[0] == 2  # the earlier store

    # The first command of this briefing that needs tokens fixes the identity: today's name.
    add_issue(project, "2026-W08", "2026-02-20")
    assert project.cli("build", "2026-W08").code == 0
    dry = project.cli("send", "2026-W08", *DRY)
    assert dry.code == 0, dry.err
    version, fixed = meta(project)
    # Brought up to date: every migration applied (3 fixed the identity; 4 consent, 5 themes).
    from briefing.subscribers.store import SCHEMA_VERSION
    assert SCHEMA_VERSION == 5
    assert version == SCHEMA_VERSION and fixed["list_identity"] == "test-briefing.example.org"
    assert "legacy_tokens" in fixed
    endpoint_key = (project.root / ".briefing" / "endpoint.key").read_text()
    assert endpoint_key.count("\nlegacy ") == 3  # one@ (briefing.yaml), two@, three@

    # Renamed: the earlier copies' links still work at the endpoint and in sync.
    rename(project, "Renamed Briefing", "2026-W08")
    with endpoint(project) as served:
        answer = gmail_one_click(served.port, f"/u/{legacy['two@example.org']}")
        assert (answer.status, answer.text) == (200, DONE_PAGE.replace("Test Briefing",
                                                                       "Renamed Briefing"))
    after = sent(project, "2026-W08")
    assert sorted(after) == ["one@example.org", "three@example.org"]  # two@ left first
    fresh = token_of(after["three@example.org"])
    # A token with the endpoint's check now; the part that says who is the same as before.
    assert fresh != legacy["three@example.org"]
    assert fresh[:16] == legacy["three@example.org"][:16]
    with endpoint(project) as served:
        for token in (legacy["three@example.org"], token_of(after["one@example.org"])):
            assert gmail_one_click(served.port, f"/u/{token}").text == DONE_PAGE.replace(
                "Test Briefing", "Renamed Briefing")
    synced = project.cli("subscribers", "sync")
    assert synced.code == 0, synced.err
    assert [line.split(" (")[0] for line in synced.out.splitlines()] == [
        "unsubscribed three@example.org", "unsubscribed one@example.org",
        "synced events .briefing/events.jsonl: 2 new events", "sync: 2 unsubscribed"]


def test_renamed_before_the_upgrade_is_caught_and_says_how_to_fix_it(factory, earlier) -> None:
    project = factory(config=TOKEN_CONFIG)
    old = {"PYTHONPATH": str(earlier)}
    assert project.cli("build", env=old).code == 0
    sent(project, env=old)
    rename(project, "Renamed Briefing")
    add_issue(project, "2026-W08", "2026-02-20")
    assert project.cli("build", "2026-W08").code == 0
    refused = project.cli("send", "2026-W08", *DRY)
    assert (refused.code, refused.out) == (1, "")
    assert refused.err.startswith(
        "briefing.yaml: error: the newsletter's name 'Renamed Briefing' (list "
        "renamed-briefing.example.org) or the token key in .briefing/token.key is not what the "
        "copies already sent were made with (the newest: 2026-W07 to one@example.org), so their "
        "unsubscribe links would stop working; nothing was changed (if you renamed the "
        "newsletter or changed the sender since, put the old name and sender back in "
        "briefing.yaml for one command (this one again): the store then keeps that identity "
        "for good and you can rename freely;")
    rename(project, "Test Briefing", "2026-W08")  # back, for one command
    assert project.cli("send", "2026-W08", *DRY).code == 0
    rename(project, "Renamed Briefing", "2026-W08")
    again = project.cli("send", "2026-W08", *DRY)
    assert again.code == 0, again.err
    assert meta(project)[1]["list_identity"] == "test-briefing.example.org"


def test_a_rename_changes_no_token(factory) -> None:
    project = factory(config=TOKEN_CONFIG)
    assert project.cli("build").code == 0
    first = token_of(sent(project)["one@example.org"])
    rename(project, "Another Name")
    add_issue(project, "2026-W08", "2026-02-20")
    assert project.cli("build", "2026-W08").code == 0
    assert token_of(sent(project, "2026-W08")["one@example.org"]) == first


def test_a_missing_or_changed_key_is_an_error_never_a_new_key(factory) -> None:
    project = factory(config=TOKEN_CONFIG)
    assert project.cli("build").code == 0
    token = token_of(sent(project)["one@example.org"])
    key = project.root / KEY
    saved = key.read_bytes()
    project.write(".briefing/events.jsonl",
                  f'{{"time": "2026-02-16T09:00:00Z", "token": "{token}"}}\n')

    key.unlink()
    for args in (("send", *DRY), ("subscribers", "sync")):
        missing = project.cli(*args)
        assert (missing.code, missing.out) == (1, "")
        assert missing.err == (
            ".briefing/token.key: error: is missing, but .briefing/state.sqlite3 records copies "
            "sent with it: without it, the unsubscribe links in those copies cannot be "
            f"honoured; nothing was changed ({RESTORE})\n")
        assert not key.exists()  # never a silent new key

    key.write_text("0" * 64 + "\n")
    os.chmod(key, 0o600)
    other = project.cli("subscribers", "sync")
    assert (other.code, other.out) == (1, "")
    assert other.err == (
        ".briefing/token.key: error: is not this list's token key: .briefing/state.sqlite3 "
        "records copies made with another, whose unsubscribe links this one cannot honour; "
        f"nothing was changed ({RESTORE})\n")
    from_env = project.cli("subscribers", "sync", env={"BRIEFING_TOKEN_KEY": "1" * 64})
    assert from_env.err.startswith("$BRIEFING_TOKEN_KEY: error: is not this list's token key")

    key.write_bytes(saved)  # restored from the backup: everything works again
    restored = project.cli("subscribers", "sync")
    assert restored.out.splitlines()[0] == (
        "unsubscribed one@example.org (one-click unsubscribe at 2026-02-16T09:00:00Z)")
    right = project.cli("subscribers", "new-key")
    assert (right.code, right.err) == (1, (
        ".briefing/token.key: error: is this list's key: a new one would stop every "
        "unsubscribe link already sent from working (nothing to do)\n"))

    key.unlink()  # lost for good: a new key, on purpose
    made = project.cli("subscribers", "new-key")
    assert made.code == 0, made.err
    assert made.out.splitlines()[0] == (
        "made a new token key: .briefing/token.key; back it up with .briefing/state.sqlite3")
    assert key.read_bytes() != saved
    assert project.cli("send", *DRY).code == 0
