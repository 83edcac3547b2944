"""Each reader's own copy, made from the built message by substitution, not by re-rendering.

The built message.eml is the archive copy: no token, no List-Unsubscribe. A reader's copy is
the same bytes with their token where the placeholder stands (the HTML footer, the digest's
unsubscribe line), their one-click List-Unsubscribe and List-Unsubscribe-Post (RFC 8058), a
Message-ID of its own (per reader and per content, so a corrected resend is not dropped as a
duplicate) and a Date of the moment it is sent. Everything else is the built message, byte for
byte. The placeholder and the token have the same length and are written as they are in
quoted-printable, and render/eml.py never splits the placeholder across lines, so every
encoded line keeps its length. A copy with a preference link ("Choose what you get") also
has the link's signature put in place of its placeholder (subscribers/themelink.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from email.utils import format_datetime
from typing import TYPE_CHECKING

from ..content.model import SIGNATURE_PLACEHOLDER, TOKEN_PLACEHOLDER, Unsubscribe
from ..errors import BriefingError, Problem

if TYPE_CHECKING:
    from .dkim import SigningKeys

_PLACEHOLDER = TOKEN_PLACEHOLDER.encode("ascii")
_SIGNATURE = SIGNATURE_PLACEHOLDER.encode("ascii")


class CopyMaker:
    """Splits the built message once; `copy()` then costs a join and one bytes.replace."""

    def __init__(self, built: bytes, unsubscribe: Unsubscribe, sha256: str, shown: str,
                 sign: Callable[[str], str] | None = None) -> None:
        head, sep, self.body = built.partition(b"\n\n")
        # token -> the signature of the copy's preference link, when it has one
        self.sign = sign if _SIGNATURE in self.body else None
        if not sep:
            raise BriefingError(Problem(shown, 0, 0, "has no body", "rebuild the issue"))
        self.unsubscribe = unsubscribe
        self.sha256 = sha256
        # DKIM (deliver/dkim.py): (head, token, when, preference-link signature) -> the
        # DKIM-Signature field(s) that go before the head; set by sign_with() when
        # briefing.yaml has a dkim: key.
        self.signer: Callable[[bytes, str, dt.datetime, str | None], bytes] | None = None
        # Header fields with their continuation lines, in order, keyed by lower-case name.
        fields: list[tuple[str, bytes]] = []
        for line in head.split(b"\n"):
            if line[:1] in (b" ", b"\t") and fields:
                name, raw = fields[-1]
                fields[-1] = (name, raw + b"\n" + line)
            else:
                fields.append((line.split(b":", 1)[0].strip().lower().decode("ascii"), line))
        names = [name for name, _ in fields]
        for needed in ("date", "message-id", "list-id"):
            if names.count(needed) != 1:
                raise BriefingError(Problem(shown, 0, 0, f"has {names.count(needed)} "
                                            f"'{needed}' headers, not one", "rebuild the issue"))
        # The static runs between the fields a copy changes, joined once.
        self._before_date = b"\n".join(raw for name, raw in fields[:names.index("date")])
        self.message_id = next(raw for name, raw in fields if name == "message-id") \
            .split(b":", 1)[1].strip().decode("ascii")
        rest = [(n, raw) for n, raw in fields[names.index("date") + 1:] if n != "message-id"]
        at = [n for n, _ in rest].index("list-id") + 1
        self._middle = b"\n".join(raw for _, raw in rest[:at])
        self._after = b"\n".join(raw for _, raw in rest[at:])

    def reader_message_id(self, token: str) -> str:
        """<issue.hash.READER@domain>: stable for a reader and a content, different otherwise."""
        left, _, domain = self.message_id.strip("<>").partition("@")
        reader = hashlib.sha256(f"{self.sha256}\0{token}".encode()).hexdigest()[:16]
        return f"<{left}.{reader}@{domain}>"

    def list_unsubscribe(self, token: str) -> str:
        value = f"<{self.unsubscribe.url_for(token)}>"
        if self.unsubscribe.mailto:
            value += f", <{self.unsubscribe.mailto_for(token)}>"
        return value

    def copy(self, token: str, when: dt.datetime) -> tuple[bytes, str]:
        """The reader's copy and its Message-ID."""
        message_id = self.reader_message_id(token)
        head = b"\n".join(part for part in (
            self._before_date,
            b"Date: " + format_datetime(when).encode("ascii"),
            b"Message-ID: " + message_id.encode("ascii"),
            self._middle,
            b"List-Unsubscribe: " + self.list_unsubscribe(token).encode("ascii"),
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            self._after,
        ) if part)
        signature = self.sign(token) if self.sign is not None else None
        body = self.body.replace(_PLACEHOLDER, token.encode("ascii"))
        if signature is not None:
            body = body.replace(_SIGNATURE, signature.encode("ascii"))
        if self.signer is not None:  # signed once the reader's token is in (RFC 8058 4)
            head = self.signer(head, token, when, signature) + head
        return head + b"\n\n" + body, message_id

    def sign_with(self, keys: SigningKeys) -> None:
        """DKIM-sign every copy made from now on with these keys (deliver/dkim.py)."""
        from .dkim import MessageSigner  # dkimpy and cryptography: only when signing
        self.signer = MessageSigner(keys, self.body).header
