"""The three formats editors write (briefing.yaml, issue.yaml, briefs), and their JSON Schema."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit

from .model import (
    Brand,
    Config,
    DkimSettings,
    LintSettings,
    Mailbox,
    SavedSources,
    Signup,
    SmtpSettings,
    Source,
    Stat,
    SyncSources,
    Theme,
    Thread,
    Unsubscribe,
)
from .spec import Custom, Date, Flag, Key, List, Number, Object, Text, WordOr

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
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"'{parts.scheme}:'" if parts.scheme else "no scheme"
        raise ValueError(f"must be an http(s) URL, not {scheme}|write the full https:// address")
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


def parse_mailbox(value: str) -> Mailbox:
    """'Name <user@example.org>' or 'user@example.org'; anything else is refused, not guessed."""
    value = value.strip()
    match = re.fullmatch(r'(?:"([^"\\]*)"|([^<>"@,;:\\]*?))\s*<([^<>\s]+)>', value)
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
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


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


def check_key_path(value: str) -> str:
    """A private key's file: anywhere (keys often live in /etc), but never under out/, which is
    published as is."""
    from pathlib import PurePosixPath
    path = PurePosixPath(value)
    if "\\" in value or (not path.is_absolute() and ".." in path.parts):
        raise ValueError(f"must be a path inside the project or an absolute path ('{value}')|"
                         "for example .briefing/dkim/news.pem")
    if not path.is_absolute() and path.parts and path.parts[0] == "out":
        raise ValueError("must not be under out/, which is published as is|"
                         "keep it in .briefing/, which is private")
    return value


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# RFC 6376 3.1: a selector is one or more DNS labels.
SELECTOR = rf"{_LABEL}(?:\.{_LABEL})*"
HOSTNAME = rf"{_LABEL}(?:\.{_LABEL})+"


def _dkim_consistent(value: DkimSettings) -> str:
    if bool(value.key) == bool(value.key_env):
        return ("needs one of 'key' (the private key's file) or 'key_env' (a variable holding "
                "it), not " + ("both" if value.key else "neither")
                + "|'briefing dkim keygen --selector S' makes a key and prints the block")
    return ""


SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
COLOUR = r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})"


def _line(description: str, header: bool = False, max_length: int = 300) -> Text:
    return Text(description=description, header=header, max_length=max_length)


def _url(description: str) -> Custom:
    return Custom(description=description, convert=check_link, max_length=MAX_URL)


def _mailbox(description: str) -> Custom:
    return Custom(description=description, convert=parse_mailbox, header=True, max_length=320)


def _colour(description: str) -> Text:
    return Text(description=description, pattern=COLOUR,
                pattern_hint="write a hex colour: #rgb or #rrggbb, like #1f5fbf")


THEME = Object(name="a theme", model=Theme, keys={
    "id": Key(Text(description="Short id used by briefs, e.g. ethics", pattern=SLUG,
                   pattern_hint="lowercase letters, digits and '-'", max_length=40), True),
    "title": Key(_line("Section heading"), True),
    "description": Key(_line("One line under the heading")),
})

# Story threads (docs/record.md): declared once here, named by items with `thread: ID`.
THREAD = Object(name="a thread", model=Thread, keys={
    "id": Key(Text(description="Short id items use, e.g. seedance-hollywood; also the folder of "
                               "its page, out/threads/<id>/", pattern=SLUG,
                   pattern_hint="lowercase letters, digits and '-'", max_length=40), True),
    "title": Key(_line("The story's title, shown on its page and next to its items"), True),
})

BRAND = Object(name="brand", description="Colours, font and logo of the email", model=Brand,
               keys={
    "accent": Key(_colour("Accent colour (links, labels) on the light background")),
    "text": Key(_colour("Body text colour")),
    "background": Key(_colour("Page background colour")),
    "muted": Key(_colour("Secondary text colour")),
    "dark_accent": Key(_colour("Accent colour in dark mode")),
    "dark_text": Key(_colour("Body text colour in dark mode")),
    "dark_background": Key(_colour("Background colour in dark mode")),
    "dark_muted": Key(_colour("Secondary text colour in dark mode")),
    "font": Key(Text(description="CSS font stack", pattern=r"[A-Za-z0-9 ,'\"-]+",
                     pattern_hint="font names separated by commas", max_length=200)),
    "logo_url": Key(_url("https URL of the logo image")),
    "logo_alt": Key(_line("Alt text of the logo")),
})

SMTP = Object(name="smtp", description="Default SMTP transport for `briefing send`",
              model=SmtpSettings, keys={
    "url": Key(Text(description="smtp://host:port (STARTTLS) or smtps://host:port",
                    pattern=r"smtps?://[A-Za-z0-9.-]+(?::\d{1,5})?",
                    pattern_hint="write smtp://host:587 or smtps://host:465")),
    "user": Key(_line("User name for SMTP AUTH")),
    "password_env": Key(Text(description="Environment variable that holds the SMTP password",
                             pattern=r"[A-Z_][A-Z0-9_]*", max_length=100)),
})

def check_rule(value: str) -> str:
    """A lint rule id from lint.RULES, with a did-you-mean for a near miss."""
    import difflib

    from .rules import RULES
    if value not in RULES:
        close = difflib.get_close_matches(value, RULES, n=1)
        raise ValueError(f"'{value}' is not a lint rule|" + (
            f"did you mean '{close[0]}'?" if close else "rules: " + ", ".join(RULES)))
    return value


def check_recurring(value: str) -> str:
    """A URL, or a URL prefix ending in '*'."""
    check_link(value.removesuffix("*") if value.endswith("*") else value)
    return value


def _lint_rules() -> tuple:
    from .rules import RULES
    return tuple(RULES)


LINT = Object(name="lint", description="Limits of the editorial warnings of `briefing check`",
              model=LintSettings, keys={
    "headline_max_chars": Key(Number(description="Warn when a headline is longer than this "
                                                 "many characters (default 90)", minimum=1)),
    "summary_max_words": Key(Number(description="Warn when a summary has more words than this "
                                                "(default 80)", minimum=1)),
    "window_days": Key(Number(description="Warn when a source is older than this many days "
                                          "before the issue date, unless it is newer than the "
                                          "previous issue (default 14)", minimum=0)),
    "publisher_share": Key(Number(description="Warn when one publisher supplies more than this "
                                              "share of an issue's sources (default 0.5)",
                                  minimum=0, maximum=1)),
    "words_per_minute": Key(Number(description="Reading speed for the estimated reading time "
                                               "(default 230)", minimum=1)),
    "recurring_urls": Key(List(of=Custom(
        description="A URL cited in every issue, or a prefix ending in '*'",
        convert=check_recurring, max_length=MAX_URL),
        description="Links that recur on purpose (a 'write to us' page): never reported "
                    "as [earlier-url]")),
    "thread_quiet_issues": Key(Number(description="Warn when a declared thread has had no item "
                                                  "in this many issues (default 4)", minimum=1,
                                      maximum=1000)),
    "disable": Key(List(of=Custom(description="A rule id to turn off", convert=check_rule,
                                  max_length=40, examples=_lint_rules()),
                        description="Rule ids to turn off, e.g. [publisher-share]")),
})

SYNC = Object(name="sync", model=SyncSources,
              description="Where unsubscribes come back from; `send` syncs them first", keys={
    "events": Key(Custom(description="The unsubscribe endpoint's events: a file, or the https "
                                     "URL of its /events", convert=check_events_source,
                         max_length=2000)),
    "events_secret_env": Key(Text(description="Environment variable holding the bearer secret "
                                              "for an events URL", pattern=r"[A-Z_][A-Z0-9_]*",
                                  max_length=100)),
    "mailbox": Key(_line("An mbox file or Maildir folder: unsubscribe mail, bounces (RFC "
                         "3464) and complaints (RFC 5965)", max_length=1000)),
})

DKIM = WordOr(
    word="relay", word_value=DkimSettings(relay=True),
    description="Who signs each copy with DKIM (RFC 6376): 'relay' when the relay does, or "
                "the key briefing signs with",
    consistent=_dkim_consistent,
    mapping=Object(name="dkim", model=DkimSettings, keys={
        "domain": Key(Text(description="The signing domain (d=), aligned with the sender's "
                                       "domain, e.g. example.org", pattern=HOSTNAME,
                           pattern_hint="a domain name such as example.org", max_length=253),
                      True),
        "selector": Key(Text(description="The selector (s=): the public key is published at "
                                         "<selector>._domainkey.<domain>", pattern=SELECTOR,
                             pattern_hint="letters, digits and '-', in dot-separated labels",
                             max_length=63), True),
        "key": Key(Custom(description="The private key's PEM file (RSA, 2048 bits or more; "
                                      "mode 0600), e.g. .briefing/dkim/news.pem",
                          convert=check_key_path, max_length=1000)),
        "key_env": Key(Text(description="Or: an environment variable holding the PEM",
                            pattern=r"[A-Z_][A-Z0-9_]*", max_length=100)),
        "ed25519_key": Key(Custom(description="Optional: an Ed25519 private key's PEM file for "
                                              "a second signature (RFC 8463), published at "
                                              "<selector>-ed25519._domainkey.<domain>",
                                  convert=check_key_path, max_length=1000)),
    }))
SAVED_SOURCES = Object(name="saved_sources", model=SavedSources,
                       description="Private copies of every cited page, in .briefing/sources/ "
                                   "(WARC files; never published)", keys={
    "on_send": Key(Flag(description="true (the default): a send to the list first saves a copy "
                                    "of every cited page; false: only 'briefing sources ISSUE "
                                    "--save' saves them")),
    "max_page_bytes": Key(Number(description="A page longer than this is saved cut at this "
                                             "size, and said (default 5000000)",
                                 minimum=10_000, maximum=100_000_000)),
})

SIGNUP = Object(name="signup", model=Signup,
                description="The sign-up form with double opt-in, served by `briefing "
                            "subscribers serve`", keys={
    "url": Key(Custom(description="Where the form posts: the endpoint's /s, e.g. "
                                  "https://news.example.org/s", convert=check_signup_url,
                      max_length=MAX_URL), True),
    "confirm_url": Key(Custom(description="The confirmation link with {token}: the endpoint's "
                                          "/c/<token>, e.g. https://news.example.org/c/{token}",
                              convert=check_confirm_url, max_length=MAX_URL), True),
    "expire_days": Key(Number(description="How many days a confirmation link works (default 7)",
                              minimum=1, maximum=90)),
    "hourly_cap": Key(Number(description="Confirmation mails per hour, past which the form "
                                         "answers 429 (default 100)",
                             minimum=1, maximum=100_000, integer=True)),
    "record_ip": Key(Flag(description="true: keep a keyed hash (never the address itself) of "
                                      "the IP address a sign-up came from (default false)")),
    "choose_themes": Key(Flag(description="true: the form offers the themes as checkboxes "
                                          "(default false)")),
})

UNSUBSCRIBE = Object(name="unsubscribe", model=Unsubscribe, keys={
    # header=True: an encoded word in a header URL decodes to anything (CVE-2024-6923).
    "url": Key(Custom(description="https URL for one-click unsubscribe (RFC 8058) with "
                                  "{token}, e.g. https://example.org/u/{token}",
                      convert=check_unsubscribe_url, header=True, max_length=MAX_HEADER_URL),
               True),
    "mailto": Key(Custom(description="mailto: address for unsubscribe requests; may hold "
                                     "{token}, e.g. mailto:unsubscribe+{token}@example.org",
                         convert=check_mailto, header=True, max_length=MAX_HEADER_URL)),
})

CONFIG = Object(title="briefing.yaml", description="A briefing newsletter", model=Config, keys={
    "name": Key(_line("Newsletter name", header=True, max_length=100), True),
    "tagline": Key(_line("One line under the name")),
    "language": Key(Text(description="Language tag for <html lang>, e.g. en",
                         pattern=r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", max_length=35)),
    "sender": Key(_mailbox("From address: Name <user@example.org>"), True),
    "recipients": Key(List(of=_mailbox("Recipient address, besides the subscriber list"))),
    "list_address": Key(_mailbox("The list's own address, used as To when there are "
                                 "several recipients")),
    "reply_to": Key(_mailbox("Reply-To address")),
    "bounce_address": Key(Custom(description="Envelope sender (Return-Path) of every copy: "
                                             "where bounces go; {token} in it makes it each "
                                             "reader's own (VERP); default: the sender",
                                 convert=check_bounce_address, header=True, max_length=320)),
    "unsubscribe": Key(UNSUBSCRIBE, True),
    "archive_url": Key(_url("Web archive of past issues")),
    "feed_limit": Key(Number(description="How many of the newest issues feed.xml and feed.json "
                                         "carry (default 20)", minimum=1, maximum=10000)),
    "address": Key(_line("Postal address for the footer"), True),
    "subject": Key(_line("Subject template; {name}, {title}, {issue}, {date}", header=True)),
    "themes": Key(List(of=THEME, min_items=1), True),
    "brand": Key(BRAND),
    "smtp": Key(SMTP),
    "lint": Key(LINT),
    "state": Key(Custom(description="The private subscriber store (default "
                                    ".briefing/state.sqlite3)", convert=check_state_path,
                        max_length=500)),
    "sync": Key(SYNC),
    "signup": Key(SIGNUP),
    "dkim": Key(DKIM),
    "threads": Key(List(of=THREAD, max_items=1000,
                        description="Story threads followed across issues (docs/record.md)")),
    "saved_sources": Key(SAVED_SOURCES),
})

ISSUE = Object(title="issue.yaml", description="Title, date and editor's note of one issue", keys={
    "title": Key(_line("Issue title", header=True, max_length=200), False, None),
    "date": Key(Date(description="Issue date (YYYY-MM-DD)"), False, None),
    "preheader": Key(_line("Inbox preview text"), False, ""),
    "intro": Key(Text(description="The editor's note; inline Markdown allowed", multiline=True,
                      max_length=5000), False, ""),
    "draft": Key(Flag(description="true: a draft, built into .briefing/drafts/ and never "
                                  "published or sent to the list; remove the line to publish"),
                 False, False),
})

SOURCE = Object(name="a source", model=Source, keys={
    "url": Key(_url("http(s) URL of the article"), True),
    "title": Key(_line("The article's title"), True),
    "publisher": Key(_line("Who published it"), True),
    "date": Key(Date(description="Publication date (YYYY-MM-DD)")),
    "quote": Key(Text(description="Words quoted from the article, exactly as it has them: "
                                  "'briefing check' looks for them in the saved copy",
                      multiline=True, max_length=2000)),
})

# A correction of a sent issue's item (docs/record.md): the one change a sent issue accepts.
CORRECTION = Object(name="a correction", keys={
    "date": Key(Date(description="When the correction was made (YYYY-MM-DD)"), True),
    "item": Key(_line("The headline of the corrected item, exactly as it was sent",
                      max_length=200), True),
    "text": Key(Text(description="What was wrong and what is right, in a sentence or two; "
                                 "inline Markdown allowed", multiline=True, max_length=2000),
                True),
    "source": Key(SOURCE, False, None),
})
ISSUE.keys["corrections"] = Key(List(of=CORRECTION, max_items=100,
                                     description="Dated corrections of this issue's items, once "
                                                 "it has been sent (docs/record.md)"), False, ())

STAT = Object(name="a stat", model=Stat, keys={
    "label": Key(_line("What the number is", max_length=60), True),
    "value": Key(Number(description="The number", minimum=0), True),
    "unit": Key(_line("Unit shown after the value, e.g. %", max_length=10)),
})

ITEM = Object(name="an item", keys={
    "headline": Key(_line("Headline", max_length=200), True),
    "summary": Key(Text(description="Two or three sentences; inline Markdown allowed",
                        multiline=True, max_length=5000), True),
    "why": Key(_line("One line on why it matters", max_length=500), False, ""),
    "sources": Key(List(of=SOURCE, min_items=1, max_items=50), True),
    "tags": Key(List(of=Text(pattern=SLUG, max_length=40,
                             pattern_hint="lowercase letters, digits and '-'")), False, ()),
    "stat": Key(List(of=STAT, min_items=1, max_items=12), False, ()),
    "thread": Key(Text(description="The id of a story thread declared in briefing.yaml "
                                   "`threads:`", pattern=SLUG, max_length=40,
                       pattern_hint="lowercase letters, digits and '-'"), False, ""),
})

BRIEF = Object(title="brief", description="One theme's items for one issue", keys={
    "theme": Key(Text(description="Theme id from briefing.yaml; defaults to the file name",
                      pattern=SLUG, max_length=40), False, None),
    "items": Key(List(of=ITEM, min_items=1, max_items=500), True),
})


def json_schemas() -> dict[str, dict]:
    """JSON Schema of each format, derived from the specs the validator uses.

    Declared as draft-07: the keywords used are all draft-07 ones, and the YAML extension for
    VS Code (yaml-language-server) ships draft-07 support and warns "Draft 2020-12 schemas are
    not yet fully supported" (redhat-developer/vscode-yaml#704, #726).
    """
    out = {}
    for name, spec in (("config", CONFIG), ("issue", ISSUE), ("brief", BRIEF)):
        schema = {"$schema": "http://json-schema.org/draft-07/schema#",
                  "$id": f"https://briefing.invalid/schema/{name}.schema.json"}
        schema.update(spec.json_schema())
        out[name] = schema
    return out
