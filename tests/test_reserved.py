"""Reserved names and init's placeholders: one policy (content/reserved.py) that `check` warns
with, `send` refuses a list send on (a --to test send still goes), and `doctor` reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefing.content.reserved import PLACEHOLDER, RESERVED, reserved_kind
from conftest import BRIEF, CONFIG, REPO, make_project, run_cli
from smtp_server import Server

# RFC 2606 and RFC 6761: the host, and what the policy says about it.
HOSTS = [
    ("example.org", PLACEHOLDER), ("example.com", PLACEHOLDER), ("EXAMPLE.NET.", PLACEHOLDER),
    ("news.example.org", RESERVED), ("framebyframe.example.org", RESERVED),
    ("a.b.example.com", RESERVED), ("mail.test", RESERVED), ("test", RESERVED),
    ("x.invalid", RESERVED), ("localhost", RESERVED), ("a.localhost", RESERVED),
    ("example", RESERVED), ("site.example", RESERVED),
    ("example.co.uk", ""), ("myexample.org", ""), ("example.org.uk", ""),
    ("testing.com", ""), ("test.com", ""), ("invalid.net", ""), ("news.example.orgx", ""),
    ("127.0.0.1", ""), ("briefing.news", ""),
]


@pytest.mark.parametrize(("host", "kind"), HOSTS)
def test_reserved_kind(host: str, kind: str) -> None:
    assert reserved_kind(host) == kind


# What `briefing init` writes, and one reader who is not at a reserved name: 192.0.2.1 is in
# TEST-NET-1 (RFC 5737), an address block for documentation that no host ever has.
INIT_LIKE = """\
name: Placeholder News
sender: Placeholder News <news@example.org>
recipients:
  - Reader <reader@192.0.2.1>
unsubscribe:
  url: https://example.org/u/{token}
  mailto: mailto:leave+{token}@example.com
archive_url: https://example.net/archive/
address: Placeholder News, 1 Example Street, Example City
themes:
  - id: industry
    title: Industry
"""


def test_check_warns_once_per_name_at_its_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "news", config=INIT_LIKE, briefs={"industry.yaml": BRIEF})
    result = project.cli("check")
    assert result.code == 0, result.err
    assert result.err.splitlines() == [
        "briefing.yaml:2:9: warning: sender and unsubscribe.url are at example.org, the "
        "placeholder 'briefing init' writes: nothing there ever reaches anyone; a send to the "
        "list refuses it (replace example.org with your own domain) [init-placeholder]",
        "briefing.yaml:7:11: warning: unsubscribe.mailto is at example.com, the placeholder "
        "'briefing init' writes: nothing there ever reaches anyone (replace example.com with "
        "your own domain) [init-placeholder]",
        "briefing.yaml:8:14: warning: archive_url is at example.net, the placeholder 'briefing "
        "init' writes: nothing there ever reaches anyone; a send to the list refuses it "
        "(replace example.net with your own domain) [init-placeholder]",
        "briefing.yaml:9:10: warning: 'address' is the placeholder postal line 'briefing init' "
        "writes (write the newsletter's real postal address; the law in many countries, "
        "CAN-SPAM in the US among them, wants one in every copy) [init-placeholder]",
    ]
    assert result.out.endswith("; 4 warnings\n")
    assert project.cli("check", "--strict").code == 1
    quiet = INIT_LIKE + "lint:\n  disable: [init-placeholder, reserved-name]\n"
    project.write("briefing.yaml", quiet)
    assert project.cli("check").err == ""


def test_the_sample_checks_with_only_the_reserved_name_warnings() -> None:
    result = run_cli(REPO, "check", "2026-W10")
    assert result.code == 0, result.err
    config = [line for line in result.err.splitlines() if line.startswith("briefing.yaml")]
    assert config == [
        "briefing.yaml:6:9: warning: sender, recipients (2), list_address, reply_to, "
        "unsubscribe.url, unsubscribe.mailto and archive_url are at framebyframe.example.org, "
        "a reserved name (RFC 2606, RFC 6761) that never receives mail: fine for tests and "
        "samples, not for a real list [reserved-name]",
        "briefing.yaml:16:10: warning: 'address' is the placeholder postal line 'briefing init' "
        "writes (write the newsletter's real postal address; the law in many countries, "
        "CAN-SPAM in the US among them, wants one in every copy) [init-placeholder]",
    ]


def test_a_list_send_refuses_the_placeholders_and_a_test_send_still_goes(tmp_path) -> None:
    project = make_project(tmp_path / "news", config=INIT_LIKE, briefs={"industry.yaml": BRIEF})
    assert project.cli("build").code == 0
    with Server() as server:
        refused = project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure")
        assert refused.code == 1
        assert refused.err.splitlines() == [
            "briefing.yaml: error: sender 'news@example.org' is at example.org, the placeholder "
            "'briefing init' writes: nothing at it ever reaches anyone; not sending to the list "
            "(replace example.org with your own domain in briefing.yaml)",
            "briefing.yaml: error: unsubscribe.url 'https://example.org/u/{token}' is at "
            "example.org, the placeholder 'briefing init' writes: nothing at it ever reaches "
            "anyone; not sending to the list (replace example.org with your own domain in "
            "briefing.yaml)",
            "briefing.yaml: error: archive_url 'https://example.net/archive/' is at example.net, "
            "the placeholder 'briefing init' writes: nothing at it ever reaches anyone; not "
            "sending to the list (replace example.net with your own domain in briefing.yaml)",
            "send: error: 3 checks failed that mean the mail is certainly wrong: nothing was "
            "sent (fix them, or test with --to you@example.org; 'briefing doctor' checks "
            "everything)",
            "4 errors in 2 files",
        ]
        assert server.received == []
        dry = project.cli("send", "--smtp", server.url, "--insecure")
        assert dry.code == 0, dry.err
        refuses = "; a real send to the list refuses this"
        assert dry.err.splitlines() == [
            "warning: no dkim: in briefing.yaml, so copies go out unsigned unless the relay "
            "signs them; Gmail, Yahoo and Outlook.com junk or refuse unsigned bulk mail (run "
            "'briefing dkim keygen --selector S', publish the record it prints and add its "
            "dkim: block; or write 'dkim: relay' if the relay signs with List-Unsubscribe and "
            "List-Unsubscribe-Post in h=)",
            "warning: sender 'news@example.org' is at example.org, the placeholder 'briefing "
            f"init' writes: nothing at it ever reaches anyone{refuses} (replace example.org "
            "with your own domain in briefing.yaml)",
            "warning: unsubscribe.url 'https://example.org/u/{token}' is at example.org, the "
            f"placeholder 'briefing init' writes: nothing at it ever reaches anyone{refuses} "
            "(replace example.org with your own domain in briefing.yaml)",
            "warning: archive_url 'https://example.net/archive/' is at example.net, the "
            f"placeholder 'briefing init' writes: nothing at it ever reaches anyone{refuses} "
            "(replace example.net with your own domain in briefing.yaml)",
            "warning: address 'Placeholder News, 1 Example Street, Example City' is the "
            "placeholder postal line 'briefing init' writes (write the newsletter's real postal "
            "address; the law in many countries, CAN-SPAM in the US among them, wants one in "
            "every copy)",
            "warning: unsubscribe.mailto: example.com is the placeholder 'briefing init' "
            "writes: nothing there ever reaches anyone (replace example.com with your own "
            "domain in briefing.yaml)",
        ]
        assert dry.out.splitlines()[0] == "dry run: nothing is sent"
        test = project.cli("send", "--no-dry-run", "--to", "me@readers.test", "--smtp",
                           server.url, "--insecure")
        assert test.code == 0, test.err
        assert [r.rcpt_tos for r in server.received] == [["me@readers.test"]]


def test_a_list_of_reserved_names_only_is_sent_with_warnings(project) -> None:
    """The tests' lists (and a project fresh from init, with only its own example recipients)
    reach nobody: init's placeholders are warnings there, not a refusal."""
    assert project.cli("build").code == 0
    with Server() as server:
        sent = project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure")
        assert sent.code == 0, sent.err
        assert len(server.received) == 1
    not_refused = "; not refused: every address this send goes to is at a reserved name"
    assert [line.split(" is at ")[0] + (" ..." + not_refused if not_refused in line else "")
            for line in sent.err.splitlines()] == [
        sent.err.splitlines()[0],
        f"warning: sender 'news@example.org' ...{not_refused}",
        f"warning: unsubscribe.url 'https://example.org/u/{{token}}' ...{not_refused}",
        f"warning: archive_url 'https://example.org/archive/' ...{not_refused}",
        "warning: recipients: example.org is the placeholder 'briefing init' writes: nothing "
        "there ever reaches anyone (replace example.org with your own domain in briefing.yaml)",
    ]
    assert sent.err.startswith("warning: no dkim: in briefing.yaml")
    quiet = CONFIG + "lint:\n  disable: [init-placeholder]\ndkim: relay\n"
    project.write("briefing.yaml", quiet)
    with Server() as server:
        again = project.cli("send", "--no-dry-run", "--force", "--smtp", server.url,
                            "--insecure")
    assert (again.code, again.err) == (0, "")
