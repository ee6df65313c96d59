"""Kazakhstan mobile numbers (+7 7xx xxx xx xx), normalised to E.164."""

from __future__ import annotations

import re
from enum import StrEnum

# Mobile operator codes after +7 (Beeline, Kcell/Activ, Tele2/Altel). Landline area codes
# such as 717 (Astana) or 727 (Almaty) also start with 7 but cannot receive an OTP by SMS.
MOBILE_CODES = frozenset(
    {"700", "701", "702", "703", "704", "705", "706", "707", "708", "709", "747", "771"}
    | {"775", "776", "777", "778"}
)

# ASCII digits only: `\d` would also take Arabic-Indic or full-width digits into the number.
_DIGITS = re.compile(r"[0-9]")
_NOT_PHONE_CHAR = re.compile(r"[^0-9\s()+\-.]")
# E.164: at most 15 digits; shorter than 7 is no subscriber number anywhere.
_E164_DIGITS = range(7, 16)


class PhoneError(StrEnum):
    MALFORMED = "malformed"
    NOT_KZ_MOBILE = "not_kz_mobile"


class InvalidPhone(ValueError):
    def __init__(self, reason: PhoneError) -> None:
        super().__init__(reason.value)
        self.reason = reason


def normalize_kz_mobile(text: str) -> str:
    """`8 (701) 123-45-67`, `+7 701 123 4567`, `77011234567` → `+77011234567`.

    Raises InvalidPhone: MALFORMED when it is not a phone number at all, NOT_KZ_MOBILE when it
    is a number but not a Kazakhstan mobile one (foreign, Russian +7 9xx, a landline).
    """
    stripped = text.strip()
    if not stripped or _NOT_PHONE_CHAR.search(stripped) or stripped.count("+") > 1:
        raise InvalidPhone(PhoneError.MALFORMED)
    if "+" in stripped and not stripped.startswith("+"):
        raise InvalidPhone(PhoneError.MALFORMED)
    digits = "".join(_DIGITS.findall(stripped))
    if stripped.startswith("+"):
        if len(digits) not in _E164_DIGITS:
            raise InvalidPhone(PhoneError.MALFORMED)
        if not digits.startswith("7"):
            raise InvalidPhone(PhoneError.NOT_KZ_MOBILE)
        national = digits[1:]
    elif len(digits) == 11 and digits[0] in "78":
        national = digits[1:]
    elif len(digits) == 10:
        national = digits
    else:
        raise InvalidPhone(PhoneError.MALFORMED)
    if len(national) != 10:
        raise InvalidPhone(PhoneError.MALFORMED)
    if national[:3] not in MOBILE_CODES:
        raise InvalidPhone(PhoneError.NOT_KZ_MOBILE)
    return f"+7{national}"


def is_kz_mobile(text: str) -> bool:
    try:
        normalize_kz_mobile(text)
    except InvalidPhone:
        return False
    return True


def mask_phone(e164: str) -> str:
    """`+77011234567` → `+7 701 *** ** 67`, as shown to a patient before an OTP is sent."""
    if len(e164) == 12 and e164.startswith("+7"):
        return f"+7 {e164[2:5]} *** ** {e164[-2:]}"
    return "*" * max(len(e164) - 2, 0) + e164[-2:]
