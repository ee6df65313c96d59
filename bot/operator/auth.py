"""Who may open the console: whoever presents OPERATOR_TOKEN.

Either `Authorization: Bearer <token>` (scripts, curl) or HTTP Basic with the token as the
password and any user name (so a browser's own login prompt works). The comparison is
constant-time (`hmac.compare_digest`); the token and what was presented are never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from enum import StrEnum
from typing import Final

REALM: Final = "Dariger 1414"
CHALLENGE: Final = f'Basic realm="{REALM}"'
_MAX_HEADER = 4096


class Verdict(StrEnum):
    OK = "ok"
    MISSING = "missing"  # no credentials: a browser's first request, before its prompt
    MALFORMED = "malformed"
    WRONG = "wrong"


def _presented(authorization: str) -> str | None:
    """The token in an `Authorization` header (Bearer, or Basic's password); None: unreadable."""
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if not value:
        return None
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _user, colon, password = decoded.partition(":")
        return password if colon else None
    return None


class TokenAuth:
    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the operator console needs a token")
        self._token = token.encode("utf-8")

    def __repr__(self) -> str:
        return "TokenAuth(token=***)"

    def check(self, authorization: str | None) -> Verdict:
        if not authorization:
            return Verdict.MISSING
        if len(authorization) > _MAX_HEADER:
            return Verdict.MALFORMED
        presented = _presented(authorization)
        if presented is None:
            return Verdict.MALFORMED
        if hmac.compare_digest(presented.encode("utf-8"), self._token):
            return Verdict.OK
        return Verdict.WRONG
