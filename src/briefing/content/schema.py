"""The three formats editors write (briefing.yaml, issue.yaml, briefs), and their JSON Schema."""

from __future__ import annotations

# The checks of single values live in content/checks.py. Those that other modules import from
# here, where they were first written, stay importable from here (the `as` marks a re-export).
from .checks import _INVISIBLE as _INVISIBLE
from .checks import (
    MAX_HEADER_URL,
    MAX_URL,
    check_bounce_address,
    check_confirm_url,
    check_events_source,
    check_link,
    check_mailto,
    check_preferences_url,
    check_signup_url,
    check_state_path,
    check_unsubscribe_url,
    parse_mailbox,
)
from .checks import check_url as check_url
from .model import (
    Brand,
    Config,
    DkimSettings,
    LintSettings,
    Preferences,
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
LANGUAGE = r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*"  # a BCP 47 language tag, as <html lang> takes


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

PREFERENCES = Object(name="preferences", model=Preferences,
                     description="Where readers choose their themes; every copy links there "
                                 "(\"Choose what you get\")", keys={
    "url": Key(Custom(description="https URL of the preference page with {token}, e.g. "
                                  "https://example.org/p/{token}",
                      convert=check_preferences_url, max_length=MAX_HEADER_URL), True),
})

CONFIG = Object(title="briefing.yaml", description="A briefing newsletter", model=Config, keys={
    "name": Key(_line("Newsletter name", header=True, max_length=100), True),
    "tagline": Key(_line("One line under the name")),
    "language": Key(Text(description="Language tag for <html lang>, e.g. en",
                         pattern=LANGUAGE, max_length=35)),
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
    "preferences": Key(PREFERENCES),
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
