"""Single values of briefing.yaml and the briefs, checked as editors write them: URLs and
mail addresses, and the links and paths of the reader list (List-Unsubscribe, the bounce
address, the preference page, the sign-up pages, the store and the endpoint's events).

content/schema.py builds the formats from these; each raises ValueError("message|hint").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit

from .model import Mailbox

MAX_URL = 2000


# Characters that show nothing, or reorder what is shown, in a URL: a zero-width space in a host
# or a right-to-left override in a path makes an address that is not what the editor sees
# (Trojan Source, CVE-2021-42574). Soft hyphen, zero-width and joiner characters, bidi
# embeddings, overrides and isolates, invisible operators, variation selectors, the BOM, and
# the Hangul fillers that render as nothing.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
                        "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f"
                        "\ufeff\uffa0]")
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^)>\s]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@lru_cache(maxsize=8192)  # a source is usually also linked from its summary: check it once
def check_url(value: str) -> str:
    """An absolute http(s) URL with a host, no credentials, no whitespace, control or
    invisible characters."""
    if len(value) > MAX_URL:
        raise ValueError(f"is longer than {MAX_URL} characters")
    pasted = _MARKDOWN_LINK.fullmatch(value.strip())
    if pasted:
        raise ValueError(f"is a whole Markdown link ('{value.strip()}'), not an address|"
                         f"write only the address: {pasted.group(2)}")
    if re.fullmatch(r"<\S+>", value):
        raise ValueError(f"is in angle brackets ('{value}')|write only the address: "
                         f"{value[1:-1]}")
    if re.search(r"[\s\x00-\x1f\x7f]", value):
        raise ValueError("must not contain whitespace or control characters|"
                         "percent-encode spaces as %20")
    hidden = _INVISIBLE.search(value)
    if hidden:
        char = hidden.group()
        name = unicodedata.name(char, "a format character")
        raise ValueError(f"contains the invisible character U+{ord(char):04X} ({name}) after "
                         f"'{value[:hidden.start()][-30:]}'|the address is not what it looks "
                         "like: type it again or copy it from the browser's address bar")
    if "\\" in value:
        raise ValueError("must not contain a backslash")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ValueError(f"is not a valid URL ('{value}')") from None
    if not parts.scheme:  # example.org/page, //example.org/page: copied without its start
        address = value.removeprefix("//")
        hint = (f"write the full address: https://{address}"
                if re.match(r"[\w-]+(?:\.[\w-]+)+(?:[/?#:]|$)", address) else
                "write the full address, from https:// and the site's name")
        raise ValueError(f"has no https:// or http:// at the start ('{value}')|{hint}")
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"must be an http(s) URL, not '{parts.scheme}:'|"
                         "write the full https:// address")
    if "@" in parts.netloc:
        raise ValueError("must not contain a user name or password (user@host)")
    if not parts.hostname:
        raise ValueError(f"has no host ('{value}')")
    return value


@lru_cache(maxsize=8192)
def check_link(value: str) -> str:
    """A URL that readers follow (sources, links in text, the archive, the logo): check_url,
    and no `{placeholder}` left in it. (unsubscribe.url is not one of these: it is checked
    by check_unsubscribe_url, which has placeholders of its own.)"""
    check_url(value)
    placeholder = _PLACEHOLDER.search(value)
    if placeholder:
        raise ValueError(f"still has the placeholder '{placeholder.group()}' in it|"
                         "replace it with the real address")
    return value


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")


_NAMED = re.compile(r'(?:"([^"\\]*)"|([^<>"@,;:\\]*?))\s*<([^<>\s]+)>')


def parse_mailbox(value: str) -> Mailbox:
    """'Name <user@example.org>' or 'user@example.org'; anything else is refused, not guessed."""
    value = value.strip()
    # A bare address (most rows of an export) cannot match the named form: no regex for it.
    match = _NAMED.fullmatch(value) if "<" in value else None
    if match:
        name, address = (match.group(1) or match.group(2) or "").strip(), match.group(3)
    elif "<" not in value and ">" not in value:
        name, address = "", value
    else:
        raise ValueError(f"is not a valid address ('{value}')|write it as Name <user@example.org>")
    if not address.isascii() and "@" in address:
        # Mail to a non-ASCII address needs SMTPUTF8 (RFC 6531) on every server on the way,
        # and a header written for it; briefing sends plain ASCII addresses only.
        local, _, domain = address.rpartition("@")
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_domain = ""
        hint = (f"write the domain in its ASCII form: {local}@{ascii_domain}"
                if local.isascii() and ascii_domain else
                "use an ASCII address for this reader" + (
                    f"; the domain's ASCII form is {ascii_domain}" if ascii_domain else ""))
        raise ValueError(f"'{address}' has non-ASCII characters, which need SMTPUTF8; "
                         f"briefing sends plain ASCII addresses only|{hint}")
    if not _ADDR.fullmatch(address) or len(address) > 254:
        raise ValueError(f"is not a valid address ('{value}')|write it as Name <user@example.org>")
    return Mailbox(address, name)


# A List-Unsubscribe header line must fit RFC 5322's 998 octets literally: a longer URL would be
# folded into an RFC 2047 encoded word, which mail clients then ignore. The line as sent is
# "List-Unsubscribe: <URL>, <MAILTO>" with every {token} filled in (each grows by 17 characters):
# 18 + 2 + 600 + 4 + 350 = 974 octets at most.
MAX_HEADER_URL = 900
MAX_UNSUBSCRIBE_URL = 600   # with its tokens filled in
MAX_UNSUBSCRIBE_MAILTO = 350


# A token is 24 characters of base64url; the header must still fit with it filled in.
_TOKEN_SAMPLE = "T" * 24


def _other_placeholders(value: str) -> list[str]:
    return [p for p in _PLACEHOLDER.findall(value) if p != "{token}"] + (
        ["{"] if "{" in _PLACEHOLDER.sub("", value) else []) + (
        ["}"] if "}" in _PLACEHOLDER.sub("", value) else [])


def check_mailto(value: str) -> str:
    if not value.startswith("mailto:"):
        raise ValueError("must start with 'mailto:'")
    # It goes between <> in List-Unsubscribe (RFC 2369): a bare address, nothing to break out.
    if re.search(r"[\s<>\"]", value):
        raise ValueError(f"is not a valid mailto: URL ('{value}')|write it as "
                         "mailto:user@example.org, percent-encoding spaces as %20")
    other = _other_placeholders(value)
    if other:
        raise ValueError(f"has '{other[0]}', which briefing does not fill in|the only "
                         "placeholder is {token}, e.g. mailto:unsubscribe+{token}@example.org")
    if not value.isascii():
        raise ValueError("must be ASCII: it goes into a mail header as it is|"
                         "percent-encode other characters")
    parse_mailbox(value[len("mailto:"):].replace("{token}", _TOKEN_SAMPLE).split("?", 1)[0])
    _fits(value, MAX_UNSUBSCRIBE_MAILTO)
    return value


def _fits(value: str, limit: int) -> None:
    filled = len(value.replace("{token}", _TOKEN_SAMPLE))
    if filled > limit:
        raise ValueError(f"is {filled:,} characters with its tokens filled in; at most {limit}, "
                         "so that the List-Unsubscribe line fits RFC 5322's 998 octets|"
                         "shorten it")


def check_bounce_address(value: str) -> Mailbox:
    """The envelope sender; `{token}` once in its local part makes it each reader's own
    (VERP), so a bounce proves whose copy it was."""
    mailbox = parse_mailbox(value)
    other = _other_placeholders(mailbox.address)
    if other:
        raise ValueError(f"has '{other[0]}', which briefing does not fill in|the only "
                         "placeholder is {token}, e.g. bounces+{token}@example.org")
    if mailbox.address.count("{token}") > 1:
        raise ValueError("may hold {token} once|e.g. bounces+{token}@example.org")
    filled = len(mailbox.address.replace("{token}", _TOKEN_SAMPLE))
    if filled > 254:
        raise ValueError(f"is {filled} characters with its token filled in; an address holds "
                         "at most 254 (RFC 5321)|shorten it")
    return mailbox


def check_unsubscribe_url(value: str) -> str:
    """RFC 8058 one-click: an https URL that identifies the reader (its `{token}`) and the list;
    it goes literally into a header."""
    other = _other_placeholders(value)
    if other:
        raise ValueError(f"has '{other[0]}', which briefing does not fill in|the only "
                         "placeholder is {token}, e.g. https://example.org/u/{token}")
    if "{token}" not in value:
        raise ValueError("has no {token}: a one-click link must say who is unsubscribing "
                         "(RFC 8058 3.1)|write it like https://example.org/u/{token}; "
                         "'briefing subscribers serve' answers such links")
    if not value.isascii():
        raise ValueError("must be ASCII: it goes into a mail header as it is|"
                         "percent-encode other characters (or use the punycode host)")
    filled = value.replace("{token}", _TOKEN_SAMPLE)
    check_url(filled)
    _fits(value, MAX_UNSUBSCRIBE_URL)
    if urlsplit(filled).scheme.lower() != "https":
        raise ValueError("must be an https URL (RFC 8058 one-click unsubscribe)|"
                         "write the https:// address")
    if re.search(r"[<>\"]", value):
        raise ValueError("must not contain '<', '>' or '\"'|percent-encode them")
    return value


MAX_PREFERENCES_URL = 600  # with its token filled in; the link adds the choice and signature


def check_preferences_url(value: str) -> str:
    """Where readers choose their themes: an https URL holding `{token}` (a reader's token is
    a secret: it travels over TLS only). The link in a copy adds the reader's choice and its
    signature as a query, so the URL has no fragment."""
    other = _other_placeholders(value)
    if other:
        raise ValueError(f"has '{other[0]}', which briefing does not fill in|the only "
                         "placeholder is {token}, e.g. https://example.org/p/{token}")
    if "{token}" not in value:
        raise ValueError("has no {token}: the page must know whose choice it is|write it like "
                         "https://example.org/p/{token}; 'briefing subscribers serve' answers "
                         "such links")
    if not value.isascii():
        raise ValueError("must be ASCII|percent-encode other characters (or use the punycode "
                         "host)")
    filled = value.replace("{token}", _TOKEN_SAMPLE)
    check_url(filled)
    if len(filled) > MAX_PREFERENCES_URL:
        raise ValueError(f"is {len(filled):,} characters with its token filled in; at most "
                         f"{MAX_PREFERENCES_URL}|shorten it")
    if urlsplit(filled).scheme.lower() != "https":
        raise ValueError("must be an https URL (it carries the reader's token)|"
                         "write the https:// address")
    if re.search(r"[<>\"#]", value):
        raise ValueError("must not contain '<', '>', '\"' or '#'|percent-encode them")
    return value


def check_state_path(value: str) -> str:
    """The store is private: a relative path inside the project, never under out/."""
    from pathlib import PurePosixPath
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value:
        raise ValueError(f"must be a path inside the project ('{value}')|"
                         "for example .briefing/state.sqlite3")
    if path.parts and path.parts[0] == "out":
        raise ValueError("must not be under out/, which is published as is|"
                         "keep it in .briefing/, which is private")
    return value


def check_events_source(value: str) -> str:
    """The endpoint's events: an https URL of its /events, or a file path."""
    if "://" in value:
        check_url(value)
        if not value.lower().startswith("https://") and not re.match(
                r"http://(127\.0\.0\.1|localhost|\[::1\])[:/]", value):
            raise ValueError("must be an https URL (the bearer secret travels with it)|"
                             "http:// is accepted only for 127.0.0.1")
    return value


def _https_or_loopback(value: str) -> None:
    """The sign-up pages carry addresses: https, or http to this machine for a local test."""
    if urlsplit(value).scheme.lower() != "https" and not re.match(
            r"http://(127\.0\.0\.1|localhost|\[::1\])[:/]", value):
        raise ValueError("must be an https URL (addresses travel through it)|"
                         "http:// is accepted only for 127.0.0.1")


def check_signup_url(value: str) -> str:
    """Where the sign-up form posts: the endpoint's /s, over https."""
    check_link(value)
    _https_or_loopback(value)
    return value


def check_confirm_url(value: str) -> str:
    """The confirmation link: the endpoint's /c/<token>, with {token} once, in the path."""
    other = _other_placeholders(value)
    if other:
        raise ValueError(f"has '{other[0]}', which briefing does not fill in|the only "
                         "placeholder is {token}, e.g. https://example.org/c/{token}")
    if value.count("{token}") != 1:
        raise ValueError("must hold {token} once: the link names the confirmation|write it "
                         "like https://example.org/c/{token}")
    filled = value.replace("{token}", _TOKEN_SAMPLE)
    check_url(filled)
    _https_or_loopback(filled)
    if "{token}" not in urlsplit(value).path:
        raise ValueError("must hold {token} in its path, not in the query or fragment|write it "
                         "like https://example.org/c/{token}")
    return value
