"""The signature of a preference link: the reader's current choice, vouched for by the list.

A copy's "Choose what you get" link is `<preferences.url with the token>?themes=CODE&sig=SIG`
(content/variants.py). The endpoint keeps no reader list, so the link itself says which themes
the reader gets; SIG = 12 bytes of HMAC-SHA256(link key, token NUL CODE) in unpadded
base64url, with link key = HMAC-SHA256(check key, "briefing-preferences"). The check key is
what the endpoint already holds (subscribers/tokens.py), so it verifies links with no new
file, and a link whose choice was changed on the way is shown as unknown, never as a choice
the reader did not make. What the page shows changes nothing: a choice is saved only by a POST,
and applied by `sync`, which maps the token back to its reader.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from ..content.model import SIGNATURE_LENGTH

_RAW = SIGNATURE_LENGTH * 3 // 4  # 12 bytes give 16 base64url characters, no padding


class LinkSigner:
    """Signs and checks preference links under one list's check key."""

    def __init__(self, check: bytes) -> None:
        self._key = hmac.new(check, b"briefing-preferences", hashlib.sha256).digest()

    def sign(self, token: str, code: str) -> str:
        # hmac.digest: the one-shot C path, a third of hmac.new()'s cost per copy.
        mac = hmac.digest(self._key, f"{token}\0{code}".encode(), "sha256")
        return base64.urlsafe_b64encode(mac[:_RAW]).decode("ascii")

    def verify(self, token: str, code: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(token, code).encode(),
                                   signature.encode("utf-8", "replace"))
