"""Sign-up secrets: the keys, the confirmation token, keyed hashes, and the limits on mail.

Every secret is derived from the project's token key (.briefing/token.key), so there is one key
to back up. The endpoint needs only its half (`EndpointKeys`, the `signup` line of
.briefing/endpoint.key): a MAC key, to make and check confirmation tokens and to hash addresses
and IP addresses, and a public key, to seal the reader's address into the token. Only the
editor's machine, which holds the token key, can open a sealed address: a web host that is
broken into leaks no address from its events file, its access logs or the links it sent.

A confirmation token is base64url of

    version (1) | issued (4) | expires (4) | sign-up id (12) | sealed address | HMAC-SHA256 (32)

The HMAC (256 bits, under a key never published) covers everything before it, so a token
cannot be guessed, changed or extended; the sealed part (NaCl sealed box) names the address,
the name, the chosen themes and the themes the form offered but were not ticked (so that sync
can tell "every theme" from a choice, as subscribers/themes.py keeps them).
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
import functools
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .identity import EndpointKey

VERSION = 1
_HEAD = 1 + 4 + 4 + 12
_MAC = 32
_SEAL_OVERHEAD = 48  # a sealed box: an ephemeral public key (32) and a Poly1305 tag (16)
MAX_TOKEN = 2048  # characters: a 254-character address, a 100-character name, the themes
DAY = 24 * 3600
HOUR = 3600
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _derive(token_key: bytes, label: bytes) -> bytes:
    return hmac.new(token_key, b"briefing-signup\0" + label, hashlib.sha256).digest()


@dataclass(frozen=True)
class EndpointKeys:
    """What the endpoint holds: enough to make and check tokens, not to read them."""

    mac: bytes
    public: bytes

    def address_hash(self, address: str) -> str:
        """A keyed hash of the address: the limits and the pending sign-ups know readers by
        it, never by their address."""
        return _keyed(self.mac, b"address", address.strip().lower())

    def ip_hash(self, ip: str) -> str:
        return _keyed(self.mac, b"ip", ip)


@dataclass(frozen=True)
class EditorKeys(EndpointKeys):
    """The editor's machine: the endpoint's half and the private key that opens a token."""

    private: bytes = b""

    @functools.cached_property
    def opener(self) -> Any:
        """The sealed box that opens tokens, made once (its key takes a scalar multiplication:
        a third of the cost of opening one)."""
        from nacl.public import PrivateKey, SealedBox
        return SealedBox(PrivateKey(self.private))


def _keyed(key: bytes, label: bytes, value: str) -> str:
    return hmac.new(key, label + b"\0" + value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def editor_keys(token_key: bytes) -> EditorKeys:
    from nacl.public import PrivateKey
    private = PrivateKey(_derive(token_key, b"box"))
    return EditorKeys(_derive(token_key, b"mac"), bytes(private.public_key), bytes(private))


def endpoint_keys(key: EndpointKey) -> EndpointKeys | None:
    """The sign-up half of the endpoint key file (identity.py), or None for a file written
    before sign-up existed."""
    if len(key.signup) != 64:
        return None
    return EndpointKeys(key.signup[:32], key.signup[32:])


# -- the confirmation token ------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """A token whose HMAC is right: when it was made and until when it works."""

    issued: int
    expires: int
    signup_id: str
    sealed: bytes

    def expired(self, at: float) -> bool:
        return at > self.expires


@dataclass(frozen=True)
class Joiner:
    """What a token names, once opened on the editor's machine."""

    address: str
    name: str
    themes: tuple[str, ...]
    offered: tuple[str, ...] = ()  # every theme the form offered; () when it offered none


def make_token(keys: EndpointKeys, joiner: Joiner, issued: int, expires: int,
               signup_id: str) -> str:
    from nacl.public import PublicKey, SealedBox
    fields: dict[str, Any] = {"address": joiner.address, "name": joiner.name,
                              "themes": list(joiner.themes)}
    if joiner.offered:
        # Only the ids offered but not ticked, joined by dots: the token is a URL, and this
        # keeps it no longer than one with every theme ticked (MAX_TOKEN).
        fields["unticked"] = ".".join(t for t in joiner.offered if t not in joiner.themes)
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    sealed = SealedBox(PublicKey(keys.public)).encrypt(payload)
    raw = (bytes([VERSION]) + issued.to_bytes(4, "big") + expires.to_bytes(4, "big")
           + bytes.fromhex(signup_id) + sealed)
    tag = hmac.new(keys.mac, b"briefing-confirm\0" + raw, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw + tag).decode("ascii").rstrip("=")


def check_token(keys: EndpointKeys, token: str) -> Signed | None:
    """The token's contents if its HMAC is right, else None (malformed, changed, or made with
    another key)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, binascii.Error):
        return None
    if len(raw) < _HEAD + _SEAL_OVERHEAD + _MAC or raw[0] != VERSION \
            or base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != token:
        return None  # the last check refuses a second spelling of the same bytes
    body, tag = raw[:-_MAC], raw[-_MAC:]
    expected = hmac.new(keys.mac, b"briefing-confirm\0" + body, hashlib.sha256).digest()
    if not hmac.compare_digest(tag, expected):
        return None
    return Signed(int.from_bytes(body[1:5], "big"), int.from_bytes(body[5:9], "big"),
                  body[9:21].hex(), body[_HEAD:])


def open_token(keys: EditorKeys, signed: Signed) -> Joiner | None:
    """The reader a checked token names; None if it was sealed for another project."""
    from nacl.exceptions import CryptoError
    try:
        data = json.loads(keys.opener.decrypt(signed.sealed))
        themes = tuple(str(t) for t in data.get("themes", ()))
        offered = themes + tuple(t for t in str(data["unticked"]).split(".") if t) \
            if "unticked" in data else ()
        return Joiner(str(data["address"]), str(data.get("name", "")), themes, offered)
    except (CryptoError, ValueError, KeyError, TypeError):
        return None


def new_signup_id() -> str:
    return secrets.token_hex(12)


def stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime(TIME_FORMAT)


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def seconds_of(value: object) -> float | None:
    """A time in the store's one format, in seconds; None for anything else."""
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        return None
    try:  # fromisoformat, not strptime: a sync reads three of these per sign-up
        return dt.datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


# -- the limits --------------------------------------------------------------------------------


class Limits:
    """One confirmation mail per address per 24 hours, and at most `hourly_cap` in any hour.

    Kept in memory, and seeded at start from the sign-ups the events file records, so a
    restart forgets nothing. One process (waitress runs threads): with several processes
    each would count for itself."""

    def __init__(self, hourly_cap: int, clock: Callable[[], float] = time.time
                 ) -> None:
        self.cap = hourly_cap
        self.clock = clock
        self._sent: collections.deque[float] = collections.deque()  # within the last hour
        self._recent: dict[str, float] = {}  # address hash -> last mail, within 24 hours
        self._lock = threading.Lock()
        self._capped = False  # the refusals since the cap was reached are logged once

    def seed(self, address_hash: str, at: float) -> None:
        now = self.clock()
        with self._lock:
            if now - at < DAY:
                self._recent[address_hash] = max(at, self._recent.get(address_hash, 0.0))
            if now - at < HOUR:
                self._sent.append(at)
                self._sent = collections.deque(sorted(self._sent))

    def admit(self, address_hash: str) -> tuple[str, bool]:
        """("send", _), ("repeat", _) for an address mailed in the last 24 hours, or
        ("capped", first) when the hour's mails are used up; `first` is true for the first
        refusal since the cap was reached (the one to log). The cap is checked first, so a
        429 says nothing about the address."""
        now = self.clock()
        with self._lock:
            while self._sent and now - self._sent[0] >= HOUR:
                self._sent.popleft()
            if len(self._sent) >= self.cap:
                first, self._capped = not self._capped, True
                return "capped", first
            self._capped = False
            last = self._recent.get(address_hash)
            if last is not None and now - last < DAY:
                return "repeat", False
            if len(self._recent) > 4 * self.cap * 24:  # at most cap x 24 live entries
                self._recent = {h: t for h, t in self._recent.items() if now - t < DAY}
            self._recent[address_hash] = now
            self._sent.append(now)
            return "send", False

    def release(self, address_hash: str) -> None:
        """The mail could not be recorded or sent: the address may try again at once."""
        with self._lock:
            self._recent.pop(address_hash, None)

