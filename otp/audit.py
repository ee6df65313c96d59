"""Audit events of sign-in: who (masked), what, on which channel. Never a raw ИИН, phone or code.

Events: code_sent, code_withheld (unknown ИИН, no phone or not a KZ mobile: nothing sent, the
patient got the same reply), send_failed, code_verified, code_failed, locked, signed_out,
signed_out_everywhere, sessions_ended_phone_changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import structlog

from backend.domain.iin import mask_iin
from backend.domain.phone import mask_phone
from backend.pii import mask_pii

DetailValue = str | int


@dataclass(frozen=True, slots=True)
class AuditEvent:
    name: str
    at: dt.datetime
    iin: str | None  # masked
    phone: str | None  # masked
    channel: str | None
    channel_user_id: str | None  # masked when it is a phone number (SMS)
    details: Mapping[str, DetailValue] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        name: str,
        *,
        at: dt.datetime,
        iin: str | None = None,
        phone: str | None = None,
        channel: str | None = None,
        channel_user_id: str | None = None,
        **details: DetailValue,
    ) -> AuditEvent:
        """Build an event from raw values; the ИИН, phone and user id are masked here."""
        return cls(
            name=name,
            at=at,
            iin=mask_iin(iin) if iin else None,
            phone=mask_phone(phone) if phone else None,
            channel=channel,
            channel_user_id=mask_pii(channel_user_id) if channel_user_id else None,
            details=MappingProxyType(
                {k: mask_pii(v) if isinstance(v, str) else v for k, v in details.items()}
            ),
        )


class AuditSink(Protocol):
    def record(self, event: AuditEvent) -> None: ...


class StructlogAuditSink:
    """Writes each event as one structured log line (`audit=True`)."""

    def __init__(self, logger: Any | None = None) -> None:
        self._log = logger if logger is not None else structlog.get_logger("otp.audit")

    def record(self, event: AuditEvent) -> None:
        self._log.info(
            event.name,
            audit=True,
            at=event.at.isoformat(),
            iin=event.iin,
            phone=event.phone,
            channel=event.channel,
            channel_user_id=event.channel_user_id,
            **dict(event.details),
        )


class InMemoryAuditSink:
    """Keeps the events (tests)."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    def names(self) -> list[str]:
        return [e.name for e in self.events]


class NullAuditSink:
    def record(self, event: AuditEvent) -> None:
        return None
