"""The web edition's Subscribe form (templates/subscribe.html.j2): its context, from briefing.yaml
`signup:` (pure). Nothing is shown without `signup:`."""

from __future__ import annotations

from ..content.model import Config, consent_wording, wording_hash


def subscribe_form(config: Config | None) -> dict | None:
    """What the form needs, or None when the newsletter has no sign-up. The page it is on is
    added per page (`on_page`)."""
    if config is None or config.signup is None:
        return None
    wording = consent_wording(config.name)
    return {
        "url": config.signup.url,
        "wording": wording,
        "consent": wording_hash(wording),
        "themes": [{"id": t.id, "title": t.title} for t in config.themes]
        if config.signup.choose_themes else [],
    }


def on_page(form: dict | None, page: str) -> dict | None:
    """The form as one page shows it: `page` (its URL) goes into the consent record."""
    return dict(form, page=page) if form is not None else None
