"""`briefing subscribers sync` through the real CLI: unsubscribe mail in a real Maildir, replies
asking to leave, bounces in the formats Postfix, Exim and Gmail write (RFC 3464), an abuse
report (RFC 5965), temporary failures counted over issues in a row, everything applied once;
and `send`, which syncs first and refuses on a source it cannot read (the 24-hour rule)."""

from __future__ import annotations

import datetime as dt
import mailbox
import re
import sqlite3

from endpoint_helpers import (
    DATA,
    TOKEN_CONFIG,
    add_issue,
    header,
    maildir,
    mailto_address,
    mbox,
)
from smtp_server import Server
from test_dsn_trust import places, quoting, sent_ids

STORE = ".briefing/state.sqlite3"
READERS = ("gone@example.net", "full@example.com", "lost@example.com", "annoyed@example.com",
           "full-box@example.net")


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def delayed(issue: str, number: int, message_id: str | None = None) -> bytes:
    """The Postfix delay warning about our copy of `issue` (its own Message-Id made unique)."""
    data = sample("postfix-delayed.eml").replace(
        b"<20260216121041.9F8E7D6C5B4@mail.example.org>",
        f"<20260216121041.9F8E7D6C5B{number}@mail.example.org>".encode())
    old = b"<2026-W07.9b0d595f061f77cb.5d6e7f8091a2b3c4@example.org>"
    new = message_id or f"<{issue}.9b0d595f061f77cb.5d6e7f8091a2b3c4@example.org>"
    return data.replace(old, new.encode())


def sync(project, *args: str, env: dict | None = None):
    result = project.cli("subscribers", "sync", *args, env=env)
    assert "Traceback" not in result.err
    return result


def store_time(project, source: str, hours_ago: float) -> None:
    """Pretend the last good read of `source` was that long ago (the clock is not waited on)."""
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    db = sqlite3.connect(project.root / STORE)
    with db:
        assert db.execute("UPDATE sync_runs SET succeeded_at = ? WHERE source = ?",
                          (when, source)).rowcount == 1
    db.close()


def test_bounces_and_a_complaint_in_the_formats_mail_servers_write(factory, tmp_path) -> None:
    """Each report quotes the real copy `send` made for its reader (the ledger proves it)."""
    project = factory(config=TOKEN_CONFIG)
    for address in READERS:
        assert project.cli("subscribers", "add", address).code == 0
    assert project.cli("build").code == 0
    ids = sent_ids(project)
    box = mbox(tmp_path / "bounces.mbox", *(quoting(name, old, ids[who]) for name, who, old in (
        ("postfix-bounce.eml", "gone@example.net", "1f2e3d4c5b6a7988"),
        ("exim-bounce.eml", "full@example.com", "77aa55cc33ee1100"),
        ("gmail-bounce.eml", "lost@example.com", "0a1b2c3d4e5f6071"),
        ("arf-complaint.eml", "annoyed@example.com", "c0ffee00badd00d5"),
        ("postfix-delayed.eml", "full-box@example.net", "5d6e7f8091a2b3c4"))))
    first = sync(project, "--mailbox", str(box))
    assert first.code == 0, first.err
    assert first.out == (
        "bounced gone@example.net (550 5.1.1 <gone@example.net>: Recipient address rejected: "
        "User unknown in local recipient table (issue 2026-W07, reported by mail.example.org))\n"
        "bounced full@example.com (550 5.2.1 The email account that you tried to reach is "
        "disabled. (status 5.0.0, issue 2026-W07, reported by mail.example.org))\n"
        "bounced lost@example.com (550 5.1.1 The email account that you tried to reach does not "
        "exist. Please try double-checking the recipient's email address for typos or "
        "unnecessary spaces. (issue 2026-W07, reported by googlemail.com))\n"
        "complained annoyed@example.com (abuse report by ExampleFBL/1.0; issue 2026-W07)\n"
        "temporary failure for full-box@example.net on 2026-W07 (452 4.2.2 "
        "<full-box@example.net>: Mailbox full (issue 2026-W07, reported by mail.example.org)): "
        "1 of 3 issues in a row; bounced at 3\n"
        f"synced mailbox {box}: 5 new messages (3 bounced, 1 complained, 1 temporary failure)\n"
        "sync: 3 bounced, 1 complained, 1 temporary failure counted\n")

    listed = project.cli("subscribers", "list", "--status", "bounced")
    day = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    assert listed.out == (
        f"bounced      full@example.com  since {day}  550 5.2.1 The email account that you "
        "tried to reach is disabled. (status 5.0.0, issue 2026-W07, reported by "
        "mail.example.org)\n"
        f"bounced      gone@example.net  since {day}  550 5.1.1 <gone@example.net>: Recipient "
        "address rejected: User unknown in local recipient table (issue 2026-W07, reported by "
        "mail.example.org)\n"
        f"bounced      lost@example.com  since {day}  550 5.1.1 The email account that you "
        "tried to reach does not exist. Please try double-checking the recipient's email "
        "address for typos or unnecessary spaces. (issue 2026-W07, reported by "
        "googlemail.com)\n")
    assert listed.err == ("5 addresses in .briefing/state.sqlite3: 1 active, 0 unsubscribed, "
                          "3 bounced, 1 complained\n")

    again = sync(project, "--mailbox", str(box))
    assert again.out == (f"synced mailbox {box}: 0 new messages; 5 seen before\n"
                         "sync: no reader changed\n")


def test_a_report_for_someone_not_on_the_list_is_reported_not_guessed(factory, tmp_path) -> None:
    project = factory(config=TOKEN_CONFIG)
    box = mbox(tmp_path / "in.mbox", sample("postfix-bounce.eml"), sample("arf-complaint.eml"))
    result = sync(project, "--mailbox", str(box))
    assert result.code == 0, result.err
    assert places(result.out) == (
        f"{box} message 1: warning: a bounce (5.1.1) for gone@example.net, who is not a "
        "subscriber; nothing changed\n"
        f"{box} message 2: warning: a complaint about annoyed@example.com that matches no "
        "subscriber; nothing changed\n"
        f"synced mailbox {box}: 2 new messages (2 not on the list)\n"
        "sync: no reader changed\n")
    assert project.cli("subscribers", "list").out == ""


def sent_issues(project, issues: dict[str, str]) -> dict[str, str]:
    """Build and send each issue (aiosmtpd) to the one reader in briefing.yaml; the Message-ID
    of each issue's copy."""
    ids = {}
    for issue, date in issues.items():
        if issue != "2026-W07":
            add_issue(project, issue, date)
        assert project.cli("build", issue).code == 0
        with Server() as server:
            sent = project.cli("send", issue, "--no-dry-run", "--smtp", server.url,
                               "--insecure", timeout=120)
            assert sent.code == 0, sent.err
            ids[issue] = header(server.received[0].data, "Message-ID")
    return ids


def test_temporary_failures_on_three_issues_in_a_row_make_a_bounce(factory, tmp_path) -> None:
    """Delays of real copies of three issues: counted once per issue; a success report forgets
    them; three issues in a row, in the order they were sent, bounce."""
    project = factory(config=TOKEN_CONFIG.replace(
        "  - Reader One <one@example.org>\n", "  - full-box@example.net\n"))
    ids = sent_issues(project, {"2026-W05": "2026-01-30", "2026-W06": "2026-02-06",
                                "2026-W07": "2026-02-13"})
    reason = "452 4.2.2 <full-box@example.net>: Mailbox full (issue {}, reported by " \
             "mail.example.org)"
    first = mbox(tmp_path / "1.mbox", delayed("", 1, ids["2026-W05"]),
                 delayed("", 2, ids["2026-W05"]), delayed("", 3, ids["2026-W06"]))
    result = sync(project, "--mailbox", str(first))
    assert result.code == 0, result.err
    assert result.out == (
        f"temporary failure for full-box@example.net on 2026-W05 ({reason.format('2026-W05')}):"
        " 1 of 3 issues in a row; bounced at 3\n"
        # A second notice about the same issue (Postfix warns, then gives up) counts once.
        f"temporary failure for full-box@example.net on 2026-W05 ({reason.format('2026-W05')}):"
        " 1 of 3 issues in a row; bounced at 3\n"
        f"temporary failure for full-box@example.net on 2026-W06 ({reason.format('2026-W06')}):"
        " 2 of 3 issues in a row; bounced at 3\n"
        f"synced mailbox {first}: 3 new messages (3 temporary failures)\n"
        "sync: 3 temporary failures counted\n")
    # Postfix's success notification (NOTIFY=SUCCESS) for the W07 copy forgets them.
    delivered = sample("postfix-delivered.eml").replace(
        b"<2026-W08.4c5d6e7f8a9b0c1d.5d6e7f8091a2b3c4@example.org>", ids["2026-W07"].encode())
    second = mbox(tmp_path / "2.mbox", delivered, delayed("", 4, ids["2026-W07"]))
    result = sync(project, "--mailbox", str(second))
    assert result.out.splitlines()[:2] == [
        "delivered to full-box@example.net: its temporary failures are forgotten",
        f"temporary failure for full-box@example.net on 2026-W07 ({reason.format('2026-W07')}):"
        " 1 of 3 issues in a row; bounced at 3"]
    third = mbox(tmp_path / "3.mbox", delayed("", 5, ids["2026-W05"]),
                 delayed("", 6, ids["2026-W06"]))
    result = sync(project, "--mailbox", str(third))
    assert result.out.splitlines()[1:] == [
        "bounced full-box@example.net (temporary failures on 3 issues in a row (2026-W05, "
        f"2026-W06, 2026-W07); last: {reason.format('2026-W06')})",
        f"synced mailbox {third}: 2 new messages (2 temporary failures)",
        "sync: 1 bounced, 1 temporary failure counted"]


def test_in_a_row_means_in_the_order_the_issues_were_sent(factory, tmp_path) -> None:
    """Real copies of four issues; the DSNs quote their real Message-IDs. W06 went through:
    failures on W05, W07 and W08 are not three in a row, until W06's late failure arrives."""
    project = factory(config=TOKEN_CONFIG.replace(
        "  - Reader One <one@example.org>\n", "  - full-box@example.net\n"))
    ids = {}
    for issue, date in (("2026-W05", "2026-01-30"), ("2026-W06", "2026-02-06"),
                        ("2026-W07", "2026-02-13"), ("2026-W08", "2026-02-20")):
        if issue != "2026-W07":
            add_issue(project, issue, date)
        assert project.cli("build", issue).code == 0
        with Server() as server:
            sent = project.cli("send", issue, "--no-dry-run", "--smtp", server.url,
                               "--insecure", timeout=120)
            assert sent.code == 0, sent.err
            ids[issue] = header(server.received[0].data, "Message-ID")
    box = mbox(tmp_path / "in.mbox", delayed("", 1, ids["2026-W05"]),
               delayed("", 2, ids["2026-W07"]), delayed("", 3, ids["2026-W08"]))
    result = sync(project, "--mailbox", str(box))
    counts = [re.search(r"on (\S+) .*: (\d) of 3", line).groups()  # type: ignore[union-attr]
              for line in result.out.splitlines()[:3]]
    assert counts == [("2026-W05", "1"), ("2026-W07", "1"), ("2026-W08", "2")]
    late = mbox(tmp_path / "late.mbox", delayed("", 4, ids["2026-W06"]))
    result = sync(project, "--mailbox", str(late))
    assert result.out.splitlines()[0].startswith(
        "bounced full-box@example.net (temporary failures on 4 issues in a row (2026-W05, "
        "2026-W06, 2026-W07, 2026-W08); last: 452 4.2.2")


def test_a_redacted_complaint_is_matched_by_the_copy_it_quotes(factory, tmp_path) -> None:
    """Feedback loops often hide the recipient: the quoted copy's Message-ID (in the ledger)
    or its List-Unsubscribe token says whose copy it was."""
    project = factory(config=TOKEN_CONFIG)
    for address in ("two@example.org", "three@example.org"):
        assert project.cli("subscribers", "add", address).code == 0
    assert project.cli("build").code == 0
    with Server() as server:
        assert project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure",
                           timeout=120).code == 0
        copies = {m.rcpt_tos[0]: m.data for m in server.received}
    template = sample("arf-complaint.eml").replace(b"Original-Rcpt-To: <annoyed@example.com>\n",
                                                   b"")
    quoted_id = b"<2026-W07.9b0d595f061f77cb.c0ffee00badd00d5@example.org>"
    by_id = template.replace(quoted_id, header(copies["two@example.org"],
                                               "Message-ID").encode())
    token_line = re.search(rb"List-Unsubscribe: [^\n]+", copies["three@example.org"])
    assert token_line
    by_token = template.replace(b"Message-ID: " + quoted_id + b"\n", b"").replace(
        b"List-Unsubscribe: <https://example.org/u/Pq7rS0tU3vW6xY9zA2bC5dE8>",
        token_line.group(0)).replace(b"<fbl.20260218174036.8d2f@", b"<fbl.2@")
    box = mbox(tmp_path / "in.mbox", by_id, by_token)
    result = sync(project, "--mailbox", str(box))
    assert result.out.splitlines()[:2] == [
        "complained two@example.org (abuse report by ExampleFBL/1.0; issue 2026-W07)",
        # Without the Message-ID, the issue is not known; the reader is, by the token.
        "complained three@example.org (abuse report by ExampleFBL/1.0)"]


def test_unsubscribe_mail_in_a_real_maildir(factory, tmp_path) -> None:
    project = factory(config=TOKEN_CONFIG)
    for address in ("two@example.org", "three@example.org", "four@example.org"):
        assert project.cli("subscribers", "add", address).code == 0
    assert project.cli("build").code == 0
    with Server() as server:
        assert project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure",
                           timeout=120).code == 0
        copies = {m.rcpt_tos[0]: m.data for m in server.received}
    to = mailto_address(copies["two@example.org"])
    assert re.fullmatch(r"unsubscribe\+[A-Za-z0-9_-]{24}@example\.org", to)
    inbox = maildir(
        tmp_path / "Maildir",
        # What a mail client sends for the mailto link, from another address of the reader:
        # the token says who.
        (f"From: Someone Else <elsewhere@example.net>\nTo: {to}\nSubject: unsubscribe\n"
         "Message-ID: <m1@example.net>\n\nThis message was automatically generated by "
         "Gmail.\n").encode(),
        # A reply asking to leave, from the reader's own address.
        (b"From: Three <three@example.org>\nTo: news@example.org\nSubject: Re: Test Briefing: "
         b"A test issue\nMessage-ID: <m2@example.org>\n\nPlease unsubscribe me.\n\nOn Mon, "
         b"16 Feb 2026, Test Briefing wrote:\n> ...\n"),
        # A reply that only quotes the footer's unsubscribe line: not a request.
        (b"From: four@example.org\nTo: news@example.org\nSubject: Re: Test Briefing: A test "
         b"issue\nMessage-ID: <m3@example.org>\n\nGreat issue, thanks!\n\n> Unsubscribe: "
         b"https://example.org/u/...\n"),
        # An auto-reply never unsubscribes anyone.
        (b"From: four@example.org\nTo: news@example.org\nSubject: Unsubscribe\n"
         b"Auto-Submitted: auto-replied\nMessage-ID: <m4@example.org>\n\nI am away.\n"),
        # Someone who is not on the list.
        (b"From: stranger@example.net\nTo: news@example.org\nSubject: UNSUBSCRIBE\n"
         b"Message-ID: <m5@example.net>\n\n\n"),
        # A token nobody has.
        (b"From: x@example.net\nTo: unsubscribe+Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9@example.org\n"
         b"Subject: unsubscribe\nMessage-ID: <m6@example.net>\n\n"),
    )
    result = sync(project, "--mailbox", str(inbox))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert sorted(lines[:-2]) == sorted([
        "unsubscribed two@example.org (unsubscribe by mail to the List-Unsubscribe address)",
        "unsubscribed three@example.org (asked by mail to unsubscribe: first line 'Please "
        "unsubscribe me.')",
        f"{inbox} message {_key(inbox, b'm5@')}: warning: stranger@example.net asks to "
        "unsubscribe but is not a subscriber; nothing changed",
        f"{inbox} message {_key(inbox, b'm6@')}: warning: mail to the unsubscribe address with "
        "token 'Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9', which is no known reader's; nothing changed",
    ])
    assert lines[-2:] == [
        f"synced mailbox {inbox}: 6 new messages (2 unsubscribed, 1 unknown token, 1 not on "
        "the list, 2 other messages)",
        "sync: 2 unsubscribed"]
    status = project.cli("subscribers", "list", "--format", "csv").out
    assert ",four@example.org," not in status and "four@example.org,,active," in status

    again = sync(project, "--mailbox", str(inbox))
    # Everything was remembered, the unknown token too: it is reported once, not at every sync.
    assert again.out == (f"synced mailbox {inbox}: 0 new messages; 6 seen before\n"
                         "sync: no reader changed\n")


def _key(box, marker: bytes) -> str:
    """The Maildir key of the message holding `marker`."""
    folder = mailbox.Maildir(box, create=False)
    # iterkeys(): iterating a Mailbox itself gives messages, not keys.
    (key,) = [k for k in folder.iterkeys() if marker in folder.get_bytes(k)]
    return key


def test_an_old_event_does_not_unsubscribe_a_reader_who_came_back(factory) -> None:
    project = factory(config=TOKEN_CONFIG)
    assert project.cli("subscribers", "add", "two@example.org").code == 0
    assert project.cli("build").code == 0
    with Server() as server:
        assert project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure",
                           timeout=120).code == 0
        copy = [m.data for m in server.received if m.rcpt_tos == ["two@example.org"]][0]
    token = re.search(rb"/u/([A-Za-z0-9_-]{24})", copy).group(1).decode()  # type: ignore
    events = project.write(".briefing/events.jsonl",
                           f'{{"time": "2026-02-16T09:00:00Z", "token": "{token}"}}\n')
    assert sync(project).out.splitlines()[0] == (
        "unsubscribed two@example.org (one-click unsubscribe at 2026-02-16T09:00:00Z)")
    assert project.cli("subscribers", "add", "two@example.org", "--resubscribe").code == 0
    events.write_text(events.read_text() + "not json\n")
    result = sync(project)
    assert result.out == (
        ".briefing/events.jsonl:2:1: warning: is not an event (a JSON object with 'token' and "
        "'time'); skipped\n"
        "synced events .briefing/events.jsonl: 0 new events; 1 seen before\n"
        "sync: no reader changed\n")
    assert project.cli("subscribers", "list", "--status", "active").out.startswith(
        "active       two@example.org")


def test_sync_needs_a_source(factory) -> None:
    project = factory(config=TOKEN_CONFIG)
    result = sync(project)
    assert (result.code, result.out) == (1, "")
    assert result.err == ("briefing.yaml: error: nothing to sync from: no sync.events or "
                          "sync.mailbox, and no .briefing/events.jsonl (pass --events "
                          "PATH_OR_URL or --mailbox PATH, or set them under sync: in "
                          "briefing.yaml)\n")
    missing = sync(project, "--mailbox", "nowhere")
    assert (missing.code, missing.err) == (1, "nowhere: error: no such mbox file or Maildir "
                                              "folder (named by --mailbox)\n")
    project.write("not-mail.txt", "hello\n")
    wrong = sync(project, "--mailbox", "not-mail.txt")
    assert wrong.err == ("not-mail.txt: error: is neither an mbox file (it does not start "
                         "with 'From ') nor a Maildir folder (named by --mailbox)\n")


def test_send_syncs_first_and_refuses_on_a_source_it_cannot_read(factory, tmp_path) -> None:
    project = factory(config=TOKEN_CONFIG + "sync:\n  mailbox: inbox\n")
    assert project.cli("subscribers", "add", "gone@example.net").code == 0
    assert project.cli("build").code == 0
    url = "smtp://127.0.0.1:2525"

    never = project.cli("send", "--smtp", url, "--insecure")
    assert (never.code, never.out) == (1, "")
    assert never.err == (
        "inbox: error: cannot sync mailbox before sending: no such mbox file or Maildir folder "
        "(named by briefing.yaml sync.mailbox); it was never synced, so unsubscribes may be "
        "missing: not sending (fix the source, or remove it from sync: in briefing.yaml; a "
        "send goes ahead on a good sync under 24 hours old)\n")

    # The dry run syncs for real and shows what changed: the reader who asked leaves the list.
    maildir(project.root / "inbox", b"From: gone@example.net\nTo: news@example.org\n"
                                    b"Subject: unsubscribe\nMessage-ID: <u1@example.net>\n\n")
    synced = project.cli("send", "--smtp", url, "--insecure")
    assert synced.code == 0, synced.err
    assert synced.out.splitlines()[:4] == [
        "unsubscribed gone@example.net (asked by mail to unsubscribe: subject 'unsubscribe')",
        "synced mailbox inbox: 1 new message (1 unsubscribed)",
        "sync: 1 unsubscribed",
        "dry run: nothing is sent"]
    assert "recipients: 1: one@example.org (1 from briefing.yaml; 1 suppressed left out)" \
        in synced.out.splitlines()

    # Unreadable, but read well under 24 hours ago: the send goes ahead and says so.
    (project.root / "inbox").rename(project.root / "inbox.away")
    recent = project.cli("send", "--smtp", url, "--insecure")
    assert recent.code == 0, recent.err
    first = recent.out.splitlines()[0]
    assert re.fullmatch(
        r"sync: warning: mailbox inbox cannot be read \(no such mbox file or Maildir folder "
        r"\(named by briefing.yaml sync.mailbox\)\); sending on its last good sync, \d+ minutes? "
        r"ago \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\), under 24 hours", first), first

    # Read last 25 hours ago: refused, in the dry run and for real, and nothing is sent.
    store_time(project, "mailbox inbox", 25)
    with Server() as server:
        for args in ((), ("--no-dry-run",)):
            stale = project.cli("send", *args, "--smtp", server.url, "--insecure")
            assert (stale.code, stale.out) == (1, "")
            assert re.fullmatch(
                r"inbox: error: cannot sync mailbox before sending: no such mbox file or "
                r"Maildir folder \(named by briefing.yaml sync.mailbox\); its last good sync "
                r"was 25 hours ago \(\S+\), so unsubscribes may be missing: not sending \(fix "
                r"the source, or remove it from sync: in briefing.yaml; a send goes ahead on a "
                r"good sync under 24 hours old\)\n", stale.err), stale.err
        assert server.received == []


def test_broken_mail_is_counted_never_a_crash(factory, tmp_path) -> None:
    project = factory(config=TOKEN_CONFIG)
    assert project.cli("subscribers", "add", "gone@example.net").code == 0
    report = (b"From: MAILER-DAEMON@example.org\nMessage-ID: <{n}@example.org>\nMIME-Version: 1.0"
              b"\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n")
    box = mbox(
        tmp_path / "broken.mbox",
        b"\x00\xff\xfe not a message at all \x80\x81\n",
        b"Subject: =?utf-8?q?=ZZ=broken?=\nFrom: =?x-unknown?b?????=\nMessage-ID: <a@x>\n\nhi\n",
        # A report without its delivery-status part, then one with no recipient block.
        report.replace(b"{n}", b"1") + b"--b\nContent-Type: text/plain\n\nbounced\n--b--\n",
        report.replace(b"{n}", b"2") + b"--b\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; x\n--b--\n",
        # A recipient block with nonsense in every field, and an unknown action.
        report.replace(b"{n}", b"3") + b"--b\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; x\n\nFinal-Recipient: x400; \xff\xfe\nAction: exploded\n"
        b"Status: 9.9.9\n--b--\n",
        # An unterminated multipart and a feedback report with no fields.
        b"Message-ID: <4@x>\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nabc",
        b"Message-ID: <5@x>\nContent-Type: multipart/report; report-type=feedback-report; "
        b"boundary=q\n\n--q\nContent-Type: message/feedback-report\n\n\n--q--\n",
    )
    result = sync(project, "--mailbox", str(box))
    assert result.code == 0, result.err
    assert places(result.out) == (
        f"{box} message 4: warning: is a delivery report with no recipient; nothing changed\n"
        f"{box} message 5: warning: a delivery report with the action 'exploded' for nobody; "
        "nothing changed\n"
        f"{box} message 7: warning: a feedback report with no Feedback-Type, not a complaint "
        "(abuse); nothing changed\n"
        f"synced mailbox {box}: 7 new messages (1 other feedback report, 2 reports not "
        "understood, 4 other messages)\n"
        "sync: no reader changed\n")
    assert "active       gone@example.net" in project.cli("subscribers", "list").out


def sent_tokens(project) -> dict[str, str]:
    """Send the built issue to an aiosmtpd server; each reader's token from their copy."""
    with Server() as server:
        result = project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure",
                             timeout=120)
        assert result.code == 0, result.err
        return {m.rcpt_tos[0]: re.search(rb"/u/([A-Za-z0-9_-]{24})",  # type: ignore[union-attr]
                                         m.data).group(1).decode() for m in server.received}


def test_a_reader_from_briefing_yaml_who_leaves_is_kept_out_by_a_store_row(factory) -> None:
    project = factory(config=TOKEN_CONFIG)
    assert project.cli("build").code == 0
    token = sent_tokens(project)["one@example.org"]
    project.write(".briefing/events.jsonl",
                  f'{{"time": "2026-02-16T09:00:00Z", "token": "{token}"}}\n')
    result = sync(project)
    assert result.out.splitlines()[0] == (
        "unsubscribed one@example.org (one-click unsubscribe at 2026-02-16T09:00:00Z)")
    assert project.cli("subscribers", "export").out == (
        "address,name,status,source,added_at,status_changed_at,status_reason,themes,"
        "signed_up_at,confirmed_at,signup_page,consent_sha256,consent_wording,ip_hash\n"
        "one@example.org,,unsubscribed,sync,2026-02-16T09:00:00Z,2026-02-16T09:00:00Z,"
        "one-click unsubscribe at 2026-02-16T09:00:00Z,,2026-02-16T09:00:00Z,,,,,\n")
    add_issue(project, "2026-W08", "2026-02-20")
    assert project.cli("build", "2026-W08").code == 0
    dry = project.cli("send", "2026-W08", "--smtp", "smtp://127.0.0.1:2525", "--insecure")
    lines = dry.out.splitlines()
    assert "recipients: none (0 subscribers in .briefing/state.sqlite3; 1 suppressed left out)" \
        in lines
    assert "nothing to send: the list is empty (add readers with 'briefing subscribers add' or " \
        "'import')" in lines


def test_a_click_older_than_a_resubscribe_is_not_applied(factory) -> None:
    project = factory(config=TOKEN_CONFIG)
    assert project.cli("subscribers", "add", "two@example.org").code == 0
    assert project.cli("build").code == 0
    token = sent_tokens(project)["two@example.org"]
    project.write(".briefing/events.jsonl",
                  f'{{"time": "2026-02-16T09:00:00Z", "token": "{token}"}}\n')
    # Before the click was synced, the reader wrote to ask to stay, and the editor re-added them.
    assert project.cli("subscribers", "remove", "two@example.org").code == 0
    assert project.cli("subscribers", "add", "two@example.org", "--resubscribe").code == 0
    result = sync(project)
    first = result.out.splitlines()[0]
    assert re.fullmatch(r"two@example\.org clicked unsubscribe at 2026-02-16T09:00:00Z, before "
                        r"being resubscribed by the editor \(was unsubscribed\) on "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; not applied", first), first
    assert result.out.splitlines()[1:] == [
        "synced events .briefing/events.jsonl: 1 new event (1 older than a resubscribe)",
        "sync: no reader changed"]
    assert project.cli("subscribers", "list", "--status", "active").out.startswith(
        "active       two@example.org")
