"""The validated issue as frozen dataclasses: what every renderer reads, nothing else."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mailbox:
    """An address with an optional display name, already checked to be well formed."""

    address: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


@dataclass(frozen=True)
class Theme:
    id: str
    title: str
    description: str = ""
    # Where the theme is declared in briefing.yaml, for lint messages (not part of equality).
    origin: Origin | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Thread:
    """A story followed across issues (briefing.yaml `threads:`); items name it by its id."""

    id: str
    title: str
    origin: Origin | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Brand:
    """Colours and type for the email; every value is checked against a strict pattern."""

    accent: str = "#1f5fbf"
    text: str = "#1d232b"
    background: str = "#ffffff"
    muted: str = "#5b6470"
    dark_accent: str = "#8ab4f8"
    dark_text: str = "#e8eaed"
    dark_background: str = "#17191c"
    dark_muted: str = "#a9b0b8"
    font: str = "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
    logo_url: str = ""
    logo_alt: str = ""


@dataclass(frozen=True)
class SmtpSettings:
    url: str = ""
    user: str = ""
    password_env: str = "BRIEFING_SMTP_PASSWORD"


@dataclass(frozen=True)
class LintSettings:
    """Limits of the editorial warnings in `briefing check` (briefing.yaml `lint:`)."""

    headline_max_chars: int = 90
    summary_max_words: int = 80
    window_days: int = 14
    publisher_share: float = 0.5
    words_per_minute: int = 230
    disable: tuple[str, ...] = ()
    # Links every issue carries ("write to us", the podcast page): never [earlier-url]. An
    # entry ending in '*' covers every URL that starts with the rest.
    recurring_urls: tuple[str, ...] = ()
    # quiet-thread: a declared thread with no item in this many issues in a row (docs/record.md).
    thread_quiet_issues: int = 4

    def recurring(self, url: str) -> bool:
        return any(url.startswith(entry[:-1]) if entry.endswith("*") else url == entry
                   for entry in self.recurring_urls)


# Each reader's unsubscribe token: 18 bytes of an HMAC (144 bits) in unpadded base64url, so
# 24 characters that quoted-printable, URLs and mailto local parts all carry as they are.
TOKEN_LENGTH = 24
# What stands for the token in the built (web and archive) copies: the same length and the same
# kind of characters, so a sent copy is made by replacing it in the built bytes without
# changing the length of any quoted-printable line. It tells whoever follows it what it is.
TOKEN_PLACEHOLDER = "ARCHIVE-COPY-NOT-A-TOKEN"
assert len(TOKEN_PLACEHOLDER) == TOKEN_LENGTH
# The preference link's signature (content/variants.py): 12 bytes of an HMAC in unpadded
# base64url. The built copies carry this stand-in of the same length and kind of characters,
# replaced in each sent copy as the token is.
SIGNATURE_LENGTH = 16
SIGNATURE_PLACEHOLDER = "ARCHIVE-COPY-SIG"
assert len(SIGNATURE_PLACEHOLDER) == SIGNATURE_LENGTH


@dataclass(frozen=True)
class Unsubscribe:
    """Where readers unsubscribe: a one-click https URL (RFC 8058) holding `{token}`, and
    optionally a mailto, which may hold `{token}` too."""

    url: str
    mailto: str = ""

    def url_for(self, token: str) -> str:
        return self.url.replace("{token}", token)

    def mailto_for(self, token: str) -> str:
        return self.mailto.replace("{token}", token)


@dataclass(frozen=True)
class Preferences:
    """Where readers choose their themes (briefing.yaml `preferences:`): an https URL holding
    `{token}`, answered by the endpoint's /p/<token>."""

    url: str

    def url_for(self, token: str) -> str:
        return self.url.replace("{token}", token)


@dataclass(frozen=True)
class SyncSources:
    """Where unsubscribes come back from (briefing.yaml `sync:`); `send` reads them first."""

    events: str = ""  # the endpoint's events: a file, or an https URL of its /events
    events_secret_env: str = "BRIEFING_EVENTS_SECRET"
    mailbox: str = ""  # an mbox file or a Maildir folder


@dataclass(frozen=True)
class Signup:
    """The sign-up form (briefing.yaml `signup:`): where it posts, where a confirmation link
    leads, and the limits that keep it from being used to mail strangers."""

    url: str  # where the form posts: the endpoint's /s
    confirm_url: str  # with {token}: the endpoint's /c/<token>
    expire_days: float = 7  # how long a confirmation link works
    hourly_cap: int = 100  # confirmation mails per hour, past which the endpoint answers 429
    record_ip: bool = False  # keep a keyed hash of the sign-up's IP address in the consent record
    choose_themes: bool = False  # the form offers the themes as checkboxes

    def confirm_url_for(self, token: str) -> str:
        return self.confirm_url.replace("{token}", token)


def consent_wording(newsletter: str) -> str:
    """What a reader agrees to by signing up, shown above the button of every sign-up form. Its
    hash goes into the consent record, so change it only knowingly: readers who signed up
    under the old words keep the old hash."""
    return (f"Send me {newsletter} by email. I can unsubscribe at any time with the link in "
            "every issue.")


def wording_hash(text: str) -> str:
    """The consent record's fingerprint of the words a reader agreed to."""
    import hashlib
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DkimSettings:
    """briefing.yaml `dkim:`: who signs each copy. With a key, briefing signs every copy it hands
    over (rsa-sha256, relaxed/relaxed); `dkim: relay` (relay=True) says the relay signs."""

    domain: str = ""       # d=, the signing domain
    selector: str = ""     # s=: the key's TXT record is at <selector>._domainkey.<domain>
    key: str = ""          # the private key's PEM file (relative to the project, or absolute)
    key_env: str = ""      # or an environment variable holding the PEM
    ed25519_key: str = ""  # a second, Ed25519 signature (RFC 8463) at <selector>-ed25519
    relay: bool = False

    @property
    def ed25519_selector(self) -> str:
        """A selector holds one key, so the Ed25519 key has its own, named after the RSA one."""
        return f"{self.selector}-ed25519"


@dataclass(frozen=True)
class SavedSources:
    """Private copies of every cited page, in .briefing/sources/ (briefing.yaml
    `saved_sources:`): `briefing sources ISSUE --save`, and a list send unless `on_send: false`."""

    on_send: bool = True
    max_page_bytes: int = 5_000_000  # a longer page is saved cut at this size, and said


@dataclass(frozen=True)
class Config:
    """briefing.yaml, validated (content/schema.py's CONFIG declares the keys)."""

    name: str
    sender: Mailbox
    address: str
    themes: tuple[Theme, ...]
    recipients: tuple[Mailbox, ...] = ()  # besides the subscribers in the store
    tagline: str = ""
    language: str = "en"
    reply_to: Mailbox | None = None
    list_address: Mailbox | None = None
    bounce_address: Mailbox | None = None  # the envelope sender (Return-Path); else sender
    unsubscribe: Unsubscribe = field(default_factory=lambda: Unsubscribe(""))
    archive_url: str = ""
    feed_limit: int = 20  # issues in feed.xml and feed.json, newest first
    subject: str = "{name}: {title}"
    brand: Brand = field(default_factory=Brand)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    lint: LintSettings = field(default_factory=LintSettings)
    state: str = ".briefing/state.sqlite3"  # the subscriber store, relative to the project
    sync: SyncSources = field(default_factory=SyncSources)
    signup: Signup | None = None  # readers join through the endpoint's form when set
    dkim: DkimSettings | None = None  # None: no `dkim:` (nobody is known to sign)
    threads: tuple[Thread, ...] = ()  # story threads items may belong to (docs/record.md)
    saved_sources: SavedSources = field(default_factory=SavedSources)
    preferences: Preferences | None = None  # None: no "Choose what you get" link

    @property
    def envelope_sender(self) -> str:
        """MAIL FROM / sendmail -f: where bounces go (RFC 5321 4.5.5)."""
        return (self.bounce_address or self.sender).address

    def theme(self, theme_id: str) -> Theme:
        return next(t for t in self.themes if t.id == theme_id)

    # The names templates use: the built copies carry the placeholder where each sent copy
    # carries its reader's token.
    @property
    def unsubscribe_url(self) -> str:
        return self.unsubscribe.url_for(TOKEN_PLACEHOLDER)

    @property
    def unsubscribe_mailto(self) -> str:
        return self.unsubscribe.mailto_for(TOKEN_PLACEHOLDER)


# Inline Markdown in summaries, parsed once into spans that each renderer walks.
@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Emphasis:
    children: tuple[Span, ...]


@dataclass(frozen=True)
class Strong:
    children: tuple[Span, ...]


@dataclass(frozen=True)
class Link:
    children: tuple[Span, ...]
    url: str
    title: str = ""  # [text](url "title"): shown by mail clients as the link's tooltip


Span = Text | Code | Emphasis | Strong | Link


@dataclass(frozen=True)
class Source:
    url: str
    title: str
    publisher: str
    date: dt.date | None = None
    quote: str = ""  # words quoted from the page: `check` looks for them in its saved copy


@dataclass(frozen=True)
class Stat:
    label: str
    value: float
    unit: str = ""


@dataclass(frozen=True)
class Origin:
    """Where an item was written, for messages about it."""

    path: str
    line: int
    col: int


@dataclass(frozen=True)
class Item:
    headline: str
    summary: tuple[Span, ...]
    sources: tuple[Source, ...]
    origin: Origin
    why: str = ""
    tags: tuple[str, ...] = ()
    stat: tuple[Stat, ...] = ()
    summary_source: str = ""  # the Markdown as written, for word counts and search
    thread: str = ""  # the id of the story thread it belongs to ('' for none)
    previous: Previous | None = None  # the thread's item in an earlier issue (docs/record.md)
    # (field, line, col) of every value in the item, e.g. ("sources[0].url", 14, 14), so lint
    # and link messages point at the exact value; not part of equality.
    marks: tuple[tuple[str, int, int], ...] = field(default=(), compare=False, repr=False)

    def mark(self, name: str) -> Origin:
        """Where a field's value was written ('headline', 'sources[0].url'); else the item."""
        for field_name, line, col in self.marks:
            if field_name == name:
                return Origin(self.origin.path, line, col)
        return self.origin


@dataclass(frozen=True)
class Previous:
    """The item of the same thread in the latest earlier published issue: "Previously"."""

    issue: str
    issue_title: str
    issue_date: dt.date
    headline: str
    url: str  # that item on the web edition (#its anchor), '' without archive_url


@dataclass(frozen=True)
class Correction:
    """A dated correction of one item of a sent issue (issue.yaml `corrections:`). The item's
    text is never rewritten: the correction is shown next to it."""

    date: dt.date
    item: str  # the corrected item's headline, exactly
    text: tuple[Span, ...]
    text_source: str  # the Markdown as written
    source: Source | None = None
    origin: Origin | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class EarlierCorrection:
    """A correction of an earlier issue, listed in the "Corrections" section of the first
    issue dated on or after it."""

    issue: str
    issue_title: str
    issue_date: dt.date
    headline: str
    date: dt.date
    text: tuple[Span, ...]
    text_source: str  # the Markdown as written
    anchor: str  # the corrected item's on its issue's page
    url: str  # the corrected item on the web edition, '' without archive_url


@dataclass(frozen=True)
class Section:
    theme: Theme
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Reference:
    """A numbered source link, shared by the digest and the HTML: one number per URL."""

    number: int
    url: str
    title: str
    publisher: str
    date: dt.date | None = None


@dataclass(frozen=True)
class Issue:
    id: str
    config: Config
    title: str
    date: dt.date
    sections: tuple[Section, ...]
    references: tuple[Reference, ...]
    preheader: str = ""
    intro: tuple[Span, ...] = ()
    intro_source: str = ""
    draft: bool = False  # issue.yaml `draft: true`: built privately, never published or listed
    corrections: tuple[Correction, ...] = ()  # of this issue's own items (web edition only)
    corrected: tuple[EarlierCorrection, ...] = ()  # earlier issues' corrections to announce
    # A reader's variant (content/variants.py): the themes they chose, which its preference
    # link carries; None for the built copy, which holds every theme.
    reader_themes: tuple[str, ...] | None = None

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)

    def ref(self, url: str) -> int:
        """The reference number of a URL (every URL in the issue has one)."""
        return self._numbers()[url]

    def _numbers(self) -> dict[str, int]:
        cache = self.__dict__.get("_ref_cache")
        if cache is None:
            cache = {r.url: r.number for r in self.references}
            object.__setattr__(self, "_ref_cache", cache)
        return cache

    @property
    def subject(self) -> str:
        return fill_subject(self.config.subject, {
            "name": self.config.name, "title": self.title, "issue": self.id,
            "date": self.date.isoformat()})


# The subject template's fields. Not str.format: that reads attributes ({issue.__class__}),
# indexes, conversions and format specs ({name:>99999999} takes minutes and gigabytes).
SUBJECT_FIELDS = ("name", "title", "issue", "date")
_SUBJECT_PART = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def subject_problem(template: str) -> str:
    """Why a subject template cannot be filled in, or '' when it can: only {name}, {title},
    {issue} and {date}, with nothing after the name; {{ and }} for the braces themselves."""
    for match in _SUBJECT_PART.finditer(template):
        part, field = match.group(), match.group(1)
        if part in ("{{", "}}"):
            continue
        if field is None:
            return f"has a single '{part}'"
        if field not in SUBJECT_FIELDS:
            return f"has '{part}', which is not one of its fields"
    return ""


def fill_subject(template: str, values: dict[str, str]) -> str:
    """The template with its fields filled in (subject_problem(template) must be '')."""
    def replace(match: re.Match) -> str:
        part = match.group()
        if part in ("{{", "}}"):
            return part[0]
        return values.get(match.group(1) or "", part)
    return _SUBJECT_PART.sub(replace, template)
