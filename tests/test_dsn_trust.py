"""Bounce reports are claims: `subscribers sync` applies one only when it proves which copy it
is about (VERP, or the copy it quotes is in the ledger for the recipient it names), and then
only as the refusal policy says. Real reports (tests/data/mail: Postfix, Exim, Gmail, Microsoft
365, qmail; a Gmail 5.7.26 DMARC rejection; a forged one; a stranger's) quoting real copies sent
by `send` to aiosmtpd; the VERP path end to end through the private Postfix."""

from __future__ import annotations

import re
import shutil

from endpoint_helpers import DATA, TOKEN_CONFIG, header, mbox
from postfix import BOUNCE_DOMAIN, Postfix, skip_unless_available, wait_until
from smtp_server import Server

FAST = {"BRIEFING_RETRY_DELAY": "0.01"}
READERS = ["gone@example.net", "full@example.com", "lost@example.com", "missing@example.com",
           "strict@example.com", "unknown@example.net", "spf@example.com",
           "kijitora@example.net", "full-box@example.net", "annoyed@example.com",
           "victim@example.net", "forwarder@example.net"]
SAMPLE_ID = "<2026-W07.9b0d595f061f77cb.{}@example.org>"

# Each report, the reader whose real copy it quotes (its Message-ID put in place of the
# sample's), and what sync says of it.
TABLE = [
    ("postfix-bounce.eml", "gone@example.net", "1f2e3d4c5b6a7988",
     "bounced gone@example.net (550 5.1.1 <gone@example.net>: Recipient address rejected: User "
     "unknown in local recipient table (issue 2026-W07, reported by mail.example.org))"),
    # Exim writes Status 5.0.0 and the remote server's 5.2.1 in the diagnostic.
    ("exim-bounce.eml", "full@example.com", "77aa55cc33ee1100",
     "bounced full@example.com (550 5.2.1 The email account that you tried to reach is "
     "disabled. (status 5.0.0, issue 2026-W07, reported by mail.example.org))"),
    ("gmail-bounce.eml", "lost@example.com", "0a1b2c3d4e5f6071",
     "bounced lost@example.com (550 5.1.1 The email account that you tried to reach does not "
     "exist. Please try double-checking the recipient's email address for typos or unnecessary "
     "spaces. (issue 2026-W07, reported by googlemail.com))"),
    ("microsoft-bounce.eml", "missing@example.com", "3c4d5e6f708192a3",
     "bounced missing@example.com (550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
     "found by SMTP address lookup (issue 2026-W07, reported by "
     "AM0PR0102MB3362.eurprd01.prod.exchangelabs.example.com))"),
    # Gmail refusing us for DMARC (5.7.26): the sender's fault, never the reader's.
    ("gmail-dmarc-bounce.eml", "strict@example.com", "a1b2c3d4e5f60718",
     "{where}: warning: a bounce for strict@example.com (5.7.26): a policy refusal: about us, "
     "not the reader; the reader stays on the list: 550-5.7.26 Unauthenticated email from "
     "example.org is not accepted due to 550-5.7.26 domain's DMARC policy. Please contact the "
     "administrator of 550-5.7.26 example.org domain if this was a legitimate ma (fix the "
     "sending side (authentication: SPF, DKIM, DMARC; reputation))"),
    # Not RFC 3464: flufl.bounce finds the address; the copy is quoted as text.
    ("qmail-dmarc-bounce.eml", "strict@example.com", "a1b2c3d4e5f60718",
     "{where}: warning: a bounce for strict@example.com (5.7.26): a policy refusal: about us, "
     "not the reader; the reader stays on the list: 192.0.2.27 failed after I sent the message. "
     "Remote host said: 550-5.7.26 Unauthenticated email from example.org is not accepted due "
     "to domain's 550-5.7.26 DMARC policy. Please contact the administrato (fix the sending "
     "side (authentication: SPF, DKIM, DMARC; reputation))"),
    ("qmail-bounce.eml", "unknown@example.net", "b2c3d4e5f6071829",
     "bounced unknown@example.net (Sorry, no SMTP connection got far enough; most progress was "
     "RCPT TO response; remote host 192.0.2.32 said: 550 Unknown user unknown@example.net . "
     "(#5.5.0) (Other MXes tried: 192.0.2.32 said 550 for RCPT TO response; 192.0.2.40 said "
     "550 for RCPT TO response.) (issue 2026-W07))"),
    # An undefined 5.0.0 whose words are about us (SPF).
    ("exim-spf-bounce.eml", "spf@example.com", "c3d4e5f607182930",
     "{where}: warning: a bounce for spf@example.com (5.0.0): a policy refusal: about us, not "
     "the reader; the reader stays on the list: 550 Bad SPF records for "
     "[example.org:192.0.2.10], see http://spf.pobox.com/ (fix the sending side "
     "(authentication: SPF, DKIM, DMARC; reputation))"),
    # Exim's plain-text bounce naming two addresses; the copy quoted is kijitora's only.
    ("exim-text-bounce.eml", "kijitora@example.net", "d4e5f60718293a4b",
     "bounced kijitora@example.net (SMTP error from remote mail server after RCPT "
     "TO:<kijitora@example.net>: host mx.example.net [192.0.2.153]: 550 5.1.1 "
     "<kijitora@example.net>... User Unknown (issue 2026-W07))\n"
     "{where}: warning: a bounce (5.2.1) for sabatora@example.net, quoting the copy sent to "
     "kijitora@example.net: it is not about that reader; nothing changed"),
    ("postfix-delayed.eml", "full-box@example.net", "5d6e7f8091a2b3c4",
     "temporary failure for full-box@example.net on 2026-W07 (452 4.2.2 <full-box@example.net>:"
     " Mailbox full (issue 2026-W07, reported by mail.example.org)): 1 of 3 issues in a row; "
     "bounced at 3"),
    ("arf-complaint.eml", "annoyed@example.com", "c0ffee00badd00d5",
     "complained annoyed@example.com (abuse report by ExampleFBL/1.0; issue 2026-W07)"),
    # A forgery naming a reader and quoting nothing of ours.
    ("forged-bounce.eml", None, None,
     "{where}: warning: a bounce (5.1.1) for victim@example.net that does not prove it is about "
     "a copy we sent (no VERP return path, and no copy of ours quoted for that address); "
     "nothing changed (anyone can send such a report: see 'Bounces' in docs/subscribers.md)"),
    # The reader's copy, forwarded on to an address that failed: not the reader's address.
    ("stranger-bounce.eml", "forwarder@example.net", "e5f60718293a4b5c",
     "{where}: warning: a bounce (5.1.1) for stranger@example.net, quoting the copy sent to "
     "forwarder@example.net: it is not about that reader; nothing changed"),
]


def sent_ids(project) -> dict[str, str]:
    """Send the built issue (aiosmtpd); each reader's copy's Message-ID."""
    with Server() as server:
        result = project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure",
                             env=FAST, timeout=300)
        assert result.code == 0, result.err
        return {m.rcpt_tos[0]: header(m.data, "Message-ID") for m in server.received}


def quoting(name: str, old: str | None, new: str | None) -> bytes:
    data = (DATA / name).read_bytes()
    if old and new:
        sample = SAMPLE_ID.format(old).encode()
        assert sample in data, name
        data = data.replace(sample, new.encode())
    return data


def places(out: str) -> str:
    """Sync's output without the mbox byte offsets (tested in test_sync_broken.py)."""
    return re.sub(r" message (\d+) \(byte \d+\)", r" message \1", out)


def test_each_report_proves_its_copy_or_changes_nothing(factory, tmp_path) -> None:
    project = factory(config=TOKEN_CONFIG)
    for address in READERS:
        assert project.cli("subscribers", "add", address).code == 0
    assert project.cli("build").code == 0
    ids = sent_ids(project)
    box = mbox(tmp_path / "bounces.mbox",
               *(quoting(name, old, ids.get(reader or "")) for name, reader, old, _ in TABLE),
               # A forgery quoting a made-up copy in our Message-ID's shape: not in the ledger.
               (DATA / "postfix-bounce.eml").read_bytes().replace(b"gone@", b"victim@")
               .replace(b"<20260216080004.7C2E81A0B3F@", b"<20260216080004.7C2E81A0B40@"))
    result = project.cli("subscribers", "sync", "--mailbox", str(box))
    assert result.code == 0, result.err
    expected = [line.format(where=f"{box} message {n}")
                for n, (_, _, _, line) in enumerate(TABLE, 1)]
    assert places(result.out).splitlines() == "\n".join(expected).splitlines() + [
        f"{box} message 14: warning: a bounce (5.1.1) for victim@example.net that does not "
        "prove it is about a copy we sent (no VERP return path, and no copy of ours quoted for "
        "that address); nothing changed (anyone can send such a report: see 'Bounces' in "
        "docs/subscribers.md)",
        f"synced mailbox {box}: 14 new messages (6 bounced, 1 complained, 1 temporary failure, "
        "3 refused us, 4 not proven)",
        "sync: 6 bounced, 1 complained, 1 temporary failure counted"]
    listed = project.cli("subscribers", "list", "--format", "csv").out
    status = dict(line.split(",")[0:3:2] for line in listed.splitlines()[1:])
    assert status == {
        "annoyed@example.com": "complained", "forwarder@example.net": "active",
        "full-box@example.net": "active", "full@example.com": "bounced",
        "gone@example.net": "bounced", "kijitora@example.net": "bounced",
        "lost@example.com": "bounced", "missing@example.com": "bounced",
        "spf@example.com": "active", "strict@example.com": "active",
        "unknown@example.net": "bounced", "victim@example.net": "active"}


# --- VERP, end to end through Postfix ------------------------------------------------------

VERP_DOMAIN = BOUNCE_DOMAIN


def test_verp_through_postfix_proves_whose_bounce_it_is(factory) -> None:
    """bounce_address: bounces+{token}@bounces.test. Each copy goes out with its reader's own
    return path; the sink refuses one address after Postfix accepted it; Postfix, with
    recipient_delimiter = +, delivers its DSN to the one bounce Maildir; sync reads the token
    back from the DSN's envelope recipient and bounces that reader, and only that one."""
    skip_unless_available()
    gone = "gone@example.net"
    refusal = f"550 5.1.1 <{gone}>: Recipient address rejected: User unknown"
    config = TOKEN_CONFIG + f"bounce_address: bounces+{{token}}@{VERP_DOMAIN}\n"
    project = factory(config=config)
    for address in ("ana@example.net", gone):
        assert project.cli("subscribers", "add", address).code == 0
    assert project.cli("build").code == 0
    with Server() as sink, Postfix(sink.port, settings={"recipient_delimiter": "+"}) as mta:
        sink.behaviour.replies[gone] = [refusal]
        dry = project.cli("send", "--smtp", mta.url, "--insecure")
        assert (f"from:       Test Briefing <news@example.org> (bounces to bounces+{{token}}@"
                f"{VERP_DOMAIN}, each reader's own (VERP))") in dry.out.splitlines()
        sent = project.cli("send", "--no-dry-run", "--smtp", mta.url, "--insecure", env=FAST,
                           timeout=120)
        assert sent.code == 0, sent.err
        wait_until(lambda: mta.bounce_files() and mta.queue_is_empty(), 30, "the DSN", mta)
        wait_until(lambda: len(sink.received) >= 2, 30, "two copies", mta)
        senders = {m.rcpt_tos[0]: m.mail_from for m in sink.received}
        assert set(senders) == {"ana@example.net", "one@example.org"}
        for sender in senders.values():  # each copy's own return path
            assert re.fullmatch(rf"bounces\+[A-Za-z0-9_-]{{24}}@{re.escape(VERP_DOMAIN)}",
                                sender), sender
        assert len(set(senders.values())) == 2
        [dsn] = mta.bounce_files()
        data = dsn.read_bytes()
        # Strip the quoted copy: the proof must come from the envelope alone.
        boundary = re.search(rb'boundary="([^"]+)"', data).group(1)  # type: ignore[union-attr]
        without_copy = data.split(b"\n--" + boundary + b"\nContent-Description: Undelivered")[0]
        inbox = project.root / "verp-inbox"
        inbox.mkdir()
        for folder in ("cur", "new", "tmp"):
            (inbox / folder).mkdir()
        (inbox / "new" / dsn.name).write_bytes(without_copy + b"\n--" + boundary + b"--\n")
        assert re.search(rb"X-Original-To: bounces\+[A-Za-z0-9_-]{24}@", data)
        shutil.copy(dsn, project.root / "full-dsn.eml")
    result = project.cli("subscribers", "sync", "--mailbox", "verp-inbox")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f"bounced {gone} (550 5.1.1 <{gone}>: Recipient address rejected: User unknown "
        "(reported by postfix.test))")
    listed = project.cli("subscribers", "list", "--status", "bounced").out
    assert [line.split()[1] for line in listed.splitlines()] == [gone]
