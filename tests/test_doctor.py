"""`briefing doctor` against a real DNS server on 127.0.0.1 (dnslib) serving correct, missing and
wrong records: it passes a correctly configured project, fails the sample with the fixes, gives
each DNS mistake its own line; --live against a real https server and SMTP server."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import re
import shutil
import sqlite3
import ssl
import threading
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from dns_server import DnsServer, Table, closed_port
from smtp_server import Server, make_certificate
from test_dkim import CONFIG as SIGNED_CONFIG
from test_dkim import DOMAIN, signed_project, verifier

RELAY_IP = "192.0.2.10"  # TEST-NET-1: named in DNS, never connected to (no --live)
CONFIG = SIGNED_CONFIG + f"""\
smtp:
  url: smtp://relay.{DOMAIN}:587
sync:
  events: .briefing/events.jsonl
"""
NO_SPAMASSASSIN = {"PATH": "/nonexistent"}  # the "skipped" line; the test of it is below


def good_table(records: dict[str, str]) -> Table:
    """Everything a receiver looks up, published right."""
    table = Table({(name, "TXT"): [value] for name, value in records.items()})
    table.set(f"_dmarc.{DOMAIN}", "TXT", [f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}"])
    table.set(DOMAIN, "TXT", [f"v=spf1 ip4:{RELAY_IP} -all", "google-site-verification=x"])
    table.set(DOMAIN, "MX", [(10, f"mx.{DOMAIN}")])
    table.set(DOMAIN, "A", ["192.0.2.20"])
    table.set(f"relay.{DOMAIN}", "A", [RELAY_IP])
    return table


def doctor(project, dns: DnsServer | str, *args: str, env: dict | None = None):
    address = dns if isinstance(dns, str) else dns.address
    result = project.cli("doctor", "--resolver", address, "--timeout", "2", *args,
                         env=NO_SPAMASSASSIN if env is None else env)
    assert "Traceback" not in result.err, result.err
    return result


def checks(result) -> dict[str, tuple[str, str]]:
    data = json.loads(result.out)
    return {c["name"]: (c["status"], c["message"]) for c in data["checks"]}


@pytest.fixture
def good(tmp_path: Path):
    project, records = signed_project(tmp_path / "news", CONFIG)
    with DnsServer(good_table(records)) as dns:
        yield project, dns, records


def test_a_correctly_configured_project_passes(good) -> None:
    project, dns, _ = good
    result = doctor(project, dns)
    assert result.code == 0, result.out
    lines = result.out.splitlines()
    assert [line.split(":", 1)[0] for line in lines if not line.startswith("      ")][:-1] == [
        "pass  dkim-key", "pass  dkim-signature", "pass  dkim-alignment",
        "pass  spf-alignment", "pass  one-click", "pass  size", "warn  reserved-name",
        "warn  reserved-name", "pass  unsynced-clicks", "skip  complaints", "pass  dkim-dns",
        "pass  dmarc", "pass  spf", "pass  mx", "pass  unsubscribe-host", "skip  spamassassin"]
    assert lines[0] == "pass  dkim-key: 2048-bit RSA key from .briefing/dkim/s1.pem"
    assert f"pass  dkim-dns: s1._domainkey.{DOMAIN} publishes the configured key (k=rsa)" \
        in lines
    assert f"pass  dmarc: _dmarc.{DOMAIN}: p=quarantine" in lines
    assert f"pass  spf: {DOMAIN} authorises the relay relay.{DOMAIN} ({RELAY_IP})" in lines
    assert f"pass  mx: {DOMAIN}: mx.{DOMAIN} (10)" in lines
    assert lines[-1] == "doctor 2026-W07: 12 passed, 2 warnings, 0 failed, 2 skipped"
    data = json.loads(doctor(project, dns, "--format", "json").out)
    assert data["ok"] is True and data["issue"] == "2026-W07"
    assert data["checks"][0] == {"name": "dkim-key", "status": "pass", "message":
                                 "2048-bit RSA key from .briefing/dkim/s1.pem", "fix": None}


# Each mistake, made for real in the DNS server: the check that catches it, and its line.
S1 = f"s1._domainkey.{DOMAIN}"
MISTAKES = [
    ("dkim record missing", lambda t, r: t.set(S1, "TXT", None), "dkim-dns", "fail",
     f"no DKIM key record at {S1}: receivers cannot check the signature"),
    ("another key published", lambda t, r: t.set(S1, "TXT", [
        r[S1][:40] + ("A" if r[S1][40] != "A" else "B") + r[S1][41:]]), "dkim-dns", "fail",
     f"the key published at {S1} is not the configured key's public half: every signature "
     "will fail"),
    ("key revoked", lambda t, r: t.set(S1, "TXT", ["v=DKIM1; k=rsa; p="]), "dkim-dns", "fail",
     f"the key at {S1} is revoked (empty p=)"),
    ("two key records", lambda t, r: t.set(S1, "TXT", [r[S1], "v=DKIM1; k=rsa; p=AAAA"]),
     "dkim-dns", "fail",
     f"2 DKIM key records at {S1}; a selector holds one"),
    ("dmarc missing", lambda t, r: t.set(f"_dmarc.{DOMAIN}", "TXT", None), "dmarc", "fail",
     f"no DMARC record at _dmarc.{DOMAIN} nor at _dmarc.example.org: Gmail and Yahoo refuse "
     "bulk mail from a domain without one"),
    ("dmarc at the organisational domain", lambda t, r: (
        t.set(f"_dmarc.{DOMAIN}", "TXT", None),
        t.set("_dmarc.example.org", "TXT", ["v=DMARC1; p=reject; sp=none"])),
     "dmarc", "pass", "_dmarc.example.org: p=none (what Gmail and Yahoo require; quarantine or "
                      f"reject also stops others from sending as {DOMAIN})"),
    ("dmarc without a policy", lambda t, r: t.set(f"_dmarc.{DOMAIN}", "TXT", ["v=DMARC1; "
                                                                             "rua=mailto:x@y"]),
     "dmarc", "fail", f"the DMARC record at _dmarc.{DOMAIN} has no valid p= policy"),
    ("two dmarc records", lambda t, r: t.set(f"_dmarc.{DOMAIN}", "TXT", [
        "v=DMARC1; p=none", "v=DMARC1; p=reject"]), "dmarc", "fail",
     f"2 DMARC records at _dmarc.{DOMAIN}: receivers then apply none (RFC 7489 6.6.3)"),
    ("spf missing", lambda t, r: t.set(DOMAIN, "TXT", ["google-site-verification=x"]), "spf",
     "fail", f"no SPF record for {DOMAIN}, the bounce domain (SPF checks the envelope sender's "
             "domain)"),
    ("spf does not name the relay", lambda t, r: t.set(DOMAIN, "TXT", [
        "v=spf1 ip4:198.51.100.7 -all"]), "spf", "fail",
     f"the SPF record for {DOMAIN} gives 'fail' for the relay relay.{DOMAIN} ({RELAY_IP}): "
     "receivers will not count SPF as passed"),
    ("spf softfails the relay", lambda t, r: t.set(DOMAIN, "TXT", ["v=spf1 ~all"]), "spf",
     "warn", f"the SPF record for {DOMAIN} gives 'softfail' for the relay relay.{DOMAIN} "
             f"({RELAY_IP}): receivers will not count SPF as passed"),
    ("spf broken", lambda t, r: t.set(DOMAIN, "TXT", ["v=spf1 ip4:not-an-address -all"]),
     "spf", "fail", f"the SPF record for {DOMAIN} is broken: "),
    ("two spf records", lambda t, r: t.set(DOMAIN, "TXT", ["v=spf1 -all", "v=spf1 ~all"]),
     "spf", "fail", f"2 SPF records for {DOMAIN}: receivers treat that as a permanent error "
                    "(RFC 7208 4.5)"),
    ("no mx, an address", lambda t, r: t.set(DOMAIN, "MX", None), "mx", "warn",
     f"{DOMAIN} has no MX record; mail to it falls back to its address record (RFC 5321 5.1)"),
    ("null mx", lambda t, r: t.set(DOMAIN, "MX", [(0, ".")]), "mx", "fail",
     f"{DOMAIN} publishes a null MX (RFC 7505): it accepts no mail, so bounces are lost"),
    ("unsubscribe host gone", lambda t, r: t.set(DOMAIN, "A", None), "unsubscribe-host", "fail",
     f"the one-click host {DOMAIN} does not resolve: every unsubscribe click fails"),
]


@pytest.mark.parametrize(("what", "break_it", "name", "status", "message"), MISTAKES,
                         ids=[m[0] for m in MISTAKES])
def test_each_dns_mistake_gets_its_own_line(good, what, break_it, name, status,
                                            message) -> None:
    project, dns, records = good
    break_it(dns.table, records)
    result = doctor(project, dns, "--format", "json")
    assert result.code == (1 if status == "fail" else 0), result.out
    found = checks(result)
    assert found[name][0] == status
    assert found[name][1].startswith(message) and (message.endswith(": ") or
                                                   found[name][1] == message), found[name]
    others = {n: s for n, (s, _) in found.items()
              if n in ("dkim-dns", "dmarc", "spf", "mx", "unsubscribe-host") and n != name}
    if what != "unsubscribe host gone":  # the same A record is the MX fallback
        assert set(others.values()) == {"pass"}, others


def test_no_mx_and_no_address_means_bounces_are_lost(good) -> None:
    project, dns, _ = good
    dns.table.set(DOMAIN, "MX", None)
    dns.table.set(DOMAIN, "A", None)
    found = checks(doctor(project, dns, "--format", "json"))
    assert found["mx"] == ("fail", f"{DOMAIN} has no MX record and no address: bounces sent to "
                                   "the envelope sender never arrive")


def test_an_unreachable_resolver_is_one_clear_line(good) -> None:
    project, _, _ = good
    address = closed_port()
    result = doctor(project, address, "--timeout", "1")
    assert result.code == 1 and result.err == ""
    dns_lines = [line for line in result.out.splitlines()
                 if line.startswith(("pass  d", "fail  d", "pass  s", "fail  s", "pass  mx",
                                     "fail  dns"))]
    assert [line for line in result.out.splitlines() if "dns" in line.split(":")[0]] == [
        f"fail  dns: the resolver {address} did not answer within 1 s: DNS checks skipped"]
    assert not any(line.startswith(("pass  dmarc", "pass  spf:", "pass  mx")) for line in
                   dns_lines)
    bad = project.cli("doctor", "--resolver", "127.0.0.1:99999")
    assert bad.code == 2 and "port 99999 is out of range" in bad.err


def test_the_sample_fails_with_the_fixes(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    root.mkdir()
    shutil.copy(REPO / "briefing.yaml", root)
    shutil.copytree(REPO / "briefs", root / "briefs")
    with DnsServer(Table()) as dns:
        result = run_cli(root, "doctor", "--resolver", dns.address, "--timeout", "2",
                         env=NO_SPAMASSASSIN)
    assert result.code == 1 and result.err == ""
    host = "framebyframe.example.org"
    assert result.out.splitlines() == [
        "fail  dkim: no dkim: in briefing.yaml, so copies go out unsigned unless the relay "
        "signs them; Gmail, Yahoo and Outlook.com junk or refuse unsigned bulk mail",
        "      fix: run 'briefing dkim keygen --selector S', publish the record it prints and "
        "add its dkim: block; or write 'dkim: relay' if the relay signs with List-Unsubscribe "
        "and List-Unsubscribe-Post in h=",
        f"pass  spf-alignment: the bounce domain {host} is aligned with the From domain {host} "
        "for SPF",
        f"pass  one-click: https://{host}/u/{{token}}: https, one {{token}} per reader, "
        "List-Unsubscribe-Post in every copy (RFC 8058)",
        "pass  size: the email's HTML is 33.9 KB, under Gmail's 102 KB clip",
        "fail  init-placeholder: address 'Frame by Frame, 1 Example Street, Example City' is "
        "the placeholder postal line 'briefing init' writes",
        "      fix: write the newsletter's real postal address; the law in many countries, "
        "CAN-SPAM in the US among them, wants one in every copy",
        "warn  reserved-name: sender, recipients, list_address, reply_to, unsubscribe.url, "
        f"unsubscribe.mailto, archive_url: {host} is a reserved name (RFC 2606, RFC 6761) that "
        "never receives mail",
        "      fix: fine for tests and samples; use your own domain for a real list",
        "warn  unsynced-clicks: no sync.events in briefing.yaml (and no .briefing/events.jsonl):"
        " one-click unsubscribes recorded by the endpoint never reach the list",
        "      fix: set sync.events to the endpoint's events file or its https /events URL",
        "skip  complaints: no subscriber store yet: nothing was sent",
        "skip  dkim-dns: no key configured, so no record to compare (the relay's selector is "
        "its own)",
        f"fail  dmarc: no DMARC record at _dmarc.{host} nor at _dmarc.example.org: Gmail and "
        "Yahoo refuse bulk mail from a domain without one",
        "      fix: publish _dmarc.example.org. IN TXT \"v=DMARC1; p=none; "
        "rua=mailto:dmarc@example.org\" (start with p=none, then quarantine)",
        f"fail  spf: no SPF record for {host}, the bounce domain (SPF checks the envelope "
        "sender's domain)",
        f"      fix: publish {host}. IN TXT \"v=spf1 include:<your relay's SPF domain> -all\" "
        "(your relay's documentation names it)",
        f"fail  mx: {host} has no MX record and no address: bounces sent to the envelope sender "
        "never arrive",
        f"      fix: publish an MX record for {host}, or set bounce_address to a mailbox you "
        "read",
        f"fail  unsubscribe-host: the one-click host {host} does not resolve: every unsubscribe "
        "click fails",
        f"      fix: publish an address record for {host}",
        "skip  spamassassin: spamassassin is not installed, so no spam score (Debian: apt-get "
        "install spamassassin)",
        "doctor 2026-W10: 3 passed, 2 warnings, 6 failed, 3 skipped",
    ]


def test_init_placeholders_fail_each_on_its_own_line(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init", "news").code == 0
    with DnsServer(Table()) as dns:
        result = run_cli(tmp_path / "news", "doctor", "--resolver", dns.address,
                         "--format", "json", env=NO_SPAMASSASSIN)
    placeholders = [c for c in json.loads(result.out)["checks"]
                    if c["name"] == "init-placeholder"]
    assert [c["message"].split(" is ")[0] for c in placeholders] == [
        "sender 'news@example.org'", "unsubscribe.url 'https://example.org/u/{token}'",
        "archive_url 'https://example.org/archive/'",
        "address 'My Briefing, 1 Example Street, Example City'", "recipients: example.org"]
    assert placeholders[0]["fix"] == "replace example.org with your own domain in briefing.yaml"


@pytest.mark.parametrize(("delivered", "complained", "status"), [
    (1000, 0, "pass"), (1000, 1, "warn"), (1000, 3, "fail"), (200, 1, "fail")])
def test_the_last_issues_complaint_rate(good, delivered: int, complained: int,
                                        status: str) -> None:
    project, dns, _ = good
    assert project.cli("subscribers", "add", "someone@readers.test").code == 0
    db = sqlite3.connect(project.root / ".briefing/state.sqlite3")
    with db:
        db.executemany(
            "INSERT INTO deliveries (issue, address, address_key, message_id, sha256, state, "
            "attempted_at, accepted_at) VALUES ('2026-W07', ?, ?, ?, 'x', 'accepted', "
            "'2026-02-13T08:00:00Z', '2026-02-13T08:00:01Z')",
            [(f"r{n}@readers.test", f"r{n}@readers.test", f"<{n}@x>") for n in range(delivered)])
        db.executemany("INSERT INTO feedback (issue, address, address_key, kind, source, at) "
                       "VALUES ('2026-W07', ?, ?, 'complained', 'mailbox', "
                       "'2026-02-14T00:00:00Z')",
                       [(f"r{n}@readers.test", f"r{n}@readers.test") for n in range(complained)])
    db.close()
    found = checks(doctor(project, dns, "--format", "json"))
    rate = complained / delivered * 100
    assert found["complaints"][0] == status
    assert found["complaints"][1].startswith(
        f"issue 2026-W07: {complained} of {delivered} copies complained ({rate:.2f}%)")


def test_unsubscribes_waiting_more_than_two_days_fail(good) -> None:
    project, dns, _ = good
    now = dt.datetime.now(dt.UTC)
    old = (now - dt.timedelta(hours=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    project.write(".briefing/events.jsonl",
                  f'{{"token": "AAAAAAAAAAAAAAAAAAAAAAAA", "time": "{old}"}}\n'
                  f'{{"token": "BBBBBBBBBBBBBBBBBBBBBBBB", "time": "{recent}"}}\n')
    found = checks(doctor(project, dns, "--format", "json"))
    assert found["unsynced-clicks"] == (
        "fail", f"1 unsubscribe in .briefing/events.jsonl not applied to the list, the oldest "
                f"from {old[:10]} {old[11:16]} UTC: Gmail and Yahoo require honouring one-click "
                "unsubscribes within two days")
    assert project.cli("subscribers", "sync").code == 0
    found = checks(doctor(project, dns, "--format", "json"))
    assert found["unsynced-clicks"] == ("pass", "no one-click unsubscribe waits longer than 48 "
                                                "hours")


class OneClick(http.server.BaseHTTPRequestHandler):
    """The endpoint's answer to a one-click POST, or a redirect (a wrong deployment)."""

    answer = 200
    posts: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.posts.append((self.path, body))
        self.send_response(self.answer)
        if 300 <= self.answer < 400:
            self.send_header("Location", "https://127.0.0.1/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def https(tmp_path: Path):
    cert, key = make_certificate(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OneClick)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    OneClick.posts = []
    try:
        yield server.server_address[1], cert
    finally:
        server.shutdown()
        server.server_close()


def test_live_posts_the_placeholder_and_sends_a_signed_test_copy(tmp_path: Path, https) -> None:
    port, cert = https
    config = CONFIG.replace(f"https://{DOMAIN}/u/{{token}}",
                            f"https://127.0.0.1:{port}/u/{{token}}")
    project, records = signed_project(tmp_path / "news", config)
    env = {**NO_SPAMASSASSIN, "SSL_CERT_FILE": str(cert)}
    with DnsServer(good_table(records)) as dns, Server() as smtp:
        OneClick.answer = 200
        result = doctor(project, dns, "--live", "--to", "me@readers.test", "--smtp", smtp.url,
                        "--insecure", "--format", "json", env=env)
        found = checks(result)
        assert found["one-click-live"] == (
            "pass", f"POST https://127.0.0.1:{port}/u/ARCHIVE-COPY-NOT-A-TOKEN answered 200")
        assert OneClick.posts == [("/u/ARCHIVE-COPY-NOT-A-TOKEN", b"List-Unsubscribe=One-Click")]
        assert found["test-send"][0] == "pass"
        assert re.fullmatch(rf"a test copy to me@readers.test went through smtp://127\.0\.0\.1:"
                            rf"{smtp.port} \(250 .*\); look at its headers: Authentication-"
                            r"Results should say dkim=pass, spf=pass, dmarc=pass",
                            found["test-send"][1])
        (copy,) = smtp.received
        assert copy.rcpt_tos == ["me@readers.test"] and copy.mail_from == f"news@{DOMAIN}"
        assert verifier(dns)(copy.data) == [True]
        assert not (project.root / ".briefing/state.sqlite3").exists()  # nothing recorded
        OneClick.answer = 302
        found = checks(doctor(project, dns, "--live", "--format", "json", env=env))
        assert found["one-click-live"] == (
            "fail", f"POST https://127.0.0.1:{port}/u/ARCHIVE-COPY-NOT-A-TOKEN answered 302, a "
                    "redirect: receivers do not follow it (RFC 8058 3.2)")
        assert found["test-send"] == ("skip", "no --to ADDRESS, so no test copy was sent")
        untrusted = checks(doctor(project, dns, "--live", "--format", "json"))
        assert untrusted["one-click-live"][0] == "fail"
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted["one-click-live"][1]
    alone = project.cli("doctor", "--to", "me@readers.test")
    assert (alone.code, alone.err) == (1, "--to: error: sends a test copy, which only --live "
                                          "does (add --live)\n")


def test_spamassassin_scores_a_readers_copy(good) -> None:
    if shutil.which("spamassassin") is None:
        pytest.skip("needs Debian's spamassassin, installed by .ci/run")
    project, dns, _ = good
    result = doctor(project, dns, "--format", "json", env={})
    status, message = checks(result)["spamassassin"]
    assert status == "pass", message
    assert re.fullmatch(r"score -?\d+(\.\d+)? \(spam at 5\.0\); rules hit: [A-Z0-9_, ]+ "
                        r"\(\d+ s, local rules only\)", message), message
