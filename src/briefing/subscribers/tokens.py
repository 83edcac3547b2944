"""Unsubscribe tokens: an HMAC of the list and the reader's address under a private key.

A token is unguessable (144 bits), stable for one reader of one list, and says nothing about
the address without the key: the endpoint that receives it needs no subscriber data, and
`sync` maps it back by computing the tokens of the addresses it knows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from ..content.model import TOKEN_LENGTH
from ..errors import BriefingError, Problem

KEY_FILE = ".briefing/token.key"
KEY_ENV = "BRIEFING_TOKEN_KEY"
TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


def load_key(root: Path, create: bool = True) -> bytes:
    """The key from $BRIEFING_TOKEN_KEY, else .briefing/token.key (made 0600 on first use)."""
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
        if not create:
            raise BriefingError(Problem(KEY_FILE, 0, 0, "no token key yet",
                                        "it is made by the first send"))
        from ..files import private_folder
        private_folder(path.parent)
        try:  # O_EXCL: two first sends at once never make two different keys
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise BriefingError(Problem(KEY_FILE, 0, 0, f"can be read by others (mode {mode:o})",
                                    f"chmod 600 {KEY_FILE}"))
    key = path.read_text().strip()
    if len(key) < 32:
        raise BriefingError(Problem(KEY_FILE, 0, 0, "is damaged (shorter than 32 characters)"))
    return key.encode()


class Tokens:
    """Tokens for one list under one key."""

    def __init__(self, key: bytes, list_label: str) -> None:
        self._key = key
        self._list = list_label.encode()

    def token(self, address: str) -> str:
        # The list is part of the message: the same reader on two lists gets two tokens.
        mac = hmac.new(self._key, b"briefing-unsubscribe\0" + self._list + b"\0"
                       + address.strip().lower().encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode("ascii")


def well_formed(token: str) -> bool:
    return bool(TOKEN.fullmatch(token))
