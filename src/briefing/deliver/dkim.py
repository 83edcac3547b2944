"""DKIM (RFC 6376): the signing keys, a signature for each reader's copy, keygen and a self-check.

dkimpy does the canonicalisation (relaxed/relaxed), the header selection and hashing, and the
folding of the DKIM-Signature field, exactly as its own `sign()` does. Two things are done
once per built message instead of once per copy, which is where dkimpy's `sign()` spends its
time (measured on the sample's 47 KB message: 2.5-3 ms a copy besides the RSA operation):

- the key is parsed once, and the RSA signature is made by OpenSSL through `cryptography`
  (dkimpy's own pure-Python RSA costs 8-14 ms per 2048-bit signature);
- the body is split into lines and canonicalised once. A reader's copy differs from the built
  message only where its token replaces the placeholder: the same length, no whitespace, so the
  canonical body of a copy is the canonical built body with the same replacement.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import dkim
from dkim.canonicalization import CanonicalizationPolicy

from ..content.model import SIGNATURE_PLACEHOLDER, TOKEN_PLACEHOLDER, DkimSettings
from ..errors import BriefingError, Problem

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

MIN_RSA_BITS = 2048  # RFC 8301 3.2 makes 1024 the floor; Gmail and Yahoo ask for 2048
KEY_FOLDER = ".briefing/dkim"
# What every signature covers (RFC 6376 5.4.1 recommends most of these; RFC 8058 4 needs the two
# List-Unsubscribe fields signed, or receivers do not offer the one-click). A field listed but
# absent (Reply-To in a message without one) cannot be added later without breaking the
# signature. Listed twice (over-signed, RFC 6376 8.15): From, and the one-click pair, so a
# second From or a second List-Unsubscribe cannot be added either.
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"list-id",
                  b"list-unsubscribe", b"list-unsubscribe-post", b"mime-version",
                  b"content-type", b"from", b"list-unsubscribe", b"list-unsubscribe-post")
REQUIRED_SIGNED = ("from", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe",
                   "list-unsubscribe-post", "mime-version", "content-type")
_POLICY = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
_H_TAG = b" : ".join(SIGNED_HEADERS)  # spaces around ':' let dkimpy fold the list (RFC 6376)
_H_LIST = list(SIGNED_HEADERS)
_FIELD = b"DKIM-Signature"
_PLACEHOLDER = TOKEN_PLACEHOLDER.encode("ascii")
_SIGNATURE = SIGNATURE_PLACEHOLDER.encode("ascii")  # the preference link's (issue 22)


@dataclass(frozen=True)
class SigningKeys:
    """The loaded private keys of a `dkim:` block."""

    settings: DkimSettings
    rsa: RSAPrivateKey
    ed25519: Ed25519PrivateKey | None
    where: str  # the key's file as written, or $VARIABLE

    def records(self) -> dict[str, str]:
        """Name -> the TXT record each selector must publish."""
        domain = self.settings.domain.rstrip(".")
        out = {f"{self.settings.selector}._domainkey.{domain}": rsa_record(self.rsa)}
        if self.ed25519 is not None:
            out[f"{self.settings.ed25519_selector}._domainkey.{domain}"] = \
                ed25519_record(self.ed25519)
        return out


# -- keys ----------------------------------------------------------------------------------------


def _key_path(root: Path, written: str) -> Path:
    path = Path(written)
    return path if path.is_absolute() else root / path


def _read_key_file(root: Path, written: str) -> bytes:
    """The PEM bytes, refused when it is missing, unreadable, readable by others, or lies
    under out/ (checked where links lead, not only as written)."""
    path = _key_path(root, written)
    try:
        resolved = path.resolve()
    except OSError:
        resolved = path
    if resolved.is_relative_to((root / "out").resolve()):
        raise BriefingError(Problem(written, 0, 0, "is under out/, which is published as is",
                                    f"move it into {KEY_FOLDER}/ and point dkim.key there"))
    try:
        info = path.stat()
    except FileNotFoundError:
        raise BriefingError(Problem(written, 0, 0, "the DKIM key does not exist",
                                    "make one with 'briefing dkim keygen --selector S', or "
                                    "fix dkim.key in briefing.yaml")) from None
    except OSError as exc:
        raise BriefingError(Problem(written, 0, 0, f"cannot read the DKIM key: "
                                    f"{exc.strerror}")) from None
    mode = info.st_mode & 0o777
    if mode & 0o077:
        raise BriefingError(Problem(written, 0, 0, f"the DKIM key can be read by others (mode "
                                    f"{mode:o}): anyone who reads it can sign as you",
                                    f"chmod 600 {written}, and make a new key if others may "
                                    "have copied it"))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BriefingError(Problem(written, 0, 0, f"cannot read the DKIM key: "
                                    f"{exc.strerror}")) from None


def _parse_private(data: bytes, where: str):  # -> a cryptography private key
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    try:
        return load_pem_private_key(data, password=None)
    except TypeError:
        raise BriefingError(Problem(where, 0, 0, "the DKIM key is encrypted with a passphrase",
                                    "store it unencrypted, mode 0600 (briefing signs "
                                    "unattended): openssl pkey -in KEY -out NEW")) from None
    except (ValueError, Exception) as exc:  # cryptography raises several kinds for bad PEM
        raise BriefingError(Problem(where, 0, 0, f"is not a PEM private key "
                                    f"({type(exc).__name__})", "make one with 'briefing dkim "
                                    "keygen --selector S'")) from None


def load_keys(root: Path, settings: DkimSettings) -> SigningKeys:
    """The keys of a `dkim:` block, or a BriefingError saying what is wrong with them."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    if settings.key_env:
        where = f"${settings.key_env}"
        text = os.environ.get(settings.key_env, "")
        if not text.strip():
            raise BriefingError(Problem(where, 0, 0, "is not set, so there is no DKIM key to "
                                        "sign with", f"export {settings.key_env} with the "
                                        "PEM, or use dkim.key with a file"))
        data = text.encode()
    else:
        where = settings.key
        data = _read_key_file(root, settings.key)
    key = _parse_private(data, where)
    if not isinstance(key, RSAPrivateKey):
        raise BriefingError(Problem(where, 0, 0, "is not an RSA key: dkim.key signs "
                                    "rsa-sha256, which every receiver checks",
                                    "an Ed25519 key goes in dkim.ed25519_key, beside an RSA one"))
    if key.key_size < MIN_RSA_BITS:
        raise BriefingError(Problem(where, 0, 0, f"is a {key.key_size}-bit RSA key; receivers "
                                    f"(Gmail, Yahoo) want {MIN_RSA_BITS} bits or more",
                                    "make a new one with 'briefing dkim keygen --selector "
                                    "NEW' and publish its record"))
    ed25519 = None
    if settings.ed25519_key:
        second = _parse_private(_read_key_file(root, settings.ed25519_key),
                                settings.ed25519_key)
        if not isinstance(second, Ed25519PrivateKey):
            raise BriefingError(Problem(settings.ed25519_key, 0, 0, "is not an Ed25519 key",
                                        "make one with 'briefing dkim keygen --selector S "
                                        "--ed25519'"))
        ed25519 = second
    return SigningKeys(settings, key, ed25519, where)


def rsa_record(key) -> str:
    """The TXT record of an RSA key (RFC 6376 3.6.1): p= is its SubjectPublicKeyInfo."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode("ascii")


def ed25519_record(key) -> str:
    """RFC 8463 4.2: p= is the raw 32-byte public key."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "v=DKIM1; k=ed25519; p=" + base64.b64encode(raw).decode("ascii")


# -- signing -------------------------------------------------------------------------------------


class MessageSigner:
    """Signs the copies of one built message; `header(head, token, when)` is the DKIM-Signature
    field(s) to put before the copy's head, with LF line ends like the rest of the copy."""

    def __init__(self, keys: SigningKeys, built_body: bytes) -> None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, utils

        self.keys = keys
        self._padding = padding.PKCS1v15()
        self._prehashed = utils.Prehashed(hashes.SHA256())  # the digest dkimpy's hashing made
        # The built message has LF line ends (render/eml.py); DKIM hashes the CRLF form that
        # goes over SMTP (RFC 6376 3.4.4 works on CRLF lines).
        canonical = _POLICY.canonicalize_body(built_body.replace(b"\n", b"\r\n"))
        # A copy differs from the built message only in the token and, with a preference
        # link, its signature: same lengths, no whitespace, so they can be put into the
        # canonical form directly. Everything before the first of them is hashed once.
        found = [at for at in (canonical.find(_PLACEHOLDER), canonical.find(_SIGNATURE))
                 if at >= 0]
        first = min(found) if found else -1
        self._prefix = hashlib.sha256(canonical[:max(first, 0)] if first >= 0 else canonical)
        self._rest = canonical[first:] if first >= 0 else b""
        self._personal = first >= 0
        self._domain = keys.settings.domain.rstrip(".").encode("ascii")

    def body_hash(self, token: str, signature: str | None = None) -> bytes:
        digest = self._prefix.copy()
        if self._personal:
            rest = self._rest.replace(_PLACEHOLDER, token.encode("ascii"))
            if signature is not None:
                rest = rest.replace(_SIGNATURE, signature.encode("ascii"))
            digest.update(rest)
        return base64.b64encode(digest.digest())

    def header(self, head: bytes, token: str, when: dt.datetime,
               signature: str | None = None) -> bytes:
        headers, _ = dkim.rfc822_parse(head + b"\n")
        canonical = [_canonical_field(bytes(name), bytes(value)) for name, value in headers]
        body_hash = self.body_hash(token, signature)
        stamp = str(int(when.timestamp())).encode("ascii")
        settings = self.keys.settings
        out = []
        if self.keys.ed25519 is not None:
            ed = self.keys.ed25519
            out.append(self._field(canonical, b"ed25519-sha256",
                                   settings.ed25519_selector.encode("ascii"), stamp, body_hash,
                                   lambda digest: ed.sign(digest)))
        rsa = self.keys.rsa
        out.append(self._field(
            canonical, b"rsa-sha256", settings.selector.encode("ascii"), stamp, body_hash,
            lambda digest: rsa.sign(digest, self._padding, self._prehashed)))
        return b"".join(out)

    def _field(self, canonical: list, algorithm: bytes, selector: bytes, stamp: bytes,
               body_hash: bytes, sign) -> bytes:
        """dkimpy's DomainSigner.gen_header, with the signature made by `sign(sha256 digest)`."""
        fields = [(b"v", b"1"), (b"a", algorithm), (b"c", b"relaxed/relaxed"),
                  (b"d", self._domain), (b"s", selector), (b"t", stamp),
                  (b"h", _H_TAG), (b"bh", body_hash),
                  # A long placeholder puts b= on a line of its own, so folding again with the
                  # real value changes no whitespace before it (as dkimpy does).
                  (b"b", b"0" * 60)]
        value = dkim.fold(b"; ".join(b"=".join(x) for x in fields), namelen=len(_FIELD))
        value = dkim.RE_BTAG.sub(b"\\1", value)
        hasher = hashlib.sha256()
        dkim.hash_headers(hasher, _POLICY, canonical, _H_LIST,
                          (_FIELD, b" " + value), None)
        fields[-1] = (b"b", base64.b64encode(sign(hasher.digest())))
        value = dkim.fold(b"; ".join(b"=".join(x) for x in fields) + b"\r\n",
                          namelen=len(_FIELD))
        return (_FIELD + b": " + value).replace(b"\r\n", b"\n")


@lru_cache(maxsize=128)
def _canonical_field(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    """dkimpy's relaxed form of one header field. Most fields are the same in every copy of a
    message (only Date, Message-ID and List-Unsubscribe change), so most calls are cache hits."""
    return tuple(_POLICY.canonicalize_headers([(name, value)])[0])


# -- checking ------------------------------------------------------------------------------------


def verify(data: bytes, records: dict[str, str]) -> list[str]:
    """Verify every DKIM-Signature of a copy with dkimpy's verifier against the given TXT
    records (name -> value): a list of what is wrong, empty when every signature verifies and
    covers what it must."""
    import logging
    wrong = []
    checker = dkim.DKIM(data, logger=logging.getLogger("briefing.dkim"), minkey=MIN_RSA_BITS)
    signatures = [v for k, v in checker.headers if k.lower() == b"dkim-signature"]
    if not signatures:
        return ["the copy has no DKIM-Signature"]

    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        value = records.get(name.decode("ascii").rstrip(".").lower())
        return value.encode("ascii") if value is not None else None

    for index, raw in enumerate(signatures):
        tags = dkim.util.parse_tag_value(dkim.canonicalization.unfold_header_value(raw))
        signed = {h.strip().lower() for h in tags.get(b"h", b"").decode().split(":")}
        missing = [h for h in REQUIRED_SIGNED if h not in signed]
        if missing:
            wrong.append(f"signature {index + 1} does not cover {', '.join(missing)}")
        try:
            ok = checker.verify(idx=index, dnsfunc=lookup)
        except dkim.DKIMException as exc:
            ok, why = False, str(exc)
        else:
            why = "the signature does not verify"
        if not ok:
            algorithm = tags.get(b"a", b"?").decode()
            wrong.append(f"the {algorithm} signature does not verify ({why})")
    return wrong


# -- keygen --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewKey:
    path: str          # as shown, relative to the project
    name: str          # <selector>._domainkey.<domain>
    record: str        # the TXT value
    config_line: str   # `key: ...` or `ed25519_key: ...`


def zone_line(name: str, record: str) -> str:
    """`name. IN TXT "..." "..."`: a TXT string holds at most 255 octets (RFC 1035 3.3.14), so a
    2048-bit key's record is split into several strings, which receivers join."""
    parts = [record[i:i + 255] for i in range(0, len(record), 255)]
    return f"{name}. IN TXT " + " ".join(f'"{p}"' for p in parts)


def keygen_for(project, selector: str, domain: str | None,
               ed25519: bool = False) -> tuple[str, list[NewKey]]:
    """`briefing dkim keygen`: the domain defaults to the sender's in briefing.yaml."""
    import re

    from ..content.schema import HOSTNAME, SELECTOR
    from ..content.validate import load_config
    if not re.fullmatch(SELECTOR, selector) or len(selector) > 63:
        raise BriefingError(Problem("--selector", 0, 0, f"'{selector}' is not a selector",
                                    "letters, digits and '-', e.g. news2026"))
    if domain is None:
        if not project.config_path.is_file():
            raise BriefingError(Problem("--domain", 0, 0, "no briefing.yaml here to take the "
                                        "sender's domain from", "pass --domain example.org"))
        config = load_config(project)
        assert config is not None  # load_config raises on a broken file
        domain = config.sender.domain
    domain = domain.lower().rstrip(".")
    if not re.fullmatch(HOSTNAME, domain):
        raise BriefingError(Problem("--domain", 0, 0, f"'{domain}' is not a domain name"))
    return domain, keygen(project.root, selector, domain, ed25519)


def keygen(root: Path, selector: str, domain: str, ed25519: bool = False) -> list[NewKey]:
    """Write a new key pair's private key (0600) into .briefing/dkim/; never overwrite one."""
    from cryptography.hazmat.primitives.asymmetric import ed25519 as ed
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    from ..files import private_folder, write_private

    folder = private_folder(root / KEY_FOLDER)
    wanted = [(f"{selector}.pem", selector, "key", False)]
    if ed25519:
        wanted.append((f"{selector}-ed25519.pem", f"{selector}-ed25519", "ed25519_key", True))
    taken = [f"{KEY_FOLDER}/{name}" for name, *_ in wanted if (folder / name).exists()
             or (folder / name).is_symlink()]
    if taken:
        raise BriefingError([Problem(shown, 0, 0, "already exists; keygen never overwrites a "
                                     "key (its record may be published)",
                                     "choose another --selector") for shown in taken])
    made = []
    for name, sel, line, is_ed in wanted:
        key = ed.Ed25519PrivateKey.generate() if is_ed else \
            rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        shown = f"{KEY_FOLDER}/{name}"
        write_private(folder / name, pem, shown, public=root / "out", what="a private key")
        record = ed25519_record(key) if is_ed else rsa_record(key)
        made.append(NewKey(shown, f"{sel}._domainkey.{domain}", record, f"{line}: {shown}"))
    return made
