"""DKIM-signed copies: keygen, every copy `send` hands over is signed and verifies with dkimpy's
verifier looking the key up in a real DNS server on 127.0.0.1, through aiosmtpd and through a
private Postfix; the one-click fields are covered and tampering breaks the signature; a broken
key stops the send before the first copy."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import dkim
import dns.resolver
import pytest

from conftest import BRIEF, ISSUE, ProjectFactory, make_project
from dns_server import DnsServer, Table
from smtp_server import Server

DOMAIN = "news.example.org"
CONFIG = f"""\
name: Signed News
sender: Signed News <news@{DOMAIN}>
recipients:
  - One <one@readers.test>
  - Two <two@readers.test>
list_address: Readers <readers@{DOMAIN}>
unsubscribe:
  url: https://{DOMAIN}/u/{{token}}
  mailto: mailto:leave+{{token}}@{DOMAIN}
archive_url: https://{DOMAIN}/archive/
address: 2 Test Road, Testtown
themes:
  - id: industry
    title: Industry
  - id: ethics
    title: Ethics
lint:
  disable: [reserved-name]
dkim:
  domain: {DOMAIN}
  selector: s1
  key: .briefing/dkim/s1.pem
"""
ONE_CLICK = ("list-unsubscribe", "list-unsubscribe-post")


def signed_project(root: Path, config: str = CONFIG, *keygen: str) -> tuple[ProjectFactory,
                                                                             dict[str, str]]:
    """A project with a new key (made by `briefing dkim keygen`), built; and the TXT records
    keygen printed, by name."""
    project = make_project(root, config=config, issue=ISSUE,
                           briefs={"industry.yaml": BRIEF})
    made = project.cli("dkim", "keygen", "--selector", "s1", *keygen)
    assert made.code == 0, made.err
    assert project.cli("build").code == 0
    return project, zone_records(made.out)


def zone_records(output: str) -> dict[str, str]:
    """`name. IN TXT "a" "b"` lines -> {name: "ab"} (a receiver joins the strings)."""
    records = {}
    for line in output.splitlines():
        match = re.fullmatch(r"(\S+)\. IN TXT ((?:\"[^\"]*\" ?)+)", line)
        if match:
            records[match.group(1)] = "".join(re.findall(r'"([^"]*)"', match.group(2)))
    return records


def verifier(server: DnsServer):
    """dkimpy's verifier, looking keys up through dnspython in the test DNS server."""
    resolver = dns_resolver(server)

    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        try:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(answer[0].strings)

    def one(checker: dkim.DKIM, index: int) -> bool:
        try:
            return checker.verify(idx=index, dnsfunc=lookup)
        except dkim.DKIMException:  # a body hash mismatch is raised, not returned
            return False

    def verify(message: bytes) -> list[bool]:
        checker = dkim.DKIM(message, minkey=2048)
        count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
        return [one(checker, i) for i in range(count)]
    return verify


def dns_resolver(server: DnsServer) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = server.port
    resolver.lifetime = 5
    return resolver


def signed_fields(message: bytes) -> list[set[str]]:
    """The h= of each DKIM-Signature, lower-cased."""
    out = []
    for name, value in dkim.rfc822_parse(message)[0]:
        if name.lower() == b"dkim-signature":
            tags = dkim.util.parse_tag_value(re.sub(rb"\r?\n", b"", value))
            out.append({h.strip().decode().lower() for h in tags[b"h"].split(b":")})
    return out


def header_line(message: bytes, name: bytes) -> bytes:
    match = re.search(rb"(?im)^" + name + rb":[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*", message)
    assert match, name
    return match.group(0)


def test_keygen_writes_a_private_key_and_prints_the_record_and_block(tmp_path: Path) -> None:
    project = make_project(tmp_path / "news", config=CONFIG)
    made = project.cli("dkim", "keygen", "--selector", "s1", "--ed25519")
    assert made.code == 0, made.err
    key = project.root / ".briefing/dkim/s1.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert b"BEGIN PRIVATE KEY" in key.read_bytes()
    lines = made.out.splitlines()
    assert lines[:2] == [
        "wrote .briefing/dkim/s1.pem (private key, mode 0600: back it up with the store)",
        "wrote .briefing/dkim/s1-ed25519.pem (private key, mode 0600: back it up with the store)"]
    assert lines[2:4] == ["", "publish in DNS (zone-file syntax; a web form takes the quoted "
                              "text joined):"]
    assert re.fullmatch(r's1\._domainkey\.news\.example\.org\. IN TXT "v=DKIM1; k=rsa; '
                        r'p=[A-Za-z0-9+/]{200,}"( "[A-Za-z0-9+/=]+")+', lines[4])
    assert re.fullmatch(r's1-ed25519\._domainkey\.news\.example\.org\. IN TXT "v=DKIM1; '
                        r'k=ed25519; p=[A-Za-z0-9+/]{43}="', lines[5])
    assert lines[6:] == ["", "then add to briefing.yaml:", "dkim:", f"  domain: {DOMAIN}",
                         "  selector: s1", "  key: .briefing/dkim/s1.pem",
                         "  ed25519_key: .briefing/dkim/s1-ed25519.pem", "",
                         "and run 'briefing doctor' once the record is published"]
    # The key pairs with the record: the public half in p= is the private key's.
    public = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-outform", "DER"],
                            capture_output=True, check=True).stdout
    import base64
    assert base64.b64encode(public).decode() in "".join(
        re.findall(r'"([^"]*)"', lines[4]))
    again = project.cli("dkim", "keygen", "--selector", "s1")
    assert (again.code, again.err) == (1, ".briefing/dkim/s1.pem: error: already exists; "
                                          "keygen never overwrites a key (its record may be "
                                          "published) (choose another --selector)\n")


@pytest.mark.parametrize(("args", "message"), [
    (("--selector", "s_1"), "--selector: error: 's_1' is not a selector (letters, digits and "
                            "'-', e.g. news2026)\n"),
    (("--selector", "s1", "--domain", "nodots"), "--domain: error: 'nodots' is not a domain "
                                                 "name\n"),
])
def test_keygen_refuses_bad_names(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    project = make_project(tmp_path / "news", config=CONFIG)
    result = project.cli("dkim", "keygen", *args)
    assert (result.code, result.err) == (1, message)
    assert not (project.root / ".briefing/dkim").exists() or not any(
        (project.root / ".briefing/dkim").iterdir())


def test_keygen_outside_a_project_needs_a_domain(tmp_path: Path) -> None:
    from conftest import run_cli
    result = run_cli(tmp_path, "dkim", "keygen", "--selector", "s1")
    assert (result.code, result.err) == (1, "--domain: error: no briefing.yaml here to take "
                                            "the sender's domain from (pass --domain "
                                            "example.org)\n")
    made = run_cli(tmp_path, "dkim", "keygen", "--selector", "s1", "--domain", "News.Test")
    assert made.code == 0 and "s1._domainkey.news.test. IN TXT" in made.out


def test_every_copy_is_signed_and_verifies_and_tampering_breaks_it(tmp_path: Path) -> None:
    project, records = signed_project(tmp_path / "news")
    readers = "email,name\n" + "".join(f"r{n}@readers.test,Reader {n}\n" for n in range(8))
    project.write("readers.csv", readers)
    assert project.cli("subscribers", "import", "readers.csv", "--email-column",
                       "email").code == 0
    with DnsServer(Table({(name, "TXT"): [value] for name, value in records.items()})) as dns, \
            Server() as server:
        sent = project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure")
        assert sent.code == 0, sent.err
        verify = verifier(dns)
        copies = [r.data for r in server.received]
        assert len(copies) == 10
        for copy in copies:
            assert copy.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
            assert verify(copy) == [True]
            (fields,) = signed_fields(copy)
            assert fields >= {"from", "to", "subject", "date", "message-id", "list-id",
                              "list-unsubscribe", "list-unsubscribe-post", "mime-version",
                              "content-type"}
        copy = copies[0]
        unsubscribe = header_line(copy, b"List-Unsubscribe")
        post = header_line(copy, b"List-Unsubscribe-Post")
        token = re.search(rb"/u/([A-Za-z0-9_-]{24})>", unsubscribe).group(1)
        other = bytes(reversed(token))
        tampered = {
            "another token in List-Unsubscribe": copy.replace(
                unsubscribe, unsubscribe.replace(token, other)),
            "List-Unsubscribe-Post changed": copy.replace(
                post, b"List-Unsubscribe-Post: List-Unsubscribe=Two-Clicks"),
            "List-Unsubscribe-Post removed": copy.replace(post + b"\r\n", b""),
            "a second List-Unsubscribe added": copy.replace(
                unsubscribe, unsubscribe + b"\r\nList-Unsubscribe: <https://evil.test/u>"),
            "a second From added": copy.replace(
                b"\r\nFrom:", b"\r\nFrom: Evil <evil@evil.test>\r\nFrom:", 1),
            "a Reply-To added": copy.replace(b"\r\nTo:", b"\r\nReply-To: <evil@evil.test>"
                                                       b"\r\nTo:", 1),
            "a body byte changed": copy.replace(b"</body>", b"</bodY>"),
        }
        for what, message in tampered.items():
            assert message != copy, what
            assert verify(message) == [False], what
        # Unchanged but for folding, or with a Received line on top: still verifies.
        assert verify(b"Received: from relay.test by mx.test; Fri, 13 Feb 2026 00:00:00 "
                      b"+0000\r\n" + copy) == [True]


def test_a_second_ed25519_signature_verifies_too(tmp_path: Path) -> None:
    config = CONFIG + "  ed25519_key: .briefing/dkim/s1-ed25519.pem\n"
    project, records = signed_project(tmp_path / "news", config, "--ed25519")
    assert set(records) == {f"s1._domainkey.{DOMAIN}", f"s1-ed25519._domainkey.{DOMAIN}"}
    with DnsServer(Table({(n, "TXT"): [v] for n, v in records.items()})) as dns, \
            Server() as server:
        sent = project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure")
        assert sent.code == 0, sent.err
        for received in server.received:
            assert received.data.startswith(b"DKIM-Signature: v=1; a=ed25519-sha256;")
            assert verifier(dns)(received.data) == [True, True]
        # Without the Ed25519 record, that signature fails and the RSA one still verifies.
        dns.table.set(f"s1-ed25519._domainkey.{DOMAIN}", "TXT", None)
        assert verifier(dns)(server.received[0].data) == [False, True]


def test_copies_that_went_through_postfix_still_verify(tmp_path: Path) -> None:
    from postfix import Postfix, skip_unless_available, wait_until
    skip_unless_available()
    project, records = signed_project(tmp_path / "news")
    with DnsServer(Table({(n, "TXT"): [v] for n, v in records.items()})) as dns, \
            Server() as sink, Postfix(sink.port) as mta:
        sent = project.cli("send", "--no-dry-run", "--smtp", mta.url, "--insecure")
        assert sent.code == 0, sent.err
        wait_until(lambda: len(sink.received) == 2, 60, "both copies at the sink", mta)
        for received in sink.received:
            assert b"Received: " in received.data  # Postfix added its trace fields
            assert verifier(dns)(received.data) == [True]
        # And through Postfix's own sendmail command (LF line ends handed over as they are).
        again = project.cli("send", "--no-dry-run", "--force", "--sendmail",
                            " ".join(mta.sendmail("-i")))
        assert again.code == 0, again.err
        wait_until(lambda: len(sink.received) == 4, 60, "the copies sent by sendmail", mta)
        for received in sink.received[2:]:
            assert verifier(dns)(received.data) == [True]


def _write_key(path: Path, pem: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pem)
    os.chmod(path, mode)


def _pem(kind: str) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        Encoding,
        NoEncryption,
        PrivateFormat,
    )
    if kind == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
        return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024 if kind == "rsa1024"
                                   else 2048)
    encryption = BestAvailableEncryption(b"secret") if kind == "encrypted" else NoEncryption()
    return key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, encryption)


KEY = ".briefing/dkim/s1.pem"


@pytest.mark.parametrize(("case", "message"), [
    ("missing", f"{KEY}: error: the DKIM key does not exist; nothing was sent (make one with "
                "'briefing dkim keygen --selector S', or fix dkim.key in briefing.yaml)"),
    ("readable", f"{KEY}: error: the DKIM key can be read by others (mode 644): anyone who "
                 "reads it can sign as you; nothing was sent (chmod 600 .briefing/dkim/s1.pem, "
                 "and make a new key if others may have copied it)"),
    ("unreadable", f"{KEY}: error: cannot read the DKIM key: Is a directory; nothing was sent"),
    ("garbage", f"{KEY}: error: is not a PEM private key (ValueError); nothing was sent (make "
                "one with 'briefing dkim keygen --selector S')"),
    ("encrypted", f"{KEY}: error: the DKIM key is encrypted with a passphrase; nothing was sent "
                  "(store it unencrypted, mode 0600 (briefing signs unattended): openssl pkey "
                  "-in KEY -out NEW)"),
    ("rsa1024", f"{KEY}: error: is a 1024-bit RSA key; receivers (Gmail, Yahoo) want 2048 bits "
                "or more; nothing was sent (make a new one with 'briefing dkim keygen "
                "--selector NEW' and publish its record)"),
    ("ed25519", f"{KEY}: error: is not an RSA key: dkim.key signs rsa-sha256, which every "
                "receiver checks; nothing was sent (an Ed25519 key goes in dkim.ed25519_key, "
                "beside an RSA one)"),
    ("published", f"{KEY}: error: is under out/, which is published as is; nothing was sent "
                  "(move it into .briefing/dkim/ and point dkim.key there)"),
    ("env", "$NEWS_DKIM: error: is not set, so there is no DKIM key to sign with; nothing was "
            "sent (export NEWS_DKIM with the PEM, or use dkim.key with a file)"),
])
def test_a_broken_key_stops_every_send_before_the_first_copy(tmp_path: Path, case: str,
                                                             message: str) -> None:
    config = CONFIG.replace("  key: .briefing/dkim/s1.pem\n", "  key_env: NEWS_DKIM\n") \
        if case == "env" else CONFIG
    project = make_project(tmp_path / "news", config=config, briefs={"industry.yaml": BRIEF})
    assert project.cli("build").code == 0
    key = project.root / KEY
    if case == "readable":
        _write_key(key, _pem("rsa"), 0o644)
    elif case == "unreadable":
        key.mkdir(parents=True, mode=0o700)
    elif case == "garbage":
        _write_key(key, b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    elif case in ("encrypted", "rsa1024", "ed25519"):
        _write_key(key, _pem(case))
    elif case == "published":
        _write_key(project.root / "out/s1.pem", _pem("rsa"))
        key.parent.mkdir(parents=True)
        key.symlink_to(project.root / "out/s1.pem")
    with Server() as server:
        for args in ((), ("--no-dry-run",), ("--no-dry-run", "--to", "me@readers.test")):
            result = project.cli("send", *args, "--smtp", server.url, "--insecure",
                                 env={"NEWS_DKIM": ""})
            assert (result.code, result.err) == (1, message + "\n"), args
        assert server.received == []


def test_a_key_in_an_environment_variable_signs(tmp_path: Path) -> None:
    config = CONFIG.replace("  key: .briefing/dkim/s1.pem\n", "  key_env: NEWS_DKIM\n")
    project = make_project(tmp_path / "news", config=config, briefs={"industry.yaml": BRIEF})
    assert project.cli("build").code == 0
    pem = _pem("rsa")
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from briefing.deliver.dkim import rsa_record
    record = rsa_record(load_pem_private_key(pem, None))
    with DnsServer(Table({(f"s1._domainkey.{DOMAIN}", "TXT"): [record]})) as dns, \
            Server() as server:
        sent = project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure",
                           env={"NEWS_DKIM": pem.decode()})
        assert sent.code == 0, sent.err
        assert [verifier(dns)(r.data) for r in server.received] == [[True], [True]]


BAD_BLOCKS = [
    ("dkim: yes\n", "briefing.yaml:19:7: error: 'dkim' should be 'relay' or a mapping of keys "
                    "to values, not a yes/no value"),
    ("dkim: relays\n", "briefing.yaml:19:7: error: 'dkim' should be 'relay' or a mapping with "
                       "domain, selector, key, key_env, ed25519_key, not 'relays'"),
    ("dkim:\n  domain: news.example.org\n  selector: s1\n",
     "briefing.yaml:20:3: error: 'dkim' needs one of 'key' (the private key's file) or "
     "'key_env' (a variable holding it), not neither ('briefing dkim keygen --selector S' "
     "makes a key and prints the block)"),
    ("dkim:\n  domain: news.example.org\n  selector: s1\n  key: k.pem\n  key_env: K\n",
     "briefing.yaml:20:3: error: 'dkim' needs one of 'key' (the private key's file) or "
     "'key_env' (a variable holding it), not both ('briefing dkim keygen --selector S' makes "
     "a key and prints the block)"),
    ("dkim:\n  domain: localhost\n  selector: s1\n  key: k.pem\n",
     "briefing.yaml:20:11: error: 'domain' 'localhost' is not valid (a domain name such as "
     "example.org)"),
    ("dkim:\n  domain: news.example.org\n  selector: s_1\n  key: k.pem\n",
     "briefing.yaml:21:13: error: 'selector' 's_1' is not valid (letters, digits and '-', in "
     "dot-separated labels)"),
    ("dkim:\n  domain: news.example.org\n  selector: s1\n  key: out/k.pem\n",
     "briefing.yaml:22:8: error: 'key' must not be under out/, which is published as is (keep "
     "it in .briefing/, which is private)"),
    ("dkim:\n  domain: news.example.org\n  selector: s1\n  key: ../k.pem\n",
     "briefing.yaml:22:8: error: 'key' must be a path inside the project or an absolute path "
     "('../k.pem') (for example .briefing/dkim/news.pem)"),
    ("dkim:\n  domain: news.example.org\n  selectr: s1\n  key: k.pem\n",
     "briefing.yaml:21:3: error: unknown key 'selectr' (did you mean 'selector'?)"),
]


@pytest.mark.parametrize(("block", "error"), BAD_BLOCKS, ids=[b[0] for b in BAD_BLOCKS])
def test_check_reports_a_bad_dkim_block_at_its_line(tmp_path: Path, block: str,
                                                    error: str) -> None:
    config = CONFIG[:CONFIG.index("dkim:")] + block
    project = make_project(tmp_path / "news", config=config)
    result = project.cli("check")
    assert (result.code, result.err.splitlines()[0]) == (1, error)
    assert len([line for line in result.err.splitlines() if ": error: " in line]) == 1


def test_check_accepts_the_relay_and_a_key_it_does_not_open(tmp_path: Path) -> None:
    """`check` validates the block's shape only: the key is `send`'s and `doctor`'s to open
    (and check imports no cryptography)."""
    for block in ("dkim: relay\n", "dkim:\n  domain: news.example.org\n  selector: s1\n"
                                   "  key: /nonexistent/k.pem\n  ed25519_key: e.pem\n"):
        project = make_project(tmp_path / "news", config=CONFIG[:CONFIG.index("dkim:")] + block)
        result = project.cli("check")
        assert result.code == 0 and result.err == "", result.err


def test_build_help_and_check_load_no_mail_library(tmp_path: Path) -> None:
    """dkimpy, dnspython, cryptography and the rest are for send and doctor only: the commands
    an editor runs on every save never import them (start-up time)."""
    import sys
    project = make_project(tmp_path / "news", config=CONFIG)
    for args in (["--help"], ["check"], ["build"]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "briefing", *args],
                              cwd=project.root, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        loaded = {line.rsplit("|", 1)[1].strip().split(".")[0]
                  for line in done.stderr.splitlines() if line.startswith("import time:")}
        assert not loaded & {"dkim", "dns", "cryptography", "spf", "publicsuffixlist", "nacl",
                             "dnslib"}, args


def test_theme_variants_with_preference_links_and_correction_notices_are_signed(
        tmp_path: Path) -> None:
    """Each theme choice is its own built message, and each copy carries its own signed
    preference link: every copy still verifies; so does every correction notice."""
    config = CONFIG.replace("archive_url:", f"preferences:\n  url: https://{DOMAIN}/p/{{token}}"
                                            "\narchive_url:")
    project = make_project(tmp_path / "news", config=config, issue=ISSUE)  # both themes
    made = project.cli("dkim", "keygen", "--selector", "s1")
    assert made.code == 0, made.err
    assert project.cli("build").code == 0
    records = zone_records(made.out)
    for address, themes in (("i@readers.test", "industry"), ("e@readers.test", "ethics"),
                            ("both@readers.test", "industry,ethics")):
        added = project.cli("subscribers", "add", address, "--themes", themes)
        assert added.code == 0, added.err
    with DnsServer(Table({(name, "TXT"): [value] for name, value in records.items()})) as dns, \
            Server() as server:
        sent = project.cli("send", "--no-dry-run", "--smtp", server.url, "--insecure")
        assert sent.code == 0, sent.err
        verify = verifier(dns)
        by_reader = {r.rcpt_tos[0]: r.data for r in server.received}
        assert set(by_reader) == {"one@readers.test", "two@readers.test", "i@readers.test",
                                  "e@readers.test", "both@readers.test"}
        for address, copy in by_reader.items():
            assert verify(copy) == [True], address
            assert b"/p/" in copy, address  # the signed "Choose what you get" link
        assert b"Second headline" not in by_reader["i@readers.test"]
        assert b"First headline" not in by_reader["e@readers.test"]
        assert b"Second headline" in by_reader["both@readers.test"]

        project.write("briefs/2026-W07/issue.yaml", ISSUE + """\
corrections:
  - date: 2026-02-20
    item: First headline
    text: The deal was signed on 12 February, not 10 February.
""")
        assert project.cli("build").code == 0
        before = len(server.received)
        corrected = project.cli("send", "--correction", "--no-dry-run", "--smtp", server.url,
                                "--insecure")
        assert corrected.code == 0, corrected.err
        notices = server.received[before:]
        assert len(notices) == 5
        for notice in notices:
            assert notice.data.startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")
            assert verify(notice.data) == [True], notice.rcpt_tos
