"""The preference page under the real endpoint (`briefing subscribers serve`, waitress, on
127.0.0.1): the link taken from a delivered copy, a GET that shows the signed choice and changes
nothing, a POST that records it, `sync` that applies it (the latest wins, an unknown token
changes nothing) and the next send that carries it; nothing ticked is not an unsubscribe; the
page in headless Chromium at 375 px, light and dark, submitted without JavaScript."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

import pytest

from endpoint_helpers import DONE_PAGE, endpoint, gmail_one_click, keyed, request
from smtp_server import Server
from test_copies import token_for
from themes_helpers import (
    ETHICS,
    INDUSTRY,
    POLICY,
    assert_holds_exactly,
    link_signature,
    read_copy,
    themed_project,
)

EVENTS = ".briefing/events.jsonl"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def send(project, server: Server, *args: str):
    result = project.cli("send", "--smtp", server.url, "--insecure", "--no-dry-run", *args,
                         env={"BRIEFING_RETRY_DELAY": "0.01"}, timeout=120)
    assert result.code == 0, result.out + result.err
    return result


def readers(tmp_path):
    project = themed_project(tmp_path / "news")
    for args in (["ana@example.net", "--themes", "industry,policy"],
                 ["bo@example.net", "--themes", "ethics"], ["cy@example.net"]):
        assert project.cli("subscribers", "add", *args).code == 0
    assert project.cli("build").code == 0
    return keyed(project)


def boxes(page: str) -> dict[str, bool]:
    """theme id -> ticked, for every checkbox of the page."""
    return {m.group(1): bool(m.group(2)) for m in re.finditer(
        r'<input type="checkbox" name="themes" value="([a-z-]+)"( checked)?>', page)}


def next_issue(project) -> None:
    """2026-W08, with items in industry, ethics and policy again."""
    project.write("briefs/2026-W08/issue.yaml", "title: Week 8\ndate: 2026-02-20\n"
                  "intro: The editor's note, with a [link](https://example.org/intro).\n")
    for name, brief in (("industry", INDUSTRY), ("ethics", ETHICS), ("policy", POLICY)):
        project.write(f"briefs/2026-W08/{name}.yaml", brief)
    assert project.cli("build", "2026-W08").code == 0


def test_a_choice_made_on_the_page_is_synced_and_shows_in_the_next_send(tmp_path) -> None:
    project = readers(tmp_path)
    with Server() as server:
        send(project, server)
        bo = read_copy(next(m.data for m in server.received if m.rcpt_tos == ["bo@example.net"]))
    token, code, signature = bo.preference_link()
    assert code == "ethics"
    link = f"/p/{token}?themes={code}&sig={signature}"

    with endpoint(project) as served:
        assert served.banner[3] == "preferences: /p/<token>, the 4 themes of briefing.yaml"
        events = project.root / EVENTS
        shown = request(served.port, "GET", link)  # a mail scanner, or the reader
        assert shown.status == 200
        assert "<title>Choose what you get</title>" in shown.text
        assert boxes(shown.text) == {"industry": False, "ethics": True, "policy": False,
                                     "opinion": False}
        assert "Public opinion" in shown.text
        assert shown.headers["cache-control"] == "no-store"
        assert re.fullmatch(r"default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; "
                            r"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                            shown.headers["content-security-policy"])
        assert request(served.port, "HEAD", link).body == b""
        # A link whose choice was changed on the way shows no choice at all.
        forged = request(served.port, "GET", f"/p/{token}?themes=industry&sig={signature}")
        assert forged.status == 200
        assert not any(boxes(forged.text).values())
        assert ("This link does not carry your current choice (it may have been changed on "
                "the way), so nothing is ticked") in forged.text
        assert events.read_bytes() == b""  # no GET records anything

        saved = request(served.port, "POST", link, b"themes=industry&themes=ethics", FORM)
        assert saved.status == 200
        assert ("<p>From the next issue, Test Briefing brings you: Industry, Ethics. Your "
                "choice is applied before the next issue is sent.</p>") in saved.text
        assert boxes(saved.text) == {"industry": True, "ethics": True, "policy": False,
                                     "opinion": False}
        (line,) = events.read_text().splitlines()
        event = json.loads(line)
        assert event == {"kind": "themes", "offered": "industry.ethics.policy.opinion",
                         "themes": "industry.ethics", "time": event["time"], "token": token}

    synced = project.cli("subscribers", "sync")
    assert synced.code == 0, synced.err
    assert synced.out == (
        f"themes of bo@example.net: industry, ethics (chosen at {event['time']})\n"
        f"synced events {EVENTS}: 1 new event (1 theme choice)\n"
        "sync: 1 theme choice applied\n")
    listed = project.cli("subscribers", "list")
    assert [line for line in listed.out.splitlines() if "bo@" in line] == [
        f"active       bo@example.net  since {event['time'][:10]}  themes: industry, ethics"]

    next_issue(project)
    with Server() as server:
        result = send(project, server, "2026-W08")
        copies = {m.rcpt_tos[0]: read_copy(m.data) for m in server.received}
    assert result.out.splitlines()[:2] == [
        f"synced events {EVENTS}: 0 new events; 1 seen before", "sync: no reader changed"]
    assert_holds_exactly(copies["bo@example.net"], ["industry", "ethics"])
    assert copies["bo@example.net"].preference_link()[1] == "industry.ethics"
    assert_holds_exactly(copies["ana@example.net"], ["industry", "policy"])


def test_nothing_ticked_is_not_an_unsubscribe_and_every_theme_is_every_theme(tmp_path) -> None:
    project = readers(tmp_path)
    token = token_for(project, "ana@example.net")
    path = f"/p/{token}"
    with endpoint(project) as served:
        events = project.root / EVENTS
        nothing = request(served.port, "POST", path, b"", FORM)
        assert nothing.status == 200
        assert "<title>Nothing ticked</title>" in nothing.text
        assert ("<p>Unticking every theme does not unsubscribe you: you would stay on the list "
                "with nothing to read. Your choice was not saved.</p>") in nothing.text
        action = re.search(r'<form method="post" action="([^"]+)">\n<input type="hidden" '
                           r'name="List-Unsubscribe" value="One-Click">', nothing.text)
        assert action and not any(boxes(nothing.text).values())
        assert events.read_bytes() == b""
        # Its button unsubscribes through this endpoint's own one-click route.
        target = urljoin(f"{served.url}{path}", action.group(1))
        assert target == f"{served.url}/u/{token}"
        assert gmail_one_click(served.port, f"/u/{token}").text == DONE_PAGE

        every = request(served.port, "POST", path,
                        b"themes=opinion&themes=policy&themes=ethics&themes=industry", FORM)
        assert ("brings you: every theme, and new themes as they are added.") in every.text
        kinds = [json.loads(line) for line in events.read_text().splitlines()]
        assert [(e.get("kind", "unsubscribe"), e.get("themes")) for e in kinds] == [
            ("unsubscribe", None), ("themes", "*")]

    assert project.cli("subscribers", "add", "bo@example.net", "--themes",
                       "policy").code == 0
    synced = project.cli("subscribers", "sync")
    assert synced.code == 0, synced.err
    assert "themes of ana@example.net: every theme" in synced.out
    listed = project.cli("subscribers", "list", "--format", "json").out
    assert {r["address"]: r["themes"] for r in json.loads(listed)} == {
        "ana@example.net": "", "bo@example.net": "policy", "cy@example.net": ""}


def test_public_copy_invalid_tokens_and_bad_requests_change_nothing(tmp_path) -> None:
    project = readers(tmp_path)
    token = token_for(project, "ana@example.net")
    made_up = token[:-1] + ("A" if token[-1] != "A" else "B")
    with endpoint(project) as served:
        events = project.root / EVENTS
        public = request(served.port, "GET", "/p/ARCHIVE-COPY-NOT-A-TOKEN?themes=*&sig="
                                             "ARCHIVE-COPY-SIG")
        assert public.status == 200
        assert ("which belongs to no reader, so it cannot change anyone's themes. Nothing was "
                "changed.") in public.text
        assert request(served.port, "POST", "/p/ARCHIVE-COPY-NOT-A-TOKEN", b"themes=ethics",
                       FORM).status == 200
        for method in ("GET", "POST"):
            invalid = request(served.port, method, f"/p/{made_up}", b"themes=ethics", FORM)
            assert invalid.status == 404
            assert "<title>This link is not valid</title>" in invalid.text
        assert request(served.port, "POST", f"/p/{token}", b"themes=ethics" + b"&x" * 3000,
                       FORM).status == 413
        assert request(served.port, "POST", f"/p/{token}", b'{"themes": ["ethics"]}',
                       {"Content-Type": "application/json"}).text == "not a form of this page\n"
        assert request(served.port, "DELETE", f"/p/{token}").status == 405
        assert events.read_bytes() == b""
        # A reader who keeps changing: the same choice again adds nothing, and at most 20
        # choices a day are written.
        answers = [request(served.port, "POST", f"/p/{token}",
                           b"themes=ethics" if n % 2 else b"themes=policy", FORM).status
                   for n in range(22)]
        # The 21st (policy) is refused; the 22nd is ethics, the choice last written: saved.
        assert answers == [200] * 20 + [429, 200]
        assert len(events.read_text().splitlines()) == 20


def test_sync_the_latest_choice_wins_and_an_unknown_token_changes_nothing(tmp_path) -> None:
    project = readers(tmp_path)
    cy = token_for(project, "cy@example.net")  # never chose
    stranger = token_for(project, "stranger@example.net")  # a --to test address, say
    offered = "industry.ethics.policy.opinion"
    lines = [{"kind": "themes", "offered": offered, "themes": "ethics",
              "time": "2026-02-16T09:00:00Z", "token": cy},
             {"kind": "themes", "offered": offered, "themes": "policy",
              "time": "2026-02-16T09:00:00Z", "token": cy},  # the same second, later
             {"kind": "themes", "offered": offered, "themes": "ethics",
              "time": "2026-02-16T09:00:05Z", "token": stranger}]
    project.write(EVENTS, "".join(json.dumps(e) + "\n" for e in lines))
    synced = project.cli("subscribers", "sync")
    assert synced.code == 0, synced.err
    assert synced.out == (
        "themes of cy@example.net: ethics (chosen at 2026-02-16T09:00:00Z)\n"
        "themes of cy@example.net: policy (chosen at 2026-02-16T09:00:00Z)\n"
        f".briefing/events.jsonl:3:1: warning: token '{stranger}' is no known reader's; "
        "nothing changed\n"
        f"synced events {EVENTS}: 3 new events (2 theme choices, 1 unknown token)\n"
        "sync: 2 theme choices applied\n")
    # The editor changes it now; a click from before that, synced late, does not win.
    assert project.cli("subscribers", "add", "cy@example.net", "--themes",
                       "industry").code == 0
    project.write(EVENTS, "".join(json.dumps(e) + "\n" for e in lines) + json.dumps(
        {"kind": "themes", "offered": offered, "themes": "opinion",
         "time": "2026-02-17T09:00:00Z", "token": cy}) + "\n")
    late = project.cli("subscribers", "sync")
    assert late.out.splitlines()[0].startswith(
        "cy@example.net chose themes at 2026-02-17T09:00:00Z, before their choice of ")
    assert "(1 older than a later choice); 3 seen before" in late.out
    listed = project.cli("subscribers", "list").out
    assert [line.split("  ")[-1] for line in listed.splitlines()] == [
        "themes: industry, policy", "themes: ethics", "themes: industry"]


@pytest.fixture
def chromium():
    from briefing.editorial.browser import find_chromium
    if find_chromium() is None:
        pytest.skip("Chromium is not installed")


def test_the_page_in_chromium_at_375_px_light_and_dark_without_javascript(
        tmp_path, chromium) -> None:
    from briefing.editorial.browser import MEASURE, Browser
    from briefing.render.colours import contrast, parse
    project = readers(tmp_path)
    token = token_for(project, "bo@example.net")
    link = f"/p/{token}?themes=ethics&sig={link_signature(project, token, 'ethics')}"
    with endpoint(project) as served, Browser(offline=True,
                                               profile_parent=tmp_path) as browser:
        page = browser.new_page()
        for dark in (False, True):
            page.viewport(375, mobile=True)
            page.colour_scheme(dark)
            page.open(served.url + link)
            m = page.evaluate(MEASURE)  # the test's script, over DevTools: the page has none
            assert m["innerWidth"] == 375
            assert max(m["scrollWidth"], m["bodyScrollWidth"]) <= 375
            background = parse("#17191c" if dark else "#ffffff")
            assert parse(m["pageBackground"]) == background  # the style was not blocked
            assert len(m["texts"]) >= 8
            for text in m["texts"]:
                assert text["right"] <= 375.5, text
                assert text["fontSize"] >= 14, text
                assert contrast(parse(text["color"]), parse(text["background"])) >= 4.5, text
            ticked = page.evaluate("[...document.querySelectorAll('input:checked')]"
                                   ".map(e => e.value)")
            assert ticked == ["ethics"]
        # Tick Policy and press the button: a plain form post (the page's policy, default-src
        # 'none', lets no script of its own run).
        page.evaluate("document.querySelector('input[value=policy]').click()")
        browser._events.clear()
        page.evaluate("document.querySelector('form button').click()")
        browser.wait_for("Page.loadEventFired", page.session, 20)
        assert page.evaluate("document.title") == "Saved"
        assert "brings you: Ethics, Policy." in page.evaluate("document.body.innerText")
    event = json.loads((project.root / EVENTS).read_text())
    assert (event["token"], event["themes"]) == (token, "ethics.policy")
