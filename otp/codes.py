"""One-time codes: generated from `secrets`, sent grouped, typed with or without spaces."""

from __future__ import annotations

import secrets

# Spaces and dashes people type inside a code ("123 456", "123-456"); no other characters.
_SEPARATORS = frozenset(" \t\r\n-\u00a0\u2009\u202f\u2010\u2011\u2012\u2013")
# Longer input is not a code, whatever it contains; this also bounds the work per attempt.
_MAX_TYPED_LENGTH = 64


def generate(digits: int = 6) -> str:
    """`digits` uniformly random decimal digits from the OS CSPRNG (ASVS 2.7.6)."""
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def format_code(code: str) -> str:
    """`123456` → `123 456`, `12345678` → `1234 5678`: easier to read and type (OWASP)."""
    if len(code) <= 4:
        return code
    half = (len(code) + 1) // 2
    return f"{code[:half]} {code[half:]}"


def normalize_code(text: str, digits: int = 6) -> str | None:
    """The typed code as `digits` ASCII digits, or None when it cannot be a code.

    Spaces and dashes are ignored; anything else (letters, other scripts' digits, the wrong
    length) makes it a wrong code. Never raises.
    """
    if len(text) > _MAX_TYPED_LENGTH:
        return None
    value = "".join(ch for ch in text if ch not in _SEPARATORS)
    if len(value) != digits or not value.isascii() or not value.isdigit():
        return None
    return value
