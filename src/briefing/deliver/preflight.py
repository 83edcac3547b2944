"""What `send` checks before the first copy, and `doctor` reports: each check a line with its fix.

A real send to the list refuses on the checks that mean the mail is certainly wrong (`certain`):
a configured DKIM key that is missing, unreadable, readable by others or does not verify; the
placeholders `briefing init` writes (sender, unsubscribe or archive URL at exactly
example.org/.com/.net); one-click unsubscribes clicked over 48 hours ago and not yet applied
(Gmail's and Yahoo's bulk-sender rules: honour them within two days). Everything else is a
warning in `send` and `doctor`'s to judge.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..content.model import Config, Issue
from ..content.reserved import PLACEHOLDER, config_findings, describe, reserved_kind
from ..content.validate import Project
from ..errors import BriefingError, Problem, count

if TYPE_CHECKING:
    from ..subscribers.store import Store
    from .dkim import SigningKeys

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
CLICK_DEADLINE = dt.timedelta(hours=48)
# A token of the right shape that is nobody's: doctor's and the self-check's test copies.
TEST_TOKEN = "DOCTOR-CHECK-NOT-A-TOKEN"


@dataclass(frozen=True)
class Check:
    """One line of `doctor`: what was checked, how it went, and the fix."""

    name: str
    status: str
    message: str
    fix: str = ""
    certain: bool = False  # a list send refuses on it: the mail is certainly wrong
    where: str = "briefing.yaml"  # the file to name when `send` refuses on it

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.message}"


@dataclass
class Preflight:
    """What a send learnt before its first copy: the signing keys, and its warnings."""

    keys: SigningKeys | None = None
    warnings: list[str] = field(default_factory=list)


# -- DKIM ----------------------------------------------------------------------------------------


def dkim_checks(project: Project, issue: Issue, data: bytes,
                now: dt.datetime | None = None) -> tuple[list[Check], SigningKeys | None]:
    """Who signs; with a key: that it loads, and that a copy signed with it verifies."""
    settings = issue.config.dkim
    if settings is None:
        return [Check("dkim", FAIL, "no dkim: in briefing.yaml, so copies go out unsigned "
                                    "unless the relay signs them; Gmail, Yahoo and Outlook.com "
                                    "junk or refuse unsigned bulk mail",
                      "run 'briefing dkim keygen --selector S', publish the record it prints "
                      "and add its dkim: block; or write 'dkim: relay' if the relay signs with "
                      "List-Unsubscribe and List-Unsubscribe-Post in h=")], None
    if settings.relay:
        return [Check("dkim", PASS, "dkim: relay: the relay signs each copy (doctor cannot "
                                    "see its signature: look for List-Unsubscribe in the h= "
                                    "of a copy you received)")], None
    from .dkim import load_keys, verify
    try:
        keys = load_keys(project.root, settings)
    except BriefingError as exc:
        problem = exc.problems[0]
        return [Check("dkim-key", FAIL, f"{problem.path}: {problem.message}", problem.hint,
                      certain=True, where=problem.path)], None
    what = f"{keys.rsa.key_size}-bit RSA key from {keys.where}"
    if keys.ed25519 is not None:
        what += f", Ed25519 key from {settings.ed25519_key}"
    checks = [Check("dkim-key", PASS, what)]
    copy = signed_copy(issue, data, keys, now)
    wrong = verify(copy, keys.records())
    if wrong:
        checks.append(Check("dkim-signature", FAIL, "a copy signed with the key does not "
                                                     "verify: " + "; ".join(wrong),
                            "report this as a bug in briefing, with the key type and size",
                            certain=True))
    else:
        checks.append(Check("dkim-signature", PASS, f"a signed copy verifies (dkimpy): "
                                                     f"d={settings.domain}, s={settings.selector}"
                                                     ", h= covers From, To, Subject, Date, "
                                                     "Message-ID, List-Id, List-Unsubscribe, "
                                                     "List-Unsubscribe-Post, MIME-Version, "
                                                     "Content-Type"))
    return checks, keys


def signed_copy(issue: Issue, data: bytes, keys: SigningKeys | None,
                now: dt.datetime | None = None, token: str = TEST_TOKEN) -> bytes:
    """A reader's copy of the built message, as `send` makes it (signed when there are keys)."""
    from .personal import CopyMaker
    copies = CopyMaker(data, issue.config.unsubscribe, hashlib.sha256(data).hexdigest(),
                       "message.eml")
    if keys is not None:
        copies.sign_with(keys)
    return copies.copy(token, now or dt.datetime.now(dt.UTC))[0]


# -- placeholders and reserved names -------------------------------------------------------------


def name_checks(config: Config) -> list[Check]:
    """A line for each value a list send refuses (the sender, unsubscribe and archive URLs at
    init's placeholders) and for the postal line (fail), one per host for any other value at
    a placeholder (fail) and at another reserved name (warn: tests and the sample use them on
    purpose)."""
    checks: list[Check] = []
    grouped: dict[tuple[str, str], list[str]] = {}
    for finding in config_findings(config):
        if finding.refused_on_list_send or finding.field == "address":
            message, fix = describe(finding)
            checks.append(Check("init-placeholder", FAIL, message, fix,
                                certain=finding.refused_on_list_send))
        else:
            grouped.setdefault((finding.kind, finding.host), []).append(
                finding.field.split("[", 1)[0])
    for (kind, host), fields in grouped.items():
        names = ", ".join(dict.fromkeys(fields))
        if kind == PLACEHOLDER:
            checks.append(Check("init-placeholder", FAIL, f"{names}: {host} is the placeholder "
                                "'briefing init' writes: nothing there ever reaches anyone",
                                f"replace {host} with your own domain in briefing.yaml"))
        else:
            checks.append(Check("reserved-name", WARN, f"{names}: {host} is a reserved name "
                                                       "(RFC 2606, RFC 6761) that never "
                                                       "receives mail",
                                "fine for tests and samples; use your own domain for a real "
                                "list"))
    if not checks:
        checks.append(Check("init-placeholder", PASS, "no placeholder or reserved name in "
                                                      "briefing.yaml"))
    return checks


# -- unsubscribes not yet applied ----------------------------------------------------------------


def _time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return None


def _click_times(path: Path) -> list[dt.datetime]:
    """The times of the endpoint's events in a file (lines that are not events are sync's to
    report)."""
    times = []
    with path.open("rb") as handle:
        for raw in handle:
            try:
                when = _time(json.loads(raw).get("time"))
            except (ValueError, AttributeError):
                continue
            if when is not None:
                times.append(when)
    return times


def click_checks(project: Project, config: Config, store: Store | None,
                 now: dt.datetime | None = None) -> list[Check]:
    """One-click unsubscribes recorded by the endpoint but not applied to the list for over 48
    hours: an event newer than the source's last good sync (for a file), or a source not
    synced for 48 hours (for a URL, which doctor does not fetch)."""
    from ..subscribers.sync import configured_sources
    now = now or dt.datetime.now(dt.UTC)
    sources = [s for s in configured_sources(project, config) if s.kind == "events"]
    if not sources:
        return [Check("unsynced-clicks", WARN, "no sync.events in briefing.yaml (and no "
                                               ".briefing/events.jsonl): one-click unsubscribes "
                                               "recorded by the endpoint never reach the list",
                      "set sync.events to the endpoint's events file or its https /events URL")]
    checks = []
    for source in sources:
        row = store.db.execute("SELECT succeeded_at FROM sync_runs WHERE source = ?",
                               (source.key,)).fetchone() if store is not None else None
        last = _time(row[0]) if row else None
        if "://" in source.value:
            if last is None or now - last > CLICK_DEADLINE:
                when = f"last synced {row[0]}" if row else "never synced"
                checks.append(Check("unsynced-clicks", FAIL, f"{source.value} was {when}: "
                                    "unsubscribes clicked since then may be over 48 hours old",
                                    "run 'briefing subscribers sync'", certain=True,
                                    where=source.value))
            continue
        path = project.root / source.value
        try:
            clicks = [t for t in _click_times(path) if last is None or t > last]
        except FileNotFoundError:
            continue
        except OSError as exc:
            checks.append(Check("unsynced-clicks", WARN, f"cannot read {source.value}: "
                                                         f"{exc.strerror}"))
            continue
        late = sorted(t for t in clicks if now - t > CLICK_DEADLINE)
        if late:
            checks.append(Check("unsynced-clicks", FAIL, f"{count(len(late), 'unsubscribe')} "
                                f"in {source.value} not applied to the list, the oldest from "
                                f"{late[0]:%Y-%m-%d %H:%M} UTC: Gmail and Yahoo require "
                                "honouring one-click unsubscribes within two days",
                                "run 'briefing subscribers sync'", certain=True,
                                where=source.value))
    if not checks:
        checks.append(Check("unsynced-clicks", PASS, "no one-click unsubscribe waits longer "
                                                     "than 48 hours"))
    return checks


# -- send ----------------------------------------------------------------------------------------


def for_send(project: Project, issue: Issue, data: bytes, store: Store,
             addresses: list[str], list_send: bool, for_real: bool) -> Preflight:
    """The checks of a send to `addresses`, before its first copy. A broken DKIM key stops any
    send (no copy could be signed); the other certain checks stop a real send to the list (a
    --to test send still goes); the rest are warnings.

    init's placeholders protect real readers: a list whose every address is at a reserved
    name (the tests' lists, a project fresh from `init` with only its own example recipients)
    reaches nobody, so there they are warnings too."""
    dkim, keys = dkim_checks(project, issue, data)
    key_problems = [c for c in dkim if c.status == FAIL and c.certain]
    if key_problems:
        raise BriefingError([_problem(c, "nothing was sent") for c in key_problems])
    checks = [c for c in dkim if c.status == FAIL]  # no dkim: a warning in send
    checks += [c for c in name_checks(issue.config) if c.status != PASS]
    if list_send:
        checks += [c for c in click_checks(project, issue.config, store)
                   if c.status == FAIL]
    nobody = all(reserved_kind(a.rpartition("@")[2]) for a in addresses)
    refused = [c for c in checks if c.certain and list_send
               and not (nobody and c.name == "init-placeholder")]
    if refused and for_real:
        raise BriefingError([_problem(c, "not sending to the list") for c in refused] + [
            Problem("send", 0, 0, f"{count(len(refused), 'check')} failed that mean the mail "
                                  "is certainly wrong: nothing was sent",
                    "fix them, or test with --to you@example.org; 'briefing doctor' checks "
                    "everything")])
    warnings = []
    for check in checks:
        if check not in refused and check.name in issue.config.lint.disable:
            continue  # `lint: disable:` quiets a warning, as in `check`; never a refusal
        suffix = ""
        if check in refused:
            suffix = "; a real send to the list refuses this"
        elif check.certain and list_send:
            suffix = "; not refused: every address this send goes to is at a reserved name"
        warnings.append(f"warning: {check.message}{suffix}" + (f" ({check.fix})" if check.fix
                                                                else ""))
    return Preflight(keys, warnings)


def _problem(check: Check, outcome: str) -> Problem:
    message = check.message.removeprefix(f"{check.where}: ")
    return Problem(check.where, 0, 0, f"{message}; {outcome}", check.fix)
