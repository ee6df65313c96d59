"""Electronic documents (issue 13): short verification codes, validity, masking. Pure, no I/O.

S5 form 027/е: an e-document signed with the clinic's EDS (S5 row 8). S17-S19 registry
statements: automated, valid 10 calendar days from the issue date (S17-S19 row 8).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from backend.domain.statuses import ServiceType

# Crockford-like: no 0/O, 1/I/L confusion, no U. 30 symbols, 10 of them → 10·log2(30) ≈ 49 bits.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
CODE_BITS = 49  # floor(10 * log2(30)) = 49 ≥ 40 (the minimum)
_GROUPS = (4, 4, 2)  # K7QF-3M9P-XW
_SEPARATORS = re.compile(r"[\s\-_.]+")

STATEMENT_VALIDITY = dt.timedelta(days=10)  # S17-S19 row 8: 10 calendar days

REGISTRY_STATEMENTS = frozenset(
    {ServiceType.STATEMENT_TB, ServiceType.STATEMENT_PSYCHIATRY, ServiceType.STATEMENT_NARCOLOGY}
)
DOCUMENT_SERVICES = REGISTRY_STATEMENTS | {ServiceType.CERTIFICATE_027}


class Register(StrEnum):
    """The dispensary registers behind S17-S19."""

    TB = "tb"  # S17
    PSYCHIATRY = "psychiatry"  # S18
    NARCOLOGY = "narcology"  # S19


REGISTER_OF: dict[ServiceType, Register] = {
    ServiceType.STATEMENT_TB: Register.TB,
    ServiceType.STATEMENT_PSYCHIATRY: Register.PSYCHIATRY,
    ServiceType.STATEMENT_NARCOLOGY: Register.NARCOLOGY,
}


class Verdict(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def new_code() -> str:
    """A fresh short code (49 random bits), stored without separators."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """K7QF3M9PXW → K7QF-3M9P-XW (for printing and typing)."""
    parts, start = [], 0
    for size in _GROUPS:
        parts.append(code[start : start + size])
        start += size
    return "-".join(p for p in parts if p)


def normalize_code(typed: str) -> str | None:
    """What a person typed → the stored code, or None when it cannot be one."""
    text = _SEPARATORS.sub("", typed.strip().upper())
    if len(text) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in text):
        return None
    return text


def valid_until(service: ServiceType, issued_on: dt.date) -> dt.date | None:
    """S17-S19: the issue date + 10 calendar days; 027/е carries no term of its own."""
    if service in REGISTRY_STATEMENTS:
        return issued_on + STATEMENT_VALIDITY
    return None


def verdict(*, revoked: bool, valid_until_date: dt.date | None, today: dt.date) -> Verdict:
    if revoked:
        return Verdict.REVOKED
    if valid_until_date is not None and today > valid_until_date:
        return Verdict.EXPIRED
    return Verdict.VALID


def mask_name(surname: str, given_name: str) -> str:
    """«Сейтқали А.»: the surname and the first initial, nothing else."""
    initial = given_name.strip()[:1]
    return f"{surname.strip()} {initial}." if initial else surname.strip()


def mask_iin(iin: str) -> str:
    """`********0014`: the last four digits only."""
    return "*" * max(len(iin) - 4, 0) + iin[-4:]


@dataclass(frozen=True)
class DocumentContent:
    """What goes on the paper; the renderer/signer port turns it into a signed PDF."""

    number: str  # the document number (the application number)
    code: str  # the short code, unformatted
    service: ServiceType
    languages: tuple[str, ...]  # the patient's language first: ("kk", "ru") or ("ru", "kk")
    holder_name: str
    holder_iin: str
    holder_birth_date: dt.date
    issuer: str
    issued_on: dt.date
    valid_until: dt.date | None
    on_register: bool | None  # S17-S19: registered or not; None for 027/е
    verify_url: str
