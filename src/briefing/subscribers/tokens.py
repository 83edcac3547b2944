"""Unsubscribe tokens: an HMAC of the list and the reader's address under a private key, with a
check the endpoint can verify without the key or the list.

A token is 18 bytes in unpadded base64url (24 characters):

- 12 bytes of HMAC-SHA256(key, "briefing-unsubscribe" NUL list-identity NUL address): who it is,
  for `sync`, which maps it back by computing the tokens of the addresses it knows;
- 6 bytes of HMAC-SHA256(check-key, those 12 bytes), where check-key = HMAC-SHA256(key,
  "briefing-endpoint-check"): the endpoint holds the check key only (.briefing/endpoint.key),
  so it can tell a token this list made from a made-up one (1 in 2^48 passes) but can neither
  make a token nor say whose one is.

Tokens made before the check existed ("legacy": 18 bytes of the first HMAC) share its first 12
bytes, so one HMAC per address maps both kinds back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from ..content.model import TOKEN_LENGTH, TOKEN_PLACEHOLDER
from ..errors import BriefingError, Problem

KEY_FILE = ".briefing/token.key"
KEY_ENV = "BRIEFING_TOKEN_KEY"
TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")
READER_CHARS = 16  # the first 12 bytes, in base64url: the part that says who


def key_source(root: Path) -> str:
    """Where the key comes from, as the editor names it."""
    return f"${KEY_ENV}" if os.environ.get(KEY_ENV) else KEY_FILE


def read_key(root: Path) -> bytes | None:
    """The key from $BRIEFING_TOKEN_KEY, else .briefing/token.key; None when there is none."""
    from_env = os.environ.get(KEY_ENV, "")
    if from_env:
        if len(from_env) < 32:
            raise BriefingError(Problem(f"${KEY_ENV}", 0, 0, "is shorter than 32 characters",
                                        "use 64 random hex digits, e.g. from 'openssl rand "
                                        "-hex 32'"))
        return from_env.encode()
    path = root / KEY_FILE
    if path.is_symlink():
        raise BriefingError(Problem(KEY_FILE, 0, 0, "is a symbolic link; refusing to use it"))
    if not path.exists():
        return None
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise BriefingError(Problem(KEY_FILE, 0, 0, f"can be read by others (mode {mode:o})",
                                    f"chmod 600 {KEY_FILE}"))
    key = path.read_text().strip()
    if len(key) < 32:
        raise BriefingError(Problem(KEY_FILE, 0, 0, "is damaged (shorter than 32 characters)"))
    return key.encode()


def make_key(root: Path, public: Path | None = None) -> bytes:
    """Write a new key to .briefing/token.key (0600); an existing one is kept (O_EXCL: two
    first sends at once never make two different keys)."""
    from ..files import private_folder
    path = root / KEY_FILE
    private_folder(path.parent, public)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    key = read_key(root)
    assert key is not None
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def check_key(key: bytes) -> bytes:
    """What the endpoint holds: enough to check a token, not to make one."""
    return hmac.new(key, b"briefing-endpoint-check", hashlib.sha256).digest()


def fingerprint(key: bytes) -> str:
    """A short value the store keeps to recognise its key (it reveals nothing of it)."""
    return _b64(hmac.new(key, b"briefing-key-fingerprint", hashlib.sha256).digest()[:12])


def checks(check: bytes, token: str) -> bool:
    """Whether a token carries a valid check: made by this list, not made up."""
    if not TOKEN.fullmatch(token):
        return False
    raw = base64.urlsafe_b64decode(token)
    return hmac.compare_digest(hmac.new(check, raw[:12], hashlib.sha256).digest()[:6], raw[12:])


def legacy_hash(token: str) -> str:
    """How the endpoint key file lists a legacy token: a hash, so the file cannot be used to
    unsubscribe anyone."""
    return _b64(hashlib.sha256(b"briefing-legacy-token\0" + token.encode()).digest()[:9])


class Tokens:
    """Tokens for one list (its fixed identity) under one key."""

    def __init__(self, key: bytes, identity: str, legacy: bool = False) -> None:
        self._key = key
        self._list = identity.encode()
        self.identity = identity
        self.check = check_key(key)
        self.legacy = legacy  # copies were sent with legacy tokens: they stay valid

    def _mac(self, address: str) -> bytes:
        # The list is part of the message: the same reader on two lists gets two tokens.
        return hmac.new(self._key, b"briefing-unsubscribe\0" + self._list + b"\0"
                        + address.strip().lower().encode(), hashlib.sha256).digest()

    def token(self, address: str) -> str:
        reader = self._mac(address)[:12]
        return _b64(reader + hmac.new(self.check, reader, hashlib.sha256).digest()[:6])

    def legacy_token(self, address: str) -> str:
        return _b64(self._mac(address)[:18])

    def both(self, address: str) -> tuple[str, str]:
        """(token, legacy token) for one HMAC."""
        mac = self._mac(address)
        return (_b64(mac[:12] + hmac.new(self.check, mac[:12], hashlib.sha256).digest()[:6]),
                _b64(mac[:18]))


def well_formed(token: str) -> bool:
    return bool(TOKEN.fullmatch(token))


def is_placeholder(token: str) -> bool:
    """The archive copy's stand-in (the web edition, message.eml): nobody's token."""
    return token == TOKEN_PLACEHOLDER
