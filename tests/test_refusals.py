"""What a refusal means (subscribers/refusal.py), for `send` against a real SMTP server
(aiosmtpd) and as a table of real server replies and real bounce reports: only an address
failure bounces a reader; a relay refusing us stops the send with the reason and the fix."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import CONFIG
from smtp_server import Behaviour, Server

READERS = [f"reader{n:02}@example.org" for n in range(1, 14)]  # 13, as in the issue
FAST = {"BRIEFING_RETRY_DELAY": "0.01"}


@pytest.fixture
def thirteen(factory):
    """A built issue and thirteen readers in the store."""
    project = factory(config=CONFIG.replace("recipients:\n  - Reader One <one@example.org>\n",
                                            ""))
    assert project.cli("build").code == 0
    for address in READERS:
        assert project.cli("subscribers", "add", address).code == 0
    return project


def statuses(project) -> dict[str, str]:
    db = sqlite3.connect(project.root / ".briefing" / "state.sqlite3")
    try:
        return dict(db.execute("SELECT address, status FROM subscribers"))
    finally:
        db.close()


def test_a_relay_refusing_every_recipient_stops_the_send_and_bounces_nobody(thirteen) -> None:
    """A wrong password or a sender-login mismatch: the relay answers 554 5.7.1 to every RCPT.
    That is about us, not the readers: five in a row stop the send, nobody is bounced, and the
    error says why and what to check."""
    behaviour = Behaviour(every_rcpt="554 5.7.1 <{address}>: Relay access denied")
    with Server(behaviour=behaviour) as server:
        result = thirteen.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure",
                              env=FAST, timeout=120)
        assert server.received == []
    assert result.code == 1
    assert set(statuses(thirteen).values()) == {"active"}
    assert "bounced:" not in result.out
    assert result.out.splitlines()[-2] == (
        "sent 2026-W07 to 0 of 13 recipients; ledger: .briefing/state.sqlite3")
    assert result.err.splitlines()[-1] == (
        f"{server.url}: error: stopped after 0 of 13 recipients: 5 recipients in a row were "
        "refused, the last with 554 5.7.1 <reader05@example.org>: Relay access denied; the "
        "relay refuses us, not the readers (a policy refusal): the relay may want a login "
        "(smtp.user in briefing.yaml, the password in $BRIEFING_SMTP_PASSWORD), or does not "
        "let this machine send as news@example.org; nobody was marked bounced; 8 not tried "
        "(to resume, run: "
        f"briefing send 2026-W07 --no-dry-run --smtp {server.url} --insecure)")
    assert behaviour.rcpt_attempts == {a: 1 for a in READERS[:5]}
