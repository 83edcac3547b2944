"""`doctor`'s DNS checks (dnspython, each lookup with a deadline): the DKIM key record, DMARC,
SPF (evaluated by pyspf), MX of the bounce domain, and the unsubscribe host."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..content.model import Config
from .preflight import FAIL, PASS, SKIP, WARN, Check

DEFAULT_DEADLINE = 5.0  # seconds for each lookup, retries included
# Where a receiver looks for a sender's policy (RFC 7489 6.1, 6.6.3).
DMARC_PREFIX = "_dmarc."
_SPF = re.compile(r"v=spf1(?:\s|$)", re.IGNORECASE)
_DOC_IP = "192.0.2.1"  # TEST-NET-1 (RFC 5737): evaluates a record without naming a real host


class Unreachable(Exception):
    """The resolver did not answer within the deadline: every DNS check is moot."""


@dataclass
class Lookup:
    """A resolver (the system's, or --resolver HOST[:PORT]) with a deadline per lookup."""

    where: str
    resolver: object  # dns.resolver.Resolver

    @classmethod
    def make(cls, address: str | None, deadline: float = DEFAULT_DEADLINE) -> Lookup:
        import dns.resolver
        if address is None:
            try:
                resolver = dns.resolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                raise Unreachable("no resolver is configured (/etc/resolv.conf)") from None
            where = "the system resolver"
        else:
            host, port = split_resolver(address)
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = [host]
            resolver.port = port
            where = f"the resolver {address}"
        resolver.lifetime = deadline
        resolver.timeout = min(deadline, 2.0)
        return cls(where, resolver)

    def query(self, name: str, kind: str) -> list | None:
        """The answer's records, or None when the name or the type does not exist."""
        import dns.exception
        import dns.resolver
        try:
            return list(self.resolver.resolve(name, kind))  # type: ignore[attr-defined]
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except dns.exception.Timeout:
            raise Unreachable(f"{self.where} did not answer within "
                              f"{self.resolver.lifetime:g} s") from None  # type: ignore[attr-defined]
        except dns.resolver.NoNameservers as exc:
            raise Unreachable(f"{self.where} failed to answer for {name} ({exc})") from None
        except dns.exception.DNSException as exc:  # a malformed name or answer
            raise Unreachable(f"{self.where}: {type(exc).__name__}: {exc}") from None

    def txt(self, name: str) -> list[str]:
        answers = self.query(name, "TXT") or []
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answers]

    def addresses(self, name: str) -> list[str]:
        found = []
        for kind in ("A", "AAAA"):
            found += [r.address for r in self.query(name, kind) or []]
        return found

    @contextlib.contextmanager
    def as_default(self) -> Iterator[None]:
        """pyspf looks names up through dnspython's default resolver: make it this one."""
        import dns.resolver
        previous = dns.resolver.default_resolver
        dns.resolver.default_resolver = self.resolver  # type: ignore[assignment]
        try:
            yield
        finally:
            dns.resolver.default_resolver = previous


def split_resolver(value: str) -> tuple[str, int]:
    """'127.0.0.1', '127.0.0.1:5353', '[::1]:53' or a host name -> (IP address, port)."""
    match = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?|([^:]+)(?::(\d+))?|([0-9a-fA-F:]+)", value)
    if not match:
        raise ValueError(f"'{value}' is not HOST[:PORT]")
    host = match.group(1) or match.group(3) or match.group(5)
    port = int(match.group(2) or match.group(4) or 53)
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            host = socket.getaddrinfo(host, port, proto=socket.IPPROTO_UDP)[0][4][0]
        except OSError:
            raise ValueError(f"cannot find the address of '{host}'") from None
    return host, port


def org_domain(name: str) -> str:
    """The organisational domain (RFC 7489 3.2) by the Public Suffix List bundled with
    publicsuffixlist: news.example.co.uk -> example.co.uk."""
    from publicsuffixlist import PublicSuffixList
    name = name.lower().rstrip(".")
    return _psl(PublicSuffixList).privatesuffix(name) or name


_PSL: list = []


def _psl(factory):  # loading the list takes a moment: once per run
    if not _PSL:
        _PSL.append(factory())
    return _PSL[0]


def tags(record: str) -> dict[str, str]:
    """'v=DKIM1; k=rsa; p=...' -> {'v': 'DKIM1', ...} (whitespace inside values dropped)."""
    out = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            out[name.strip().lower()] = re.sub(r"\s+", "", value)
    return out


# -- the checks ----------------------------------------------------------------------------------


def dkim_record(lookup: Lookup, name: str, expected: str, what: str) -> Check:
    """The selector's TXT record exists, is one, and holds the configured key."""
    from .dkim import zone_line
    records = [r for r in lookup.txt(name) if "p=" in r or r.lower().startswith("v=dkim1")]
    publish = f"publish {zone_line(name, expected)}"
    if not records:
        return Check(what, FAIL, f"no DKIM key record at {name}: receivers cannot check the "
                                 "signature", publish)
    if len(records) > 1:
        return Check(what, FAIL, f"{len(records)} DKIM key records at {name}; a selector "
                                 "holds one", f"keep only the one that {publish[8:]}")
    found, wanted = tags(records[0]), tags(expected)
    if not found.get("p"):
        return Check(what, FAIL, f"the key at {name} is revoked (empty p=)", publish)
    if found.get("k", "rsa") != wanted["k"] or _key_bytes(found["p"]) != _key_bytes(wanted["p"]):
        return Check(what, FAIL, f"the key published at {name} is not the configured key's "
                                 "public half: every signature will fail", publish)
    return Check(what, PASS, f"{name} publishes the configured key (k={wanted['k']})")


def _key_bytes(value: str) -> bytes:
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return b""


def dmarc(lookup: Lookup, from_domain: str) -> Check:
    """RFC 7489 6.6.3: the From domain's record, else its organisational domain's."""
    org = org_domain(from_domain)
    for domain in dict.fromkeys([from_domain, org]):
        name = DMARC_PREFIX + domain
        records = [r for r in lookup.txt(name) if r.lower().replace(" ", "").startswith(
            "v=dmarc1")]
        if len(records) > 1:
            return Check("dmarc", FAIL, f"{len(records)} DMARC records at {name}: receivers "
                                        "then apply none (RFC 7489 6.6.3)", "keep one")
        if not records:
            continue
        found = tags(records[0])
        policy = found.get("sp") if domain != from_domain and "sp" in found else found.get("p")
        if policy not in ("none", "quarantine", "reject"):
            return Check("dmarc", FAIL, f"the DMARC record at {name} has no valid p= policy",
                         f"publish {name}. IN TXT \"v=DMARC1; p=none; rua=mailto:dmarc@{org}\"")
        if policy == "none":
            return Check("dmarc", PASS, f"{name}: p=none (what Gmail and Yahoo require; "
                                        "quarantine or reject also stops others from sending "
                                        f"as {from_domain})")
        return Check("dmarc", PASS, f"{name}: p={policy}")
    return Check("dmarc", FAIL, f"no DMARC record at {DMARC_PREFIX}{from_domain}"
                 + (f" nor at {DMARC_PREFIX}{org}" if org != from_domain else "")
                 + ": Gmail and Yahoo refuse bulk mail from a domain without one",
                 f"publish {DMARC_PREFIX}{org}. IN TXT \"v=DMARC1; p=none; "
                 f"rua=mailto:dmarc@{org}\" (start with p=none, then quarantine)")


def relay_host(config: Config, smtp: str | None = None) -> str:
    """The relay's host when it is another machine ('' for a local MTA or sendmail, whose
    outgoing address this machine cannot know)."""
    url = smtp or config.smtp.url
    host = (urlsplit(url).hostname or "") if url else ""
    if not host or host == "localhost":
        return ""
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_loopback:
            return ""
    return host


def spf(lookup: Lookup, domain: str, relay: str) -> Check:
    """One SPF record for the bounce domain (the envelope sender's, which SPF checks), that
    pyspf can evaluate, and that authorises the relay when the relay is known."""
    import spf as pyspf
    records = [r for r in lookup.txt(domain) if _SPF.match(r)]
    publish = (f"publish {domain}. IN TXT \"v=spf1 include:<your relay's SPF domain> -all\" "
               "(your relay's documentation names it)")
    if not records:
        return Check("spf", FAIL, f"no SPF record for {domain}, the bounce domain (SPF checks "
                                  "the envelope sender's domain)", publish)
    if len(records) > 1:
        return Check("spf", FAIL, f"{len(records)} SPF records for {domain}: receivers treat "
                                  "that as a permanent error (RFC 7208 4.5)", "merge them into one")
    ips = [] if not relay else ([relay] if _is_ip(relay) else lookup.addresses(relay))
    with lookup.as_default():
        results = [(ip, *pyspf.check2(i=ip, s=f"postmaster@{domain}", h=domain,
                                      timeout=lookup.resolver.lifetime))  # type: ignore[attr-defined]
                   for ip in ips or [_DOC_IP]]
    for _ip, result, why in results:
        if result == "permerror":
            return Check("spf", FAIL, f"the SPF record for {domain} is broken: {why}",
                         "fix it (a syntax error, or more than 10 DNS lookups)")
        if result == "temperror":
            return Check("spf", WARN, f"the SPF record for {domain} could not be evaluated: "
                                      f"{why}")
    if not relay:
        return Check("spf", PASS, f"{domain}: {records[0]} (the relay is a local MTA or "
                                  "sendmail, whose outgoing address is not known here: not "
                                  "evaluated for it)")
    if not ips:
        return Check("spf", WARN, f"the relay {relay} has no address in DNS; SPF not evaluated")
    failing = [(ip, result) for ip, result, _ in results if result != "pass"]
    if failing:
        ip, result = failing[0]
        return Check("spf", FAIL if result == "fail" else WARN,
                     f"the SPF record for {domain} gives '{result}' for the relay {relay} "
                     f"({ip}): receivers will not count SPF as passed",
                     "add the relay to the record, e.g. its include: (if the relay sends from "
                     "other addresses than its submission host, its documentation names them)")
    return Check("spf", PASS, f"{domain} authorises the relay {relay} "
                              f"({', '.join(ip for ip, *_ in results)})")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def mx(lookup: Lookup, domain: str) -> Check:
    """DSNs come back to the bounce domain: it needs a mail exchanger (RFC 5321 5.1)."""
    records = lookup.query(domain, "MX")
    if records is None:
        if lookup.addresses(domain):
            return Check("mx", WARN, f"{domain} has no MX record; mail to it falls back to "
                                     "its address record (RFC 5321 5.1)",
                         f"publish an MX record for {domain}")
        return Check("mx", FAIL, f"{domain} has no MX record and no address: bounces sent to "
                                 "the envelope sender never arrive",
                     f"publish an MX record for {domain}, or set bounce_address to a mailbox "
                     "you read")
    hosts = sorted((r.preference, r.exchange.to_text(omit_final_dot=True)) for r in records)
    if any(host in ("", ".") for _, host in hosts):
        return Check("mx", FAIL, f"{domain} publishes a null MX (RFC 7505): it accepts no "
                                 "mail, so bounces are lost", "set bounce_address to a domain "
                                                              "that receives mail")
    return Check("mx", PASS, f"{domain}: " + ", ".join(f"{h} ({p})" for p, h in hosts))


def unsubscribe_host(lookup: Lookup, url: str) -> Check:
    host = urlsplit(url.replace("{token}", "T")).hostname or ""
    if _is_ip(host):
        return Check("unsubscribe-host", PASS, f"{host} is an address")
    found = lookup.addresses(host)
    if not found:
        return Check("unsubscribe-host", FAIL, f"the one-click host {host} does not resolve: "
                                               "every unsubscribe click fails",
                     f"publish an address record for {host}")
    return Check("unsubscribe-host", PASS, f"{host}: {', '.join(found)}")


def dns_checks(config: Config, records: dict[str, tuple[str, str]], resolver: str | None,
               deadline: float = DEFAULT_DEADLINE, smtp: str | None = None) -> list[Check]:
    """Every DNS check, or one line when the resolver cannot be used. `records`: check name
    -> (record name, expected TXT value) for each configured DKIM key."""
    try:
        lookup = Lookup.make(resolver, deadline)
        checks = [dkim_record(lookup, name, value, what) for what, (name, value) in
                  records.items()]
        if config.dkim is None or config.dkim.relay:
            checks.append(Check("dkim-dns", SKIP, "no key configured, so no record to compare "
                                                  "(the relay's selector is its own)"))
        elif not records:
            checks.append(Check("dkim-dns", SKIP, "the key could not be loaded (see dkim-key), "
                                                  "so no record to compare"))
        checks.append(dmarc(lookup, config.sender.domain))
        bounce = bounce_domain(config)
        checks.append(spf(lookup, bounce, relay_host(config, smtp)))
        checks.append(mx(lookup, bounce))
        checks.append(unsubscribe_host(lookup, config.unsubscribe.url))
        return checks
    except Unreachable as exc:
        return [Check("dns", FAIL, f"{exc}: DNS checks skipped",
                      "check --resolver HOST[:PORT] or the network, then run doctor again")]


def bounce_domain(config: Config) -> str:
    """The envelope sender's domain. bounce_address may hold {token} (VERP) in its local part;
    the domain is the same for every reader."""
    return (config.bounce_address or config.sender).address.rpartition("@")[2].lower()
