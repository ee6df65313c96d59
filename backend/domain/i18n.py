"""Message-id markers for text the channels translate.

The backend never translates: it names message ids (English source text, gettext style) that
`pybabel extract` collects into `locales/`, and each channel renders them in the patient's
language.
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message
