"""What a refusal means (subscribers/refusal.py), for `send` against a real SMTP server
(aiosmtpd) and as a table of real server replies and real bounce reports: only an address
failure bounces a reader; a relay refusing us stops the send with the reason and the fix."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import CONFIG
from smtp_server import Behaviour, Server, make_certificate

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


def test_a_relay_refusing_our_login_says_to_check_the_login(factory, tmp_path) -> None:
    """With smtp.user set, a relay that refuses the sender for that login (Postfix's
    reject_sender_login_mismatch) is about the login, and the error says so."""
    project = factory(config=CONFIG + "smtp:\n  user: news-login\n")
    assert project.cli("build").code == 0
    for address in READERS[:6]:
        assert project.cli("subscribers", "add", address).code == 0
    behaviour = Behaviour(every_rcpt="553 5.7.1 <news@example.org>: Sender address rejected: "
                                     "not owned by user news-login")
    certificate = make_certificate(tmp_path)  # AUTH over STARTTLS, as a real relay wants it
    with Server(starttls=certificate, auth=("news-login", "pw"), behaviour=behaviour) as server:
        result = project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure",
                             env={**FAST, "BRIEFING_SMTP_PASSWORD": "pw"}, timeout=120)
    assert result.code == 1
    assert set(statuses(project).values()) == {"active"}
    assert ("the relay refuses us, not the readers (a policy refusal): check the login "
            "(smtp.user in briefing.yaml, the password in $BRIEFING_SMTP_PASSWORD) and that the "
            "relay lets it send as news@example.org; nobody was marked bounced"
            ) in result.err.splitlines()[-1]


# What real servers answer, and what it means for the reader. Replies as Postfix, Exim,
# Sendmail, qmail, Gmail and Microsoft 365 write them (RCPT unless the stage says otherwise).
REPLIES = [
    # (status field of a DSN, the reply or diagnostic, stage, decision)
    ("", "554 5.7.1 <reader@example.org>: Relay access denied", "rcpt", "policy"),
    ("", "553 5.7.1 <news@example.org>: Sender address rejected: not owned by user news",
     "rcpt", "policy"),
    ("", "530 5.7.0 Must issue a STARTTLS command first", "mail", "policy"),
    ("", "550 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using "
         "zen.spamhaus.org", "rcpt", "policy"),
    ("", "550-5.7.26 This mail has been blocked because the sender is unauthenticated. "
         "550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.",
     "data", "policy"),
    ("5.7.26", "550-5.7.26 Unauthenticated email from example.org is not accepted due to "
               "550-5.7.26 domain's DMARC policy.", "", "policy"),
    ("", "550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown in local "
         "recipient table", "rcpt", "address"),
    ("", "550-5.1.1 The email account that you tried to reach does not exist. Please try "
         "550-5.1.1 double-checking the recipient's email address for typos or", "rcpt",
     "address"),
    ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
               "address lookup", "", "address"),
    ("", "556 5.1.10 Recipient address has null MX", "rcpt", "address"),
    ("5.0.0", "550 5.2.1 The email account that you tried to reach is disabled.", "",
     "address"),
    # Exim: an undefined 5.0.0 and a bare reply; only the words can tell.
    ("5.0.0", "550 Unrouteable address", "", "address"),
    ("5.0.0", "550 <ann@example.net>: User unknown", "", "address"),
    ("", "550 Unknown user kijitora@example.net", "rcpt", "address"),
    ("5.0.0", "550 Bad SPF records for [example.org:192.0.2.10], see http://spf.pobox.com/",
     "", "policy"),
    ("5.0.0", "550 Rejected", "", "unclear"),
    # qmail puts its own (#5.5.0) after the remote server's words.
    ("", "remote host 192.0.2.32 said: 550 Unknown user kijitora@example.net . (#5.5.0)", "",
     "address"),
    ("", "Sorry, I couldn't find any host named example.invalid. (#5.1.2)", "", "address"),
    # Sun Messaging Server: a policy code with "User Unknown" in its words. In doubt, the
    # code wins and the reader stays.
    ("", "550 5.7.1 550 User Unknown: sabineko@example.org", "", "policy"),
    ("", "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)", "rcpt",
     "unclear"),
    ("", "552 5.2.2 The email account that you tried to reach is over quota.", "rcpt",
     "unclear"),
    ("", "552 5.3.4 Message size exceeds fixed limit", "data", "policy"),
    ("", "554 5.6.0 message refused", "data", "policy"),
    # A refusal of DATA, or a command's exit, never proves the address is gone.
    ("", "550 5.1.1 no such user", "data", "unclear"),
    ("", "exit 65: msmtp: recipient address x@example.org not accepted by the server; "
         "server message: 550 5.1.1 no such user", "command", "unclear"),
    ("", "452 4.2.2 The email account that you tried to reach is over quota.", "rcpt",
     "temporary"),
    ("", "450 4.2.1 The user you are trying to contact is receiving mail at a rate that "
         "prevents additional messages from being delivered.", "rcpt", "temporary"),
    ("4.4.1", "connect to mx.example.net[192.0.2.25]:25: Connection timed out", "",
     "temporary"),
    ("2.0.0", "250 2.0.0 Ok: queued as 4B5C6D7E8F", "", "delivered"),
]


@pytest.mark.parametrize("status, diagnostic, stage, decision", REPLIES)
def test_what_a_refusal_means(status, diagnostic, stage, decision) -> None:
    from briefing.subscribers.refusal import judge

    assert judge(status, diagnostic, stage).kind == decision
