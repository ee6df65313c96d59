"""The console's HTML shell and the headers every console response carries.

Pages are rendered on the server, without JavaScript; every value goes through `esc`. The one
inline stylesheet is allowed by its hash in the Content-Security-Policy, and nothing else may
load: no scripts, images, frames or fonts.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Mapping, MutableMapping
from typing import Final

STYLE: Final = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;
color:#1b1f24;background:#f6f7f9}
header{display:flex;justify-content:space-between;align-items:center;padding:10px 24px;
background:#0b4f6c;color:#fff}
header a{color:#fff}
main{padding:8px 24px 32px}
h1{font-size:22px;margin:16px 0 4px}
.lead{max-width:60em;color:#3d4650}
.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:12px 0}
.filters a{padding:2px 8px;border:1px solid #9aa5b1;border-radius:4px;text-decoration:none}
.filters a[aria-current]{background:#0b4f6c;color:#fff;border-color:#0b4f6c}
input[type=number]{width:5em}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #d5dae0;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#e9edf1}
td:nth-child(7){text-align:right}
.muted{color:#6b7682}
.empty{padding:16px;background:#fff;border:1px solid #d5dae0}
code{font-size:12px;color:#6b7682}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
CONTENT_SECURITY_POLICY: Final = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final[Mapping[str, str]] = {
    # Patients' phone numbers: no cache, proxy or browser history keeps a copy.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def secure(headers: MutableMapping[str, str]) -> None:
    """Add the console's security headers (to a response or an HTTP exception)."""
    headers.update(SECURITY_HEADERS)


def esc(value: object) -> str:
    """HTML-escaped text, quotes included (safe in element content and attribute values)."""
    return html.escape(str(value), quote=True)


def document(*, language: str, title: str, brand: str, nav: str, body: str) -> str:
    """A whole page. `nav` and `body` are HTML built with `esc`; `language` and `title` are
    escaped here."""
    return (
        "<!doctype html>\n"
        f'<html lang="{esc(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        f"<title>{esc(title)} · Dariger 1414</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><strong>{esc(brand)}</strong><nav>{nav}</nav></header>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
