"""The ready-to-send message.eml: multipart/alternative (digest, then HTML) with list headers."""

from __future__ import annotations

import binascii
import datetime as dt
import email.policy
import hashlib
import re
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime

from ..content.model import SIGNATURE_PLACEHOLDER, TOKEN_PLACEHOLDER, Config, Issue, Mailbox
from ..errors import BriefingError, Problem

# Headers stay literal up to RFC 5322's hard limit of 998 octets, so a long List-Unsubscribe is
# never folded into an RFC 2047 encoded word (which Gmail then ignores).
POLICY = email.policy.default.clone(max_line_length=998)
# The parts are encoded with this one: the email package passes the policy's max_line_length to
# the quoted-printable encoder, and RFC 2045 6.7 caps encoded lines at 76 characters.
BODY_POLICY = email.policy.default.clone(max_line_length=76)
MAX_LINE = 998  # RFC 5322 2.1.1, octets without the CRLF

# The built message is the web and archive copy: no reader's token, so no List-Unsubscribe
# and no List-Unsubscribe-Post (it could not keep their promise). `briefing send` adds both to
# each reader's copy, with a Date and a Message-ID of its own (deliver/personal.py).
EXPECTED_HEADERS = {
    "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type", "List-Id",
}
QP_LINE = 76  # RFC 2045 6.7: encoded lines of at most 76 characters

# RFC 5322 atext: a phrase made only of these (and spaces) needs no quoting.
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")
# In a phrase that must be RFC 2047 encoded (non-ASCII), quoting is not allowed around the
# encoded words, so characters with a meaning in structured headers are dropped instead.
_SPECIALS = re.compile(r"[()<>\[\]:;@\\,.\"=?]+")


def message_id(issue: Issue) -> str:
    """The same issue of the same newsletter always gets the same id (RFC 5322 msg-id)."""
    digest = hashlib.sha256(f"{issue.config.name}\n{issue.id}".encode()).hexdigest()[:16]
    # id-left is a dot-atom: issue ids may hold '_', '..' or a trailing '.', which it may not.
    left = re.sub(r"[^A-Za-z0-9-]+", ".", issue.id).strip(".") or "issue"
    return f"<{left}.{digest}@{issue.config.sender.domain}>"


def _phrase(name: str) -> str:
    """A display phrase for List-Id: literal atoms, a quoted string, or plain words to encode."""
    if _ATEXT.fullmatch(name):
        return name
    if name.isascii():
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return " ".join(_SPECIALS.sub(" ", name).split())


def list_label(config: Config) -> str:
    """RFC 2919 list-id: a label under the sender's domain; it also keys the readers' tokens."""
    label = re.sub(r"[^a-z0-9]+", "-", config.name.lower()).strip("-") or "briefing"
    return f"{label}.{config.sender.domain}"


def list_id(issue: Issue) -> str:
    """RFC 2919: a phrase and the list-label."""
    phrase = _phrase(issue.config.name)
    label = list_label(issue.config)
    return f"{phrase} <{label}>" if phrase else f"<{label}>"


def list_unsubscribe(issue: Issue, token: str) -> str:
    """RFC 2369 / RFC 8058: the reader's one-click https URL first, then the mailto."""
    unsubscribe = issue.config.unsubscribe
    value = f"<{unsubscribe.url_for(token)}>"
    if unsubscribe.mailto:
        value += f", <{unsubscribe.mailto_for(token)}>"
    return value


def _address(box: Mailbox) -> Address:
    """The email package quotes or encodes the display name; we never format it by hand."""
    return Address(display_name=box.name, addr_spec=box.address)


def to_mailbox(issue: Issue) -> Mailbox:
    """Readers never see each other: To is the list's address (else the sender), the same in
    every copy; each copy's envelope goes to its own reader."""
    config = issue.config
    return config.list_address or config.sender


def issue_datetime(issue: Issue) -> dt.datetime:
    """Midnight UTC of the issue date: from the issue, never from the clock."""
    return dt.datetime.combine(issue.date, dt.time(0, 0), tzinfo=dt.UTC)


def render_eml(issue: Issue, text: str, html: str) -> bytes:
    config = issue.config
    msg = EmailMessage(policy=BODY_POLICY)  # headers are folded by POLICY in as_bytes()
    msg["From"] = _address(config.sender)
    msg["To"] = _address(to_mailbox(issue))
    if config.reply_to:
        msg["Reply-To"] = _address(config.reply_to)
    msg["Subject"] = issue.subject
    msg["Date"] = format_datetime(issue_datetime(issue))
    msg["Message-ID"] = message_id(issue)
    msg["List-Id"] = list_id(issue)
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = "multipart/alternative"
    # typeshed types attach() as taking the container's own class (Self); a MIMEPart is what
    # the email package documents for the parts of an EmailMessage.
    msg.attach(_text_part(text, "plain"))  # type: ignore[arg-type]
    msg.attach(_text_part(html, "html"))  # type: ignore[arg-type]
    # A boundary from the content, not random: the same issue gives the same bytes. '=' cannot
    # occur in quoted-printable output, so the boundary can never collide with a body line.
    digest = hashlib.sha256(text.encode() + b"\0" + html.encode()).hexdigest()[:32]
    msg.set_boundary(f"=_briefing_{digest}")
    data = msg.as_bytes(policy=POLICY)
    _verify(data, issue, text, html)
    return data


def _text_part(body: str, subtype: str) -> MIMEPart:
    """A UTF-8 text part in quoted-printable: every line within 76 octets (RFC 2045), and it
    decodes back to the file exactly. binascii's encoder is C; the email package's pure-Python
    one took 0.15 s of a 4000-item build."""
    part = MIMEPart(policy=BODY_POLICY)
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(encode_qp(body.encode("utf-8")).decode("ascii"))
    return part


# What a sent copy replaces in the encoded bytes: the reader's token and the signature of their
# preference link (content/variants.py), each by a value of the same length and kind.
KEEP_WHOLE = (TOKEN_PLACEHOLDER.encode(), SIGNATURE_PLACEHOLDER.encode())


def encode_qp(body: bytes, keep: tuple[bytes, ...] = KEEP_WHOLE) -> bytes:
    """Quoted-printable (binascii's C encoder), with the soft line breaks moved so that no
    `keep` is ever split across two lines: a sent copy replaces it with a token of the same
    length and the same kind of characters, in the encoded bytes, and every line keeps its
    length (at most 76). binascii breaks lines only at 76, anywhere outside an =XX escape."""
    encoded = binascii.b2a_qp(body, istext=True)
    kept = tuple(k for k in keep if k in body)
    if not kept:
        return encoded
    # A literal '=' is always written =3D, so '=' before a line end is a soft break.
    lines = encoded.replace(b"=\n", b"").split(b"\n")
    return b"\n".join(b"\n".join(_wrap_qp(line, kept)) for line in lines)


def _wrap_qp(line: bytes, keep: tuple[bytes, ...]) -> list[bytes]:
    out = []
    while len(line) > QP_LINE:
        cut = QP_LINE - 1  # room for the '=' of the soft break
        if line[cut - 1:cut] == b"=":  # never inside an =XX escape
            cut -= 1
        elif line[cut - 2:cut - 1] == b"=":
            cut -= 2
        moved = True
        while moved:  # never inside a placeholder (moving back out of one may enter another)
            moved = False
            for whole in keep:
                inside = line.find(whole, max(0, cut - len(whole) + 1), cut + len(whole) - 1)
                if 0 < inside < cut:
                    cut, moved = inside, True
        out.append(line[:cut] + b"=")
        line = line[cut:]
    out.append(line)
    return out


def _verify(data: bytes, issue: Issue, text: str, html: str) -> None:
    """Re-parse what we wrote and refuse it unless it is exactly what we meant to write.

    Python 3.11/3.12 can emit a header with a line break decoded from an encoded word
    (CVE-2024-6923), and an over-long token may be folded into an encoded word. The validator
    refuses such input; this check makes sure nothing slipped past it.
    """
    problems: list[str] = []
    expected = EXPECTED_HEADERS | ({"Reply-To"} if issue.config.reply_to else set())
    parsed = message_from_bytes(data, policy=email.policy.default)
    names = list(parsed.keys())
    if set(names) != expected or len(names) != len(expected):
        extra = sorted(set(names) - expected) or sorted({n for n in names if names.count(n) > 1})
        missing = sorted(expected - set(names))
        problems.append("its headers did not survive a re-parse ("
                        + ", ".join([f"unexpected {n}" for n in extra]
                                    + [f"missing {n}" for n in missing]) + ")")
    longest = max(len(line) for line in data.split(b"\n"))
    if longest > MAX_LINE:
        problems.append(f"it has a line of {longest:,} octets (the limit is {MAX_LINE})")
    literal = {"Subject": issue.subject, "Message-ID": message_id(issue)}
    for name, value in literal.items():
        if not problems and str(parsed[name]).strip() != value:
            problems.append(f"its {name} header reads back as {str(parsed[name])!r}")
    # Each sent copy replaces the placeholder in the encoded bytes: it must be there, whole,
    # exactly as often as in the texts, and nowhere in the headers.
    head, _, body = data.partition(b"\n\n")
    for placeholder in KEEP_WHOLE:
        in_texts = (text + html).count(placeholder.decode())
        if not problems and (placeholder in head or body.count(placeholder) != in_texts):
            problems.append("the unsubscribe placeholder is split or appears in the briefs "
                            f"('{placeholder.decode()}' is reserved)")
    if not problems:
        parts = list(parsed.iter_parts()) if parsed.is_multipart() else []
        types = [p.get_content_type() for p in parts]
        if parsed.get_content_type() != "multipart/alternative" or types != [
                "text/plain", "text/html"]:
            problems.append(f"its parts are {types}, not text/plain then text/html")
        elif (parts[0].get_payload(decode=True) != text.encode("utf-8")
              or parts[1].get_payload(decode=True) != html.encode("utf-8")):
            problems.append("its parts do not decode back to digest.txt and email.html")
    if problems:
        raise BriefingError(Problem(
            f"out/{issue.id}/message.eml", 0, 0,
            "refusing to write the message: " + "; ".join(problems)))
