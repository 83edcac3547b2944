"""Themes ticked on the sign-up form (signup.choose_themes) become the reader's choice of themes:
one endpoint under waitress serving the sign-up pages and the preference page, the confirmation
mail through aiosmtpd, `sync` applying the confirmation, the next send (aiosmtpd) carrying
exactly those themes, `subscribers show` naming them; and, through the real CLI, what sync makes
of every kind of sign-up (every theme ticked, some, a form from before a theme was added, a
theme removed since, a form without themes, a later choice by the editor)."""

from __future__ import annotations

import json
import re
import time

from conftest import ProjectFactory, make_project
from endpoint_helpers import request
from signup_helpers import (
    CONSENT,
    EVENTS,
    confirm,
    confirmation_path,
    events,
    mails_to,
    post_form,
    signup_endpoint,
    wait_for,
)
from smtp_server import Server, free_port
from themes_helpers import (
    ETHICS,
    INDUSTRY,
    ISSUE,
    POLICY,
    THEMED_CONFIG,
    assert_holds_exactly,
    read_copy,
)

ALL = ("industry", "ethics", "policy", "opinion")
WITH_ITEMS = ["industry", "ethics", "policy"]  # this issue has nothing in opinion


def themed_signup_project(root) -> tuple[ProjectFactory, int]:
    """Four themes, the preference page, and a sign-up form that offers the themes."""
    port = free_port()
    config = THEMED_CONFIG + (f"signup:\n  url: http://127.0.0.1:{port}/s\n"
                              f"  confirm_url: http://127.0.0.1:{port}/c/{{token}}\n"
                              "  choose_themes: true\n")
    project = make_project(root, config=config, issue=ISSUE,
                           briefs={"industry.yaml": INDUSTRY, "ethics.yaml": ETHICS,
                                   "policy.yaml": POLICY})
    built = project.cli("build")
    assert built.code == 0, built.err
    keyed = project.cli("subscribers", "endpoint-key")
    assert keyed.code == 0, keyed.err
    return project, port


def ticked(page: str, name: str) -> dict[str, bool]:
    """theme id -> ticked, for the checkboxes called `name` of a page."""
    return {m.group(1): bool(m.group(2)) for m in re.finditer(
        rf'<input type="checkbox" name="{name}" value="([a-z-]+)"( checked)?>', page)}


def sign_up_with(port: int, address: str, themes: tuple[str, ...]):
    return post_form(port, [("address", address), ("name", ""), ("website", ""),
                            ("consent", CONSENT), ("page", "https://example.org/archive/")]
                     + [("theme", theme) for theme in themes])


def send(project: ProjectFactory, server: Server, *args: str):
    result = project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure", *args,
                         env={"BRIEFING_RETRY_DELAY": "0.01"}, timeout=180)
    assert result.code == 0, result.out + result.err
    return result


def test_themes_ticked_at_sign_up_are_what_the_next_copy_holds(tmp_path) -> None:
    project, port = themed_signup_project(tmp_path / "news")
    with Server() as mail, signup_endpoint(project, port, mail) as served:
        base = f"http://127.0.0.1:{port}"
        # One endpoint serves both: the preference page and the sign-up pages.
        assert served.banner[3:5] == [
            "preferences: /p/<token>, the 4 themes of briefing.yaml",
            f"sign-up: {base}/s and {base}/c/<token>, confirmation mail via {mail.url} (at "
            "most 100 an hour)"]
        form = request(port, "GET", "/s")
        assert ticked(form.text, "theme") == dict.fromkeys(ALL, True)  # all ticked at first

        assert sign_up_with(port, "ana@example.net", ("industry", "policy")).status == 200
        assert sign_up_with(port, "bo@example.net", ALL).status == 200
        for address in ("ana@example.net", "bo@example.net"):
            wait_for(lambda a=address: mails_to(mail, a), f"the mail to {address}")
            path = confirmation_path(mails_to(mail, address)[0])
            assert confirm(port, path).status == 200
        ana_signed_up, bo_signed_up, ana_confirmed, bo_confirmed = (
            e["time"] for e in events(project))

        synced = project.cli("subscribers", "sync")
        assert synced.code == 0, synced.err
        assert synced.out == (
            f"subscribed ana@example.net (confirmed sign-up at {ana_confirmed})\n"
            f"themes of ana@example.net: industry, policy (chosen when signing up at "
            f"{ana_signed_up})\n"
            f"subscribed bo@example.net (confirmed sign-up at {bo_confirmed})\n"
            f"synced events {EVENTS}: 4 new events (2 subscribed, 2 sign-ups waiting for "
            "confirmation)\n"
            "sync: 2 subscribed, 1 theme choice applied\n")

        with Server() as issue_mail:
            result = send(project, issue_mail)
            copies = {m.rcpt_tos[0]: read_copy(m.data) for m in issue_mail.received}
        assert sorted(copies) == ["ana@example.net", "bo@example.net", "one@example.org"]
        assert ("themes:     2 theme sets among the readers, one message for each: every "
                "theme (2); industry, policy (1)") in result.out.splitlines()
        assert_holds_exactly(copies["ana@example.net"], ["industry", "policy"])
        assert_holds_exactly(copies["bo@example.net"], WITH_ITEMS)  # every theme ticked
        assert_holds_exactly(copies["one@example.org"], WITH_ITEMS)

        # The link in Ana's copy opens her page with her sign-up choice ticked.
        token, code, signature = copies["ana@example.net"].preference_link()
        assert code == "industry.policy"
        assert copies["bo@example.net"].preference_link()[1] == "*"
        page = request(port, "GET", f"/p/{token}?themes={code}&sig={signature}")
        assert ticked(page.text, "themes") == {"industry": True, "ethics": False,
                                               "policy": True, "opinion": False}

    shown = project.cli("subscribers", "show", "ana@example.net")
    assert shown.code == 0, shown.err
    assert (f"\n  themes:      industry, policy (chosen on the sign-up form at "
            f"{ana_signed_up})\n") in shown.out
    assert "\n  themes:      industry, policy\n" in shown.out  # and the consent record's
    assert ("\n  themes:      every theme (never chose: themes added later too)\n"
            in project.cli("subscribers", "show", "bo@example.net").out)
    listed = project.cli("subscribers", "list").out.splitlines()
    assert [line.rsplit("  ", 1)[1] for line in listed if "ana@" in line] == [
        "themes: industry, policy"]


def confirmation(keys, address: str, themes: tuple[str, ...], offered: tuple[str, ...],
                 issued: int, number: int) -> str:
    """The endpoint's confirmation event of a sign-up, with a token made as it makes them."""
    from briefing.subscribers.signup import Joiner, make_token, stamp
    token = make_token(keys, Joiner(address, "", themes, offered), issued, issued + 86_400,
                       f"{number:024x}")
    return json.dumps({"kind": "confirm", "time": stamp(issued + 60), "token": token}) + "\n"


# address, ticked on the form, offered by the form -> their stored choice (None: every theme),
# the themes of this issue their copy holds ([]: no copy)
SIGNUPS = [
    ("all@example.net", ALL, ALL, None, WITH_ITEMS),
    ("some@example.net", ("industry", "policy"), ALL, ["industry", "policy"],
     ["industry", "policy"]),
    # A form from before policy and opinion were added, every box ticked: every theme.
    ("early@example.net", ("industry", "ethics"), ("industry", "ethics"), None, WITH_ITEMS),
    # ...one box of it: ethics, and policy and opinion are new to them (counted by send).
    ("early-one@example.net", ("ethics",), ("industry", "ethics"), ["ethics"], ["ethics"]),
    # A theme removed since: kept as chosen, dropped when the copy is made.
    ("removed@example.net", ("ethics", "sport"), (*ALL, "sport"), ["ethics", "sport"],
     ["ethics"]),
    ("gone@example.net", ("sport",), (*ALL, "sport"), ["sport"], []),
    # A form that offered no themes (choose_themes was off): no choice, every theme.
    ("plain@example.net", (), (), None, WITH_ITEMS),
    # The editor set policy after they signed up: the later choice wins.
    ("later@example.net", ("industry",), ALL, ["policy"], ["policy"]),
]


def test_sync_makes_each_kind_of_sign_up_a_choice_of_themes(tmp_path) -> None:
    from briefing.subscribers.signup import editor_keys, stamp
    project, _port = themed_signup_project(tmp_path / "news")
    keys = editor_keys((project.root / ".briefing/token.key").read_text().strip().encode())
    issued = int(time.time()) - 3600
    lines = [confirmation(keys, address, themes, offered, issued, number)
             for number, (address, themes, offered, _, _) in enumerate(SIGNUPS)]
    assert project.cli("subscribers", "add", "later@example.net", "--themes",
                       "policy").code == 0
    (project.root / EVENTS).write_text("".join(lines))
    (project.root / EVENTS).chmod(0o600)

    synced = project.cli("subscribers", "sync")
    assert synced.code == 0, synced.err
    said = synced.out.splitlines()
    signed_up = stamp(issued)
    for address, chosen in (("some", "industry, policy"), ("early-one", "ethics"),
                            ("removed", "ethics, sport"), ("gone", "sport")):
        assert any(line.startswith(f"themes of {address}@example.net: {chosen} (chosen when "
                                   f"signing up at {signed_up})") for line in said), said
    assert (f"themes of removed@example.net: ethics, sport (chosen when signing up at "
            f"{signed_up}); no longer in briefing.yaml: sport") in said
    later = json.loads(project.cli("subscribers", "show", "later@example.net", "--format",
                                   "json").out)["themes"]
    assert (f"later@example.net chose themes when signing up at {signed_up}, before their "
            f"choice of {later['chosen_at']}; not applied") in said
    assert said[-1] == "sync: 7 subscribed, 4 theme choices applied"

    for address, _themes, offered, chosen, _holds in SIGNUPS:
        record = json.loads(project.cli("subscribers", "show", address, "--format",
                                        "json").out)
        assert record["status"] == "active", address
        themes = record["themes"]
        assert (themes and themes["chosen"]) == chosen, address
        if chosen is not None and address != "later@example.net":
            assert (themes["source"], themes["offered"]) == ("signup", list(offered)), address

    with Server() as mail:
        result = send(project, mail)
        copies = {m.rcpt_tos[0]: read_copy(m.data) for m in mail.received}
    for address, _themes, _offered, _chosen, holds in SIGNUPS:
        if holds:
            assert copies[address].outline.sections == holds, address
        else:
            assert address not in copies, address
    out = result.out.splitlines()
    assert "no copy:    1 reader: nothing in their themes this week" in out
    assert any(line.startswith("new themes: 1 reader chose their themes before 'policy' was "
                               "added") for line in out), out
    assert any(line.strip().startswith("1 reader chose their themes before 'opinion' was "
                                       "added") for line in out), out
