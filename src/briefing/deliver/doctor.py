"""`briefing doctor`: everything that can be known before sending, one line per check with its
fix: offline (DKIM, alignment, one-click, size, names, unsubscribes, complaints), DNS, and with
--live the one-click URL and a test copy through the relay; spamassassin's score if installed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..content.model import TOKEN_PLACEHOLDER, Config
from ..content.validate import Project, load_issue
from ..errors import BriefingError, Problem, count
from ..render.html import GMAIL_CLIP_BYTES, size_text
from ..render.issue import render_issue
from .dnschecks import DEFAULT_DEADLINE, bounce_domain, dns_checks, org_domain
from .preflight import (
    FAIL,
    PASS,
    SKIP,
    TEST_TOKEN,
    WARN,
    Check,
    click_checks,
    dkim_checks,
    name_checks,
    signed_copy,
)

COMPLAINT_LIMIT = 0.3  # percent: Gmail's and Yahoo's bulk-sender ceiling
COMPLAINT_TARGET = 0.1  # percent: what Gmail asks senders to stay under
SPAM_WARN = 3.0  # spamassassin points; it calls 5.0 spam
SPAM_DEADLINE = 120.0


@dataclass(frozen=True)
class DoctorOptions:
    resolver: str | None = None   # HOST[:PORT]; None: the system's
    live: bool = False
    to: str = ""                  # --live: send one test copy here
    smtp: str | None = None       # as for send; default smtp.url
    sendmail: str | None = None
    insecure: bool = False
    deadline: float = DEFAULT_DEADLINE


@dataclass
class Diagnosis:
    issue: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(c.status == FAIL for c in self.checks)

    def lines(self) -> list[str]:
        out = []
        for check in self.checks:
            out.append(check.line())
            if check.fix and check.status in (FAIL, WARN):
                out.append(f"      fix: {check.fix}")
        tally = {s: sum(1 for c in self.checks if c.status == s) for s in (PASS, WARN, FAIL,
                                                                           SKIP)}
        out.append(f"doctor {self.issue}: {tally[PASS]} passed, {count(tally[WARN], 'warning')}, "
                   f"{tally[FAIL]} failed, {tally[SKIP]} skipped")
        return out

    def json(self) -> str:
        return json.dumps({"ok": self.ok, "issue": self.issue, "checks": [
            {"name": c.name, "status": c.status, "message": c.message, "fix": c.fix or None}
            for c in self.checks]}, ensure_ascii=False, indent=2) + "\n"


def diagnose(project: Project, issue_id: str | None, options: DoctorOptions) -> Diagnosis:
    """Every check, in the order an editor fixes things: the message, the names, the list,
    then DNS, then the live ones."""
    if options.to and not options.live:
        raise BriefingError(Problem("--to", 0, 0, "sends a test copy, which only --live does",
                                    "add --live"))
    issue = load_issue(project, issue_id)
    config = issue.config
    rendered = render_issue(project, issue).files  # what `build` writes, without writing it
    data = rendered["message.eml"]
    result = Diagnosis(issue.id)
    dkim, keys = dkim_checks(project, issue, data)
    result.checks += dkim
    result.checks += alignment(config)
    result.checks.append(one_click(config))
    result.checks.append(size(len(rendered["email.html"])))
    result.checks += name_checks(config)
    store = _store(project, config)
    try:
        result.checks += click_checks(project, config, store)
        result.checks.append(complaints(store))
    finally:
        if store is not None:
            store.close()
    records = {}
    if keys is not None:
        for index, (name, value) in enumerate(keys.records().items()):
            records["dkim-dns" if index == 0 else "dkim-dns-ed25519"] = (name, value)
    result.checks += dns_checks(config, records, options.resolver, options.deadline,
                                options.smtp)
    copy = signed_copy(issue, data, keys)
    if options.live:
        result.checks.append(one_click_live(config, options.deadline))
        result.checks.append(test_send(config, copy, options))
    result.checks.append(spam_score(copy))
    return result


def _store(project: Project, config: Config):
    """The subscriber store if there is one (doctor never creates it)."""
    from ..subscribers.store import Store
    if not (project.root / config.state).is_file():
        return None
    return Store.open(project.root, config.state)


# -- offline -------------------------------------------------------------------------------------


def alignment(config: Config) -> list[Check]:
    """DMARC passes when SPF or DKIM passes for a domain aligned with From's (RFC 7489 3.1,
    relaxed: the same organisational domain)."""
    sender = config.sender.domain.lower()
    org = org_domain(sender)
    checks = []
    dkim_aligned = None
    if config.dkim is not None and not config.dkim.relay:
        dkim_aligned = org_domain(config.dkim.domain) == org
        checks.append(Check("dkim-alignment", PASS if dkim_aligned else FAIL,
                            f"d={config.dkim.domain} is {'' if dkim_aligned else 'not '}aligned "
                            f"with the From domain {sender} (organisational domain {org})",
                            "" if dkim_aligned else f"sign with a key under {org}"))
    bounce = bounce_domain(config)
    spf_aligned = org_domain(bounce) == org
    if spf_aligned:
        checks.append(Check("spf-alignment", PASS, f"the bounce domain {bounce} is aligned with "
                                                   f"the From domain {sender} for SPF"))
    else:
        checks.append(Check("spf-alignment", WARN if dkim_aligned else FAIL,
                            f"the bounce domain {bounce} (bounce_address, the Return-Path) is "
                            f"not aligned with the From domain {sender}: SPF cannot pass DMARC"
                            + ("; DKIM still can" if dkim_aligned else ""),
                            f"set bounce_address to an address under {org}"))
    return checks


def one_click(config: Config) -> Check:
    url = config.unsubscribe.url
    if urlsplit(url).scheme.lower() == "https" and "{token}" in url:
        return Check("one-click", PASS, f"{url}: https, one {{token}} per reader, "
                                        "List-Unsubscribe-Post in every copy (RFC 8058)")
    return Check("one-click", FAIL, f"{url} is not an https URL with {{token}}",
                 "write it like https://example.org/u/{token}")


def size(html_bytes: int) -> Check:
    if html_bytes > GMAIL_CLIP_BYTES:
        return Check("size", FAIL, f"the email's HTML is {size_text(html_bytes)}: Gmail clips "
                                   "it over 102 KB, hiding the end and the unsubscribe link",
                     "move items to the next issue or shorten summaries")
    return Check("size", PASS, f"the email's HTML is {size_text(html_bytes)}, under Gmail's "
                               "102 KB clip")


def complaints(store) -> Check:
    """The complaint rate of the last issue sent, against Gmail's 0.3% (aim under 0.1%)."""
    if store is None:
        return Check("complaints", SKIP, "no subscriber store yet: nothing was sent")
    from .ledger import Ledger
    row = store.db.execute("SELECT issue FROM deliveries WHERE state = 'accepted' "
                           "ORDER BY accepted_at DESC, id DESC LIMIT 1").fetchone()
    if row is None:
        return Check("complaints", SKIP, "no issue was sent yet")
    delivered, _bounced, complained = Ledger(store, row[0]).outcome()
    rate = complained / delivered * 100 if delivered else 0.0
    copies = "copy" if delivered == 1 else "copies"
    text = f"issue {row[0]}: {complained} of {delivered} {copies} complained ({rate:.2f}%)"
    if rate >= COMPLAINT_LIMIT:
        return Check("complaints", FAIL, f"{text}, at or over Gmail's limit of 0.3%: mail is "
                                         "filtered or refused", "send only to readers who "
                                         "asked for it; make unsubscribing easy to find")
    if rate >= COMPLAINT_TARGET:
        return Check("complaints", WARN, f"{text}: Gmail asks senders to stay under 0.1%")
    return Check("complaints", PASS, f"{text}, under 0.1%")


# -- live ----------------------------------------------------------------------------------------


def one_click_live(config: Config, deadline: float) -> Check:
    """POST the archive placeholder as a receiver would (RFC 8058 3.2): the endpoint must
    answer 200 itself, never a redirect, and records nothing for the placeholder."""
    import urllib.error
    import urllib.request

    url = config.unsubscribe.url_for(TOKEN_PLACEHOLDER)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(url, data=b"List-Unsubscribe=One-Click", method="POST",
                                     headers={"Content-Type":
                                              "application/x-www-form-urlencoded"})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=deadline) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check("one-click-live", FAIL, f"POST {url} failed: {reason}",
                     "run 'briefing subscribers serve' where that URL points (behind https)")
    if status == 200:
        return Check("one-click-live", PASS, f"POST {url} answered 200")
    if 300 <= status < 400:
        return Check("one-click-live", FAIL, f"POST {url} answered {status}, a redirect: "
                                             "receivers do not follow it (RFC 8058 3.2)",
                     "answer the POST at that URL itself")
    return Check("one-click-live", FAIL, f"POST {url} answered {status}, not 200",
                 "run 'briefing subscribers serve' where that URL points (behind https)")


def test_send(config: Config, copy: bytes, options: DoctorOptions) -> Check:
    """One copy (signed as `send` signs) through the relay to --to; nothing is recorded."""
    from ..content.schema import parse_mailbox
    from .sendmail import sendmail_transport
    from .smtp import smtp_transport
    from .transport import Lost, Rejected, Transport

    if not options.to:
        return Check("test-send", SKIP, "no --to ADDRESS, so no test copy was sent")
    try:
        address = parse_mailbox(options.to).address
    except ValueError:
        raise BriefingError(Problem("--to", 0, 0, f"'{options.to}' is not a valid address",
                                    "write it as you@example.org")) from None
    transport: Transport
    if options.sendmail:
        transport = sendmail_transport(options.sendmail, options.deadline * 6)
    elif options.smtp or config.smtp.url:
        transport = smtp_transport(options.smtp or config.smtp.url, config, options.insecure,
                                   options.deadline * 6, "--smtp" if options.smtp else
                                   "briefing.yaml")
    else:
        return Check("test-send", FAIL, "no relay to send through: no smtp.url in briefing.yaml",
                     "set smtp.url, or pass --smtp or --sendmail as for send")
    envelope = (config.bounce_address or config.sender).address.replace("{token}", TEST_TOKEN)
    try:
        transport.open()
        try:
            reply = transport.deliver(envelope, address, copy)
        finally:
            transport.close()
    except (Lost, Rejected) as exc:
        return Check("test-send", FAIL, f"{transport.name} did not take the test copy for "
                                        f"{address}: {exc}", "check smtp: in briefing.yaml")
    except BriefingError as exc:
        return Check("test-send", FAIL, exc.problems[0].message, exc.problems[0].hint)
    return Check("test-send", PASS, f"a test copy to {address} went through {transport.name} "
                                    f"({reply}); look at its headers: Authentication-Results "
                                    "should say dkim=pass, spf=pass, dmarc=pass")


# -- spamassassin --------------------------------------------------------------------------------


_STATUS = re.compile(r"^X-Spam-Status:\s*(\w+),\s*score=(-?[\d.]+)\s+required=(-?[\d.]+)"
                     r"(?:\s+tests=([^\s]*))?", re.MULTILINE)


def spam_score(copy: bytes) -> Check:
    """spamassassin's local rules on a reader's copy (-L: no network tests, so the result does
    not depend on blocklists). Warn above 3 points."""
    program = shutil.which("spamassassin")
    if program is None:
        return Check("spamassassin", SKIP, "spamassassin is not installed, so no spam score "
                                           "(Debian: apt-get install spamassassin)")
    started = dt.datetime.now()
    try:
        done = subprocess.run([program, "-L", "--cf", "report_safe 0"], input=copy,
                              capture_output=True, timeout=SPAM_DEADLINE)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("spamassassin", WARN, f"spamassassin did not finish: {exc}")
    head = done.stdout.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    found = _STATUS.search(re.sub(r"\n[ \t]+", " ", head))
    if done.returncode != 0 or found is None:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no report"]
        return Check("spamassassin", WARN, f"spamassassin gave no score ({why[0]})")
    score = float(found.group(2))
    rules = [r for r in (found.group(4) or "").split(",") if r and r != "none"]
    seconds = (dt.datetime.now() - started).total_seconds()
    text = (f"score {score:g} (spam at {found.group(3)}); rules hit: "
            f"{', '.join(rules) or 'none'} ({seconds:.0f} s, local rules only)")
    if score > SPAM_WARN:
        return Check("spamassassin", WARN, text, "each rule's 'describe' line in "
                                                 "/usr/share/spamassassin/*.cf says what it "
                                                 "found; change what triggers it")
    return Check("spamassassin", PASS, text)
