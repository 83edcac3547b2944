"""out/<ISSUE>/message.eml through the real CLI: exact headers, parts that decode to the files,
no reader's token and no one-click promise in the built copy, no header injection
(CVE-2024-6923), and a real msmtp that sends it. Each reader's copy: tests/test_copies.py."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import CONFIG, ISSUE, make_project
from smtp_server import HOST, Server

OUT = "out/2026-W07"
# The built message is the web and archive copy: no List-Unsubscribe(-Post), which only a
# reader's own copy can carry (their token).
BASE_HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "List-Id", "MIME-Version",
                "Content-Type"]
PLACEHOLDER = "ARCHIVE-COPY-NOT-A-TOKEN"

# A list: several recipients, its own address, Reply-To and a mailto unsubscribe.
LIST_CONFIG = CONFIG.replace(
    "  - Reader One <one@example.org>\n",
    "  - Reader One <one@example.org>\n  - two@example.org\n  - Reader Three <three@example.org>\n",
).replace(
    "  url: https://example.org/u/{token}\n",
    "  url: https://example.org/u/{token}\n"
    "  mailto: mailto:leave+{token}@example.org?subject=unsubscribe\n",
) + ("list_address: Test readers <readers@example.org>\n"
     "reply_to: The Editors <editors@example.org>\n")


def build(project) -> bytes:
    result = project.cli("build")
    assert result.code == 0, result.err
    return (project.root / OUT / "message.eml").read_bytes()


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def header_block(data: bytes) -> bytes:
    return data.split(b"\n\n", 1)[0]


def unfolded(data: bytes) -> list[bytes]:
    """RFC 5322 unfolding: a line break followed by a space or tab is removed."""
    return re.sub(rb"\n(?=[ \t])", b"", header_block(data)).split(b"\n")


def test_single_recipient_headers_are_exact(project) -> None:
    msg = parse(build(project))
    assert list(msg.keys()) == BASE_HEADERS
    assert msg["From"] == "Test Briefing <news@example.org>"
    # No list address: To is the sender; never a reader (each copy's envelope is the reader)
    assert msg["To"] == "Test Briefing <news@example.org>"
    assert msg["Subject"] == "Test Briefing: A test issue"
    assert msg["Date"] == "Fri, 13 Feb 2026 00:00:00 +0000"  # the issue date, not the clock
    assert re.fullmatch(r"<2026-W07\.[0-9a-f]{16}@example\.org>", msg["Message-ID"])
    assert msg["List-Id"] == "Test Briefing <test-briefing.example.org>"
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "multipart/alternative"
    assert "Bcc" not in msg


def test_list_headers_are_exact(factory) -> None:
    data = build(factory(config=LIST_CONFIG))
    msg = parse(data)
    assert sorted(msg.keys()) == sorted(BASE_HEADERS + ["Reply-To"])
    assert len(msg.keys()) == len(BASE_HEADERS) + 1
    # Several recipients never see each other: To is the list's own address.
    assert msg["To"] == "Test readers <readers@example.org>"
    assert msg["Reply-To"] == "The Editors <editors@example.org>"
    assert "List-Unsubscribe" not in msg and "List-Unsubscribe-Post" not in msg
    for address in ("one@example.org", "two@example.org", "three@example.org"):
        assert address.encode() not in data
    # The footers carry the placeholder where each sent copy carries its reader's token.
    parts = list(msg.iter_parts())
    assert f"https://example.org/u/{PLACEHOLDER}".encode() in parts[0].get_payload(decode=True)
    assert f'href="https://example.org/u/{PLACEHOLDER}"'.encode() in \
        parts[1].get_payload(decode=True)


def test_many_recipients_without_list_address_use_the_sender_as_to(factory) -> None:
    config = LIST_CONFIG.replace("list_address: Test readers <readers@example.org>\n", "")
    msg = parse(build(factory(config=config)))
    assert msg["To"] == "Test Briefing <news@example.org>"


def test_parts_decode_to_the_files_byte_for_byte(factory) -> None:
    project = factory(config=LIST_CONFIG)
    msg = parse(build(project))
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    out = project.root / OUT
    assert parts[0].get_payload(decode=True) == (out / "digest.txt").read_bytes()
    assert parts[1].get_payload(decode=True) == (out / "email.html").read_bytes()


def test_non_ascii_name_and_title_are_encoded_and_decode_back(factory) -> None:
    config = CONFIG.replace("name: Test Briefing", 'name: "Zoë\'s Café, «Brief»"') + (
        "list_address: Ünal Çelik <list@example.org>\n")
    issue = ISSUE.replace("title: A test issue", "title: 繁花 and the 🎬 week")
    project = factory(config=config, issue=issue)
    data = build(project)
    assert data.isascii()  # 7-bit: any SMTP server takes it, no SMTPUTF8 needed
    msg = parse(data)
    assert msg["Subject"] == "Zoë's Café, «Brief»: 繁花 and the 🎬 week"
    assert msg["To"].addresses[0].display_name == "Ünal Çelik"
    assert msg["List-Id"].endswith(" <zo-s-caf-brief.example.org>")
    parts = list(msg.iter_parts())
    assert parts[1].get_payload(decode=True) == (project.root / OUT / "email.html").read_bytes()


def test_subject_template_from_config(factory) -> None:
    config = CONFIG + 'subject: "[{name}] {issue} ({date}): {title}"\n'
    msg = parse(build(factory(config=config)))
    assert msg["Subject"] == "[Test Briefing] 2026-W07 (2026-02-13): A test issue"


def test_message_is_identical_across_builds_and_folders(project, tmp_path: Path) -> None:
    first = build(project)
    second = build(project)
    assert first == second
    copy = tmp_path / "elsewhere"
    shutil.copytree(project.root, copy, ignore=shutil.ignore_patterns("out"))
    third = build(type(project)(copy))
    assert third == first
    message_id = parse(first)["Message-ID"]
    # Another issue of the same newsletter gets another id.
    other = make_project(tmp_path / "other", issue_id="2026-W08",
                         issue=ISSUE.replace("2026-02-13", "2026-02-20"))
    result = other.cli("build")
    assert result.code == 0, result.err
    other_id = parse((other.root / "out/2026-W08/message.eml").read_bytes())["Message-ID"]
    assert other_id != message_id and other_id.startswith("<2026-W08.")


def test_no_line_over_998_octets_and_body_lines_within_76(factory) -> None:
    # One long paragraph and one 2,000-character word that no wrapping can break.
    long_summary = "word " * 500 + "x" * 2000
    brief = ("items:\n  - headline: Long\n    summary: " + long_summary.strip() + "\n"
             "    sources:\n      - url: https://example.org/a\n        title: A\n"
             "        publisher: P\n")
    data = build(factory(config=LIST_CONFIG, briefs={"industry.yaml": brief}))
    lines = data.split(b"\n")
    assert max(len(line) for line in lines) <= 998
    body = data.split(b"\n\n", 1)[1]
    # RFC 2045 6.7: quoted-printable lines are at most 76 characters.
    assert max(len(line) for line in body.split(b"\n")) <= 76
    assert b"\r" not in data


def test_placeholder_is_never_split_across_quoted_printable_lines(factory) -> None:
    """A sent copy replaces it in the encoded bytes: every occurrence is whole on one line,
    wherever the footer's long lines fall."""
    for pad in range(0, 80, 7):  # move the URL along the 76-character lines
        config = CONFIG.replace("url: https://example.org/u/{token}",
                                f"url: https://example.org/{'p' * pad}/u/{{token}}")
        project = factory(config=config)
        data = build(project)
        body = data.split(b"\n\n", 1)[1]
        texts = ((project.root / OUT / "digest.txt").read_text()
                 + (project.root / OUT / "email.html").read_text())
        assert body.count(PLACEHOLDER.encode()) == texts.count(PLACEHOLDER) == 2
        assert max(len(line) for line in body.split(b"\n")) <= 76


def _case(kind: str, old: str, new: str) -> dict:
    if kind == "config":
        assert old in CONFIG
        return {"config": CONFIG.replace(old, new, 1)}
    assert old in ISSUE
    return {"issue": ISSUE.replace(old, new, 1)}


NAME = "name: Test Briefing"
SENDER = "sender: Test Briefing <news@example.org>"
RECIPIENT = "  - Reader One <one@example.org>"
UNSUBSCRIBE = "url: https://example.org/u/{token}"
TITLE = "title: A test issue"

# Everything that ends up in a header, with CR, LF or an encoded newline: refused by check.
INJECTIONS = [
    ("name-lf", "config", NAME, r'name: "Test\nBriefing"',
     "briefing.yaml:1:7: error: 'name' must not contain a line break"),
    ("name-cr", "config", NAME, r'name: "Test\rBcc: evil@example.net"',
     "briefing.yaml:1:7: error: 'name' must not contain a carriage return"),
    ("name-crlf", "config", NAME, r'name: "Test\r\nBcc: evil@example.net"',
     "briefing.yaml:1:7: error: 'name' must not contain a carriage return"),
    ("name-encoded-newline", "config", NAME, 'name: "Test =?UTF-8?Q?=0A?=Bcc: evil@example.net"',
     "briefing.yaml:1:7: error: 'name' must not contain an encoded word ('=?UTF-8?Q?=0A?=') "
     "(write the characters themselves)"),
    ("sender-lf", "config", SENDER, r'sender: "Test <news@example.org>\nBcc: evil@example.net"',
     "briefing.yaml:4:9: error: 'sender' must not contain a line break"),
    ("sender-encoded-crlf", "config", SENDER, 'sender: "=?utf-8?q?=0D=0A?= <news@example.org>"',
     "briefing.yaml:4:9: error: 'sender' must not contain an encoded word ('=?utf-8?q?=0D=0A?=') "
     "(write the characters themselves)"),
    ("recipient-lf", "config", RECIPIENT, r'  - "one@example.org\nBcc: evil@example.net"',
     "briefing.yaml:6:5: error: 'recipients'[1] must not contain a line break"),
    ("reply-to-encoded-newline", "config", "address:",
     'reply_to: "=?UTF-8?B?Cg==?= <r@example.org>"\naddress:',
     "briefing.yaml:10:11: error: 'reply_to' must not contain an encoded word "
     "('=?UTF-8?B?Cg==?=') (write the characters themselves)"),
    ("list-address-cr", "config", "address:",
     r'list_address: "Readers\r <readers@example.org>"' + "\naddress:",
     "briefing.yaml:10:15: error: 'list_address' must not contain a carriage return"),
    ("unsubscribe-url-encoded-newline", "config", UNSUBSCRIBE,
     "url: https://example.org/u=?UTF-8?Q?=0A?=",
     "briefing.yaml:8:8: error: 'url' must not contain an encoded word ('=?UTF-8?Q?=0A?=') "
     "(write the characters themselves)"),
    ("unsubscribe-mailto-lf", "config", UNSUBSCRIBE,
     UNSUBSCRIBE + r'''
  mailto: "mailto:u@example.org\nBcc: evil@example.net"''',
     "briefing.yaml:9:11: error: 'mailto' must not contain a line break"),
    ("subject-template-lf", "config", "address:", r'subject: "{name}\n{title}"' + "\naddress:",
     "briefing.yaml:10:10: error: 'subject' must not contain a line break"),
    ("title-lf", "issue", TITLE, r'title: "A test\nBcc: evil@example.net"',
     "briefs/2026-W07/issue.yaml:1:8: error: 'title' must not contain a line break"),
    ("title-cr", "issue", TITLE, r'title: "A test\rissue"',
     "briefs/2026-W07/issue.yaml:1:8: error: 'title' must not contain a carriage return"),
    ("title-encoded-newline", "issue", TITLE, 'title: "A =?UTF-8?Q?=0A?= test"',
     "briefs/2026-W07/issue.yaml:1:8: error: 'title' must not contain an encoded word "
     "('=?UTF-8?Q?=0A?=') (write the characters themselves)"),
]

# Malformed addresses and list-header URLs: refused, never guessed.
MALFORMED = [
    ("recipient-words", "config", RECIPIENT, "  - one at example.org",
     "briefing.yaml:6:5: error: 'recipients'[1] is not a valid address ('one at example.org') "
     "(write it as Name <user@example.org>)"),
    ("recipient-unclosed", "config", RECIPIENT, "  - Reader One <one@example.org",
     "briefing.yaml:6:5: error: 'recipients'[1] is not a valid address "
     "('Reader One <one@example.org') (write it as Name <user@example.org>)"),
    ("recipient-two-in-one", "config", RECIPIENT, "  - one@example.org, two@example.org",
     "briefing.yaml:6:5: error: 'recipients'[1] is not a valid address "
     "('one@example.org, two@example.org') (write it as Name <user@example.org>)"),
    ("recipient-no-dot", "config", RECIPIENT, "  - one@localhost",
     "briefing.yaml:6:5: error: 'recipients'[1] is not a valid address ('one@localhost') "
     "(write it as Name <user@example.org>)"),
    ("recipient-name-without-brackets", "config", RECIPIENT, "  - Reader One one@example.org",
     "briefing.yaml:6:5: error: 'recipients'[1] is not a valid address "
     "('Reader One one@example.org') (write it as Name <user@example.org>)"),
    ("sender-no-domain", "config", SENDER, "sender: news@",
     "briefing.yaml:4:9: error: 'sender' is not a valid address ('news@') "
     "(write it as Name <user@example.org>)"),
    ("mailto-with-name", "config", UNSUBSCRIBE,
     UNSUBSCRIBE + '\n  mailto: "mailto:Evil <x@example.org>"',
     "briefing.yaml:9:11: error: 'mailto' is not a valid mailto: URL "
     "('mailto:Evil <x@example.org>') (write it as mailto:user@example.org, "
     "percent-encoding spaces as %20)"),
    ("unsubscribe-http", "config", UNSUBSCRIBE, "url: http://example.org/u/{token}",
     "briefing.yaml:8:8: error: 'url' must be an https URL (RFC 8058 one-click unsubscribe) "
     "(write the https:// address)"),
    ("unsubscribe-too-long", "config", UNSUBSCRIBE,
     "url: https://example.org/" + "u" * 900 + "/{token}",
     "briefing.yaml:8:8: error: 'url' is 928 characters; the limit is 900"),
    # RFC 8058 3.1: the one-click URI identifies the recipient; a shared URL removes nobody.
    ("unsubscribe-no-token", "config", UNSUBSCRIBE, "url: https://example.org/unsubscribe",
     "briefing.yaml:8:8: error: 'url' has no {token}: a one-click link must say who is "
     "unsubscribing (RFC 8058 3.1) (write it like https://example.org/u/{token}; 'briefing "
     "subscribers serve' answers such links)"),
    ("unsubscribe-other-placeholder", "config", UNSUBSCRIBE,
     "url: https://example.org/u/{recipient}",
     "briefing.yaml:8:8: error: 'url' has '{recipient}', which briefing does not fill in (the "
     "only placeholder is {token}, e.g. https://example.org/u/{token})"),
    ("unsubscribe-token-and-another", "config", UNSUBSCRIBE,
     "url: https://example.org/u/{token}?list={list}",
     "briefing.yaml:8:8: error: 'url' has '{list}', which briefing does not fill in (the only "
     "placeholder is {token}, e.g. https://example.org/u/{token})"),
    ("mailto-other-placeholder", "config", UNSUBSCRIBE,
     UNSUBSCRIBE + "\n  mailto: mailto:leave+{email}@example.org",
     "briefing.yaml:9:11: error: 'mailto' has '{email}', which briefing does not fill in (the "
     "only placeholder is {token}, e.g. mailto:unsubscribe+{token}@example.org)"),
]


@pytest.mark.parametrize("kind, old, new, expected",
                         [c[1:] for c in INJECTIONS + MALFORMED],
                         ids=[c[0] for c in INJECTIONS + MALFORMED])
def test_header_values_refused_by_check_and_build(factory, kind, old, new, expected) -> None:
    project = factory(**_case(kind, old, new))
    for command in ("check", "build"):
        result = project.cli(command)
        assert (result.code, result.err.strip()) == (1, expected + "\n1 error"), command
        assert "Traceback" not in result.err
    assert not (project.root / OUT / "message.eml").exists()


def test_subject_that_forms_an_encoded_word_is_refused(factory) -> None:
    # Each part passes on its own; "{name}{title}" joins them into '=?UTF-8?Q?=0A...?='.
    config = CONFIG.replace(NAME, 'name: "=?UTF-8?Q?"') + 'subject: "{name}{title}"\n'
    issue = ISSUE.replace(TITLE, 'title: "=0ABcc:_evil@example.net?="')
    project = factory(config=config, issue=issue)
    result = project.cli("check")
    assert result.code == 1
    assert result.err.strip() == (
        "briefing.yaml: error: the subject '=?UTF-8?Q?=0ABcc:_evil@example.net?=' contains an "
        "encoded word ('=?UTF-8?Q?=0ABcc:_evil@example.net?=') once its placeholders are filled "
        "in (write the characters themselves)\n1 error")
    assert "Traceback" not in result.err


@pytest.mark.skipif(shutil.which("msmtp") is None,
                    reason="needs msmtp (installed by .ci/run)")
def test_msmtp_sends_message_eml_as_it_is(factory, tmp_path: Path) -> None:
    """`msmtp -t < out/<ISSUE>/message.eml` delivers it to the To address, unchanged."""
    project = factory(config=LIST_CONFIG)
    data = build(project)
    with Server() as server:
        rc = tmp_path / "msmtprc"
        rc.write_text(f"defaults\nauth off\ntls off\nlogfile\n\naccount default\nhost {HOST}\n"
                      f"port {server.port}\nfrom news@example.org\n")
        rc.chmod(0o600)
        proc = subprocess.run(["msmtp", f"--file={rc}", "-t"], input=data, capture_output=True,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
    assert len(server.received) == 1
    got = server.received[0]
    assert got.rcpt_tos == ["readers@example.org"]  # To: the list's address, nobody else
    assert got.data.replace(b"\r\n", b"\n") == data
