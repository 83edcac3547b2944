"""Reserved names (RFC 2606, RFC 6761) and init's placeholders in briefing.yaml: pure findings
that `check`, `send` and `doctor` each judge in their own way."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .model import Config

# What `briefing init` writes: mail from these domains is never delivered, and a reader's
# unsubscribe click on them goes nowhere. A real list send refuses them.
PLACEHOLDER_DOMAINS = frozenset({"example.org", "example.com", "example.net"})
# RFC 2606 2 and RFC 6761 6.2-6.4: top-level names that never resolve on the public Internet
# (RFC 6761 6.3: "localhost" names the host itself, never a mail domain for others).
RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost"})
# The scaffold's postal line (editorial/scaffold.py writes "<name>, 1 Example Street, ...").
POSTAL_PLACEHOLDER = "1 Example Street, Example City"

PLACEHOLDER = "placeholder"  # exactly example.org/.com/.net, or the postal line
RESERVED = "reserved"        # any other reserved name: fine for tests and samples

# The fields a real list send refuses at a placeholder domain (issue 19): who it is from,
# where readers unsubscribe, where the archive is. The rest is `doctor`'s to report.
REFUSED_ON_LIST_SEND = ("sender", "unsubscribe.url", "archive_url")


@dataclass(frozen=True)
class Finding:
    """One value of briefing.yaml at a reserved name: `field` is its place ('sender',
    'recipients[2]', 'unsubscribe.url'), `host` the name (empty for the postal line)."""

    field: str
    value: str
    host: str
    kind: str

    @property
    def refused_on_list_send(self) -> bool:
        return self.kind == PLACEHOLDER and self.field in REFUSED_ON_LIST_SEND


def reserved_kind(host: str) -> str:
    """PLACEHOLDER for exactly example.org/.com/.net, RESERVED for their subdomains and the
    reserved top-level names, '' for any other host."""
    name = host.lower().rstrip(".")
    if name in PLACEHOLDER_DOMAINS:
        return PLACEHOLDER
    labels = name.split(".")
    if labels[-1] in RESERVED_TLDS:
        return RESERVED
    if any(name.endswith("." + domain) for domain in PLACEHOLDER_DOMAINS):
        return RESERVED
    return ""


def _host_of(value: str) -> str:
    """The host of an address, a mailto: URL or an http(s) URL."""
    if value.startswith("mailto:"):
        value = value[len("mailto:"):].split("?", 1)[0]
    if "://" in value:
        return (urlsplit(value.replace("{token}", "T")).hostname or "").lower()
    return value.rpartition("@")[2].lower()


def config_findings(config: Config) -> list[Finding]:
    """Every value of briefing.yaml that names a reserved host, and the postal placeholder, in
    the order the keys are usually written."""
    values: list[tuple[str, str]] = [("sender", config.sender.address)]
    values += [(f"recipients[{i}]", box.address) for i, box in enumerate(config.recipients)]
    for name in ("list_address", "reply_to", "bounce_address"):
        box = getattr(config, name)
        if box is not None:
            values.append((name, box.address))
    values.append(("unsubscribe.url", config.unsubscribe.url))
    if config.unsubscribe.mailto:
        values.append(("unsubscribe.mailto", config.unsubscribe.mailto))
    if config.archive_url:
        values.append(("archive_url", config.archive_url))
    if config.brand.logo_url:
        values.append(("brand.logo_url", config.brand.logo_url))
    if config.dkim is not None and config.dkim.domain:
        values.append(("dkim.domain", "@" + config.dkim.domain))
    found = []
    for field, value in values:
        host = _host_of(value)
        kind = reserved_kind(host)
        if kind:
            found.append(Finding(field, value.lstrip("@"), host, kind))
    if POSTAL_PLACEHOLDER.casefold() in config.address.casefold():
        found.append(Finding("address", config.address, "", PLACEHOLDER))
    return found


def describe(finding: Finding) -> tuple[str, str]:
    """A message and its fix for one finding, for a line of `send` or `doctor`."""
    if finding.field == "address":
        return (f"address '{finding.value}' is the placeholder postal line 'briefing init' "
                "writes", "write the newsletter's real postal address; the law in many "
                          "countries, CAN-SPAM in the US among them, wants one in every copy")
    shown = finding.field if finding.field != "dkim.domain" else "dkim domain"
    if finding.kind == PLACEHOLDER:
        return (f"{shown} '{finding.value}' is at {finding.host}, the placeholder 'briefing "
                "init' writes: nothing at it ever reaches anyone",
                f"replace {finding.host} with your own domain in briefing.yaml")
    return (f"{shown} '{finding.value}' is at {finding.host}, a reserved name (RFC 2606, RFC "
            "6761) that never receives mail: fine for tests and samples",
            "use your own domain for a real list")
