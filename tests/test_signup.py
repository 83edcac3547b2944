"""Readers join: the sign-up form and its confirmation on the real endpoint (waitress), the mail
through a real SMTP server (aiosmtpd), sync applying it, the next send reaching the reader, and
the consent record shown by `subscribers show`. A GET never confirms; a pending reader never
gets an issue; a reader who left and confirms again is back; nothing public or unprotected
ever holds the address."""

from __future__ import annotations

import json
import re
import stat
from email import message_from_bytes
from email.policy import default as default_policy

from endpoint_helpers import add_issue, request
from signup_helpers import (
    CONSENT,
    EVENTS,
    WORDING,
    confirm,
    confirmation_path,
    events,
    mails_to,
    sign_up,
    signup_endpoint,
    signup_project,
    wait_for,
)
from smtp_server import Server


def h1(answer) -> str:
    found = re.search(r"<h1>(.*?)</h1>", answer.text)
    assert found, answer.text
    return found.group(1)


def send_issue(project, server: Server, *args: str):
    result = project.cli("send", *args, "--no-dry-run", "--smtp", server.url, "--insecure",
                         timeout=120)
    assert result.code == 0, result.out + result.err
    return result


def recipients(server: Server) -> list[str]:
    return sorted(r for m in server.received for r in m.rcpt_tos)


def test_sign_up_confirm_sync_and_the_next_send_reaches_the_reader(factory) -> None:
    project, port = signup_project(factory)
    with Server() as mail, signup_endpoint(project, port, mail) as served:
        base = f"http://127.0.0.1:{port}"
        assert served.banner[3] == (f"sign-up: {base}/s and {base}/c/<token>, confirmation "
                                    f"mail via {mail.url} (at most 100 an hour)")
        form = request(port, "GET", "/s")
        assert (form.status, h1(form)) == (200, "Subscribe to Test Briefing")
        assert f'name="consent" value="{CONSENT}"' in form.text
        assert f"<p class=\"muted\">{WORDING}</p>" in form.text

        answer = sign_up(port, "New.Reader@example.org", name="Nell Reader")
        assert (answer.status, h1(answer)) == (200, "Check your inbox")
        wait_for(lambda: mails_to(mail, "New.Reader@example.org"), "the confirmation mail")
        (data,) = mails_to(mail, "New.Reader@example.org")
        assert mail.received[0].mail_from == "news@example.org"
        message = message_from_bytes(data, policy=default_policy)
        assert message["From"] == "Test Briefing <news@example.org>"
        assert message["Subject"] == "Confirm your subscription to Test Briefing"
        assert message["Auto-Submitted"] == "auto-generated"
        assert b"Nell" not in data  # what the visitor typed never reaches the mailbox
        path = confirmation_path(data)
        assert re.fullmatch(r"/c/[A-Za-z0-9_-]{150,}", path)

        # A mail scanner or the reader's browser opens the link: a button, nothing recorded.
        shown = request(port, "GET", path)
        assert (shown.status, h1(shown)) == (200, "Confirm your subscription")
        assert '<form method="post">' in shown.text
        assert request(port, "HEAD", path).body == b""
        assert [e["kind"] for e in events(project)] == ["signup"]

        # Synced while pending: the reader is not on the list and gets nothing.
        synced = project.cli("subscribers", "sync")
        assert synced.out == (f"synced events {EVENTS}: 1 new event (1 sign-up waiting for "
                              "confirmation)\nsync: no reader changed\n"), synced.err
        with Server() as issue_mail:
            send_issue(project, issue_mail)
            assert recipients(issue_mail) == ["one@example.org", "two@example.org"]

        done = confirm(port, path)
        assert (done.status, h1(done)) == (200, "You are subscribed")
        assert confirm(port, path).status == 200  # twice: recorded once
        assert [e["kind"] for e in events(project)] == ["signup", "confirm"]

    signed_up, confirmed = (e["time"] for e in events(project))
    synced = project.cli("subscribers", "sync")
    assert synced.out == (
        f"subscribed New.Reader@example.org (confirmed sign-up at {confirmed})\n"
        f"synced events {EVENTS}: 1 new event (1 subscribed); 1 seen before\n"
        "sync: 1 subscribed\n"), synced.err

    # The next issue reaches them; and so does the latest one, sent again (send skips every
    # reader who has it: docs/signup.md).
    add_issue(project, "2026-W08", "2026-02-20")
    assert project.cli("build", "2026-W08").code == 0
    with Server() as mail:
        send_issue(project, mail, "2026-W08")
        assert recipients(mail) == ["New.Reader@example.org", "one@example.org",
                                    "two@example.org"]
    with Server() as mail:
        send_issue(project, mail, "2026-W07")
        assert recipients(mail) == ["New.Reader@example.org"]

    shown = project.cli("subscribers", "show", "new.reader@example.org")
    assert shown.code == 0, shown.err
    sent = re.findall(r"(2026-W0[78])  accepted (\S+)  (<[^>]+>)", shown.out)
    assert [issue for issue, _, _ in sent] == ["2026-W08", "2026-W07"], shown.out
    assert shown.out == (
        "New.Reader@example.org\n"
        "  name:        Nell Reader\n"
        f"  status:      active since {confirmed} (confirmed sign-up at {confirmed})\n"
        f"  added:       {confirmed}\n"
        "  themes:      every theme (never chose: themes added later too)\n"
        "consent\n"
        "  source:      the sign-up form, confirmed by the reader (double opt-in)\n"
        f"  signed up:   {signed_up} on https://example.org/archive/2026-W07/\n"
        f"  confirmed:   {confirmed}\n"
        f"  agreed to:   \"{WORDING}\" (sha256 {CONSENT})\n"
        "  IP address:  not recorded\n"
        "status history (1)\n"
        f"  {confirmed}  active       confirmed sign-up at {confirmed}\n"
        "issues sent (2)\n"
        + "".join(f"  {issue}  accepted {at}  {message_id}\n" for issue, at, message_id in sent)
        + "what came back (0)\n"
        "sign-ups waiting for confirmation (0)\n")
    record = json.loads(project.cli("subscribers", "show", "new.reader@example.org",
                                    "--format", "json").out)
    assert record["consent"] == {
        "source": "signup", "signed_up_at": signed_up, "confirmed_at": confirmed,
        "page": "https://example.org/archive/2026-W07/", "wording_hash": CONSENT,
        "wording": WORDING, "ip_hash": "", "themes": []}
    assert record["themes"] is None  # the form offered no themes: every theme
    assert [d["issue"] for d in record["deliveries"]] == ["2026-W08", "2026-W07"]

    # Private stays private: the events file and the key are the owner's alone, and neither
    # the events file nor anything under out/ holds the address.
    for private in (EVENTS, ".briefing/token.key", ".briefing/endpoint.key"):
        assert stat.S_IMODE((project.root / private).stat().st_mode) == 0o600, private
    assert "new.reader" not in (project.root / EVENTS).read_text().lower()
    for path in (project.root / "out").rglob("*"):
        if path.is_file():
            assert b"new.reader" not in path.read_bytes().lower(), path


def test_a_reader_who_left_and_confirms_again_is_back_but_an_import_never_brings_them(
        factory, tmp_path) -> None:
    project, port = signup_project(factory, readers=("two@example.org", "left@example.org"))
    assert project.cli("subscribers", "remove", "left@example.org").code == 0
    export = tmp_path / "back.csv"
    export.write_text("email,name,attributes\nleft@example.org,Left,{}\n")  # listmonk layout
    imported = project.cli("subscribers", "import", str(export))
    assert "0 added, 0 updated, 0 unchanged, 1 suppressed" in imported.out, imported.out

    with Server() as mail, signup_endpoint(project, port, mail):
        assert sign_up(port, "left@example.org").status == 200
        wait_for(lambda: mails_to(mail, "left@example.org"), "the confirmation mail")
        assert confirm(port, confirmation_path(mails_to(mail, "left@example.org")[0])
                       ).status == 200
    confirmed = events(project)[-1]["time"]
    synced = project.cli("subscribers", "sync")
    assert synced.out.splitlines()[0] == (
        f"subscribed left@example.org again (confirmed sign-up at {confirmed}; was "
        f"unsubscribed on {confirmed[:10]} (removed by the editor))")
    listed = project.cli("subscribers", "list", "--status", "active").out
    assert "left@example.org" in listed
    history = json.loads(project.cli("subscribers", "show", "left@example.org", "--format",
                                     "json").out)["history"]
    assert [h["status"] for h in history] == ["active", "unsubscribed", "active"]


def test_a_confirmation_link_that_is_changed_or_expired_confirms_nothing(factory) -> None:
    from briefing.subscribers.signup import Joiner, editor_keys, make_token
    project, port = signup_project(factory)
    with Server() as mail, signup_endpoint(project, port, mail):
        assert sign_up(port, "late@example.org").status == 200
        wait_for(lambda: mails_to(mail, "late@example.org"), "the confirmation mail")
        good = confirmation_path(mails_to(mail, "late@example.org")[0])
        token = good.removeprefix("/c/")
        changed = token[:-1] + ("A" if token[-1] != "A" else "B")
        keys = editor_keys((project.root / ".briefing/token.key").read_text().strip().encode())
        expired = make_token(keys, Joiner("late@example.org", "", ()), 1_700_000_000,
                             1_700_600_000, "00" * 12)
        other_key = make_token(editor_keys(b"another project's key, not ours"),
                               Joiner("late@example.org", "", ()), 1_700_000_000,
                               4_000_000_000, "00" * 12)
        cases = [  # (path, status, page title)
            (f"/c/{changed}", 400, "This link does not work"),
            (f"/c/{token[:40]}", 400, "This link does not work"),
            (f"/c/{other_key}", 400, "This link does not work"),
            ("/c/", 400, "This link does not work"),
            ("/c/%3Cscript%3E", 400, "This link does not work"),
            (f"/c/{expired}", 410, "This link has expired"),
        ]
        for path, status, title in cases:
            for method in ("GET", "POST"):
                answer = request(port, method, path, b"confirm=yes" if method == "POST" else None)
                assert (answer.status, h1(answer)) == (status, title), (method, path)
        assert "sign up again" in request(port, "GET", f"/c/{expired}").text
        assert [e["kind"] for e in events(project)] == ["signup"]
    assert project.cli("subscribers", "sync").out.endswith("sync: no reader changed\n")
    assert "late@example.org" not in project.cli("subscribers", "list").out


def test_the_longest_name_still_makes_a_link_that_works(factory) -> None:
    project, port = signup_project(factory)
    with Server() as mail, signup_endpoint(project, port, mail):
        name = "\N{SLIGHTLY SMILING FACE}" * 100  # 100 characters of 4 bytes each
        long_address = "a" * 64 + "@" + ".".join(["b" * 60, "c" * 60, "d" * 60, "org"])
        assert len(long_address) == 251
        assert sign_up(port, long_address, name=name).status == 200
        wait_for(lambda: mails_to(mail, long_address), "the confirmation mail")
        data = mails_to(mail, long_address)[0]
        assert b"Content-Transfer-Encoding: quoted-printable" in data  # a link of 1,000+
        assert max(len(line) for line in data.split(b"\r\n")) <= 998  # RFC 5322 2.1.1
        path = confirmation_path(data)
        assert (request(port, "GET", path).status, confirm(port, path).status) == (200, 200)
    assert project.cli("subscribers", "sync").code == 0
    assert f"  name:        {name}\n" in project.cli("subscribers", "show", long_address).out


def test_an_endpoint_on_its_own_host_needs_only_briefing_yaml_and_the_endpoint_key(
        factory, tmp_path) -> None:
    """The web host has briefing.yaml (for signup:, the sender and smtp:) and the endpoint key
    copied from the editor's project: no store, no token key. It mails the link and records the
    confirmation; only the editor's machine can read whom it names."""
    import shutil

    from conftest import ProjectFactory
    project, port = signup_project(factory)
    host = ProjectFactory(tmp_path / "web-host")
    (host.root / ".briefing").mkdir(parents=True, mode=0o700)
    shutil.copy(project.root / "briefing.yaml", host.root)
    shutil.copy(project.root / ".briefing" / "endpoint.key", host.root / ".briefing")
    with Server() as mail, signup_endpoint(host, port, mail):
        assert sign_up(port, "remote@example.org", name="Rémy").status == 200
        wait_for(lambda: mails_to(mail, "remote@example.org"), "the confirmation mail")
        assert confirm(port, confirmation_path(mails_to(mail, "remote@example.org")[0])
                       ).status == 200
    assert sorted(p.name for p in host.root.rglob("*")) == [
        ".briefing", "briefing.yaml", "endpoint.key", "events.jsonl"]
    held = (host.root / EVENTS).read_bytes()
    assert b"remote" not in held and "Rémy".encode() not in held
    synced = project.cli("subscribers", "sync", "--events", str(host.root / EVENTS))
    assert synced.out.startswith("subscribed remote@example.org (confirmed sign-up at "), \
        synced.out + synced.err
    assert "  name:        Rémy\n" in project.cli("subscribers", "show",
                                                  "remote@example.org").out


def test_with_a_verp_bounce_address_a_confirmation_bounces_under_no_readers_name(
        factory) -> None:
    """bounce_address: bounces+{token}@...: a confirmation is for no reader yet, so its
    envelope sender names none (sync reports its bounce as proving nothing)."""
    project, port = signup_project(factory,
                                   extra="bounce_address: bounces+{token}@example.org\n")
    with Server() as mail, signup_endpoint(project, port, mail):
        assert sign_up(port, "verp@example.org").status == 200
        wait_for(lambda: mails_to(mail, "verp@example.org"), "the confirmation mail")
    assert [m.mail_from for m in mail.received] == ["bounces+confirm@example.org"]
