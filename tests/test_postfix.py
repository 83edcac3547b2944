"""`briefing send` handing off to a real, private Postfix on 127.0.0.1 (tests/postfix.py): over
SMTP and through Postfix's own sendmail command, each reader's copy relayed to a sink, and the
bounce flow (the sink refuses an address after Postfix accepted it, Postfix writes the DSN to the
bounce address's Maildir)."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from conftest import REPO
from postfix import (
    BOUNCE_ADDRESS,
    HOSTNAME,
    SENDMAIL,
    Postfix,
    group_members,
    skip_unless_available,
    wait_until,
)
from smtp_server import Received, Server
from test_copies import LIST, assert_personal_copy

FAST = {"BRIEFING_RETRY_DELAY": "0.01"}
READERS = ["one@example.org", "two@example.org", "ana@example.net"]
GONE = "gone@example.net"
REFUSAL = f"550 5.1.1 <{GONE}>: Recipient address rejected: User unknown"
DSN_FILE = REPO / "tests" / "data" / "mail" / "postfix-dsn.eml"

# What Postfix adds to a message it relays: one Received field on top, and nothing else (it
# leaves the envelope sender, every other header and the body as briefing sent them). Over SMTP
# smtpd writes the client and the ESMTP id; through sendmail, pickup writes the submitting uid.
RECEIVED_SMTP = re.compile(
    rb"Received: from \[127\.0\.0\.1\] \(unknown \[127\.0\.0\.1\]\)\n"
    rb"\tby " + re.escape(HOSTNAME.encode()) + rb" \(Postfix\) with ESMTP id [0-9A-F]+\n"
    rb"\tfor <(?P<rcpt>[^>\n]+)>; [A-Z][a-z]{2}, [ 0-9]{1,2} [A-Z][a-z]{2} \d{4} "
    rb"\d\d:\d\d:\d\d [+-]\d{4} \([A-Z]+\)\n")
RECEIVED_PICKUP = re.compile(
    rb"Received: by " + re.escape(HOSTNAME.encode()) + rb" \(Postfix, from userid 0\)\n"
    rb"\tid [0-9A-F]+; [A-Z][a-z]{2}, [ 0-9]{1,2} [A-Z][a-z]{2} \d{4} "
    rb"\d\d:\d\d:\d\d [+-]\d{4} \([A-Z]+\)\n")


@pytest.fixture
def relay() -> Iterator[tuple[Server, Postfix]]:
    """A sink (aiosmtpd) and a private Postfix relaying to it; both stopped afterwards."""
    skip_unless_available()
    with Server() as sink, Postfix(sink.port) as mta:
        yield sink, mta


@pytest.fixture
def news(factory):
    """The built list of test_copies.py (two readers in briefing.yaml) and one in the store."""
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    assert project.cli("subscribers", "add", "Ana <ana@example.net>").code == 0
    return project


def send(project, *args: str):
    return project.cli("send", "--no-dry-run", *args, env=FAST, timeout=120)


def relayed(sink: Server, mta: Postfix, count: int) -> dict[str, Received]:
    """Wait until the sink has `count` messages and Postfix's queue is empty; by recipient."""
    wait_until(lambda: len(sink.received) >= count and mta.queue_is_empty(), 30,
               f"{count} messages at the sink", mta)
    assert len(sink.received) == count
    assert all(len(m.rcpt_tos) == 1 for m in sink.received)
    return {m.rcpt_tos[0]: m for m in sink.received}


def without_trace(message: Received, pattern: re.Pattern[bytes]) -> bytes:
    """The copy as briefing handed it over: Postfix's one Received field taken off the top."""
    data = message.data.replace(b"\r\n", b"\n")
    found = pattern.match(data)
    assert found, data[:400]
    if "rcpt" in pattern.groupindex:
        assert found["rcpt"].decode() == message.rcpt_tos[0]
    rest = data[found.end():]
    assert not rest.startswith(b"Received:")  # exactly one hop
    return rest


def ledger(project) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(project.root / ".briefing" / "state.sqlite3")
    try:
        return db.execute("SELECT address, reply, transport FROM deliveries WHERE issue = "
                          "'2026-W07' AND state = 'accepted' ORDER BY id").fetchall()
    finally:
        db.close()


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


# --- the helper itself ----------------------------------------------------------------------

def test_the_private_postfix_leaves_nothing_behind_even_when_a_test_fails() -> None:
    skip_unless_available()
    with Server() as sink:
        mta = Postfix(sink.port)
        with pytest.raises(RuntimeError, match="a failing test"), mta:
            master = mta.master_pid
            # The master and its daemons (qmgr, pickup, postlogd, ...) in the master's group.
            assert master is not None and group_members(master)
            assert mta.config_dir.parent == mta.root and mta.log.exists()
            raise RuntimeError("a failing test")
    assert group_members(master) == []
    assert not mta.root.exists()


def test_without_root_or_postfix_the_tests_skip_saying_why(monkeypatch) -> None:
    import postfix

    monkeypatch.setattr(postfix.os, "geteuid", lambda: 1000)
    assert postfix.unavailable() == (
        "needs Debian postfix, installed by .ci/run: it must run as root")
    with pytest.raises(pytest.skip.Exception, match="it must run as root"):
        skip_unless_available()
    monkeypatch.setattr(postfix, "POSTFIX", "/nonexistent/postfix")
    assert postfix.unavailable() == (
        "needs Debian postfix, installed by .ci/run: /nonexistent/postfix not found")


# --- (a) SMTP to the relay ------------------------------------------------------------------

def test_smtp_into_postfix_relays_each_readers_own_copy(news, relay) -> None:
    sink, mta = relay
    result = send(news, "--smtp", mta.url, "--insecure")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-2] == (
        "sent 2026-W07 to 3 of 3 recipients; ledger: .briefing/state.sqlite3")
    copies = relayed(sink, mta, 3)
    assert sorted(copies) == sorted(READERS)
    for address, message in copies.items():
        assert message.mail_from == "news@example.org"  # Postfix keeps the envelope sender
        assert_personal_copy(news, without_trace(message, RECEIVED_SMTP), address)
    # Postfix's own acceptance is what the ledger records: its queue id, not the sink's.
    rows = ledger(news)
    assert sorted(r[0] for r in rows) == sorted(READERS)
    for _, reply, transport in rows:
        assert re.fullmatch(r"250 2\.0\.0 Ok: queued as [0-9A-F]+", reply), reply
        assert transport == f"smtp://127.0.0.1:{mta.port}"


# --- (b) Postfix's sendmail command ---------------------------------------------------------

def test_postfix_sendmail_command_relays_each_readers_own_copy(news, relay) -> None:
    sink, mta = relay
    command = f"{SENDMAIL} -C {mta.config_dir}"  # -C: this instance's main.cf (see postfix.py)
    dry = news.cli("send", "--sendmail", command)
    assert dry.code == 0, dry.err
    assert (f"transport:  the command {command} (message on stdin, one run per recipient)"
            ) in dry.out.splitlines()
    result = send(news, "--sendmail", command)
    assert result.code == 0, result.err
    copies = relayed(sink, mta, 3)
    assert sorted(copies) == sorted(READERS)
    for address, message in copies.items():
        assert message.mail_from == "news@example.org"  # briefing's -f SENDER
        assert_personal_copy(news, without_trace(message, RECEIVED_PICKUP), address)
    assert sorted(r[0] for r in ledger(news)) == sorted(READERS)
    assert all(r[1] == "exit 0" for r in ledger(news))  # Postfix's sendmail says nothing


# --- (c) a bounce after Postfix accepted the copy -------------------------------------------

def assert_postfix_dsn(dsn: EmailMessage, refused: str, reply: str) -> None:
    """An RFC 3464 delivery status notification from this Postfix for `refused`."""
    assert dsn["From"] == f"Mail Delivery System <MAILER-DAEMON@{HOSTNAME}>"
    assert dsn["To"] == BOUNCE_ADDRESS
    assert dsn["Return-Path"] == "<>"  # a DSN has the null sender: it never bounces back
    assert dsn["Auto-Submitted"] == "auto-replied"
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    parts = list(dsn.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/delivery-status", "message/rfc822"]
    human = parts[0].get_content()
    assert f"<{refused}>: host 127.0.0.1[127.0.0.1] said:" in human
    # message/delivery-status: one per-message block, then one block per recipient (a long
    # Diagnostic-Code is folded: compare it unfolded, runs of white space as one space).
    status = parts[1].get_payload()
    assert isinstance(status, list)
    blocks = [{k.lower(): " ".join(str(v).split()) for k, v in block.items()} for block in status]
    assert blocks[0]["reporting-mta"] == f"dns; {HOSTNAME}"
    assert blocks[0]["x-postfix-sender"] == f"rfc822; {BOUNCE_ADDRESS}"
    assert blocks[1:] == [{
        "final-recipient": f"rfc822; {refused}",
        "original-recipient": f"rfc822;{refused}",
        "action": "failed",
        "status": "5.1.1",
        "remote-mta": "dns; 127.0.0.1",
        "diagnostic-code": f"smtp; {reply}",
    }]
    [original] = parts[2].get_payload()
    assert original["Return-Path"] == f"<{BOUNCE_ADDRESS}>"
    assert original["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_refusal_after_postfix_accepted_becomes_a_dsn_in_the_bounce_maildir(
        factory, relay) -> None:
    """Until briefing.yaml has `bounce_address:`, the envelope sender is set with the command's
    own -f (briefing keeps a -f it is given): Postfix sends the DSN there, to the Maildir."""
    sink, mta = relay
    sink.behaviour.replies[GONE] = [REFUSAL]
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    for address in ("ana@example.net", GONE):
        assert project.cli("subscribers", "add", address).code == 0
    result = send(project, "--sendmail", f"{SENDMAIL} -C {mta.config_dir} -f {BOUNCE_ADDRESS}")
    # Postfix took all four: for briefing every copy was delivered. The refusal comes later.
    assert result.code == 0, result.err
    assert result.out.splitlines()[-2] == (
        "sent 2026-W07 to 4 of 4 recipients; ledger: .briefing/state.sqlite3")
    wait_until(lambda: mta.bounce_files() and mta.queue_is_empty(), 30, "the DSN", mta)
    copies = relayed(sink, mta, 3)
    assert sorted(copies) == sorted(READERS)
    assert {m.mail_from for m in copies.values()} == {BOUNCE_ADDRESS}
    assert sink.behaviour.rcpt_attempts[GONE] == 1  # a 5xx is final: Postfix does not retry
    [path] = mta.bounce_files()
    data = path.read_bytes()
    dsn = parse(data)
    assert_postfix_dsn(dsn, GONE, REFUSAL)
    # The refused copy comes back whole, as Postfix received it (the raw bytes of the third
    # part, not re-serialised by the email package, which could refold a header).
    assert_personal_copy(project, returned_copy(data, dsn, GONE), GONE)
    saved = os.environ.get("BRIEFING_SAVE_POSTFIX_DSN")
    if saved:  # how tests/data/mail/postfix-dsn.eml was made (see below)
        Path(saved).write_bytes(data)


def returned_copy(data: bytes, dsn: EmailMessage, address: str) -> bytes:
    """The copy inside a DSN's message/rfc822 part, byte for byte, without the Return-Path and
    Received that Postfix put on it."""
    boundary = dsn.get_boundary()
    assert boundary
    third = data.split(b"\n--" + boundary.encode())[3]
    copy = third.partition(b"\n\n")[2]  # after the part's own headers
    head = f"Return-Path: <{BOUNCE_ADDRESS}>\n".encode()
    assert copy.startswith(head), copy[:300]
    return without_trace(Received(BOUNCE_ADDRESS, [address], copy[len(head):]), RECEIVED_PICKUP)


def test_the_saved_postfix_dsn_is_one_this_flow_produced() -> None:
    """tests/data/mail/postfix-dsn.eml was written by the test above, run with
    BRIEFING_SAVE_POSTFIX_DSN=tests/data/mail/postfix-dsn.eml; it stays a real Postfix DSN."""
    dsn = parse(DSN_FILE.read_bytes())
    assert_postfix_dsn(dsn, GONE, REFUSAL)
    assert dsn["X-Original-To"] == dsn["Delivered-To"] == BOUNCE_ADDRESS


# --- the whole flow --------------------------------------------------------------------------

def test_bounce_to_suppression_end_to_end(factory, relay) -> None:
    """send -> Postfix accepts -> the sink refuses one address -> Postfix's DSN in the Maildir
    -> `subscribers sync --mailbox` marks that reader bounced -> the next issue skips them."""
    sink, mta = relay
    sink.behaviour.replies[GONE] = [REFUSAL]
    project = factory(config=LIST + f"bounce_address: {BOUNCE_ADDRESS}\n")
    project.write("briefs/2026-W08/issue.yaml", "title: The next issue\ndate: 2026-02-20\n")
    for name in ("industry.yaml", "ethics.yaml"):
        shutil.copy(project.root / "briefs/2026-W07" / name, project.root / "briefs/2026-W08")
    built = project.cli("build", "2026-W07")
    assert built.code == 0, built.err
    for address in ("ana@example.net", GONE):
        assert project.cli("subscribers", "add", address).code == 0

    first = send(project, "2026-W07", "--smtp", mta.url, "--insecure")
    assert first.code == 0, first.err
    wait_until(lambda: mta.bounce_files() and mta.queue_is_empty(), 30, "the DSN", mta)
    copies = relayed(sink, mta, 3)
    assert {m.mail_from for m in copies.values()} == {BOUNCE_ADDRESS}  # MAIL FROM: bounce_address
    assert_postfix_dsn(parse(mta.bounce_files()[0].read_bytes()), GONE, REFUSAL)

    synced = project.cli("subscribers", "sync", "--mailbox", str(mta.maildir))
    assert synced.code == 0, synced.err
    bounced = project.cli("subscribers", "list", "--status", "bounced")
    assert bounced.code == 0, bounced.err
    assert [line for line in bounced.out.splitlines() if GONE in line], bounced.out
    again = project.cli("subscribers", "sync", "--mailbox", str(mta.maildir))
    assert again.code == 0, again.err  # the same DSN twice changes nothing

    built = project.cli("build", "2026-W08")
    assert built.code == 0, built.err
    sink.received.clear()
    dry = project.cli("send", "2026-W08", "--smtp", mta.url, "--insecure")
    assert "1 suppressed left out" in dry.out, dry.out
    second = send(project, "2026-W08", "--smtp", mta.url, "--insecure")
    assert second.code == 0, second.err
    assert sorted(relayed(sink, mta, 3)) == sorted(READERS)
