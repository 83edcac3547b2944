"""The editorial lint rules: ids and what each catches (apart, so start-up need not import lint)."""

# Rule id -> what it catches. The ids appear in every warning ([rule-id]) and in
# briefing.yaml `lint: disable: [...]`.
RULES: dict[str, str] = {
    "headline-length": "a headline longer than lint.headline_max_chars",
    "summary-length": "a summary longer than lint.summary_max_words",
    "source-future": "a source dated after the issue",
    "source-stale": "a source older than the issue window",
    "date-guessed": "a source date `briefing add` guessed ('# guessed' after it) that nobody "
                    "has checked yet",
    "duplicate-url": "the same URL cited twice in one issue",
    "earlier-url": "a URL already cited in an earlier issue",
    "tracking-params": "tracking parameters in a URL (utm_*, fbclid, gclid, ...)",
    "url-shortener": "a link through a URL shortener",
    "insecure-url": "an http:// link where https:// would do",
    "url-paren": "a URL ending in ')' or ').' with no '(' to match (pasted from Markdown)",
    "placeholder": "a TODO, TK or FIXME left in the text",
    "quote-not-found": "a quotation (in a summary, or a source's quote:) that is not in the "
                       "saved copy of its source",
    "quote-near-match": "a quotation that matches the saved copy of its source only nearly "
                        "(a word spelt differently)",
    "quote-unchecked": "a quotation whose source has no saved copy to check it against",
    "empty-theme": "a configured theme with no items in the issue",
    "publisher-share": "one publisher supplying more than lint.publisher_share of the sources",
    "brand-contrast": "a brand colour below WCAG AA contrast (4.5:1) on its background",
    "html-size": "an email over Gmail's 102 KB clip limit",
    "duplicate-recipient": "the same address listed twice in recipients (it gets one copy)",
    "duplicate-brief": "two briefs named alike but for the extension (ethics.yaml, ethics.yml)",
    "unread-file": "a file in the issue folder that is not read (not *.yaml or *.yml)",
    "init-placeholder": "briefing.yaml still at init's example.org/.com/.net or its postal line",
    "reserved-name": "briefing.yaml at another reserved name (RFC 2606/6761): never delivered",
    "quiet-thread": "a story thread with no item in the last lint.thread_quiet_issues issues",
}
