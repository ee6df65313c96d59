"""Patients are told, on their own channel (issue 11): a durable notification outbox.

Every change made in a patient's name by someone else (the clinic, a 1414 operator, the system)
is written here *in the same unit of work* as the change itself (a transactional outbox), as a
message kind and its parameters, never as translated text: the channel renders it in the
patient's language at send time. A notification is addressed to the channel the patient last
signed in on (`patient_channels`, recorded at sign-in), else by SMS to the registered phone.

A notification moves like an SMS in `sms_outbox`:

    queued -> sending -> sent                       (Telegram took it, or handed to sms_outbox)
                      -> queued (retry, later)      (429 with retry_after, a network error)
                      -> failed                     (a permanent failure, or too many tries)
                      -> rerouted                   (403 blocked: a new SMS notification)

Workers claim a batch with one statement (PostgreSQL: the candidates are selected FOR UPDATE
SKIP LOCKED; SQLite serialises writers), so two workers never send one twice. A claim is a
lease: a worker that dies mid-send leaves the message to be sent again when the lease ends.

No non-urgent message between 22:00 and 08:00 clinic time: it waits until 08:00.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CursorResult,
    and_,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from backend.adapters.orm import (
    applications,
    appointments,
    clinics,
    notifications,
    patient_channels,
    patients,
    reminders,
    slots,
    sms_opt_outs,
    sms_outbox,
)
from backend.domain.model import Application
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.services.leased_queue import LeasedQueue
from backend.services.unit_of_work import UnitOfWork

TELEGRAM = "telegram"
SMS = "sms"
CHANNELS = (TELEGRAM, SMS)
DEFAULT_TZ = ZoneInfo("Asia/Almaty")  # Kazakhstan is one zone (UTC+5) since 2024-03-01
QUIET_FROM = dt.time(22, 0)
QUIET_UNTIL = dt.time(8, 0)


class Kind(StrEnum):
    """What a notification says (the renderer in bot/notify has one message per kind)."""

    STATUS = "status"  # an application's status changed (a refusal names its ground)
    BOOKED = "booked"  # an appointment made for the patient by staff
    MOVED = "moved"  # an appointment moved by staff
    CANCELLED = "cancelled"  # an appointment cancelled by staff
    REMINDER = "reminder"  # an appointment reminder (answerable)
    DEADLINE = "deadline"  # a deadline passed without a result
    VISIT = "visit"  # a home visit's doctor and arrival window set or moved by the clinic
    DOCUMENT = "document"  # a signed document is ready (issue 13): the file or a link to it


class NotificationStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    REROUTED = "rerouted"


class ReminderKind(StrEnum):
    DAY_BEFORE = "day_before"
    TWO_HOURS = "two_hours"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    patient_id: int
    channel: str
    address: str
    kind: Kind
    params: Mapping[str, Any]
    application_number: str | None
    urgent: bool
    status: NotificationStatus
    attempts: int
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    sent_at: dt.datetime | None
    error: str | None
    language: str | None = None  # the patient's language now (filled in by `claim`)


def _notification(row: Any, language: str | None = None) -> Notification:
    return Notification(
        id=row.id,
        patient_id=row.patient_id,
        channel=row.channel,
        address=row.address,
        kind=Kind(row.kind),
        params=dict(row.params or {}),
        application_number=row.application_number,
        urgent=row.urgent,
        status=NotificationStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        sent_at=row.sent_at,
        error=row.error,
        language=language,
    )


def _rowcount(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount


def not_before(now: dt.datetime, tz: ZoneInfo, *, urgent: bool) -> dt.datetime:
    """When a message created `now` may go out: non-urgent ones created between 22:00 and
    08:00 clinic time wait until 08:00 (issue 11); codes and urgent ones go at once."""
    if urgent:
        return now
    local = now.astimezone(tz)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return now
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, QUIET_UNTIL, tzinfo=tz)


# --- where a patient is reached -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    channel: str
    address: str
    language: str | None
    # Issue 15: a child's notice sent to their representative names the child ("Әли С."): the
    # parent may have several children, and the message must say whom it is about.
    for_name: str | None = None
    via: int | None = None  # the representative's patient id: whose language the notice is in


FOR_NAME = "for_name"  # the params key the renderers read
VIA = "via"  # the params key of `Address.via`


async def remember_channel(
    session: AsyncSession,
    patient_id: int,
    channel: str,
    address: str,
    language: str | None,
    *,
    now: dt.datetime,
) -> None:
    """Record (or refresh) the address the patient just signed in on; it is reachable again
    (a patient who unblocked the bot and signed in is no longer blocked)."""
    found = await session.execute(
        update(patient_channels)
        .where(
            patient_channels.c.patient_id == patient_id,
            patient_channels.c.channel == channel,
            patient_channels.c.address == address,
        )
        .values(last_signed_in_at=now, language=language, blocked_at=None)
    )
    if _rowcount(found) == 0:
        await session.execute(
            insert(patient_channels).values(
                patient_id=patient_id,
                channel=channel,
                address=address[:64],
                language=language,
                last_signed_in_at=now,
            )
        )


async def _registered_phone(session: AsyncSession, patient_id: int) -> str | None:
    found = await session.execute(select(patients.c.phone).where(patients.c.id == patient_id))
    return cast(str | None, found.scalar_one_or_none())


async def address_of(session: AsyncSession, patient_id: int) -> Address | None:
    """The channel the patient last signed in on (not a blocked one); else SMS to the
    registered phone; None when the patient cannot be reached at all."""
    row = (
        await session.execute(
            select(patient_channels)
            .where(
                patient_channels.c.patient_id == patient_id,
                patient_channels.c.blocked_at.is_(None),
            )
            .order_by(patient_channels.c.last_signed_in_at.desc(), patient_channels.c.id.desc())
            .limit(1)
        )
    ).first()
    if row is not None:
        return Address(row.channel, row.address, row.language)
    phone = await _registered_phone(session, patient_id)
    if phone:
        return Address(SMS, phone, None)
    # Issue 14: a child with no channel of their own: their legal representative is told.
    found = (await _representatives(session, [patient_id])).get(patient_id)
    if found is None:
        return None
    representative, name = found
    target = await address_of(session, representative)
    return None if target is None else replace(target, for_name=name, via=representative)


async def _representatives(
    session: AsyncSession, patient_ids: Sequence[int]
) -> dict[int, tuple[int, str]]:
    """The representative of each of these patients who is a child today (S3/S4 row 8: the
    representation ends at 18, so an adult's notices never go to a former representative),
    with the child's short name ("Әли С.", as `patients.short_name` writes it)."""
    today = dt.datetime.now(dt.UTC).date()
    rows = await session.execute(
        select(
            patients.c.id,
            patients.c.representative_id,
            patients.c.birth_date,
            patients.c.given_name,
            patients.c.surname,
        ).where(patients.c.id.in_(list(patient_ids)), patients.c.representative_id.is_not(None))
    )
    found: dict[int, tuple[int, str]] = {}
    for r in rows:
        born: dt.date = r.birth_date
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if age < 18 and r.representative_id != r.id:
            name = f"{r.given_name} {r.surname[:1]}." if r.surname else r.given_name
            found[r.id] = (r.representative_id, name)
    return found


async def addresses_of(session: AsyncSession, patient_ids: Iterable[int]) -> dict[int, Address]:
    """`address_of` for many patients in two queries (the scheduler's batches)."""
    wanted = sorted(set(patient_ids))
    found: dict[int, Address] = {}
    rows = await session.execute(
        select(patient_channels)
        .where(
            patient_channels.c.patient_id.in_(wanted),
            patient_channels.c.blocked_at.is_(None),
        )
        .order_by(patient_channels.c.last_signed_in_at, patient_channels.c.id)
    )
    for r in rows:  # the last one used wins
        found[r.patient_id] = Address(r.channel, r.address, r.language)
    missing = [p for p in wanted if p not in found]
    if missing:
        phones = await session.execute(
            select(patients.c.id, patients.c.phone).where(
                patients.c.id.in_(missing), patients.c.phone.is_not(None)
            )
        )
        for r in phones:
            found[r.id] = Address(SMS, r.phone, None)
    orphans = [p for p in wanted if p not in found]
    if orphans:  # issue 14: children without a channel: their representative
        for child, (representative, name) in (await _representatives(session, orphans)).items():
            target = await address_of(session, representative)
            if target is not None:
                found[child] = replace(target, for_name=name, via=representative)
    return found


async def addresses(uow: UnitOfWork, patient_id: int) -> list[Address]:
    """Every address on record for the patient, the last used first (tests, operators)."""
    async with uow:
        rows = await uow.session.execute(
            select(patient_channels)
            .where(patient_channels.c.patient_id == patient_id)
            .order_by(patient_channels.c.last_signed_in_at.desc())
        )
        return [Address(r.channel, r.address, r.language) for r in rows]


async def _clinic_tz(session: AsyncSession, clinic_id: int | None) -> ZoneInfo:
    if clinic_id is None:
        return DEFAULT_TZ
    found = await session.execute(select(clinics.c.tz_name).where(clinics.c.id == clinic_id))
    name = found.scalar_one_or_none()
    return ZoneInfo(name) if name else DEFAULT_TZ


# --- writing notifications (inside the caller's unit of work) -------------------------------


async def add(
    session: AsyncSession,
    *,
    patient_id: int,
    kind: Kind,
    params: Mapping[str, Any],
    now: dt.datetime,
    tz: ZoneInfo = DEFAULT_TZ,
    application_number: str | None = None,
    urgent: bool = False,
    dedupe_key: str | None = None,
    address: Address | None = None,
) -> int | None:
    """Queue a notification in the caller's transaction (committed with the change it tells
    of); its id, or None when the patient has no channel and no phone."""
    target = address or await address_of(session, patient_id)
    if target is None:
        return None
    values = _values(
        patient_id,
        target,
        kind,
        params,
        now=now,
        tz=tz,
        application_number=application_number,
        urgent=urgent,
        dedupe_key=dedupe_key,
    )
    result = await session.execute(
        insert(notifications).values(**values).returning(notifications.c.id)
    )
    return int(result.scalar_one())


def _values(
    patient_id: int,
    target: Address,
    kind: Kind,
    params: Mapping[str, Any],
    *,
    now: dt.datetime,
    tz: ZoneInfo,
    application_number: str | None,
    urgent: bool,
    dedupe_key: str | None,
) -> dict[str, Any]:
    if target.for_name is not None:  # issue 15: about a child, to the representative
        params = {**params, FOR_NAME: target.for_name, VIA: target.via}
    return {
        "patient_id": patient_id,
        "channel": target.channel,
        "address": target.address,
        "kind": kind.value,
        "params": dict(params),
        "application_number": application_number,
        "urgent": urgent,
        "status": NotificationStatus.QUEUED.value,
        "attempts": 0,
        "next_attempt_at": not_before(now, tz, urgent=urgent),
        "created_at": now,
        "updated_at": now,
        "dedupe_key": dedupe_key,
    }


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


async def status_changed(
    uow: UnitOfWork, app: Application, *, actor: Actor, now: dt.datetime
) -> None:
    """The application changed status by someone else than the patient: tell the patient
    (in the caller's unit of work, before its commit)."""
    if actor is Actor.PATIENT:
        return
    await add(
        uow.session,
        patient_id=app.patient_id,
        kind=Kind.STATUS,
        params={
            "number": app.number,
            "service": app.service.value,
            "status": app.status.value,
            "refusal": app.refusal.value if app.refusal is not None else None,
        },
        now=now,
        tz=await _clinic_tz(uow.session, app.clinic_id),
        application_number=app.number,
    )


async def appointment_changed(
    uow: UnitOfWork,
    app: Application,
    kind: Kind,
    *,
    actor: Actor,
    starts_at: dt.datetime,
    now: dt.datetime,
) -> None:
    """An appointment booked, moved or cancelled by staff: tell the patient."""
    if actor is Actor.PATIENT:
        return
    await add(
        uow.session,
        patient_id=app.patient_id,
        kind=kind,
        params={"number": app.number, "when": _when(starts_at)},
        now=now,
        tz=await _clinic_tz(uow.session, app.clinic_id),
        application_number=app.number,
    )


async def visit_planned(
    uow: UnitOfWork,
    app: Application,
    *,
    actor: Actor,
    window_start: dt.datetime,
    window_end: dt.datetime,
    now: dt.datetime,
) -> None:
    """A home visit's arrival window set or moved by the clinic (S4 row 5): tell the patient."""
    if actor is Actor.PATIENT:
        return
    await add(
        uow.session,
        patient_id=app.patient_id,
        kind=Kind.VISIT,
        params={"number": app.number, "when": _when(window_start), "until": _when(window_end)},
        now=now,
        tz=await _clinic_tz(uow.session, app.clinic_id),
        application_number=app.number,
    )


# --- the workers' side --------------------------------------------------------------------


_QUEUE = LeasedQueue(
    notifications, NotificationStatus.QUEUED.value, NotificationStatus.SENDING.value
)


async def claim(
    uow: UnitOfWork,
    *,
    channel: str,
    now: dt.datetime,
    lease: dt.timedelta,
    limit: int = 50,
) -> list[Notification]:
    """Take up to `limit` due notifications of `channel` for sending (one attempt more each),
    oldest first, each with the patient's language now. Two workers never get the same one."""
    async with uow:
        s = uow.session
        candidates = (
            select(notifications.c.id)
            .where(notifications.c.channel == channel, _QUEUE.claimable(now))
            .order_by(notifications.c.next_attempt_at, notifications.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await s.execute(
            update(notifications)
            .where(notifications.c.id.in_(candidates.scalar_subquery()), _QUEUE.claimable(now))
            .values(**_QUEUE.leased(now, lease))
            .returning(*notifications.c)
        )
        rows = result.all()
        await uow.commit()
        if not rows:
            return []
        language = await _languages(s, {_addressee(r) for r in rows}, rows)
        claimed = [_notification(r, language.get(r.id)) for r in rows]
        return sorted(claimed, key=lambda n: (n.next_attempt_at, n.id))


def _addressee(row: Any) -> int:
    """Who reads the notification: the patient, or (issue 15) the representative of a child
    who has no channel of their own, in the representative's language."""
    via = (row.params or {}).get(VIA)
    return int(via) if via else int(row.patient_id)


async def _languages(
    session: AsyncSession, patient_ids: Iterable[int], rows: Sequence[Any]
) -> dict[int, str | None]:
    """Per notification: the patient's explicit choice, else the language of the address,
    else the language of the patient's last sign-in on any channel."""
    found = await session.execute(
        select(patients.c.id, patients.c.language).where(patients.c.id.in_(list(patient_ids)))
    )
    chosen = {row.id: row.language for row in found}
    by_address: dict[tuple[int, str, str], str | None] = {}
    latest: dict[int, str] = {}  # the language of the patient's last sign-in anywhere
    for r in await session.execute(
        select(patient_channels)
        .where(patient_channels.c.patient_id.in_(list(patient_ids)))
        .order_by(patient_channels.c.last_signed_in_at)
    ):
        by_address[(r.patient_id, r.channel, r.address)] = r.language
        if r.language:
            latest[r.patient_id] = r.language
    out: dict[int, str | None] = {}
    for r in rows:
        reader = _addressee(r)
        language = chosen.get(reader)
        value = getattr(language, "value", language)
        out[r.id] = value or by_address.get((reader, r.channel, r.address)) or latest.get(reader)
    return out


async def mark_sent(uow: UnitOfWork, ids: Sequence[int], *, now: dt.datetime) -> None:
    async with uow:
        await uow.session.execute(
            update(notifications)
            .where(notifications.c.id.in_(list(ids)))
            .values(
                status=NotificationStatus.SENT.value,
                sent_at=now,
                lease_until=None,
                error=None,
                updated_at=now,
            )
        )
        await uow.commit()


async def mark_retry(
    uow: UnitOfWork, notification_id: int, *, now: dt.datetime, error: str, retry_at: dt.datetime
) -> None:
    await _QUEUE.retry(uow, notification_id, now=now, error=error, retry_at=retry_at)


async def mark_failed(
    uow: UnitOfWork, notification_id: int, *, now: dt.datetime, error: str
) -> None:
    await _QUEUE.finish(
        uow, notification_id, now=now, status=NotificationStatus.FAILED.value, error=error
    )


async def reroute_blocked(
    uow: UnitOfWork, notification: Notification, *, now: dt.datetime
) -> int | None:
    """Telegram said 403 (the patient blocked the bot): the chat is marked blocked and the
    message goes by SMS to the registered phone (a new notification, sent now); without a
    phone it fails, visible to 1414 operators. The id of the SMS notification, or None."""
    # Issue 15: a notice about a child went to the representative's chat: theirs is the chat
    # marked blocked and theirs the phone the notice goes to (the child has neither).
    via = (notification.params or {}).get(VIA)
    reached = int(via) if via is not None else notification.patient_id
    async with uow:
        s = uow.session
        await s.execute(
            update(patient_channels)
            .where(
                patient_channels.c.patient_id == reached,
                patient_channels.c.channel == notification.channel,
                patient_channels.c.address == notification.address,
            )
            .values(blocked_at=now)
        )
        phone = await _registered_phone(s, reached)
        new_id = None
        if phone:
            new_id = await add(
                s,
                patient_id=notification.patient_id,
                kind=notification.kind,
                params=notification.params,
                now=now,
                application_number=notification.application_number,
                urgent=True,  # it was due already: no second wait for the quiet hours
                address=Address(SMS, phone, None),
            )
        await s.execute(
            update(notifications)
            .where(notifications.c.id == notification.id)
            .values(
                status=(
                    NotificationStatus.REROUTED if new_id else NotificationStatus.FAILED
                ).value,
                lease_until=None,
                error=f"blocked_by_user, sms #{new_id}" if new_id else "blocked_by_user, no phone",
                updated_at=now,
            )
        )
        await uow.commit()
        return new_id


async def hand_to_sms(
    uow: UnitOfWork, notification: Notification, body: str, *, now: dt.datetime
) -> int | None:
    """An SMS notification, rendered: into the SMS outbox (which sends it and retries), in
    one transaction with marking it sent here. None when the number sent STOP."""
    async with uow:
        s = uow.session
        stopped = await s.execute(
            select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone == notification.address)
        )
        if stopped.first() is not None:
            await s.execute(
                update(notifications)
                .where(notifications.c.id == notification.id)
                .values(
                    status=NotificationStatus.FAILED.value,
                    lease_until=None,
                    error="opted_out",
                    updated_at=now,
                )
            )
            await uow.commit()
            return None
        result = await s.execute(
            insert(sms_outbox)
            .values(
                to_phone=notification.address,
                body=body,
                kind=f"notify_{notification.kind.value}"[:32],
                sensitive=False,
                status="queued",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            .returning(sms_outbox.c.id)
        )
        sms_id = int(result.scalar_one())
        await s.execute(
            update(notifications)
            .where(notifications.c.id == notification.id)
            .values(
                status=NotificationStatus.SENT.value,
                sent_at=now,
                lease_until=None,
                error=None,
                updated_at=now,
            )
        )
        await uow.commit()
        return sms_id


async def of_patient(uow: UnitOfWork, patient_id: int) -> list[Notification]:
    """The patient's notifications, oldest first."""
    async with uow:
        rows = await uow.session.execute(
            select(notifications)
            .where(notifications.c.patient_id == patient_id)
            .order_by(notifications.c.id)
        )
        return [_notification(r) for r in rows]


async def next_due_at(uow: UnitOfWork, *, channel: str) -> dt.datetime | None:
    async with uow:
        found = await uow.session.execute(
            select(notifications.c.next_attempt_at)
            .where(
                notifications.c.channel == channel,
                notifications.c.status == NotificationStatus.QUEUED.value,
            )
            .order_by(notifications.c.next_attempt_at)
            .limit(1)
        )
        return cast(dt.datetime | None, found.scalar_one_or_none())


async def problems(
    uow: UnitOfWork, *, channel: str = TELEGRAM, since: dt.datetime | None = None, limit: int = 100
) -> list[Notification]:
    """Notifications that could not be delivered (for the 1414 operators' page)."""
    condition = and_(
        notifications.c.channel == channel,
        notifications.c.status == NotificationStatus.FAILED.value,
    )
    if since is not None:
        condition = and_(condition, notifications.c.updated_at >= since)
    async with uow:
        rows = await uow.session.execute(
            select(notifications).where(condition).order_by(notifications.c.id.desc()).limit(limit)
        )
        return [_notification(r) for r in rows]


# --- reminders ------------------------------------------------------------------------------

REMINDER_EVE = dt.time(18, 0)  # the day before, 18:00 clinic time
REMINDER_LEAD = dt.timedelta(hours=2)


def reminder_times(
    starts_at: dt.datetime, tz: ZoneInfo, *, now: dt.datetime
) -> list[tuple[ReminderKind, dt.datetime]]:
    """The reminders of an appointment booked `now`: the day before at 18:00 and 2 h before
    (clinic time), those still ahead; none when it is booked less than 2 hours ahead."""
    if starts_at - now < REMINDER_LEAD:
        return []
    local = starts_at.astimezone(tz)
    eve = dt.datetime.combine(local.date() - dt.timedelta(days=1), REMINDER_EVE, tzinfo=tz)
    planned = [(ReminderKind.DAY_BEFORE, eve), (ReminderKind.TWO_HOURS, starts_at - REMINDER_LEAD)]
    return [(kind, at) for kind, at in planned if at > now]


def reminder_rows(
    *, patient_id: int, starts_at: dt.datetime, tz: ZoneInfo, now: dt.datetime
) -> list[dict[str, Any]]:
    """The reminder rows of a new (or moved) appointment, without its id (`appointment_id`)."""
    return [
        {
            "patient_id": patient_id,
            "kind": kind.value,
            "due_at": at,
            "status": ReminderStatus.PENDING.value,
            "created_at": now,
        }
        for kind, at in reminder_times(starts_at, tz, now=now)
    ]


async def plan_reminders(
    session: AsyncSession,
    *,
    appointment_id: int,
    patient_id: int,
    starts_at: dt.datetime,
    tz: ZoneInfo,
    now: dt.datetime,
) -> None:
    """Reminder rows for a new (or moved) appointment, in the caller's transaction."""
    rows = [
        {**row, "appointment_id": appointment_id}
        for row in reminder_rows(patient_id=patient_id, starts_at=starts_at, tz=tz, now=now)
    ]
    if rows:
        await session.execute(insert(reminders), rows)


async def drop_reminders(session: AsyncSession, appointment_id: int) -> None:
    """The appointment was cancelled or moved: its pending reminders never go out."""
    await session.execute(
        update(reminders)
        .where(
            reminders.c.appointment_id == appointment_id,
            reminders.c.status == ReminderStatus.PENDING.value,
        )
        .values(status=ReminderStatus.DROPPED.value)
    )


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    appointment_id: int
    patient_id: int
    kind: ReminderKind
    due_at: dt.datetime
    status: ReminderStatus
    confirmed_at: dt.datetime | None = None


async def reminders_of(uow: UnitOfWork, appointment_id: int) -> list[Reminder]:
    async with uow:
        rows = await uow.session.execute(
            select(reminders)
            .where(reminders.c.appointment_id == appointment_id)
            .order_by(reminders.c.due_at, reminders.c.id)
        )
        return [
            Reminder(
                r.id,
                r.appointment_id,
                r.patient_id,
                ReminderKind(r.kind),
                r.due_at,
                ReminderStatus(r.status),
                r.confirmed_at,
            )
            for r in rows
        ]


async def queue_due_reminders(uow: UnitOfWork, *, now: dt.datetime, limit: int = 2000) -> int:
    """Due reminders become notifications (one transaction per batch); how many were handled.
    A reminder of an appointment no longer active, or already started, is dropped; one that
    falls in the quiet hours waits until 08:00, and is dropped if that is too late."""
    async with uow:
        s = uow.session
        rows = (
            await s.execute(
                select(
                    reminders.c.id,
                    reminders.c.kind,
                    reminders.c.appointment_id,
                    reminders.c.patient_id,
                    appointments.c.active,
                    slots.c.starts_at,
                    applications.c.number,
                    applications.c.clinic_id,
                )
                .join(appointments, appointments.c.id == reminders.c.appointment_id)
                .join(slots, slots.c.id == appointments.c.slot_id)
                .join(applications, applications.c.id == appointments.c.application_id)
                .where(
                    reminders.c.status == ReminderStatus.PENDING.value,
                    reminders.c.due_at <= now,
                )
                .order_by(reminders.c.due_at, reminders.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=reminders)
            )
        ).all()
        queued: list[int] = []
        dropped: list[int] = []
        zones: dict[int | None, ZoneInfo] = {}
        targets = await addresses_of(s, (r.patient_id for r in rows))
        to_insert: list[dict[str, Any]] = []
        for r in rows:
            if r.clinic_id not in zones:
                zones[r.clinic_id] = await _clinic_tz(s, r.clinic_id)
            tz = zones[r.clinic_id]
            if not r.active or not_before(now, tz, urgent=False) >= r.starts_at:
                dropped.append(r.id)
                continue
            queued.append(r.id)
            target = targets.get(r.patient_id)
            if target is None:  # no channel, no phone: nobody to remind
                continue
            to_insert.append(
                _values(
                    r.patient_id,
                    target,
                    Kind.REMINDER,
                    {
                        "number": r.number,
                        "when": _when(r.starts_at),
                        "appointment_id": r.appointment_id,
                        "reminder": r.kind,
                    },
                    now=now,
                    tz=tz,
                    application_number=r.number,
                    urgent=False,
                    dedupe_key=f"reminder:{r.id}",
                )
            )
        if to_insert:
            await s.execute(insert(notifications), to_insert)
        if queued:
            await s.execute(
                update(reminders)
                .where(reminders.c.id.in_(queued))
                .values(status=ReminderStatus.QUEUED.value)
            )
        if dropped:
            await s.execute(
                update(reminders)
                .where(reminders.c.id.in_(dropped))
                .values(status=ReminderStatus.DROPPED.value)
            )
        await uow.commit()
        return len(rows)


async def confirm_reminder(
    uow: UnitOfWork, patient_id: int, number: str, *, now: dt.datetime
) -> bool:
    """The patient answered a reminder of application `number` with "confirm"; False when no
    reminder of theirs was sent for it."""
    async with uow:
        theirs = (
            select(appointments.c.id)
            .join(applications, applications.c.id == appointments.c.application_id)
            .where(applications.c.number == number, appointments.c.patient_id == patient_id)
        )
        result = await uow.session.execute(
            update(reminders)
            .where(
                reminders.c.appointment_id.in_(theirs.scalar_subquery()),
                reminders.c.status == ReminderStatus.QUEUED.value,
            )
            .values(confirmed_at=now)
        )
        await uow.commit()
        return _rowcount(result) > 0


# --- deadlines and the processing day (R-13) -----------------------------------------

# R-16 (seed-003) is a *response* deadline: a booked appointment or a registered home visit
# (with its planned time) has had its response; a certificate or statement has not until the
# document is issued (completed) or refused.
_ANSWERED_BY_REGISTRATION = (ServiceType.APPOINTMENT, ServiceType.HOME_VISIT)


def _without_result(now: dt.datetime) -> ColumnElement[bool]:
    """Open applications whose response deadline has passed (R-16)."""
    return and_(
        applications.c.deadline < now,
        or_(
            applications.c.status.in_(
                (ApplicationStatus.SUBMITTED, ApplicationStatus.NEXT_WORKING_DAY)
            ),
            and_(
                applications.c.status.in_(
                    (ApplicationStatus.REGISTERED, ApplicationStatus.IN_PROGRESS)
                ),
                applications.c.service.not_in(_ANSWERED_BY_REGISTRATION),
            ),
        ),
    )


@dataclass(frozen=True, slots=True)
class Overdue:
    number: str
    patient_id: int
    clinic_id: int | None
    status: ApplicationStatus
    deadline: dt.datetime


async def overdue(
    uow: UnitOfWork, *, now: dt.datetime, clinic_id: int | None = None
) -> list[Overdue]:
    """Open applications whose deadline has passed without a result (for the clinic)."""
    condition = _without_result(now)
    if clinic_id is not None:
        condition = and_(condition, applications.c.clinic_id == clinic_id)
    async with uow:
        rows = await uow.session.execute(
            select(applications).where(condition).order_by(applications.c.deadline)
        )
        return [
            Overdue(r.number, r.patient_id, r.clinic_id, ApplicationStatus(r.status), r.deadline)
            for r in rows
        ]


async def notify_overdue(uow: UnitOfWork, *, now: dt.datetime, limit: int = 500) -> int:
    """R-16: a deadline that passes without a result is told to the patient once, naming
    1414 (the notification's dedupe key makes it once). How many were queued now."""
    async with uow:
        s = uow.session
        told = select(notifications.c.dedupe_key).where(
            notifications.c.dedupe_key.like("deadline:%")
        )
        rows = (
            await s.execute(
                select(applications)
                .where(
                    _without_result(now),
                    ("deadline:" + applications.c.number).not_in(told),
                )
                .order_by(applications.c.deadline)
                .limit(limit)
            )
        ).all()
        queued = 0
        for r in rows:
            key = f"deadline:{r.number}"
            added = await add(
                s,
                patient_id=r.patient_id,
                kind=Kind.DEADLINE,
                params={"number": r.number, "service": r.service.value},
                now=now,
                tz=await _clinic_tz(s, r.clinic_id),
                application_number=r.number,
                dedupe_key=key,
            )
            queued += added is not None
        await uow.commit()
        return queued


async def register_carried_over(uow: UnitOfWork, *, now: dt.datetime, limit: int = 500) -> int:
    """R-13 (S2-S5 row 7): a request carried over to the next working day is registered by
    the system when the clinic opens on its processing day (the patient is told, like any
    change not made by them). How many were registered."""
    async with uow:
        s = uow.session
        ids = (
            await s.execute(
                select(applications.c.id)
                .where(applications.c.status == ApplicationStatus.NEXT_WORKING_DAY)
                .order_by(applications.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
        holidays = await uow.register.holiday_calendar()
        registered = 0
        for application_id in list(ids):
            app = await uow.applications.get(application_id)
            if app is None:  # pragma: no cover - selected just above
                continue
            clinic = await uow.register.clinic(app.clinic_id) if app.clinic_id else None
            if clinic is None:
                calendar_opening = None
            else:
                calendar = clinic.calendar(holidays)
                calendar_opening = calendar.opening(calendar.processing_day(app.created_at).day)
            if calendar_opening is None or now < calendar_opening:
                continue
            app.transition(ApplicationStatus.REGISTERED, actor=Actor.SYSTEM, at=now)
            await status_changed(uow, app, actor=Actor.SYSTEM, now=now)
            registered += 1
        await uow.commit()
        return registered


REMINDER_ANSWER_WINDOW = dt.timedelta(days=2)


async def confirm_by_sms(uow: UnitOfWork, phone: str, *, now: dt.datetime) -> bool:
    """The phone answered OK to an SMS reminder: the latest reminder sent to this phone in
    the last two days is confirmed (the phone it went to is the one answering). False when
    there is none to confirm."""
    async with uow:
        s = uow.session
        latest = (
            await s.execute(
                select(notifications.c.params)
                .where(
                    notifications.c.channel == SMS,
                    notifications.c.address == phone,
                    notifications.c.kind == Kind.REMINDER.value,
                    notifications.c.status == NotificationStatus.SENT.value,
                    notifications.c.sent_at >= now - REMINDER_ANSWER_WINDOW,
                )
                .order_by(notifications.c.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        appointment_id = (latest or {}).get("appointment_id")
        if appointment_id is None:
            return False
        result = await s.execute(
            update(reminders)
            .where(
                reminders.c.appointment_id == int(appointment_id),
                reminders.c.status == ReminderStatus.QUEUED.value,
            )
            .values(confirmed_at=now)
        )
        await uow.commit()
        return _rowcount(result) > 0
