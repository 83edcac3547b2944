"""A copy per reader with only the themes they chose, through the real CLI and a real SMTP
server (aiosmtpd): the digest and the HTML hold exactly their themes with consistent numbering,
a reader with nothing in their themes gets nothing and is counted, the ledger records the
themes carried and never sends twice, out/ keeps every theme, and --to X --themes previews."""

from __future__ import annotations

import re
import sqlite3

from smtp_server import Server
from test_copies import token_for
from themes_helpers import (
    HEADLINES,
    assert_holds_exactly,
    link_signature,
    read_copy,
    themed_project,
)

OUT = "out/2026-W07"
READERS = {  # address -> --themes (None: never chose)
    "ana@example.net": "industry,policy",
    "bo@example.net": "ethics",
    "cy@example.net": None,
    "dee@example.net": "opinion",  # no item this week
}


def send(project, server: Server, *args: str):
    return project.cli("send", "--smtp", server.url, "--insecure", *args,
                       env={"BRIEFING_RETRY_DELAY": "0.01"}, timeout=120)


def readers_project(tmp_path):
    project = themed_project(tmp_path / "news")
    for address, themes in READERS.items():
        args = ["--themes", themes] if themes else []
        result = project.cli("subscribers", "add", address, *args)
        assert result.code == 0, result.err
    result = project.cli("build")
    assert result.code == 0, result.err
    return project


def deliveries(project) -> dict[str, str]:
    db = sqlite3.connect(project.root / ".briefing" / "state.sqlite3")
    try:
        return dict(db.execute("SELECT address, themes FROM deliveries WHERE state = "
                               "'accepted' ORDER BY id").fetchall())
    finally:
        db.close()


def test_each_reader_gets_exactly_their_themes_numbered_as_their_copy_holds(tmp_path) -> None:
    project = readers_project(tmp_path)
    built = (project.root / OUT / "message.eml").read_bytes()
    with Server() as server:
        dry = send(project, server)
        assert dry.code == 0, dry.err
        lines = dry.out.splitlines()
        assert ("themes:     3 theme sets among the readers, one message for each: every "
                "theme (2); ethics (1); industry, policy (1)") in lines
        assert "no copy:    1 reader: nothing in their themes this week" in lines
        assert ("would send: 4 messages (one SMTP transaction per recipient) and record each "
                "accepted one; a 4xx reply is tried up to 4 times in all") in lines
        result = send(project, server, "--no-dry-run")
        assert result.code == 0, result.err
        assert result.out.splitlines()[-3:-1] == [
            "sent 2026-W07 to 4 of 4 recipients; ledger: .briefing/state.sqlite3",
            "1 reader: nothing in their themes this week"]
    copies = {m.rcpt_tos[0]: read_copy(m.data) for m in server.received}
    assert sorted(copies) == ["ana@example.net", "bo@example.net", "cy@example.net",
                              "one@example.org"]  # dee@ gets nothing
    expected = {"ana@example.net": ["industry", "policy"], "bo@example.net": ["ethics"],
                "cy@example.net": ["industry", "ethics", "policy"],
                "one@example.org": ["industry", "ethics", "policy"]}
    for address, copy in copies.items():
        assert_holds_exactly(copy, expected[address])
        assert copy.subject == "Test Briefing: A themed issue"  # the issue's, unchanged
        # The intro is kept and its link is [1] in every copy.
        assert "The editor's note, with a link [1]." in copy.text
    # The shared source is [3] after the industry item in the whole issue, and [2] in bo's
    # copy, whose ethics item is the only one to cite it.
    assert copies["bo@example.net"].sources() == [
        (1, "https://example.org/intro"), (2, "https://example.org/shared"),
        (3, "https://example.org/likeness")]
    assert "as the report [2] says. [2] [3]" in " ".join(copies["bo@example.net"].text.split())
    assert copies["ana@example.net"].sources() == [
        (1, "https://example.org/intro"), (2, "https://example.org/deal"),
        (3, "https://example.org/shared"), (4, "https://example.org/chips"),
        (5, "https://example.org/rules")]
    # A reader who never chose gets the built message itself, with their token.
    cy = copies["cy@example.net"].raw.partition(b"\n\n")[2]
    token = token_for(project, "cy@example.net")
    signature = link_signature(project, token, "*")
    assert cy == built.partition(b"\n\n")[2].replace(
        b"ARCHIVE-COPY-NOT-A-TOKEN", token.encode()).replace(b"ARCHIVE-COPY-SIG",
                                                             signature.encode())
    # Each link carries the reader's choice, signed for their token.
    for address, code in (("ana@example.net", "industry.policy"),
                          ("bo@example.net", "ethics"), ("cy@example.net", "*")):
        link = copies[address].preference_link()
        token = token_for(project, address)
        assert link == (token, code, link_signature(project, token, code))
        assert (f'href="https://example.org/p/{token}?themes={code}&amp;sig={link[2]}"'
                in copies[address].html)
    # out/ keeps every theme and no reader's token; the ledger says what each copy carried.
    assert (project.root / OUT / "message.eml").read_bytes() == built
    assert b"Likeness rights" in built and b"Studio deal" in built
    assert deliveries(project) == {
        "ana@example.net": "industry,policy", "bo@example.net": "ethics",
        "cy@example.net": "industry,ethics,policy",
        "one@example.org": "industry,ethics,policy"}


def test_a_change_of_themes_never_sends_the_issue_twice(tmp_path) -> None:
    project = readers_project(tmp_path)
    with Server() as server:
        assert send(project, server, "--no-dry-run").code == 0
        changed = project.cli("subscribers", "add", "bo@example.net", "--themes",
                              "industry,ethics")
        assert changed.out == "bo@example.net is already subscribed; themes set to industry, " \
                              "ethics\n"
        again = send(project, server, "--no-dry-run")
        assert again.code == 0, again.err
        assert ("skipped:    4: ana@example.net, bo@example.net, cy@example.net, "
                "one@example.org: already got this issue (--force sends again)"
                ) in again.out.splitlines()
        # dee@ chose opinion: this week still nothing, and still counted.
        assert "no copy:    1 reader: nothing in their themes this week" in again.out
    assert len(server.received) == 4
    assert deliveries(project)["bo@example.net"] == "ethics"  # what it carried then


def test_a_test_send_previews_a_choice_and_is_never_recorded(tmp_path) -> None:
    project = readers_project(tmp_path)
    with Server() as server:
        dry = send(project, server, "--to", "me@example.net", "--themes", "policy,ethics")
        assert dry.code == 0, dry.err
        assert "themes:     a preview of ethics, policy (--themes)" in dry.out.splitlines()
        assert dry.out.splitlines()[-1] == (
            f"to send for real: briefing send 2026-W07 --no-dry-run --to me@example.net "
            f"--themes policy,ethics --smtp {server.url} --insecure")
        # A reader on the list gets a preview too, not their copy: nothing recorded.
        sent = send(project, server, "--no-dry-run", "--to", "me@example.net", "--to",
                    "ana@example.net", "--themes", "policy,ethics")
        assert sent.code == 0, sent.err
        assert ("test send:  2: me@example.net, ana@example.net (a preview): not recorded in "
                ".briefing/state.sqlite3, so the issue stays editable") in sent.out.splitlines()
    assert sorted(m.rcpt_tos[0] for m in server.received) == ["ana@example.net",
                                                               "me@example.net"]
    for message in server.received:
        assert_holds_exactly(read_copy(message.data), ["ethics", "policy"])
    assert deliveries(project) == {}
    # Without --to, or with an id briefing.yaml does not declare: an error, nothing sent.
    alone = project.cli("send", "--smtp", "smtp://127.0.0.1:9", "--themes", "ethics")
    assert (alone.code, alone.err) == (1, (
        "--themes: error: previews the copy of a theme choice: give --to too (e.g. --to "
        "you@example.org --themes industry,policy)\n"))
    typo = project.cli("send", "--smtp", "smtp://127.0.0.1:9", "--to", "me@example.net",
                       "--themes", "ethics,polcy")
    assert (typo.code, typo.err) == (1, (
        "--themes: error: 'polcy' is not a theme in briefing.yaml; its themes: industry, "
        "ethics, policy, opinion (did you mean 'policy'?)\n"))


def test_new_themes_go_to_readers_who_never_chose_and_are_counted_for_the_others(
        tmp_path) -> None:
    project = readers_project(tmp_path)
    config = project.root / "briefing.yaml"
    config.write_text(config.read_text().replace(
        "  - id: opinion\n", "  - id: science\n    title: Science\n  - id: opinion\n"))
    project.write("briefs/2026-W07/science.yaml", """\
        items:
          - headline: A lab result
            summary: Researchers report.
            sources:
              - url: https://example.org/lab
                title: Lab
                publisher: Journal
        """)
    assert project.cli("build").code == 0
    with Server() as server:
        result = send(project, server, "--no-dry-run")
        assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert ("new themes: 3 readers chose their themes before 'science' was added: they do not "
            'get it (they can tick it from "Choose what you get")') in lines
    copies = {m.rcpt_tos[0]: read_copy(m.data) for m in server.received}
    headlines = {a: re.findall(r"^• (.+)$", c.text, re.M) for a, c in copies.items()}
    assert headlines["cy@example.net"] == [*HEADLINES["industry"], *HEADLINES["ethics"],
                                           *HEADLINES["policy"], "A lab result"]
    assert headlines["ana@example.net"] == [*HEADLINES["industry"], *HEADLINES["policy"]]
    assert "dee@example.net" not in copies  # opinion: still nothing this week
