"""Each reader's own copy, through the real CLI and a real SMTP server (aiosmtpd): their token
in the footers and in List-Unsubscribe (RFC 8058), their own Message-ID and Date, everything
else the built message byte for byte; suppressed addresses never mailed; nothing personal in
out/."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import email.utils
import hashlib
import hmac
import re
import sqlite3

from conftest import CONFIG, ISSUE, make_project
from smtp_server import Server

OUT = "out/2026-W07"
PLACEHOLDER = b"ARCHIVE-COPY-NOT-A-TOKEN"
CHANGED = {"date", "message-id", "list-unsubscribe", "list-unsubscribe-post"}
LIST = CONFIG.replace(
    "  - Reader One <one@example.org>\n",
    "  - Reader One <one@example.org>\n  - two@example.org\n",
).replace("  url: https://example.org/u/{token}\n",
          "  url: https://example.org/u/{token}\n"
          "  mailto: mailto:leave+{token}@example.org\n",
          ) + "list_address: Test readers <readers@example.org>\n"


def token_for(project, address: str, label: str = "test-briefing.example.org") -> str:
    """The token as docs/subscribers.md defines it, computed here independently of briefing's
    code: 12 bytes of HMAC-SHA256(key, 'briefing-unsubscribe' NUL list-identity NUL address),
    then 6 bytes of HMAC-SHA256(check-key, those 12), check-key = HMAC-SHA256(key,
    'briefing-endpoint-check'); base64url."""
    key = (project.root / ".briefing" / "token.key").read_text().strip().encode()
    reader = hmac.new(key, b"briefing-unsubscribe\0" + label.encode() + b"\0"
                      + address.lower().encode(), hashlib.sha256).digest()[:12]
    check = hmac.new(key, b"briefing-endpoint-check", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(
        reader + hmac.new(check, reader, hashlib.sha256).digest()[:6]).decode()


def fields(head: bytes) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            out[-1] = (out[-1][0], out[-1][1] + b"\n" + line)
        else:
            out.append((line.split(b":", 1)[0].decode().lower(), line))
    return out


def assert_personal_copy(project, wire: bytes, address: str) -> str:
    """The copy a reader got is the built message but for their token and their own headers;
    returns the token."""
    data = wire.replace(b"\r\n", b"\n")
    built = (project.root / OUT / "message.eml").read_bytes()
    token = token_for(project, address)
    head, _, body = data.partition(b"\n\n")
    built_head, _, built_body = built.partition(b"\n\n")
    assert body == built_body.replace(PLACEHOLDER, token.encode())
    assert [f for f in fields(head) if f[0] not in CHANGED] == \
        [f for f in fields(built_head) if f[0] not in CHANGED]
    msg = email.message_from_bytes(data, policy=email.policy.default)
    unsubscribe = f"<https://example.org/u/{token}>"
    if b"mailto:" in head:
        unsubscribe += f", <mailto:leave+{token}@example.org>"
    assert msg["List-Unsubscribe"] == unsubscribe
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<2026-W07\.[0-9a-f]{16}\.[0-9a-f]{16}@example\.org>",
                        msg["Message-ID"])
    sent = email.utils.parsedate_to_datetime(msg["Date"])
    assert abs(dt.datetime.now(dt.UTC) - sent) < dt.timedelta(minutes=10)  # now, not the issue
    assert max(len(line) for line in body.split(b"\n")) <= 76  # RFC 2045 6.7 still holds
    return token


def sent_to(project, server: Server, *args: str):
    return project.cli("send", "--smtp", server.url, "--insecure", "--no-dry-run", *args,
                       env={"BRIEFING_RETRY_DELAY": "0.01"}, timeout=120)


def test_two_readers_copies_differ_only_where_they_must(factory) -> None:
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    assert project.cli("subscribers", "add", "Ana <ana@example.net>").code == 0
    with Server() as server:
        result = sent_to(project, server)
        assert result.code == 0, result.err
    copies = {m.rcpt_tos[0]: m.data for m in server.received}
    assert sorted(copies) == ["ana@example.net", "one@example.org", "two@example.org"]
    tokens = {a: assert_personal_copy(project, data, a) for a, data in copies.items()}
    assert len(set(tokens.values())) == 3
    one, two = (copies[a].replace(b"\r\n", b"\n").partition(b"\n\n") for a in
                ("one@example.org", "two@example.org"))
    head_diffs = {a.split(b":")[0] for a, b in zip(fields(one[0]), fields(two[0]), strict=True)
                  if a != b for a in (a[1],)}
    assert head_diffs == {b"Date", b"Message-ID", b"List-Unsubscribe"} or head_diffs == {
        b"Message-ID", b"List-Unsubscribe"}  # two copies may share a second
    token_one, token_two = tokens["one@example.org"].encode(), tokens["two@example.org"].encode()
    assert one[2] != two[2] and one[2].replace(token_one, token_two) == two[2]


def test_nothing_under_out_names_a_reader_or_their_token(factory) -> None:
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    readers = ["ana@example.net", "bo@example.net", "cy@example.net"]
    for address in readers:
        assert project.cli("subscribers", "add", address).code == 0
    with Server() as server:
        assert sent_to(project, server).code == 0
    assert project.cli("archive").code == 0
    everyone = readers + ["one@example.org", "two@example.org"]
    secrets = [a.encode() for a in everyone] + [token_for(project, a).encode() for a in everyone]
    files = [p for p in (project.root / "out").rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret not in data, (path, secret)
    assert not list((project.root / "out").rglob("sent.jsonl"))
    assert (project.root / ".briefing" / "state.sqlite3").stat().st_mode & 0o777 == 0o600
    assert (project.root / ".briefing" / "token.key").stat().st_mode & 0o777 == 0o600
    assert (project.root / ".briefing").stat().st_mode & 0o777 == 0o700


def test_store_readers_and_config_recipients_once_each(factory) -> None:
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    assert project.cli("subscribers", "add", "TWO@example.org").code == 0  # also in the yaml
    assert project.cli("subscribers", "add", "ana@example.net").code == 0
    with Server() as server:
        dry = project.cli("send", "--smtp", server.url, "--insecure")
        assert ("recipients: 3: TWO@example.org, ana@example.net, one@example.org "
                "(2 subscribers in .briefing/state.sqlite3, 1 from briefing.yaml)"
                ) in dry.out.splitlines(), dry.out
        assert sent_to(project, server).code == 0
    assert sorted(m.rcpt_tos[0].lower() for m in server.received) == [
        "ana@example.net", "one@example.org", "two@example.org"]


def test_suppressed_addresses_are_never_mailed(factory) -> None:
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    assert project.cli("subscribers", "add", "ana@example.net").code == 0
    assert project.cli("subscribers", "remove", "Ana@Example.net").code == 0
    assert project.cli("subscribers", "remove", "two@example.org").code == 0  # a yaml reader
    with Server() as server:
        dry = project.cli("send", "--smtp", server.url, "--insecure")
        assert ("recipients: 1: one@example.org (1 from briefing.yaml; 2 suppressed left out)"
                ) in dry.out.splitlines(), dry.out
        for extra in ((), ("--force",)):
            refused = project.cli("send", "--smtp", server.url, "--insecure", "--no-dry-run",
                                  "--to", "ana@example.net", "--to", "TWO@example.org", *extra)
            assert refused.code == 1
            today = dt.datetime.now(dt.UTC).date().isoformat()
            assert refused.err == (
                f"--to: error: ana@example.net is unsubscribed on {today} (removed by the "
                "editor): briefing never mails a suppressed address, not with --to or --force "
                "(if they asked to come back: briefing subscribers add ana@example.net "
                "--resubscribe)\n"
                f"--to: error: TWO@example.org is unsubscribed on {today} (removed by the "
                "editor): briefing never mails a suppressed address, not with --to or --force "
                "(if they asked to come back: briefing subscribers add TWO@example.org "
                "--resubscribe)\n"
                "2 errors in 1 file\n")
        assert sent_to(project, server, "--force").code == 0
    assert [m.rcpt_tos for m in server.received] == [["one@example.org"]]


def test_long_list_unsubscribe_stays_literal_in_every_copy(factory) -> None:
    url = "https://example.org/u/" + "t" * 550 + "/{token}"  # 600 with its token
    config = CONFIG.replace("url: https://example.org/u/{token}",
                            f"url: {url}\n  mailto: mailto:leave+{{token}}@example.org")
    project = factory(config=config)
    assert project.cli("build").code == 0
    with Server() as server:
        assert sent_to(project, server).code == 0
    data = server.received[0].data.replace(b"\r\n", b"\n")
    token = token_for(project, "one@example.org")
    literal = (f"List-Unsubscribe: <{url.replace('{token}', token)}>, "
               f"<mailto:leave+{token}@example.org>").encode()
    head = data.split(b"\n\n", 1)[0]
    assert literal in head.split(b"\n")  # one line, not folded, no encoded word
    assert b"=?" not in head
    assert max(len(line) for line in data.split(b"\n")) <= 998


def test_an_earlier_ledger_in_out_is_moved_into_the_store(factory) -> None:
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    digest = hashlib.sha256((project.root / OUT / "message.eml").read_bytes()).hexdigest()
    legacy = project.root / OUT / "sent.jsonl"
    legacy.write_text('{"recipient": "one@example.org", "message_id": "<x@example.org>", '
                      f'"sha256": "{digest}", "time": "2026-02-16T08:00:03+00:00", '
                      '"reply": "250 OK", "transport": "smtps://mail.example.org:465"}\n')
    frozen = project.cli("build")
    assert (frozen.code, frozen.err) == (1, (
        "out/2026-W07/sent.jsonl: error: issue 2026-W07 has been sent, so its outputs are "
        "frozen (rebuild anyway with 'briefing build 2026-W07 --force')\n"))
    with Server() as server:
        result = sent_to(project, server)
        assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        "moved out/2026-W07/sent.jsonl into .briefing/state.sqlite3 (1 delivery); out/ holds "
        "no addresses now")
    assert "skipped:    1: one@example.org: already got this issue (--force sends again)" \
        in result.out.splitlines()
    assert [m.rcpt_tos for m in server.received] == [["two@example.org"]]
    assert not legacy.exists()
    frozen = project.cli("build")
    assert (frozen.code, frozen.err) == (1, (
        ".briefing/state.sqlite3: error: issue 2026-W07 has been sent, so its outputs are "
        "frozen (rebuild anyway with 'briefing build 2026-W07 --force')\n"))


def test_a_key_from_the_environment_makes_the_same_tokens_anywhere(tmp_path) -> None:
    key = "k" * 64
    tokens = []
    for name in ("a", "b"):  # two machines, one key
        project = make_project(tmp_path / name, config=LIST)
        assert project.cli("build").code == 0
        with Server() as server:
            result = project.cli("send", "--smtp", server.url, "--insecure", "--no-dry-run",
                                 env={"BRIEFING_TOKEN_KEY": key})
            assert result.code == 0, result.err
        message = email.message_from_bytes(server.received[0].data,
                                           policy=email.policy.default)
        tokens.append(message["List-Unsubscribe"])
        assert not (project.root / ".briefing" / "token.key").exists()
    assert tokens[0] == tokens[1]


def test_issue_dates_and_readers_in_message_ids(factory) -> None:
    """A corrected resend gets new Message-IDs (not dropped as a duplicate); the same content to
    the same reader keeps its id."""
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    with Server() as server:
        assert sent_to(project, server, "--to", "me@example.net").code == 0
        assert sent_to(project, server, "--to", "me@example.net").code == 0
        project.write("briefs/2026-W07/issue.yaml", ISSUE.replace("A test issue", "Fixed"))
        assert project.cli("build").code == 0
        assert sent_to(project, server, "--to", "me@example.net").code == 0
    ids = [email.message_from_bytes(m.data, policy=email.policy.default)["Message-ID"]
           for m in server.received]
    assert ids[0] == ids[1] != ids[2]


def test_a_draft_is_sent_only_to_test_addresses(factory) -> None:
    project = factory(config=LIST, issue=ISSUE + "draft: true\n")
    assert project.cli("build").code == 0
    assert (project.root / ".briefing/drafts/2026-W07/message.eml").is_file()
    assert not (project.root / OUT).exists()
    with Server() as server:
        refused = sent_to(project, server)
        assert (refused.code, refused.err) == (1, (
            "briefs/2026-W07/issue.yaml: error: issue 2026-W07 is a draft: a draft is never "
            "sent to the list (test it with --to you@example.org; to publish it, remove "
            "'draft: true' and run 'briefing build 2026-W07')\n"))
        test = sent_to(project, server, "--to", "one@example.org")  # even a reader: a test
        assert test.code == 0, test.err
        assert ("message:    .briefing/drafts/2026-W07/message.eml"
                in test.out), test.out
        assert test.out.splitlines()[-1] == "sent 2026-W07 to 1 of 1 recipient"
    assert [m.rcpt_tos for m in server.received] == [["one@example.org"]]
    db = sqlite3.connect(project.root / ".briefing" / "state.sqlite3")
    assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0
    db.close()


def test_placeholders_left_stop_a_send_to_the_list(factory) -> None:
    from conftest import BRIEF
    brief = BRIEF.replace("First headline", "TODO a headline")
    project = factory(config=LIST, briefs={"industry.yaml": brief})
    assert project.cli("build").code == 0
    with Server() as server:
        refused = sent_to(project, server)
        assert refused.code == 1
        assert refused.err.splitlines() == [
            "briefs/2026-W07/industry.yaml:2:15: error: placeholder 'TODO' left in the "
            "headline [placeholder]",
            "briefs/2026-W07: error: placeholders are left in the issue: it is not sent to the "
            "list (replace them, rebuild, then send)",
            "2 errors in 2 files"]
        assert server.received == []
        test = sent_to(project, server, "--to", "me@example.net")
        assert test.code == 0, test.err


def test_a_token_key_that_is_too_short_or_readable_by_others_is_refused(factory) -> None:
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    short = project.cli("send", "--smtp", "smtp://127.0.0.1:9", "--insecure",
                        env={"BRIEFING_TOKEN_KEY": "short"})
    assert (short.code, short.err) == (1, (
        "$BRIEFING_TOKEN_KEY: error: is shorter than 32 characters (use 64 random hex digits, "
        "e.g. from 'openssl rand -hex 32')\n"))
    assert project.cli("send", "--smtp", "smtp://127.0.0.1:9", "--insecure").code == 0
    key = project.root / ".briefing" / "token.key"
    key.chmod(0o644)
    readable = project.cli("send", "--smtp", "smtp://127.0.0.1:9", "--insecure")
    assert (readable.code, readable.err) == (1, (
        ".briefing/token.key: error: can be read by others (mode 644) (chmod 600 "
        ".briefing/token.key)\n"))


def test_connections_out_of_range_is_a_usage_error(factory) -> None:
    project = factory(config=LIST)
    result = project.cli("send", "--smtp", "smtp://127.0.0.1:9", "--connections", "0")
    assert result.code == 2
    assert result.err.endswith("Error: Invalid value for '--connections': 0 is not in the "
                               "range 1<=x<=32.\n"), result.err


def test_a_list_unsubscribe_over_998_octets_with_its_tokens_is_refused(factory) -> None:
    """Each key was under its own cap of 900, but {token} grows by 17 characters wherever it
    stands, and the line as sent holds both: 1,075 octets were possible. Now each is counted
    with its tokens filled in, within caps that add up to at most 974 octets (RFC 5322 2.1.1:
    998)."""
    url = "https://example.org/u/{token}/{token}/{token}/" + "t" * 600
    mailto = "mailto:leave+{token}@example.org?subject=" + "s" * 350
    config = CONFIG.replace("url: https://example.org/u/{token}",
                            f"url: {url}\n  mailto: {mailto}")
    project = factory(config=config + "bounce_address: bounces+{name}@example.org\n")
    filled = [len(v.replace("{token}", "T" * 24)) for v in (url, mailto)]
    result = project.cli("check")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"briefing.yaml:8:8: error: 'url' is {filled[0]:,} characters with its tokens filled "
        "in; at most 600, so that the List-Unsubscribe line fits RFC 5322's 998 octets "
        "(shorten it)\n"
        f"briefing.yaml:9:11: error: 'mailto' is {filled[1]:,} characters with its tokens "
        "filled in; at most 350, so that the List-Unsubscribe line fits RFC 5322's 998 octets "
        "(shorten it)\n"
        "briefing.yaml:17:17: error: 'bounce_address' has '{name}', which briefing does not "
        "fill in (the only placeholder is {token}, e.g. bounces+{token}@example.org)\n"
        "3 errors in 1 file\n")
    fits = CONFIG.replace("url: https://example.org/u/{token}",
                          f"url: {url[:-120]}\n  mailto: {mailto[:-80]}")
    assert factory(config=fits).cli("check").code == 0
