"""The list's identity and its token key, fixed in the store at first use, and the endpoint key.

Tokens are an HMAC over the list identity and the reader's address (subscribers/tokens.py). The
identity starts as the RFC 2919 list label of that moment (from `name:` and the sender's domain)
and is then kept in the store's `meta`, so renaming the newsletter or changing the sender never
changes a token again. The store also keeps a fingerprint of the key: a missing or different key
when the store holds deliveries is an error naming the file and how to restore it, never a
silent new key (every link already sent would stop working).

`.briefing/endpoint.key` holds what the endpoint needs to tell real tokens from made-up ones:
the check key and, for copies sent before the check existed, hashes of those legacy tokens;
and the sign-up pages' half of their keys (subscribers/signup.py), which makes and checks
confirmation links but cannot read one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..content.model import Config
from ..errors import BriefingError, Problem
from ..render.eml import list_label
from .store import Store, now
from .tokens import (
    KEY_ENV,
    KEY_FILE,
    Tokens,
    fingerprint,
    key_source,
    legacy_hash,
    make_key,
    read_key,
)

ENDPOINT_KEY_FILE = ".briefing/endpoint.key"
_HEADER = ("# briefing endpoint key: it checks unsubscribe tokens; it cannot make one or say\n"
           "# whose one is. Copy it beside the endpoint (briefing subscribers serve --key).\n")


def _restore_hint(store: Store) -> str:
    return (f"restore {KEY_FILE} from your backup of .briefing/ ({store.shown} and the key "
            "belong together); only if it is lost for good: 'briefing subscribers new-key' "
            "(the unsubscribe links already sent then stop working)")


def list_tokens(root: Path, store: Store, config: Config, create: bool = True) -> Tokens | None:
    """This list's tokens. Fixes the identity and the key in the store at first use; None when
    there is no key yet and `create` is False (nothing was ever sent: no token to map)."""
    key = read_key(root)
    recorded = store.meta("token_key")
    newest = _newest_personal_copy(store)
    sent = newest is not None
    if key is None:
        if sent or recorded:
            raise BriefingError(Problem(
                KEY_FILE, 0, 0, f"is missing, but {store.shown} records copies sent with it: "
                                "without it, the unsubscribe links in those copies cannot be "
                                "honoured; nothing was changed", _restore_hint(store)))
        if not create:
            return None
        key = make_key(root, root / "out")
    if recorded and recorded != fingerprint(key):
        raise BriefingError(Problem(
            key_source(root), 0, 0, f"is not this list's token key: {store.shown} records "
                                    "copies made with another, whose unsubscribe links this one "
                                    "cannot honour; nothing was changed", _restore_hint(store)))
    identity = store.meta("list_identity")
    tokens = Tokens(key, identity or list_label(config), store.meta("legacy_tokens") is not None)
    if identity is None or recorded is None:
        if newest is not None:
            _verify(store, tokens, config, newest)
        with store.transaction():
            store.set_meta("list_identity", tokens.identity)
            store.set_meta("token_key", fingerprint(key))
    write_endpoint_key(root, store, config, tokens)
    return tokens


_PERSONAL_ID = re.compile(r"<[^<>@\s]+\.[0-9a-f]{16}\.[0-9a-f]{16}@[^<>\s]+>")


def _newest_personal_copy(store: Store) -> tuple[str, str, str, str] | None:
    """(issue, address, Message-ID, sha256) of the newest copy made with a token: its
    per-reader Message-ID has the shape deliver/personal.py gives it. Copies recorded by a
    briefing from before tokens (a moved out/<ISSUE>/sent.jsonl) have none."""
    for row in store.db.execute(
            "SELECT issue, address, message_id, sha256 FROM deliveries WHERE message_id LIKE "
            "'<%.%.%@%>' ORDER BY id DESC"):
        if _PERSONAL_ID.fullmatch(row[2]):
            return row
    return None


def _verify(store: Store, tokens: Tokens, config: Config,
            newest: tuple[str, str, str, str]) -> None:
    """Before fixing an identity for a store that has sent copies: the newest per-reader copy's
    Message-ID (deliver/personal.py: sha256 of the content and the token) must come from this
    key and this identity, else today's name or key is not the one its links were made with."""
    issue, address, message_id, digest = newest
    for token in tokens.both(address):
        reader = hashlib.sha256(f"{digest}\0{token}".encode()).hexdigest()[:16]
        if f".{reader}@" in message_id:
            return
    raise BriefingError(Problem(
        "briefing.yaml", 0, 0,
        f"the newsletter's name '{config.name}' (list {tokens.identity}) or the token key in "
        f"{key_source(Path('.'))} is not what the copies already sent were made with (the "
        f"newest: {issue} to {address}), so their unsubscribe links would stop working; "
        "nothing was changed",
        f"if you renamed the newsletter or changed the sender since, put the old name and "
        f"sender back in briefing.yaml for one command (this one again): the store then keeps "
        f"that identity for good and you can rename freely; if the key changed, "
        f"{_restore_hint(store)}"))


def new_key(root: Path, store: Store, config: Config) -> list[str]:
    """`briefing subscribers new-key`: start new tokens when the key is lost for good."""
    if os.environ.get(KEY_ENV):
        raise BriefingError(Problem(f"${KEY_ENV}", 0, 0, "holds the token key: a new one is "
                                    "made by setting it", "unset it to keep the key in "
                                    f"{KEY_FILE}"))
    key = read_key(root)
    if key is not None and store.meta("token_key") in (None, fingerprint(key)):
        raise BriefingError(Problem(KEY_FILE, 0, 0, "is this list's key: a new one would stop "
                                    "every unsubscribe link already sent from working",
                                    "nothing to do"))
    lines = []
    path = root / KEY_FILE
    if key is not None:
        aside = path.with_name(f"token.key.replaced-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}")
        os.replace(path, aside)
        lines.append(f"kept the key that did not match as {KEY_FILE}.{aside.name[10:]}")
    key = make_key(root, root / "out")
    with store.transaction():
        store.set_meta("token_key", fingerprint(key))
        store.set_meta("token_key_made", now())
        store.set_meta("list_identity", store.meta("list_identity") or list_label(config))
        store.db.execute("DELETE FROM meta WHERE key = 'legacy_tokens'")
    tokens = Tokens(key, store.meta("list_identity") or list_label(config))
    write_endpoint_key(root, store, config, tokens, force=True)
    return lines + [
        f"made a new token key: {KEY_FILE}; back it up with {store.shown}",
        "the unsubscribe links in copies sent before no longer work: 'subscribers sync' reports "
        "their clicks as unknown tokens; readers can still unsubscribe from the next issue",
        f"copy the new {ENDPOINT_KEY_FILE} to the endpoint's host and restart it"]


# -- the endpoint key -------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointKey:
    check: bytes
    legacy: frozenset[str]  # legacy_hash() of each token sent before the check existed
    signup: bytes = b""  # the sign-up pages' MAC key and public key (signup.EndpointKeys)


def endpoint_key_text(store: Store, config: Config, tokens: Tokens, signup: str = "") -> str:
    lines = [_HEADER, f"list {tokens.identity}\n",
             f"check {base64.urlsafe_b64encode(tokens.check).decode()}\n", signup]
    if tokens.legacy:
        hashes = sorted({legacy_hash(tokens.legacy_token(address))
                         for address in _known(store, config)})
        lines += [f"legacy {h}\n" for h in hashes]
    return "".join(lines)


def _known(store: Store, config: Config) -> set[str]:
    known = {address for (address,) in store.db.execute(
        "SELECT address FROM deliveries UNION SELECT address FROM subscribers")}
    return known | {m.address for m in config.recipients}


def write_endpoint_key(root: Path, store: Store, config: Config, tokens: Tokens,
                       force: bool = False) -> None:
    """Write .briefing/endpoint.key when it is missing, or holds another check key or no
    sign-up line (a file from before sign-up)."""
    path = root / ENDPOINT_KEY_FILE
    check = f"check {base64.urlsafe_b64encode(tokens.check).decode()}\n"
    signup = _signup_line(root)
    if not force and path.is_file() and not path.is_symlink():
        try:
            text = path.read_text(encoding="ascii")
            if check in text and signup in text:
                return
        except (OSError, UnicodeDecodeError):
            pass
    from ..files import private_folder, write_private
    private_folder(path.parent, root / "out")
    write_private(path, endpoint_key_text(store, config, tokens, signup).encode("ascii"),
                  ENDPOINT_KEY_FILE, public=root / "out", what="the endpoint key")


def _signup_line(root: Path) -> str:
    """The sign-up pages' half of their keys, derived from the token key."""
    from .signup import editor_keys
    key = read_key(root)
    if key is None:
        return ""
    half = editor_keys(key)
    return f"signup {base64.urlsafe_b64encode(half.mac + half.public).decode()}\n"


def read_endpoint_key(path: Path, shown: str) -> EndpointKey:
    """The endpoint's key file, checked line by line."""
    try:
        if path.is_symlink():
            raise BriefingError(Problem(shown, 0, 0, "is a symbolic link; refusing to use it"))
        text = path.read_bytes().decode("ascii")
    except FileNotFoundError:
        raise BriefingError(Problem(
            shown, 0, 0, "no endpoint key: without it the endpoint cannot tell real unsubscribe "
                         "links from made-up ones",
            f"the first send (or 'briefing subscribers endpoint-key') writes {ENDPOINT_KEY_FILE} "
            "in the editor's project; copy it here (or pass --key FILE)")) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not ASCII text"
        raise BriefingError(Problem(shown, 0, 0, f"cannot read the endpoint key: {reason}")) \
            from None
    check = None
    signup = b""
    legacy: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        word, _, value = line.strip().partition(" ")
        try:
            if not word or word.startswith("#") or word == "list":
                continue
            if word == "check" and check is None:
                check = base64.urlsafe_b64decode(value.strip())
                if len(check) != 32:
                    raise ValueError
            elif word == "legacy" and value.strip():
                legacy.add(value.strip())
            elif word == "signup" and not signup:
                signup = base64.urlsafe_b64decode(value.strip())
                if len(signup) != 64:
                    raise ValueError
            else:
                raise ValueError
        except (ValueError, binascii.Error):
            raise BriefingError(Problem(shown, number, 1, "is not an endpoint key line",
                                        f"copy {ENDPOINT_KEY_FILE} again from the editor's "
                                        "project")) from None
    if check is None:
        raise BriefingError(Problem(shown, 0, 0, "has no 'check' line",
                                    f"copy {ENDPOINT_KEY_FILE} again from the editor's project"))
    return EndpointKey(check, frozenset(legacy), signup)
