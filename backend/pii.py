"""Masking of ИИН and phone numbers in free text (logs, audit lines).

Masking errs on the side of hiding: a 12-digit number is masked even when its check digit is
wrong (a mistyped ИИН is still personal data). Numbers that are plainly something else stay as
they are: short codes (`123 456`), dates (`2026-11-23`), and digit runs longer than an ИИН.
"""

from __future__ import annotations

import re

from backend.domain.iin import mask_iin
from backend.domain.phone import mask_phone

# 12 digits not part of a longer number (nor after a `+`: that is a phone): an ИИН (or a БИН).
_IIN = re.compile(r"(?<![\d+])\d{12}(?!\d)")
# An ИИН typed in groups (`900101 300123`, `9001-0130-0123`): 12 digits with single spaces or
# dashes between them, the whole run of grouped digits being exactly 12 long.
_IIN_GROUPED = re.compile(r"(?<![\d+])(?<![\d+][ \-])\d(?:[ \-]?\d){11}(?![ \-]?\d)")
# A Kazakhstan (or Russian) number: `+7 …`, `8 …`, `7 …` or the bare 10-digit `701 …`, with the
# separators people use.
_KZ_PHONE = re.compile(
    r"(?<![\d+])(?:(?:\+\s*7|[78])[\s\-.(]*\d{3}|\(?7\d{2})"
    r"[\s\-.)]*\d{3}[\s\-.]*\d{2}[\s\-.]*\d{2}(?!\d)"
)
# A number of another country written with `+` (E.164: up to 15 digits), e.g. `+996 555 123 456`.
_FOREIGN_PHONE = re.compile(r"(?<![\d+])\+[\s\-(]*[0-689](?:[\s\-.()]*\d){6,14}(?!\d)")
_NOT_DIGIT = re.compile(r"\D")


def _digits(match: re.Match[str]) -> str:
    return _NOT_DIGIT.sub("", match.group(0))


def _iin(match: re.Match[str]) -> str:
    return mask_iin(_digits(match))


def _kz_phone(match: re.Match[str]) -> str:
    return mask_phone("+7" + _digits(match)[-10:])


def _foreign_phone(match: re.Match[str]) -> str:
    return mask_phone("+" + _digits(match))


def mask_pii(text: str) -> str:
    """Replace every ИИН and phone number in text by its masked form."""
    text = _IIN.sub(_iin, text)
    text = _IIN_GROUPED.sub(_iin, text)
    text = _FOREIGN_PHONE.sub(_foreign_phone, text)
    return _KZ_PHONE.sub(_kz_phone, text)
