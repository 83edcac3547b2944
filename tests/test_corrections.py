"""Corrections to a sent issue, through the real CLI: the issue is sent for real (aiosmtpd), then
accepts a correction and nothing else; the rebuilt page (Chromium), the feeds (feedparser),
archive.txt and search show it; the next issue lists it; `send --correction` reaches exactly
the readers who received the issue, each correction once (docs/record.md)."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
from pathlib import Path

import feedparser
import pytest

from conftest import BRIEF, CONFIG, ISSUE, ProjectFactory
from smtp_server import Server

OUT = "out/2026-W07"
LIST = CONFIG.replace(
    "  - Reader One <one@example.org>\n",
    "  - Reader One <one@example.org>\n  - two@example.org\n  - three@example.org\n",
) + "list_address: Test readers <readers@example.org>\n"
FAST = {"BRIEFING_RETRY_DELAY": "0.01"}
CORRECTION = """\
corrections:
  - date: 2026-02-20
    item: First headline
    text: The deal was signed on 12 February, not 10 February. See [the filing](https://example.org/filing).
    source:
      url: https://example.org/filing
      title: The filing
      publisher: Example Registry
"""
ANCHOR = "first-headline"


def send(project: ProjectFactory, server: Server, *args: str):
    return project.cli("send", "--smtp", server.url, "--insecure", *args, env=FAST,
                       timeout=120)


def mail_files(project: ProjectFactory) -> dict[str, bytes]:
    return {name: (project.root / OUT / name).read_bytes()
            for name in ("email.html", "digest.txt", "message.eml")}


@pytest.fixture
def sent(factory) -> ProjectFactory:
    """2026-W07 built and sent for real to two of the three readers (one and two)."""
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    with Server() as server:
        result = send(project, server, "--no-dry-run", "--to", "one@example.org",
                      "--to", "two@example.org")
        assert result.code == 0, result.err
        assert sorted(r for m in server.received for r in m.rcpt_tos) == [
            "one@example.org", "two@example.org"]
    return project


def test_a_sent_issue_refuses_a_change_to_its_items(sent) -> None:
    before = {p.name: p.read_bytes() for p in (sent.root / OUT).iterdir()}
    sent.write("briefs/2026-W07/industry.yaml", BRIEF.replace("It matters.", "It matters a lot."))
    hint = ("add a correction instead: 'corrections:' in briefs/2026-W07/issue.yaml "
            "(docs/record.md); to replace what was sent anyway: 'briefing build 2026-W07 "
            "--force'")
    error = ("briefs/2026-W07/industry.yaml:6:10: error: issue 2026-W07 has been sent, so this "
             "item cannot change (its why differs from what was sent: 'First headline') "
             f"({hint})")
    result = sent.cli("build")
    assert (result.code, result.out, result.err) == (1, "", error + "\n")
    assert {p.name: p.read_bytes() for p in (sent.root / OUT).iterdir()} == before
    checked = sent.cli("check")
    assert checked.code == 1
    assert checked.err.splitlines()[0] == error
    assert checked.err.splitlines()[-1] == "1 error"
    # The issue's own fields, and an item more, are refused the same way.
    sent.write("briefs/2026-W07/industry.yaml", BRIEF)
    sent.write("briefs/2026-W07/issue.yaml", ISSUE.replace("A test issue", "A better title"))
    result = sent.cli("build")
    assert result.err == ("briefs/2026-W07/issue.yaml: error: issue 2026-W07 has been sent, so "
                          f"its title cannot change (it was 'A test issue') ({hint})\n")
    sent.write("briefs/2026-W07/issue.yaml", ISSUE)
    sent.write("briefs/2026-W07/more.yaml", "theme: ethics\n" + BRIEF.replace(
        "First headline", "Third headline").replace("example.org/a", "example.org/c"))
    result = sent.cli("build")
    assert result.err == ("briefs/2026-W07: error: issue 2026-W07 has been sent with 2 items; "
                          "the briefs now have 3, or in other themes or another order "
                          f"({hint})\n")
    assert {p.name: p.read_bytes() for p in (sent.root / OUT).iterdir()} == before


def test_a_correction_is_the_one_change_a_sent_issue_accepts(sent, tmp_path: Path) -> None:
    mail = mail_files(sent)
    sent.write("briefs/2026-W07/issue.yaml", ISSUE + CORRECTION.replace(
        "item: First headline", "item: First headlin"))
    result = sent.cli("build")
    assert (result.code, result.err) == (1, (
        "briefs/2026-W07/issue.yaml:8:11: error: correction of 'First headlin': no item of "
        "this issue has that headline (did you mean 'First headline'?)\n1 error\n"))
    sent.write("briefs/2026-W07/issue.yaml", ISSUE + CORRECTION)
    assert sent.cli("check").code == 0
    result = sent.cli("build")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        "corrected 2026-W07 (2026-02-13): 1 correction; issue.json and its web page -> "
        "out/2026-W07/ (the email, digest and message stay as sent)")
    assert mail_files(sent) == mail  # what readers got is never rewritten
    data = json.loads((sent.root / OUT / "issue.json").read_text())
    assert data["corrections"] == [{
        "date": "2026-02-20", "item": "First headline",
        "text": "The deal was signed on 12 February, not 10 February. See "
                "[the filing](https://example.org/filing).",
        "text_plain": "The deal was signed on 12 February, not 10 February. See the filing.",
        "source": {"url": "https://example.org/filing", "title": "The filing",
                   "publisher": "Example Registry", "date": None}}]
    assert data["themes"][0]["items"][0]["summary"].startswith("A summary with")  # kept
    # Once published, building again is refused as before: nothing new to write.
    again = sent.cli("build")
    assert again.code == 1 and "its outputs are frozen" in again.err

    # The feeds: the entry is updated on the correction's date, published on the issue's.
    feed = feedparser.parse(str(sent.root / "out/feed.xml"))
    assert not feed.bozo
    entry = feed.entries[0]
    assert (entry.published, entry.updated) == ("2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z")
    assert feed.feed.updated == "2026-02-20T00:00:00Z"
    assert "Correction, " in entry.content[0].value and "12 February" in entry.content[0].value
    json_feed = json.loads((sent.root / "out/feed.json").read_text())
    assert json_feed["items"][0]["date_published"] == "2026-02-13T00:00:00Z"
    assert json_feed["items"][0]["date_modified"] == "2026-02-20T00:00:00Z"

    # archive.txt and the search.
    toc = (sent.root / "out/archive.txt").read_text()
    assert ("Corrections (1)\n"
            "  • Friday 20 February 2026, First headline: The deal was signed on 12\n"
            "    February, not 10 February. See the filing.\n") in toc
    found = sent.cli("archive", "search", "12 February")
    assert found.code == 0, found.err
    assert found.out.splitlines() == [
        "2026-W07 (2026-02-13) · Industry · First headline",
        "  [2] Article A (Example News) https://example.org/a",
        "  correction, 2026-02-20: The deal was signed on 12 February, not 10 February. See "
        "the filing.",
        "found 1 item in 1 issue matching '12 February'"]

    # The page, in Chromium: the note at the item, the line at the top, the text kept.
    from briefing.editorial.browser import Browser, find_chromium
    if find_chromium() is None:
        pytest.skip("needs Chromium")
    with Browser(offline=True, profile_parent=tmp_path) as browser:
        page = browser.new_page()
        page.open((sent.root / OUT / "index.html").as_uri())
        seen = page.evaluate(f"""(() => {{
            const item = document.getElementById({ANCHOR!r});
            const note = item.querySelector('.correction');
            const top = document.querySelector('.corrections-list');
            return {{note: note.innerText, top: top.innerText,
                     topLink: top.querySelector('a').getAttribute('href'),
                     summary: item.querySelector('p').innerText,
                     visible: note.getBoundingClientRect().height > 0}};
        }})()""")
    assert seen["note"] == ("Correction, Friday 20 February 2026: The deal was signed on 12 "
                            "February, not 10 February. See the filing. (The filing · Example "
                            "Registry)")
    assert seen["top"] == "Corrected: First headline (20\u00a0Feb\u00a02026)"
    assert seen["topLink"] == f"#{ANCHOR}" and seen["visible"]
    assert seen["summary"].startswith("A summary with emphasis")


def test_the_next_issue_lists_the_correction(sent) -> None:
    sent.write("briefs/2026-W07/issue.yaml", ISSUE + CORRECTION)
    assert sent.cli("build", "2026-W07").code == 0
    sent.write("briefs/2026-W09/issue.yaml", ISSUE.replace("2026-02-13", "2026-02-27"))
    sent.write("briefs/2026-W09/industry.yaml", BRIEF.replace("First headline", "Later news"))
    result = sent.cli("build", "2026-W09")
    assert result.code == 0, result.err
    link = f"https://example.org/archive/2026-W07/#{ANCHOR}"
    digest = (sent.root / "out/2026-W09/digest.txt").read_text()
    assert ("\n\nCorrections\n===========\n\n"
            "• First headline (2026-W07): The deal was signed on 12 February, not 10\n"
            "  February. See the filing.\n"
            f"  {link}\n") in digest
    html = (sent.root / "out/2026-W09/email.html").read_text()
    assert f'<a href="{link}"' in html and ">Corrections</p>" in html
    page = (sent.root / "out/2026-W09/index.html").read_text()
    assert f'<a href="../2026-W07/#{ANCHOR}">First headline</a>' in page
    # Announced once: an issue after the next one does not repeat it.
    sent.write("briefs/2026-W11/issue.yaml", ISSUE.replace("2026-02-13", "2026-03-13"))
    sent.write("briefs/2026-W11/industry.yaml", BRIEF.replace("First headline", "Even later"))
    assert sent.cli("build", "2026-W11").code == 0
    assert "Corrections" not in (sent.root / "out/2026-W11/digest.txt").read_text()
    # build --all gives the same bytes as the builds one by one.
    before = {p: p.read_bytes() for p in (sent.root / "out").rglob("*")
              if p.is_file() and "pagefind" not in p.parts}
    assert sent.cli("build", "--all").code == 0
    assert {p: p.read_bytes() for p in (sent.root / "out").rglob("*")
            if p.is_file() and "pagefind" not in p.parts} == before


def deliveries(project: ProjectFactory) -> list[tuple[str, str]]:
    db = sqlite3.connect(project.root / ".briefing/state.sqlite3")
    try:
        return db.execute("SELECT issue, address FROM deliveries WHERE state = 'accepted' "
                          "AND issue LIKE '2026-W07+%' ORDER BY issue, address").fetchall()
    finally:
        db.close()


def test_a_correction_notice_reaches_exactly_the_readers_of_the_issue_once(sent) -> None:
    from test_copies import token_for
    sent.write("briefs/2026-W07/issue.yaml", ISSUE + CORRECTION)
    with Server() as server:
        unbuilt = send(sent, server, "2026-W07", "--correction")
        assert (unbuilt.code, unbuilt.err) == (1, (
            "out/2026-W07/issue.json: error: does not have the corrections of "
            "briefs/2026-W07/issue.yaml yet (run 'briefing build 2026-W07' first)\n"))
        assert sent.cli("build", "2026-W07").code == 0
        dry = send(sent, server, "2026-W07", "--correction")
        assert dry.code == 0, dry.err
        assert dry.out.splitlines() == [
            "dry run: nothing is sent",
            "correction: 2026-W07 (2026-02-13), 1 correction",
            "readers:    2 readers received 2026-W07 (from the ledger); only they can get the "
            "notice",
            f"transport:  {server.url}, STARTTLS if offered, else plain text (--insecure), "
            "certificate not verified (--insecure), no AUTH (no smtp.user in briefing.yaml)",
            "notice:     1 correction: 'First headline' (2026-02-20)",
            "subject:    Correction: Test Briefing: A test issue",
            "recipients: 2: one@example.org, two@example.org (received 2026-W07 and not this "
            "correction yet)",
            "would send: 2 messages, each recorded once accepted; a 4xx reply is tried up to "
            "4 times in all",
            f"to send for real: briefing send 2026-W07 --correction --no-dry-run --smtp "
            f"{server.url} --insecure",
        ]
        # Through a command, "try later" is its exit status, as for an issue (sendmail.py).
        command = sent.cli("send", "2026-W07", "--correction", "--sendmail", "/bin/true")
        assert command.code == 0, command.err
        assert ("would send: 2 messages, each recorded once accepted; an exit status 75 or 69 "
                "(try again later) is tried up to 4 times in all") in command.out.splitlines()
        assert server.received == []
        real = send(sent, server, "2026-W07", "--correction", "--no-dry-run")
        assert real.code == 0, real.err
        assert real.out.splitlines()[-1] == (
            "sent the correction notice of 2026-W07 (1 correction) to 2 of 2 readers; ledger: "
            ".briefing/state.sqlite3 (2 have it, 0 bounced, 0 complained)")
        assert sorted(r for m in server.received for r in m.rcpt_tos) == [
            "one@example.org", "two@example.org"]
        for message in server.received:
            (address,) = message.rcpt_tos
            parsed = email.message_from_bytes(message.data, policy=email.policy.default)
            token = token_for(sent, address)
            assert parsed["Subject"] == "Correction: Test Briefing: A test issue"
            assert parsed["List-Unsubscribe"] == f"<https://example.org/u/{token}>"
            assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            text = " ".join(parsed.get_body(("plain",)).get_content().split())
            assert f"Unsubscribe: https://example.org/u/{token}" in text
            assert "The deal was signed on 12 February" in text
            assert f"https://example.org/archive/2026-W07/#{ANCHOR}" in text
            html = parsed.get_body(("html",)).get_content()
            assert f'href="https://example.org/u/{token}"' in html
        assert deliveries(sent) == [
            ("2026-W07+correction-2026-02-20-" + _key(), "one@example.org"),
            ("2026-W07+correction-2026-02-20-" + _key(), "two@example.org")]
        # Never twice.
        again = send(sent, server, "2026-W07", "--correction", "--no-dry-run")
        assert again.code == 0, again.err
        assert "skipped:    2: one@example.org, two@example.org: already got every correction " \
               "(--force sends again)" in again.out.splitlines()
        assert again.out.splitlines()[-1] == "nothing to send"
        assert len(server.received) == 2
        # A second correction goes, alone, to the readers still on the list.
        assert sent.cli("subscribers", "remove", "two@example.org").code == 0
        sent.write("briefs/2026-W07/issue.yaml", ISSUE + CORRECTION + """\
  - date: 2026-02-22
    item: Second headline
    text: It was Article B's second edition.
""")
        assert sent.cli("build", "2026-W07").code == 0
        third = send(sent, server, "2026-W07", "--correction", "--no-dry-run")
        assert third.code == 0, third.err
        assert "left out:   1: two@example.org: unsubscribed, bounced or complained since" \
            in third.out.splitlines()
        assert [m.rcpt_tos for m in server.received[2:]] == [["one@example.org"]]
        latest = email.message_from_bytes(server.received[2].data, policy=email.policy.default)
        text = " ".join(latest.get_body(("plain",)).get_content().split())
        assert "Second headline" in text and "First headline" not in text


def _key() -> str:
    import hashlib
    return hashlib.sha256(b"2026-02-20\0First headline").hexdigest()[:10]


def test_a_correction_send_needs_corrections_and_readers(factory) -> None:
    project = factory(config=LIST)
    assert project.cli("build").code == 0
    result = project.cli("send", "--correction", "--smtp", "smtp://127.0.0.1:9")
    assert (result.code, result.err) == (1, (
        "briefs/2026-W07/issue.yaml: error: issue 2026-W07 has no corrections (add "
        "'corrections:' (date, item, text) to it, then 'briefing build 2026-W07' "
        "(docs/record.md))\n"))
    project.write("briefs/2026-W07/issue.yaml", ISSUE + CORRECTION)
    assert project.cli("build").code == 0  # not sent: an ordinary build
    result = project.cli("send", "--correction", "--smtp", "smtp://127.0.0.1:9")
    assert (result.code, result.err) == (1, (
        ".briefing/state.sqlite3: error: no reader has received 2026-W07 (the ledger has no "
        "delivery of it), so there is nobody to send its corrections to (the web page shows "
        "them once built; the next issue lists them)\n"))


@pytest.mark.parametrize("entry, message", [
    ("  - date: 2026-02-10\n    item: First headline\n    text: Fixed.\n",
     "briefs/2026-W07/issue.yaml:7:11: error: correction dated 2026-02-10, before the issue "
     "itself (2026-02-13) (date it the day the correction is made)"),
    ("  - date: 2026-02-20\n    item: first  HEADLINE\n    text: Fixed.\n",
     "briefs/2026-W07/issue.yaml:8:11: error: correction of 'first  HEADLINE': no item of "
     "this issue has that headline (did you mean 'First headline'?)"),
    ("  - date: 2026-02-20\n    item: First headline\n    text: See [x](javascript:alert(1)).\n",
     "briefs/2026-W07/issue.yaml:9:11: error: link [x](javascript:alert(1)): must be an "
     "http(s) URL, not 'javascript:' (write the full https:// address)"),
    ("  - date: 2026-02-20\n    item: First headline\n",
     "briefs/2026-W07/issue.yaml:7:5: error: missing required key 'text' in a correction"),
])
def test_bad_corrections(factory, entry: str, message: str) -> None:
    project = factory(issue=ISSUE + "corrections:\n" + entry)
    result = project.cli("build")
    assert (result.code, result.err) == (1, message + "\n1 error\n")
