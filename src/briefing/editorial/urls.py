"""Addresses as `add` writes them: canonical, without tracking parameters, readable as an IRI."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from ..content.schema import _INVISIBLE
from .fetch import to_uri

_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# Characters that are never decoded for display: what does not show, or shows as a space.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
# A host's first label that names a version of the same site rather than the publisher.
_SITE_PREFIXES = ("www.", "www1.", "www2.", "m.", "mobile.", "amp.")


def _tracking() -> re.Pattern[str]:
    from .lint import _TRACKING  # one list of tracking parameters, shared with the lint rule
    return _TRACKING


def without_tracking(url: str) -> str:
    """The URL without utm_*, fbclid, gclid and their kind, and without a fragment. The rest
    of the query is kept exactly as written (parsing and re-encoding it would change it)."""
    parts = urlsplit(url)
    tracking = _tracking()
    kept = [p for p in parts.query.split("&")
            if p and not tracking.fullmatch(unquote(p.split("=", 1)[0]))]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), ""))


def _readable_escapes(text: str) -> str:
    """Percent-encoded UTF-8 letters decoded (`caf%C3%A9` -> `café`); ASCII escapes (%20, %2F,
    %3F) and anything that would not show (a zero-width or bidi character, a space of any
    kind) stay encoded, so the address means the same and shows what it is."""
    def decode(match: re.Match[str]) -> str:
        triples = re.findall(r"%[0-9A-Fa-f]{2}", match.group())
        raw = bytes(int(t[1:], 16) for t in triples)
        out: list[str] = []
        i = 0
        while i < len(raw):
            lead = raw[i]
            size = 1 if lead < 0x80 else 2 if lead >> 5 == 6 else 3 if lead >> 4 == 14 else \
                4 if lead >> 3 == 30 else 1
            chunk = raw[i:i + size]
            try:
                char = chunk.decode("utf-8")
            except UnicodeDecodeError:
                char = ""
            shown = (len(char) == 1 and not char.isascii()
                     and unicodedata.category(char) not in _HIDDEN_CATEGORIES
                     and not _INVISIBLE.fullmatch(char))
            out.append(char if shown else "".join(triples[i:i + len(chunk)]))
            i += len(chunk)
        return "".join(out)
    return _ESCAPES.sub(decode, text)


def _readable_host(host: str) -> str:
    labels = []
    for label in host.split("."):
        if label.lower().startswith("xn--"):
            try:
                decoded = label.encode("ascii").decode("idna")
            except UnicodeError:
                decoded = label
            label = decoded if all(unicodedata.category(c) not in _HIDDEN_CATEGORIES
                                   for c in decoded) else label
        labels.append(label)
    return ".".join(labels)


def readable(url: str) -> str:
    """An address as an editor reads it in a browser's address bar: the host in Unicode
    (not punycode) and letters in the path and query as letters (RFC 3987 section 3.2).
    `to_uri` turns it back into the same address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or ":" in host or "@" in parts.netloc:
        return url
    netloc = _readable_host(host)
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, _readable_escapes(parts.path),
                       _readable_escapes(parts.query), _readable_escapes(parts.fragment)))


def url_key(url: str) -> str:
    """What two ways of writing one address share: ASCII form, lower-case scheme and host, no
    default port, no tracking parameters or fragment, '/' for an empty path."""
    try:
        parts = urlsplit(to_uri(without_tracking(url)))
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        host += f":{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


@lru_cache(maxsize=1)
def _suffixes():  # publicsuffixlist, imported lazily: only `add` needs it
    from publicsuffixlist import PublicSuffixList
    return PublicSuffixList()


def _site(host: str) -> str:
    """The registrable domain (news.example.co.uk -> example.co.uk); an address is itself."""
    host = host.lower().rstrip(".")
    if not host or host.replace(".", "").isdigit() or ":" in host:
        return host
    return _suffixes().privatesuffix(host) or host


def same_site(one: str, other: str) -> bool:
    """Both on one site: the same registrable domain, so amp.news.example.org and
    news.example.org are one site, and news.example.org and gazette.example.net are two."""
    a, b = urlsplit(one), urlsplit(other)
    if a.scheme.lower() not in ("http", "https") or b.scheme.lower() not in ("http", "https"):
        return False
    return bool(a.hostname) and _site(a.hostname or "") == _site(b.hostname or "")


def absolute(base: str, href: str) -> str:
    """`href` (as a page writes it) resolved against the page's address; '' if it is not an
    http(s) address."""
    href = "".join(c for c in href.strip() if c.isprintable())
    if not href:
        return ""
    try:
        joined = urljoin(base, href)
        urlsplit(joined).port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return ""
    return joined if urlsplit(joined).scheme.lower() in ("http", "https") else ""


def host_name(url: str) -> str:
    """The host without www., m. or amp.: the publisher when a page names none."""
    host = _readable_host(urlsplit(url).hostname or "")
    for prefix in _SITE_PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            return host[len(prefix):]
    return host
