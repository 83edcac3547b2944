"""Sync never stops on one message: the bounce address is public, so anyone can put any bytes
in the mailbox. A raw 8-bit Message-ID (a Header object, not a str), an unknown charset and
multipart nested 3,000 deep (RecursionError) each made `subscribers sync` exit 2 with nothing
applied, and `send` refuse at once. Now each is read or reported with its place (the Maildir
name, the mbox number and byte offset) and the rest is applied, through the real CLI."""

from __future__ import annotations

import mailbox
import re

from endpoint_helpers import TOKEN_CONFIG, maildir, mbox

READERS = ("ana@example.net", "bo@example.net", "cy@example.net")


def deep(levels: int) -> bytes:
    """Multipart nested `levels` deep, as anyone can send it."""
    head = (b"From: x@example.net\nMessage-ID: <deep@example.net>\n"
            b"Content-Type: multipart/mixed; boundary=b0\n\n")
    body = b"".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n".encode()
                    for i in range(levels))
    body += f"--b{levels}\nContent-Type: text/plain\n\nhi\n".encode()
    body += b"".join(f"--b{i}--\n".encode() for i in range(levels, -1, -1))
    return head + body


BROKEN = [
    # A raw 8-bit byte in the Message-ID: the email package gives a Header object.
    b"From: ana@example.net\nTo: news@example.org\nSubject: unsubscribe\n"
    b"Message-ID: <caf\xe9-1@example.net>\n\nplease\n",
    # A charset Python does not know, in the subject and in the body it reads.
    b"From: bo@example.net\nTo: news@example.org\nSubject: =?x-no-such?q?hello?=\n"
    b"Message-ID: <charset-2@example.net>\nMIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=x-no-such-charset\n\nPlease unsubscribe me.\n",
    deep(3000),
    # Not a message at all.
    b"\x00\xff\xfe not a message \x80\x81\n",
    # An ordinary request after all of them.
    b"From: cy@example.net\nTo: news@example.org\nSubject: Remove me\n"
    b"Message-ID: <plain-5@example.net>\n\n",
]
APPLIED = [
    "unsubscribed ana@example.net (asked by mail to unsubscribe: subject 'unsubscribe')",
    "unsubscribed bo@example.net (asked by mail to unsubscribe: first line 'Please "
    "unsubscribe me.')",
]
DEEP = "warning: cannot be read (its parts are nested too deeply); skipped, the other " \
       "messages are applied"


def project_with_readers(factory):
    project = factory(config=TOKEN_CONFIG + "sync:\n  mailbox: inbox\n")
    for address in READERS:
        assert project.cli("subscribers", "add", address).code == 0
    return project


def test_a_maildir_with_broken_messages_is_applied_but_for_them(factory) -> None:
    project = project_with_readers(factory)
    inbox = maildir(project.root / "inbox", *BROKEN)
    names = {data: key for key in mailbox.Maildir(inbox, create=False).iterkeys()
             for data in BROKEN if mailbox.Maildir(inbox, create=False).get_bytes(key) == data}
    result = project.cli("subscribers", "sync")
    assert result.code == 0, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    lines = result.out.splitlines()
    assert sorted(lines[:-2]) == sorted(APPLIED + [
        f"inbox message {names[BROKEN[2]]}: {DEEP}",
        "unsubscribed cy@example.net (asked by mail to unsubscribe: subject 'Remove me')"])
    assert lines[-2:] == [
        "synced mailbox inbox: 5 new messages (3 unsubscribed, 1 unreadable, 1 other message)",
        "sync: 3 unsubscribed"]
    # Reported once; the next sync (and send, which syncs first) goes on.
    again = project.cli("subscribers", "sync")
    assert again.out == ("synced mailbox inbox: 0 new messages; 5 seen before\n"
                         "sync: no reader changed\n")


def test_an_mbox_with_broken_messages_names_each_by_number_and_byte(factory) -> None:
    project = project_with_readers(factory)
    path = mbox(project.root / "inbox", *BROKEN)
    starts = [m.start() for m in re.finditer(rb"(?m)^From ", path.read_bytes())]
    assert len(starts) == len(BROKEN)
    assert project.cli("build").code == 0
    # send syncs first: the broken messages stop nothing (the dry run is enough to show it).
    result = project.cli("send", "--smtp", "smtp://127.0.0.1:2525", "--insecure")
    assert result.code == 0, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    assert result.out.splitlines()[:6] == APPLIED + [
        f"inbox message 3 (byte {starts[2]}): {DEEP}",
        "unsubscribed cy@example.net (asked by mail to unsubscribe: subject 'Remove me')",
        "synced mailbox inbox: 5 new messages (3 unsubscribed, 1 unreadable, 1 other message)",
        "sync: 3 unsubscribed"]
    assert path.read_bytes()[starts[2]:].startswith(b"From ")
    assert "recipients: 1: one@example.org (1 from briefing.yaml; 3 suppressed left out)" \
        in result.out.splitlines()
