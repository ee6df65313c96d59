"""SMS download links (issue 13): `/d/{token}`, HMAC-signed, bound to one patient and one
document, expiring. Never the document's content in an SMS (sensitive statements above all)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class LinkClaim:
    patient_id: int
    document_id: int
    expires: int  # Unix seconds


class LinkRefused(Exception):
    def __init__(self, reason: str) -> None:  # "expired" | "invalid"
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret is at least 16 bytes")
        self._secret = hashlib.sha256(b"dariger-document-link\0" + secret).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest()[:16])

    def token(self, patient_id: int, document_id: int, *, expires: dt.datetime) -> str:
        body = _b64(f"{patient_id}.{document_id}.{int(expires.timestamp())}".encode())
        return f"{body}.{self._mac(body)}"

    def check(self, token: str, *, now: dt.datetime) -> LinkClaim:
        body, _, mac = token.partition(".")
        if not body or not mac or not hmac.compare_digest(mac, self._mac(body)):
            raise LinkRefused("invalid")
        try:
            patient, document, expires = (int(x) for x in _unb64(body).decode().split("."))
        except (ValueError, UnicodeDecodeError) as exc:
            raise LinkRefused("invalid") from exc
        if now.timestamp() >= expires:
            raise LinkRefused("expired")
        return LinkClaim(patient_id=patient, document_id=document, expires=expires)
