"""The values stored for enums are pinned (issue 17): enums are saved as VARCHAR
(`native_enum=False`), so renaming a member would silently write a new value beside rows that
hold the old one. The lists below are literal; the enums must match them, and migration 0011's
CHECK constraints must allow exactly them. Renaming a stored value needs a data migration."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
from sqlalchemy import inspect, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.iin import Sex
from backend.domain.model import Audience, Language
from backend.domain.refusals import RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.services.notifications import (
    CHANNELS,
    Kind,
    NotificationStatus,
    ReminderKind,
    ReminderStatus,
)
from backend.services.outbox import InboundState, OutboxStatus
from tests.backend.world import build_world

SERVICE_TYPES = [
    "appointment", "home_visit", "certificate_027", "statement_tb", "statement_psychiatry",
    "statement_narcology",
]  # fmt: skip
APPLICATION_STATUSES = [
    "submitted", "registered", "next_working_day", "in_progress", "completed", "refused",
    "cancelled", "no_show",
]  # fmt: skip
REFUSAL_CODES = [
    "unreliable_data", "not_attached_here", "no_subject_consent", "slot_taken",
    "slot_unavailable", "too_many_appointments", "appointment_not_found",
    "appointment_not_active", "application_not_found", "patient_not_found",
    "no_doctor_assigned", "invalid_input", "home_visits_full", "home_visit_exists",
    "application_closed", "specialty_not_for_age", "not_represented",
]  # fmt: skip
ACTORS = ["patient", "clinic", "operator", "system"]
SEXES = ["M", "F"]
LANGUAGES = ["kk", "ru", "en"]
AUDIENCES = ["children", "adults", "all"]
OUTBOX_STATUSES = ["queued", "sending", "accepted", "failed", "expired", "suppressed"]
INBOUND_STATES = ["processing", "done"]
CHANNEL_NAMES = ["telegram", "sms"]
NOTIFICATION_KINDS = [
    "status",
    "booked",
    "moved",
    "cancelled",
    "reminder",
    "deadline",
    "visit",
    "document",
]
NOTIFICATION_STATUSES = ["queued", "sending", "sent", "failed", "rerouted"]
REMINDER_KINDS = ["day_before", "two_hours"]
REMINDER_STATUSES = ["pending", "queued", "dropped"]
CALENDAR_DAY_KINDS = ["day_off", "working"]


@pytest.mark.parametrize(
    ("enum", "stored"),
    [
        (ServiceType, SERVICE_TYPES),
        (ApplicationStatus, APPLICATION_STATUSES),
        (RefusalCode, REFUSAL_CODES),
        (Actor, ACTORS),
        (Sex, SEXES),
        (Language, LANGUAGES),
        (Audience, AUDIENCES),
        (OutboxStatus, OUTBOX_STATUSES),
        (InboundState, INBOUND_STATES),
        (Kind, NOTIFICATION_KINDS),
        (NotificationStatus, NOTIFICATION_STATUSES),
        (ReminderKind, REMINDER_KINDS),
        (ReminderStatus, REMINDER_STATUSES),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_the_enums_store_exactly_the_pinned_values(enum: type[StrEnum], stored: list[str]) -> None:
    assert [member.value for member in enum] == stored


def test_the_channels_are_pinned() -> None:
    assert list(CHANNELS) == CHANNEL_NAMES


# (table, column) -> the values its CHECK constraint (migration 0011) must allow
CHECKED: dict[tuple[str, str], list[str]] = {
    ("specialties", "audience"): AUDIENCES,
    ("patients", "sex"): SEXES,
    ("patients", "language"): LANGUAGES,
    ("applications", "service"): SERVICE_TYPES,
    ("applications", "status"): APPLICATION_STATUSES,
    ("applications", "refusal"): REFUSAL_CODES,
    ("application_status_history", "from_status"): APPLICATION_STATUSES,
    ("application_status_history", "to_status"): APPLICATION_STATUSES,
    ("application_status_history", "actor"): ACTORS,
    ("application_status_history", "reason"): REFUSAL_CODES,
    ("certificate_requests", "kind"): SERVICE_TYPES,
    ("calendar_days", "kind"): CALENDAR_DAY_KINDS,
    ("sms_outbox", "status"): OUTBOX_STATUSES,
    ("sms_inbound", "state"): INBOUND_STATES,
    ("notifications", "kind"): NOTIFICATION_KINDS,
    ("notifications", "status"): NOTIFICATION_STATUSES,
    ("reminders", "kind"): REMINDER_KINDS,
    ("reminders", "status"): REMINDER_STATUSES,
}


def _checks(connection: Connection) -> dict[tuple[str, str], list[str]]:
    """(table, column) -> the quoted values of each `column IN (...)` CHECK in the database."""
    found: dict[tuple[str, str], list[str]] = {}
    inspector = inspect(connection)
    for table in {table for table, _column in CHECKED}:
        for check in inspector.get_check_constraints(table):
            match = re.fullmatch(
                r"\(?\s*\(?(\w+)\)?(?:::text)?\s+IN\s*\((.*)\)\s*\)?",
                check["sqltext"].strip(),
                re.S,
            )
            if match is None:
                match = re.fullmatch(
                    r"\(?\(?(\w+)\)?::text = ANY \(\(?ARRAY\[(.*)\]\)?\)\)?",
                    check["sqltext"].strip(),
                    re.S,
                )
            if match is not None:
                found[(table, match.group(1))] = re.findall(r"'([^']*)'", match.group(2))
    return found


async def test_the_database_allows_exactly_the_pinned_values(backend: Backend) -> None:
    async with backend.engine.connect() as conn:
        checks = await conn.run_sync(_checks)

    assert checks == CHECKED


async def test_a_renamed_value_cannot_be_stored(backend: Backend) -> None:
    await build_world(backend)
    changes = [
        update(orm.patients).values(sex="female"),
        update(orm.patients).values(language="kz"),
        update(orm.specialties).values(audience="kids"),
    ]
    async with backend.engine.connect() as conn:
        for change in changes:
            with pytest.raises(IntegrityError):
                await conn.execute(change)
            await conn.rollback()
        await conn.execute(update(orm.patients).values(language=None))  # NULL stays allowed
        await conn.execute(text("UPDATE specialties SET audience = 'adults'"))
        await conn.rollback()
