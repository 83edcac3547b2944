"""The Content-Security-Policy of the endpoint's pages (unsubscribe, sign-up, preferences)."""

from __future__ import annotations

import base64
import hashlib


def strict_csp(style: str) -> str:
    """Nothing loads or runs but the page's one inline `style` (allowed by its sha256), forms
    post only back to this origin, and no other site may frame the page (a framed button can
    be clicked by a trick: clickjacking)."""
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{digest}'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
