"""ИИН (ЖСН, IIN): the 12-digit individual identification number.

Format (domain/README.md "Identity and consent"): digits 1-6 the birth date YYMMDD; digit 7 the
century and sex (1/2 born 1800s, 3/4 1900s, 5/6 2000s; odd = male, even = female); digits 8-11 a
serial; digit 12 a check digit: sum of digits 1-11 weighted 1..11 mod 11; if that is 10, weights
3,4,5,6,7,8,9,10,11,1,2 mod 11; if 10 again the number is invalid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


class IinError(StrEnum):
    """Why a text is not a valid ИИН; each channel localises the reason."""

    NOT_12_DIGITS = "not_12_digits"
    BAD_CENTURY = "bad_century"
    BAD_DATE = "bad_date"
    BAD_CHECKSUM = "bad_checksum"
    UNCHECKABLE = "uncheckable"  # both weightings give 10: no valid ИИН has these 11 digits
    FUTURE_DATE = "future_date"  # the birth date is after today: nobody is born yet


class InvalidIin(ValueError):
    def __init__(self, reason: IinError) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Iin:
    value: str
    birth_date: dt.date
    sex: Sex

    def __str__(self) -> str:
        return self.value


def check_digit(first11: str) -> int | None:
    """The 12th digit for these 11 digits, or None when no check digit exists."""
    digits = [int(c) for c in first11]
    total = sum(w * d for w, d in zip(_WEIGHTS_1, digits, strict=True)) % 11
    if total == 10:
        total = sum(w * d for w, d in zip(_WEIGHTS_2, digits, strict=True)) % 11
    return None if total == 10 else total


def normalize(text: str) -> str:
    """Drop the spaces and dashes people type inside a number."""
    return "".join(ch for ch in text if ch not in " \t-\u00a0")


def parse_iin(text: str, *, today: dt.date | None = None) -> Iin:
    """Validate a typed ИИН; raise InvalidIin with a reason code.

    A birth date after `today` is invalid (issue 9: nobody is registered before birth).
    `today` defaults to the system's date; callers with a clock pass the clock's date.
    """
    value = normalize(text)
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        raise InvalidIin(IinError.NOT_12_DIGITS)
    century_digit = int(value[6])
    century = _CENTURY.get(century_digit)
    if century is None:
        raise InvalidIin(IinError.BAD_CENTURY)
    try:
        birth = dt.date(century + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise InvalidIin(IinError.BAD_DATE) from None
    expected = check_digit(value[:11])
    if expected is None:
        raise InvalidIin(IinError.UNCHECKABLE)
    if expected != int(value[11]):
        raise InvalidIin(IinError.BAD_CHECKSUM)
    # Last: a typo more often breaks the check digit, which says more about what to fix.
    if birth > (today if today is not None else dt.date.today()):  # noqa: DTZ011 - a date only
        raise InvalidIin(IinError.FUTURE_DATE)
    sex = Sex.MALE if century_digit % 2 == 1 else Sex.FEMALE
    return Iin(value=value, birth_date=birth, sex=sex)


def is_valid_iin(text: str, *, today: dt.date | None = None) -> bool:
    try:
        parse_iin(text, today=today)
    except InvalidIin:
        return False
    return True


def make_iin(birth_date: dt.date, sex: Sex, serial: int) -> str:
    """A valid ИИН for this birth date and sex (demo data, tests).

    The serial (0..9999) is advanced to the next one that has a check digit.
    """
    base = (birth_date.year // 100) * 100
    by_century = {1800: (1, 2), 1900: (3, 4), 2000: (5, 6)}
    if base not in by_century:
        raise ValueError("birth year outside 1800-2099")
    male, female = by_century[base]
    century_digit = male if sex is Sex.MALE else female
    for step in range(10_000):
        s = (serial + step) % 10_000
        first11 = f"{birth_date:%y%m%d}{century_digit}{s:04d}"
        digit = check_digit(first11)
        if digit is not None:
            return f"{first11}{digit}"
    raise AssertionError("unreachable: most serials have a check digit")  # pragma: no cover


def mask_iin(value: str) -> str:
    """`900101300123` → `********0123` (logs and operator views)."""
    return "*" * max(len(value) - 4, 0) + value[-4:]
