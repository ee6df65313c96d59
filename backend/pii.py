"""Masking of ИИН and phone numbers in free text (logs, audit lines)."""

from __future__ import annotations

import re

from backend.domain.iin import mask_iin
from backend.domain.phone import mask_phone

# 12 digits not part of a longer number: an ИИН (or a БИН).
_IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")
# +7 and ten digits, with the separators people use.
_PHONE = re.compile(r"\+?[78][\s\-(]*\d{3}[\s\-)]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\d)")


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return mask_phone("+7" + digits[-10:])


def mask_pii(text: str) -> str:
    """Replace every ИИН and phone number in text by its masked form."""
    text = _IIN.sub(lambda m: mask_iin(m.group(0)), text)
    return _PHONE.sub(_phone, text)
