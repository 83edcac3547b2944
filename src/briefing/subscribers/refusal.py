"""What a refusal means: one policy for `send` (SMTP replies) and `sync` (bounce reports).

RFC 3463 gives every refusal a class (2 success, 4 temporary, 5 permanent) and a subject. Only an
address failure (X.1.x about the recipient, X.2.1 "mailbox disabled") says the reader's mailbox
is gone, and only that bounces a reader at once. Policy, authentication and sender-side refusals
(X.7.x: a relay refusing us, DMARC, a blocklist; X.1.7/X.1.8: our own address; X.5.x, X.6.x:
our protocol or content) are the sender's problem and never bounce a reader. A permanent refusal
that names neither (X.2.2 mailbox full, X.4.x routing, a bare 550 with no enhanced code) is
"unclear": `sync` counts it like a temporary failure, so only a run of issues bounces a reader.
An undefined X.0.0 (or qmail's X.5.0) or a bare 550 counts as an address failure only when its
text says the mailbox does not exist, as "User unknown" or "Unknown user" do, and not when it
also speaks of policy (spam, SPF, DMARC, a blocklist): in doubt, a reader is never lost.

Every function here is pure: text in, a Verdict out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DELIVERED = "delivered"  # 2.x.x
TEMPORARY = "temporary"  # 4.x.x: may work later
ADDRESS = "address"      # the mailbox does not exist or is disabled: the reader bounces
POLICY = "policy"        # about us (policy, login, our address or message): not the reader
UNCLEAR = "unclear"      # permanent, but not clearly the address: counted like a temporary failure

_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_REPLY = re.compile(r"^\s*([245])(\d\d)(?:[ -]|$)")
# What servers write when the mailbox does not exist (Exim, Postfix, Sendmail, qmail, Gmail,
# Microsoft 365, Courier, ...), for replies that carry no specific enhanced code.
_NO_SUCH_MAILBOX = re.compile(
    r"user(name)? unknown|unknown (user|recipient|mailbox|address)|no such (user|mailbox|"
    r"recipient|address|account)|(mailbox|recipient|user|account|address)( name)? "
    r"(is )?(not found|does ?n[o']t exist|not exist|unavailable: user unknown)|"
    r"does not exist|doesn't exist|not a valid (mailbox|recipient|user)|invalid recipient|"
    r"recipient not found|unrouteable address|account (has been )?disabled|"
    r"mailbox (is )?disabled|no mailbox here", re.I)
# Words of a policy refusal: when a reply without a specific code says one of these, it is
# about us (our reputation, authentication, relaying), whatever else it says.
_POLICY_WORDS = re.compile(
    r"\b(spam|blocked|block ?list(ed)?|black ?list(ed)?|deny ?list(ed)?|reputation|spf|dkim|"
    r"dmarc|authenticat\w*|relay(ing)? (access )?denied|relay not permitted|not permitted to "
    r"relay|relaying denied|policy|rbl|dnsbl|not authori[sz]ed|sender|abuse|virus|malware)\b",
    re.I)


@dataclass(frozen=True)
class Verdict:
    kind: str    # one of DELIVERED, TEMPORARY, ADDRESS, POLICY, UNCLEAR
    status: str  # the enhanced status code it rests on ("5.1.1"), or ""
    reply: str   # the SMTP reply code ("550"), or ""
    why: str     # a few words for the editor: "the mailbox does not exist"

    @property
    def bounces(self) -> bool:
        """The reader's address is gone: they are marked bounced at once."""
        return self.kind == ADDRESS

    @property
    def counts(self) -> bool:
        """Counted per issue; a run of issues bounces the reader (sync)."""
        return self.kind in (TEMPORARY, UNCLEAR)


def _code(status: str, diagnostic: str) -> tuple[str, str, str]:
    """(class, enhanced status, reply code) of a refusal. A specific enhanced code wins over
    an undefined X.0.0: Exim's DSNs say `Status: 5.0.0` and put the remote server's 5.2.1 in
    the diagnostic."""
    given = _ENHANCED.search(status or "")
    said = _ENHANCED.search(diagnostic or "")
    reply = _REPLY.match(diagnostic or "")
    chosen = None
    for candidate in (given, said):
        if candidate and (candidate.group(2), candidate.group(3)) != ("0", "0"):
            chosen = candidate
            break
    chosen = chosen or given or said
    if chosen:
        return chosen.group(1), chosen.group(0), reply.group(0).strip(" -") if reply else ""
    if reply:
        return reply.group(1), "", reply.group(1) + reply.group(2)
    return "", "", ""


def judge(status: str = "", diagnostic: str = "", stage: str = "") -> Verdict:
    """What a refusal means for the reader it was about.

    `status`: a DSN's Status field (RFC 3464), or "". `diagnostic`: the server's reply
    ("550 5.1.1 <x@example.org>... User unknown") or a DSN's Diagnostic-Code without its type.
    `stage`: for `send`, which command was refused ("mail", "rcpt", "data", "command"); "" when
    not known (a DSN). Only a refusal of RCPT, or a DSN, can be about the reader's address."""
    klass, enhanced, reply = _code(status, diagnostic)
    if klass == "2":
        return Verdict(DELIVERED, enhanced, reply, "delivered")
    if klass == "4":
        return Verdict(TEMPORARY, enhanced, reply, "a temporary failure")
    if klass != "5":
        return Verdict(UNCLEAR, enhanced, reply, "no status a server would send")
    if stage == "mail":
        return Verdict(POLICY, enhanced, reply, "the server refused our sender address")
    kind, why = _permanent(enhanced, reply, diagnostic or "")
    if kind == ADDRESS and stage in ("data", "command"):
        # A refusal of DATA is about this message; a command's exit status cannot say which
        # step failed. Neither is proof that the address is gone.
        return Verdict(UNCLEAR, enhanced, reply, "refused after the address was accepted")
    return Verdict(kind, enhanced, reply, why)


def _permanent(enhanced: str, reply: str, text: str) -> tuple[str, str]:
    subject, detail = (enhanced.split(".")[1:] if enhanced else ("", ""))
    code = subject + "." + detail if enhanced else ""
    if code in ("0.0", "1.0", "5.0", ""):
        # Undefined ("other"): only the server's words can tell. qmail reports every remote
        # refusal as "(#5.5.0)" after the remote server's own words.
        if reply in ("530", "534", "535", "538", "500", "501", "502", "503", "504"):
            return POLICY, "the server refused us (authentication or protocol)"
        if _POLICY_WORDS.search(text):
            return POLICY, "a policy refusal: about us, not the reader"
        if reply in ("521", "556"):  # RFC 7504: the domain accepts no mail at all
            return ADDRESS, "the domain accepts no mail"
        if _NO_SUCH_MAILBOX.search(text):
            return ADDRESS, "the server says the mailbox does not exist"
        if code == "5.0":
            return POLICY, "a protocol error between the servers"
        return UNCLEAR, "a permanent refusal that does not say the address is gone"
    if code in ("1.1", "1.2", "1.3", "1.4", "1.6", "1.10"):
        # 1.10 is RFC 7505's null MX, and Microsoft 365's "recipient not found".
        return ADDRESS, "the address does not exist"
    if code == "2.1":
        return ADDRESS, "the mailbox is disabled"
    if code in ("1.7", "1.8"):
        return POLICY, "the server refused our sender address"
    if code in ("2.3", "3.4"):
        return POLICY, "our message is too big for the server"
    if subject in ("5", "6", "7"):
        return POLICY, {"5": "a protocol error between the servers",
                        "6": "the server refused the content",
                        "7": "a policy refusal: about us, not the reader"}[subject]
    if code == "2.2":
        return UNCLEAR, "the mailbox is full"
    return UNCLEAR, "a permanent refusal that does not say the address is gone"
