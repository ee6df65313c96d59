"""The headers every console response carries, and HTML escaping for the few fragments built
in Python (the failed-messages table; everything else is a Jinja2 template, autoescaped).

The Content-Security-Policy allows the console's own stylesheet and script (static files served
by the app, `/operator/static/...`) and nothing inline: no inline script or style, no other
origin, no frames; forms post only to the console, and event streams connect only to it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, MutableMapping
from typing import Final

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final[Mapping[str, str]] = {
    # Patients' phone numbers and IINs: no cache, proxy or browser history keeps a copy.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def secure(headers: MutableMapping[str, str]) -> None:
    """Add the console's security headers (to a response or an HTTP exception)."""
    headers.update(SECURITY_HEADERS)


def esc(value: object) -> str:
    """HTML-escaped text, quotes included (safe in element content and attribute values)."""
    return html.escape(str(value), quote=True)
