"""Control characters stop at the boundary: what a patient or a gateway sends is cleaned once,
where it enters (the SMS form fields, Telegram text and button data), before it reaches a
dialog, a log line or the database.

Removed: the C0 and C1 control characters (NUL included: PostgreSQL refuses it in text), DEL,
and the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
can make a log line or an operator's screen read differently from what it holds. Line breaks
and tabs survive in free text (`keep_layout=True`); identifiers keep nothing of the kind.
"""

from __future__ import annotations

import re
from typing import Final

_BIDI: Final = "\u202a-\u202e\u2066-\u2069"
_ALL_CONTROLS: Final = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_CONTROLS_BUT_LAYOUT: Final = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_CARRIAGE_RETURN: Final = re.compile("\r\n?")


def has_controls(text: str) -> bool:
    """Whether `text` holds any character `clean_text` would remove (layout included)."""
    return _ALL_CONTROLS.search(text) is not None


def clean_text(text: str, *, keep_layout: bool = False) -> str:
    """`text` without control characters and bidi overrides.

    `keep_layout`: line breaks (a CR LF or a lone CR becomes LF) and tabs stay, for the
    free text of a message; everything else (numbers, ids, button data) keeps none.
    """
    if keep_layout:
        return _CONTROLS_BUT_LAYOUT.sub("", _CARRIAGE_RETURN.sub("\n", text))
    return _ALL_CONTROLS.sub("", text)
