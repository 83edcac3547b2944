"""`briefing send` through the real CLI against a real SMTP server (aiosmtpd) on 127.0.0.1:
dry run, plain/STARTTLS/SMTPS, AUTH, 4xx retries, 5xx per recipient, a dropped connection and
the rerun, the ledger and --force, test sends with --to, and a real msmtp as --sendmail."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
import shutil
import socket
import sqlite3
from pathlib import Path

import pytest

from conftest import CONFIG, ISSUE
from smtp_server import HOST, Behaviour, Server, free_port, make_certificate

OUT = "out/2026-W07"
READERS = ["one@example.org", "two@example.org", "three@example.org"]
LIST_CONFIG = CONFIG.replace(
    "  - Reader One <one@example.org>\n",
    "  - Reader One <one@example.org>\n  - two@example.org\n  - Reader Three <three@example.org>\n",
) + "list_address: Test readers <readers@example.org>\n"
FAST = {"BRIEFING_RETRY_DELAY": "0.01"}  # the backoff's base delay, so retries take no time
PASSWORD = "pw-7f3c9e1a-not-in-any-file"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def news(factory):
    """A built three-recipient list."""
    project = factory(config=LIST_CONFIG)
    result = project.cli("build")
    assert result.code == 0, result.err
    return project


def send(project, *args: str, env: dict | None = None):
    return project.cli("send", *args, env={**FAST, **(env or {})}, timeout=120)


def ledger(project) -> list[dict]:
    """The accepted deliveries of the issue, from the store."""
    path = project.root / ".briefing" / "state.sqlite3"
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT address, message_id, sha256, accepted_at, reply, transport "
                          "FROM deliveries WHERE issue = '2026-W07' AND state = 'accepted' "
                          "ORDER BY id").fetchall()
    finally:
        db.close()
    keys = ("recipient", "message_id", "sha256", "time", "reply", "transport")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def built(project) -> bytes:
    return (project.root / OUT / "message.eml").read_bytes()


def assert_one_copy_each(server: Server, project, recipients: list[str]) -> None:
    """Exactly one transaction per recipient, envelope = that recipient, and each copy is the
    built file with that reader's token and their own list headers (tests/test_copies.py)."""
    from test_copies import assert_personal_copy
    assert sorted(r for m in server.received for r in m.rcpt_tos) == sorted(recipients)
    for message in server.received:
        assert len(message.rcpt_tos) == 1
        assert message.mail_from == "news@example.org"
        assert_personal_copy(project, message.data, message.rcpt_tos[0])
    parsed = email.message_from_bytes(server.received[0].data, policy=email.policy.default)
    assert parsed["To"] == "Test readers <readers@example.org>"  # never the recipient list


def no_traceback(result) -> None:
    assert "Traceback" not in result.err and "internal error" not in result.err


# --- dry run -------------------------------------------------------------------------------

def test_dry_run_shows_the_plan_and_sends_nothing(news) -> None:
    with Server() as server:
        result = send(news, "--smtp", server.url)
    assert result.code == 0, result.err
    assert server.received == []
    assert not (news.root / OUT / "sent.jsonl").exists()
    lines = result.out.splitlines()
    assert lines[0] == "dry run: nothing is sent"
    assert lines[1] == "issue:      2026-W07 (2026-02-13)"
    assert re.fullmatch(r"message:    out/2026-W07/message\.eml, \d+\.\d KB, sha256 [0-9a-f]{12}, "
                        r"built from the current briefs", lines[2])
    assert lines[3:] == [
        "subject:    Test Briefing: A test issue",
        "from:       Test Briefing <news@example.org>",
        "to header:  Test readers <readers@example.org> (the same in every copy)",
        "copies:     one per reader, with their own one-click unsubscribe link "
        "(List-Unsubscribe, List-Unsubscribe-Post), Message-ID and Date",
        f"transport:  {server.url}, STARTTLS required, certificate verified, "
        "no AUTH (no smtp.user in briefing.yaml)",
        "recipients: 3: one@example.org, two@example.org, three@example.org "
        "(3 from briefing.yaml)",
        "would send: 3 messages (one SMTP transaction per recipient) and record each accepted "
        "one; a 4xx reply is tried up to 4 times in all",
        f"to send for real: briefing send 2026-W07 --no-dry-run --smtp {server.url}",
    ]
    # The preflight's warnings go to stderr (no dkim:, example.org: tests/test_reserved.py).
    assert result.err.startswith("warning: no dkim: in briefing.yaml")
    assert all(line.startswith("warning: ") for line in result.err.splitlines())


def test_dry_run_lists_the_first_recipients_and_counts_the_rest(factory) -> None:
    many = "".join(f"  - reader{i}@example.org\n" for i in range(1, 9))
    project = factory(config=CONFIG.replace("  - Reader One <one@example.org>\n", many)
                      + "smtp:\n  url: smtps://mail.example.org\n")
    assert project.cli("build").code == 0
    result = send(project, "--rate", "2")
    assert result.code == 0, result.err
    assert ("recipients: 8: reader1@example.org, reader2@example.org, reader3@example.org, "
            "reader4@example.org, reader5@example.org and 3 more (8 from briefing.yaml)"
            ) in result.out.splitlines()
    assert ("transport:  smtps://mail.example.org:465, implicit TLS, certificate verified, "
            "no AUTH (no smtp.user in briefing.yaml)") in result.out.splitlines()
    assert result.out.splitlines()[-2:] == [
        "would send: 8 messages (one SMTP transaction per recipient, at most 2 per second) and "
        "record each accepted one; a 4xx reply is tried up to 4 times in all",
        "to send for real: briefing send 2026-W07 --no-dry-run --rate 2",
    ]


# --- delivery ------------------------------------------------------------------------------

def test_every_recipient_gets_exactly_one_copy_and_the_ledger_says_so(news) -> None:
    with Server() as server:
        result = send(news, "--smtp", server.url, "--insecure", "--no-dry-run", "--rate", "500")
        assert result.code == 0, result.err
        assert result.out.splitlines()[-2:] == [
            "sent 2026-W07 to 3 of 3 recipients; ledger: .briefing/state.sqlite3",
            "2026-W07 so far: 3 delivered, 0 bounced, 0 complained (complaint rate 0.00%, "
            "under Gmail's limit of 0.3%)"]
        assert_one_copy_each(server, news, READERS)
        entries = ledger(news)
        digest = hashlib.sha256(built(news)).hexdigest()
        sent_ids = [email.message_from_bytes(m.data, policy=email.policy.default)["Message-ID"]
                    for m in server.received]
        assert [e["recipient"] for e in entries] == READERS
        for number, entry in enumerate(entries, 1):
            assert entry["sha256"] == digest
            assert entry["message_id"] == sent_ids[number - 1]  # each copy's own id
            assert entry["reply"] == f"250 2.0.0 OK queued as T{number}"
            assert entry["transport"] == server.url
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["time"])
        assert len(set(sent_ids)) == 3
        # Never twice: a rerun finds everyone in the ledger and sends nothing.
        again = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert again.code == 0, again.err
        assert again.out.splitlines()[-1] == (
            "nothing to send: every recipient is in .briefing/state.sqlite3")
        assert len(server.received) == 3
    # The ledger freezes the issue.
    frozen = news.cli("build")
    assert frozen.code == 1 and "frozen" in frozen.err


def test_starttls_with_verified_certificate_and_auth(factory, certificate, tmp_path) -> None:
    cert, key = certificate
    with Server(starttls=(cert, key), auth=("newsbot", PASSWORD)) as server:
        project = factory(config=LIST_CONFIG + f"smtp:\n  url: {server.url}\n  user: newsbot\n")
        assert project.cli("build").code == 0
        # The test's own CA file: a real certificate check that this one passes.
        env = {"BRIEFING_SMTP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(cert)}
        dry = send(project, env=env)
        result = send(project, "--no-dry-run", env=env)
        assert result.code == 0, result.err
        assert_one_copy_each(server, project, READERS)
        assert server.behaviour.logins == ["newsbot"]
    assert (f"transport:  {server.url}, STARTTLS required, certificate verified, AUTH as "
            "newsbot (password from $BRIEFING_SMTP_PASSWORD)") in dry.out.splitlines()
    for output in (dry.out, dry.err, result.out, result.err):
        assert PASSWORD not in output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_self_signed_certificate_is_refused_without_insecure(news, certificate) -> None:
    cert, key = certificate
    with Server(starttls=(cert, key)) as server:
        result = send(news, "--smtp", server.url, "--no-dry-run")
        assert result.code == 1
        assert result.err.splitlines()[-1] == (
            f"{server.url}: error: the server's TLS certificate could not be verified "
            "(self-signed certificate); nothing was sent (give the server a certificate a "
            "public CA signed; --insecure skips the check, for a local test server only)")
        no_traceback(result)
        assert server.received == [] and ledger(news) == []
        insecure = send(news, "--smtp", server.url, "--no-dry-run", "--insecure")
        assert insecure.code == 0, insecure.err
        assert_one_copy_each(server, news, READERS)


def test_smtps_implicit_tls(news, certificate) -> None:
    cert, key = certificate
    with Server(smtps=(cert, key)) as server:
        url = server.url.replace("smtp://", "smtps://")
        refused = send(news, "--smtp", url, "--no-dry-run")
        assert refused.code == 1 and "(self-signed certificate)" in refused.err
        result = send(news, "--smtp", url, "--no-dry-run", env={"SSL_CERT_FILE": str(cert)})
        assert result.code == 0, result.err
        assert_one_copy_each(server, news, READERS)


def test_plain_text_server_is_refused_without_insecure(news) -> None:
    with Server() as server:
        result = send(news, "--smtp", server.url, "--no-dry-run")
        assert (result.code, result.err.splitlines()[-1]) == (1, (
            f"{server.url}: error: the server does not offer STARTTLS; refusing to send in "
            "clear text; nothing was sent (use smtps://, or --insecure for a local test server "
            "only)"))
        assert server.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_wrong_password_is_refused_and_never_shown(factory, tmp_path) -> None:
    with Server(auth=("newsbot", "the-right-one")) as server:
        project = factory(config=LIST_CONFIG + "smtp:\n  user: newsbot\n  password_env: NEWS_PW\n")
        assert project.cli("build").code == 0
        result = send(project, "--smtp", server.url, "--insecure", "--no-dry-run",
                      env={"NEWS_PW": PASSWORD})
        assert result.code == 1
        assert result.err.splitlines()[-1] == (
            f"{server.url}: error: the server refused the login of 'newsbot': 535 5.7.8 "
            "Authentication credentials invalid; nothing was sent (check the password in "
            "$NEWS_PW)")
        assert server.received == []
    assert PASSWORD not in result.out + result.err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_missing_password_is_reported_before_connecting(factory) -> None:
    project = factory(config=LIST_CONFIG + "smtp:\n  url: smtp://127.0.0.1:9\n  user: newsbot\n")
    assert project.cli("build").code == 0
    result = project.cli("send", env={"BRIEFING_SMTP_PASSWORD": ""})
    assert (result.code, result.err) == (1, (
        "briefing.yaml: error: smtp.user is 'newsbot' but $BRIEFING_SMTP_PASSWORD is not set "
        "(export the password as BRIEFING_SMTP_PASSWORD; it never goes in briefing.yaml)\n"))


# --- failures ------------------------------------------------------------------------------

def test_451_is_retried_then_delivered(news) -> None:
    behaviour = Behaviour(replies={"two@example.org": ["451 4.7.1 greylisted, try later"]})
    with Server(behaviour=behaviour) as server:
        result = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert result.code == 0, result.err
        assert_one_copy_each(server, news, READERS)
    assert behaviour.rcpt_attempts["two@example.org"] == 2
    assert [e["recipient"] for e in ledger(news)] == READERS


def test_4xx_every_time_gives_up_after_bounded_attempts(news) -> None:
    behaviour = Behaviour(replies={"two@example.org": ["452 4.2.2 mailbox full"] * 10})
    with Server(behaviour=behaviour) as server:
        result = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert_one_copy_each(server, news, ["one@example.org", "three@example.org"])
    assert behaviour.rcpt_attempts["two@example.org"] == 4
    assert result.code == 1
    assert result.err.splitlines()[-2:] == [
        f"{server.url}: error: two@example.org was not delivered: 452 4.2.2 mailbox full "
        "(after 4 attempts)",
        f"{server.url}: error: 1 of 3 recipients not delivered (to retry them, run: briefing "
        f"send 2026-W07 --no-dry-run --smtp {server.url} --insecure)",
    ]


def test_550_at_rcpt_bounces_the_reader_and_the_others_go_on(news) -> None:
    behaviour = Behaviour(replies={"two@example.org": ["550 5.1.1 no such user"]})
    with Server(behaviour=behaviour) as server:
        result = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert result.code == 1
        no_traceback(result)
        assert result.out.splitlines()[-3:] == [
            "sent 2026-W07 to 2 of 3 recipients; ledger: .briefing/state.sqlite3",
            "bounced:    two@example.org: the server refused the address for good, so it is "
            "marked bounced and never mailed again",
            "2026-W07 so far: 2 delivered, 1 bounced, 0 complained (complaint rate 0.00%, "
            "under Gmail's limit of 0.3%)"]
        assert result.err.splitlines()[-2:] == [
            f"{server.url}: error: two@example.org was not delivered: 550 5.1.1 no such user",
            f"{server.url}: error: 1 of 3 recipients not delivered (they are marked bounced; "
            "'briefing subscribers list --status bounced' shows why)",
        ]
        assert behaviour.rcpt_attempts["two@example.org"] == 1  # 5xx: never retried
        assert [e["recipient"] for e in ledger(news)] == ["one@example.org", "three@example.org"]
        bounced = news.cli("subscribers", "list", "--status", "bounced")
        assert bounced.out.split("  since ")[0] == "bounced      two@example.org"
        assert bounced.out.rstrip().endswith(
            "refused when sending 2026-W07: 550 5.1.1 no such user")
        # The next send, of this issue or another, leaves them out.
        rerun = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert rerun.code == 0, rerun.err
        assert "recipients: 2: one@example.org, three@example.org (2 from briefing.yaml; 1 " \
            "suppressed left out)" in rerun.out.splitlines()
        assert rerun.out.splitlines()[-1] == (
            "nothing to send: every recipient is in .briefing/state.sqlite3")
        assert sorted(m.rcpt_tos[0] for m in server.received) == ["one@example.org",
                                                                  "three@example.org"]


def test_550_after_data_refuses_the_message_not_the_address(news) -> None:
    behaviour = Behaviour(data_replies={"two@example.org": ["554 5.6.0 message refused"]})
    with Server(behaviour=behaviour) as server:
        result = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert result.code == 1
        assert result.err.splitlines()[-2:] == [
            f"{server.url}: error: two@example.org was not delivered: 554 5.6.0 message "
            "refused",
            f"{server.url}: error: 1 of 3 recipients not delivered (to retry them, run: "
            f"briefing send 2026-W07 --no-dry-run --smtp {server.url} --insecure)",
        ]
        assert "bounced:" not in result.out
        assert news.cli("subscribers", "list", "--status", "bounced").out == ""
        retry = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert retry.code == 0, retry.err
        assert_one_copy_each(server, news, READERS)


def test_dropped_connection_stops_and_the_rerun_sends_only_the_rest(news) -> None:
    with Server(behaviour=Behaviour(drop_after=1)) as server:
        result = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert result.code == 1
        no_traceback(result)
        assert result.err.splitlines()[-1] == (
            f"{server.url}: error: stopped after 1 of 3 recipients: lost the connection "
            "(connection unexpectedly closed); 2 not tried (to resume, run: briefing send "
            f"2026-W07 --no-dry-run --smtp {server.url} --insecure)")
        assert [e["recipient"] for e in ledger(news)] == ["one@example.org"]
        rerun = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert rerun.code == 0, rerun.err
        assert "skipped:    1: one@example.org: already got this issue (--force sends again)" \
            in rerun.out.splitlines()
        assert_one_copy_each(server, news, READERS)
    assert [e["recipient"] for e in ledger(news)] == READERS


def test_connection_refused_stops_with_the_command_that_resumes(news) -> None:
    port = free_port()  # nothing listens there
    result = send(news, "--smtp", f"smtp://{HOST}:{port}", "--no-dry-run")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"smtp://{HOST}:{port}: error: stopped after 0 of 3 recipients: could not connect "
        f"(connection refused); 3 not tried (to resume, run: briefing send 2026-W07 "
        f"--no-dry-run --smtp smtp://{HOST}:{port})")
    assert not (news.root / OUT / "sent.jsonl").exists()


def test_timeout_stops_with_a_clear_error(news) -> None:
    with socket.socket() as silent:  # accepts connections, never says hello
        silent.bind((HOST, 0))
        silent.listen(5)
        url = f"smtp://{HOST}:{silent.getsockname()[1]}"
        result = send(news, "--smtp", url, "--no-dry-run", "--timeout", "0.5")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"{url}: error: stopped after 0 of 3 recipients: could not connect (timed out); "
        f"3 not tried (to resume, run: briefing send 2026-W07 --no-dry-run --smtp {url} "
        "--timeout 0.5)")


# --- ledger, --force, --to -----------------------------------------------------------------

def test_changed_issue_needs_force_then_goes_to_everyone(news) -> None:
    with Server() as server:
        assert send(news, "--smtp", server.url, "--insecure", "--no-dry-run").code == 0
        old = ledger(news)[0]["sha256"]
        news.write("briefs/2026-W07/issue.yaml", ISSUE.replace("A test issue", "A fixed issue"))
        stale = send(news, "--smtp", server.url, "--insecure")
        assert (stale.code, stale.err) == (1, (
            "out/2026-W07/message.eml: error: is out of date with the briefs (or was edited) "
            "(run 'briefing build 2026-W07' first)\n"))
        assert news.cli("build", "--force").code == 0
        new = hashlib.sha256(built(news)).hexdigest()
        refused = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert (refused.code, refused.err) == (1, (
            f".briefing/state.sqlite3: error: message.eml of 2026-W07 has changed since it was "
            f"sent to 3 recipients (sha256 {old[:12]} then, {new[:12]} now) (send the changed "
            "issue with --force; check the dry run first)\n"))
        assert len(server.received) == 3
        forced = send(news, "--smtp", server.url, "--insecure", "--no-dry-run", "--force")
        assert forced.code == 0, forced.err
        assert ("again:      3: one@example.org, two@example.org, three@example.org: already "
                "got this issue, sent again because of --force") in forced.out.splitlines()
        assert len(server.received) == 6
    assert [e["sha256"] for e in ledger(news)] == [old] * 3 + [new] * 3


def test_to_overrides_recipients_for_a_test_send(news) -> None:
    with Server() as server:
        dry = send(news, "--smtp", server.url, "--insecure", "--to", "Me <me@example.net>")
        assert dry.code == 0, dry.err
        assert "recipients: 1: me@example.net (from --to)" in dry.out.splitlines()
        assert ("test send:  1: me@example.net not on the list: not recorded in "
                ".briefing/state.sqlite3, so the issue stays editable") in dry.out.splitlines()
        assert dry.out.splitlines()[-1] == (
            f"to send for real: briefing send 2026-W07 --no-dry-run --to 'Me <me@example.net>' "
            f"--smtp {server.url} --insecure")
        for _ in range(2):  # a test send can be repeated
            result = send(news, "--smtp", server.url, "--insecure", "--no-dry-run",
                          "--to", "Me <me@example.net>")
            assert result.code == 0, result.err
            assert result.out.splitlines()[-1] == "sent 2026-W07 to 1 of 1 recipient"
        assert [m.rcpt_tos for m in server.received] == [["me@example.net"]] * 2
        assert ledger(news) == []
        assert news.cli("build").code == 0  # not frozen by a test send
        # A list member named with --to is a real delivery: recorded, and never twice.
        member = send(news, "--smtp", server.url, "--insecure", "--no-dry-run",
                      "--to", "two@example.org")
        assert member.code == 0, member.err
        assert [e["recipient"] for e in ledger(news)] == ["two@example.org"]
        twice = send(news, "--smtp", server.url, "--insecure", "--no-dry-run",
                     "--to", "TWO@example.org")
        assert twice.code == 0
        assert twice.out.splitlines()[-1] == (
            "nothing to send: every recipient is in .briefing/state.sqlite3")
        forced = send(news, "--smtp", server.url, "--insecure", "--no-dry-run",
                      "--to", "two@example.org", "--force")
        assert forced.code == 0, forced.err
        assert [m.rcpt_tos for m in server.received][2:] == [["two@example.org"]] * 2
        # The rest of the list still gets it, once.
        rest = send(news, "--smtp", server.url, "--insecure", "--no-dry-run")
        assert rest.code == 0, rest.err
        assert [m.rcpt_tos for m in server.received][4:] == [["one@example.org"],
                                                             ["three@example.org"]]


def test_bad_to_address_is_refused(news) -> None:
    result = send(news, "--smtp", "smtp://127.0.0.1:9", "--to", "me at example.net")
    assert (result.code, result.err) == (1, "--to: error: 'me at example.net' is not a valid "
                                            "address (write it as user@example.org)\n")


def test_insecure_is_for_local_test_servers_only(news) -> None:
    result = send(news, "--smtp", "smtp://mail.example.org", "--insecure")
    assert (result.code, result.err) == (1, (
        "--insecure: error: is for a local test server only, not mail.example.org (leave it "
        "out; a real server needs a certificate that verifies)\n"))


def test_send_needs_a_built_issue(factory) -> None:
    project = factory(config=LIST_CONFIG)
    result = send(project, "--smtp", "smtp://127.0.0.1:9")
    assert (result.code, result.err) == (1, "out/2026-W07/message.eml: error: issue 2026-W07 has "
                                            "not been built (run 'briefing build 2026-W07' "
                                            "first)\n")


def test_send_needs_a_transport(news) -> None:
    result = send(news)
    assert (result.code, result.err) == (1, (
        "briefing.yaml: error: no way to send: no smtp.url in briefing.yaml (set smtp.url, or "
        "pass --smtp smtp://host:587 or --sendmail 'msmtp')\n"))
    bad = send(news, "--smtp", "http://mail.example.org")
    assert (bad.code, bad.err) == (1, (
        "--smtp: error: 'http://mail.example.org' is not an SMTP URL (write smtp://host:587 "
        "(STARTTLS) or smtps://host:465)\n"))
    both = send(news, "--smtp", "smtp://127.0.0.1:9", "--sendmail", "msmtp")
    assert (both.code, both.err) == (1, "--sendmail: error: give --smtp or --sendmail, "
                                        "not both\n")


def test_damaged_ledger_line_is_reported_not_guessed(news) -> None:
    (news.root / OUT / "sent.jsonl").write_text('{"recipient": "one@example.org", "sha2')
    result = send(news, "--smtp", "smtp://127.0.0.1:9")
    assert (result.code, result.err) == (1, (
        "out/2026-W07/sent.jsonl:1:1: error: is not a ledger line (a JSON object with "
        "'recipient' and 'sha256'); nothing was sent (the ledger says who got the issue: fix "
        "that line by hand, and delete it only if you know that recipient did not get it)\n"))


# --- a sendmail-compatible command: the real msmtp -------------------------------------------

@pytest.mark.skipif(shutil.which("msmtp") is None,
                    reason="needs msmtp (installed by .ci/run)")
def test_sendmail_command_msmtp_per_recipient(news, tmp_path: Path) -> None:
    behaviour = Behaviour(replies={"three@example.org": ["550 5.1.1 no such user"]})
    with Server(behaviour=behaviour) as server:
        rc = tmp_path / "msmtprc"
        rc.write_text(f"defaults\nauth off\ntls off\nlogfile\n\naccount default\nhost {HOST}\n"
                      f"port {server.port}\nfrom news@example.org\n")
        rc.chmod(0o600)
        command = f"msmtp --file={rc}"
        dry = send(news, "--sendmail", command)
        assert (f"transport:  the command msmtp --file={rc} (message on stdin, one run per "
                "recipient)") in dry.out.splitlines()
        result = send(news, "--sendmail", command, "--no-dry-run")
        assert result.code == 1
        assert_one_copy_each(server, news, ["one@example.org", "two@example.org"])
        assert result.err.splitlines()[-2].startswith(
            "msmtp: error: three@example.org was not delivered: exit 65: msmtp: recipient "
            "address three@example.org not accepted by the server")
    assert [e["recipient"] for e in ledger(news)] == ["one@example.org", "two@example.org"]
    assert ledger(news)[0]["reply"] == "exit 0"
    # `msmtp -t`, as in the issue: -t is left out (it would also mail the To header, the list,
    # once per reader) and the dry run says so.
    t = send(news, "--sendmail", f"msmtp --file={rc} -t", "--force")
    assert t.code == 0, t.err
    assert (f"transport:  the command msmtp --file={rc} (message on stdin, one run per "
            "recipient); -t left out: briefing gives the command each recipient itself, and "
            "reading them from the message would also mail the To header (the list) once per "
            "reader") in t.out.splitlines()


@pytest.mark.skipif(shutil.which("msmtp") is None,
                    reason="needs msmtp (installed by .ci/run)")
def test_sendmail_msmtp_t_delivers_once_per_recipient(news, tmp_path: Path) -> None:
    with Server() as server:
        rc = tmp_path / "msmtprc"
        rc.write_text(f"defaults\nauth off\ntls off\nlogfile\n\naccount default\nhost {HOST}\n"
                      f"port {server.port}\nfrom news@example.org\n")
        rc.chmod(0o600)
        result = send(news, "--sendmail", f"msmtp --file={rc} -t", "--no-dry-run")
        assert result.code == 0, result.err
        # each reader once, and the list address in To never
        assert_one_copy_each(server, news, ["one@example.org", "two@example.org",
                                            "three@example.org"])
