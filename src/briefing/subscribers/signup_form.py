"""The sign-up form's fields, read and checked as `check` would check them (signup_site.py's
POST /s): every mistake gets a message in the reader's words, shown above the form again."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ..content.model import Config
from ..content.schema import parse_mailbox

MAX_NAME = 100
MAX_PAGE = 500
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
HONEYPOT = "website"  # a field a person never sees; bots fill every field named like this


@dataclass
class Form:
    """What the sign-up form sent, and what is wrong with it (one message per field)."""

    address: str = ""
    name: str = ""
    themes: tuple[str, ...] = ()
    page: str = ""
    consent: str = ""
    honeypot: bool = False
    errors: dict[str, str] = field(default_factory=dict)


def read_form(body: bytes, config: Config) -> Form:
    """The fields of a form-encoded body, each checked as `check` would check it."""
    form = Form()
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=64,
                           errors="strict")  # %FF is as unreadable as a raw 0xFF
    except (UnicodeDecodeError, ValueError):
        form.errors["form"] = "The form could not be read. Please fill it in again."
        return form
    values: dict[str, str] = {}
    chosen: list[str] = []
    for key, value in fields:
        if key == "theme":
            chosen.append(value)
        else:
            values.setdefault(key, value)
    form.honeypot = bool(values.get(HONEYPOT, "").strip())
    form.consent = values.get("consent", "")
    page_value = values.get("page", "").strip()
    form.page = page_value if len(page_value) <= MAX_PAGE and not CONTROL.search(page_value) \
        else ""
    form.address = values.get("address", "").strip()
    form.name = values.get("name", "").strip()
    if not re.fullmatch(r"[0-9a-f]{64}", form.consent):
        form.errors["form"] = ("This form is out of date or was not made here. Please use "
                               "the form below.")
    _check_address(form)
    if len(form.name) > MAX_NAME:
        form.errors["name"] = f"Your name is longer than {MAX_NAME} characters."
    elif CONTROL.search(form.name):
        form.errors["name"] = "Your name must not contain line breaks or control characters."
    if config.signup is not None and config.signup.choose_themes:
        known = [t.id for t in config.themes]
        unknown = [t for t in chosen if t not in known]
        if unknown:
            form.errors["themes"] = f"'{unknown[0][:40]}' is not one of this newsletter's themes."
        elif not chosen:
            form.errors["themes"] = "Choose at least one theme."
        form.themes = tuple(t for t in known if t in chosen)  # briefing.yaml's order, once each
    return form


def _check_address(form: Form) -> None:
    value = form.address
    if not value:
        form.errors["address"] = "Please enter your email address."
        return
    if len(value) > 254 or CONTROL.search(value) or re.search(r"[\s<>,;\"]", value):
        form.errors["address"] = ("That is not an email address: write only the address, "
                                  "like name@example.org.")
        return
    try:
        form.address = parse_mailbox(value).address
    except ValueError as exc:
        message, _, hint = str(exc).partition("|")
        if "non-ASCII" in message:  # the reason `check` gives, in the reader's words
            advice = f" {hint[0].upper()}{hint[1:]}." if hint else ""
            form.errors["address"] = (f"{value} has non-ASCII characters, which need SMTPUTF8; "
                                      f"this newsletter sends to plain ASCII addresses "
                                      f"only.{advice}")
        else:
            form.errors["address"] = (f"{value} is not a valid email address: write it like "
                                      "name@example.org.")
