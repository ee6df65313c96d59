"""The 1414 desk (issue 12): one owner per conversation, the queue, the transcript, hand-back.

A conversation is with the bot (no open row here), waiting in the queue (`waiting`), with one
operator (`taken`), and then back with the bot (`returned`), `closed`, or `left` (the patient left
the queue). Every change is one conditional UPDATE (`… WHERE state = 'waiting'`), so two
operators can never claim one chat: exactly one UPDATE matches the row. A partial unique index
keeps one open chat per (channel, user). Every transition is a `desk_events` row (who, when);
every look at a patient's data a `desk_access_log` row. Operators are plain integers with a name
(the accounts belong to the console). No channel code here: operator and system messages are
stored with `delivery = 'pending'`, and the relay (bot/desk/relay.py) delivers them.

Sources: anchors §2.2 (the shape of a good 1414 escalation: hours, place, expected wait,
call back when closed, single owner, context package, relay, timeouts); seed 001 §2.7
(Annex 3: the two quality questions, answers 1..3).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend.adapters.orm import (
    DESK_OPEN_STATES,
    desk_access_log,
    desk_callbacks,
    desk_chats,
    desk_events,
    desk_hours,
    desk_hours_exceptions,
    desk_messages,
    desk_quality,
)
from backend.adapters.orm import (
    patients as patients_table,
)
from backend.domain.calendar import OpeningHours, WeeklySchedule
from backend.domain.iin import mask_iin
from backend.domain.phone import mask_phone
from backend.domain.statuses import is_open
from backend.services import applications, patients
from backend.services.common import require_aware
from backend.services.unit_of_work import UnitOfWork

ALMATY = ZoneInfo("Asia/Almaty")
# The desk's hours. The seeds give none for 1414 chats (anchors §4: "the operating hours and
# chat SLA in the 1414 rules" were not found); the default is the PHC hours the operator screen
# already announced (Mon–Fri 08–20, Sat 09–14, S3/S4 row 7); a supervisor stores the desk's own
# in the console (migration 0012, `hours()` below).
DEFAULT_DESK_HOURS = WeeklySchedule.standard()
EXPECTED_WAIT_WINDOW = dt.timedelta(days=7)  # anchors §2.2: median first response, last 7 days
QUALITY_QUESTIONS = (1, 2)  # seed 001 §2.7, Annex 3
QUALITY_ANSWERS = (1, 2, 3)  # not satisfied, partially satisfied, satisfied


class DeskState(StrEnum):
    WAITING = "waiting"
    TAKEN = "taken"
    RETURNED = "returned"  # handed back to the bot
    CLOSED = "closed"
    LEFT = "left"  # the patient left the queue


class Sender(StrEnum):
    PATIENT = "patient"
    OPERATOR = "operator"
    SYSTEM = "system"


class MessageKind(StrEnum):
    TEXT = "text"
    HANDED_BACK = "handed_back"
    CLOSED = "closed"
    LONG_WAIT = "long_wait"
    REQUEUED = "requeued"  # the operator went idle: back in the queue
    IDLE_CLOSED = "idle_closed"


class Delivery(StrEnum):
    NONE = "none"  # a patient's message: nothing to deliver
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class DeskRefusal(Exception):
    """A desk action that does not apply to the chat as it is now (taken by another operator,
    already closed ...): the console shows it, nothing changes."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Operator:
    id: int
    name: str


@dataclass(frozen=True)
class DeskChat:
    id: int
    channel: str
    user_id: str
    address: str
    patient_id: int | None
    state: DeskState
    operator_id: int | None
    operator_name: str | None
    reason: str
    language: str
    snapshot: Mapping[str, Any]
    created_at: dt.datetime
    queued_at: dt.datetime
    claimed_at: dt.datetime | None
    first_response_at: dt.datetime | None
    end_reason: str | None

    @property
    def is_open(self) -> bool:
        return self.state in (DeskState.WAITING, DeskState.TAKEN)


@dataclass(frozen=True)
class QueueEntry:
    chat: DeskChat
    place: int
    waited: dt.timedelta


@dataclass(frozen=True)
class DeskMessage:
    id: int
    chat_id: int
    sender: Sender
    operator_id: int | None
    kind: MessageKind
    body: str
    at: dt.datetime
    delivery: Delivery


@dataclass(frozen=True)
class Outgoing:
    """An operator or system message to deliver, with what delivery needs."""

    message: DeskMessage
    channel: str
    user_id: str
    address: str
    language: str


@dataclass(frozen=True)
class Entered:
    """What the patient gets told on entering the queue (anchors §2.2 item 2)."""

    chat: DeskChat
    place: int
    expected_wait: dt.timedelta | None  # None: unknown (no data in the last 7 days)


@dataclass(frozen=True)
class Context:
    """The fixed context package of a chat for its operator (anchors §2.2 item 4)."""

    chat: DeskChat
    masked_iin: str | None
    masked_phone: str | None
    channel: str
    language: str
    step: str | None
    entered: Mapping[str, Any]
    applications: Sequence[applications.ApplicationSummary]
    reason: str
    transcript: Sequence[DeskMessage]


@dataclass(frozen=True)
class Figures:
    waiting: int
    taken: int
    median_first_response: dt.timedelta | None
    median_handling: dt.timedelta | None
    chats_started: int
    per_hour: Mapping[int, int]


@dataclass(frozen=True)
class Timeouts:
    long_wait: dt.timedelta = dt.timedelta(minutes=15)
    operator_idle_warn: dt.timedelta = dt.timedelta(minutes=5)
    operator_idle_requeue: dt.timedelta = dt.timedelta(minutes=10)
    patient_idle_close: dt.timedelta = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Sweep:
    long_wait: Sequence[int]
    warned: Sequence[int]
    requeued: Sequence[int]
    closed: Sequence[int]


# --- hours ---------------------------------------------------------------------------------
# The desk's hours are data (migration 0012): a supervisor sets them in the console; with none
# stored, DEFAULT_DESK_HOURS. Every text that states the hours and every open/closed decision
# reads them through `hours()` (dialogs/journeys/common.py Operator).


@dataclass(frozen=True)
class DeskHours:
    """The weekly hours and the dated exceptions (None on a date: closed all day)."""

    weekly: WeeklySchedule
    exceptions: Mapping[dt.date, OpeningHours | None] = field(default_factory=dict)
    stored: bool = False  # False: nothing stored, the default hours

    def on(self, day: dt.date) -> OpeningHours | None:
        if day in self.exceptions:
            return self.exceptions[day]
        return self.weekly.hours_on(day.weekday())


class HoursInvalid(ValueError):
    """Hours a supervisor typed that cannot be stored; `code` names the problem, `field` where."""

    def __init__(self, code: str, field_name: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.field = field_name


DEFAULT_HOURS = DeskHours(DEFAULT_DESK_HOURS)
HOURS_AHEAD = 366  # next_opening looks this many days ahead (dated exceptions included)
_SAVE_ATTEMPTS = 10


def _as_hours(hours: WeeklySchedule | DeskHours) -> DeskHours:
    return hours if isinstance(hours, DeskHours) else DeskHours(hours)


def is_open_at(now: dt.datetime, hours: WeeklySchedule | DeskHours = DEFAULT_HOURS) -> bool:
    local = require_aware(now).astimezone(ALMATY)
    today = _as_hours(hours).on(local.date())
    return today is not None and today.opens <= local.time() < today.closes


def next_opening(
    now: dt.datetime, hours: WeeklySchedule | DeskHours = DEFAULT_HOURS
) -> dt.datetime:
    """The next moment the desk opens (now, when it is open)."""
    desk_hours = _as_hours(hours)
    local = require_aware(now).astimezone(ALMATY)
    for days in range(HOURS_AHEAD + 1):
        day = local.date() + dt.timedelta(days=days)
        opening = desk_hours.on(day)
        if opening is None:
            continue
        start = dt.datetime.combine(day, opening.opens, tzinfo=ALMATY)
        end = dt.datetime.combine(day, opening.closes, tzinfo=ALMATY)
        if local < end:
            return max(start, local)
    raise ValueError("the desk has no opening hours")


def parse_time(raw: str, field_name: str) -> dt.time:
    """`HH:MM` (24 h; `8:00` too) as typed in the console; anything else is HoursInvalid."""
    text = raw.strip()
    hours_part, sep, minutes_part = text.partition(":")
    if (
        not sep
        or not hours_part.isdigit()
        or not minutes_part.isdigit()
        or len(hours_part) > 2
        or len(minutes_part) != 2
        or not text.isascii()
    ):
        raise HoursInvalid("bad_time", field_name)
    hour, minute = int(hours_part), int(minutes_part)
    if hour > 23 or minute > 59:
        raise HoursInvalid("bad_time", field_name)
    return dt.time(hour, minute)


def opening_hours(opens: str, closes: str, field_name: str) -> OpeningHours | None:
    """A day's hours from the two typed fields: both empty = closed; opening before closing."""
    if not opens.strip() and not closes.strip():
        return None
    if not opens.strip() or not closes.strip():
        raise HoursInvalid("half_empty", field_name)
    start = parse_time(opens, f"{field_name}.opens")
    end = parse_time(closes, f"{field_name}.closes")
    if start >= end:
        raise HoursInvalid("opens_after_closes", field_name)
    return OpeningHours(start, end)


async def hours(uow: UnitOfWork) -> DeskHours:
    """The desk's hours as stored (the default when a supervisor has stored none)."""
    async with uow:
        rows = (await uow.session.execute(select(desk_hours))).all()
        extra = (await uow.session.execute(select(desk_hours_exceptions))).all()
    weekly = (
        WeeklySchedule(
            {r.weekday: OpeningHours(r.opens, r.closes) for r in rows if r.opens is not None}
        )
        if rows
        else DEFAULT_DESK_HOURS
    )
    exceptions = {
        r.day: (OpeningHours(r.opens, r.closes) if r.opens is not None else None) for r in extra
    }
    return DeskHours(weekly, exceptions, stored=bool(rows))


async def set_weekly_hours(
    uow: UnitOfWork,
    weekly: Mapping[int, OpeningHours | None],
    *,
    by: Operator,
    now: dt.datetime,
) -> None:
    """Store the desk's weekly hours (all seven days; None = closed). At least one day open."""
    if set(weekly) != set(range(7)):
        raise HoursInvalid("bad_weekdays")
    if all(h is None for h in weekly.values()):
        raise HoursInvalid("never_open")
    now = require_aware(now)
    rows = [
        {
            "weekday": day,
            "opens": h.opens if h else None,
            "closes": h.closes if h else None,
            "updated_at": now,
            "updated_by": by.id,
        }
        for day, h in sorted(weekly.items())
    ]
    for attempt in range(_SAVE_ATTEMPTS):
        async with uow:
            try:
                await uow.session.execute(delete(desk_hours))
                await uow.session.execute(insert(desk_hours), rows)
                await uow.commit()
                return
            except IntegrityError:  # two supervisors saving at once: the later one wins
                await uow.rollback()
                if attempt == _SAVE_ATTEMPTS - 1:
                    raise


async def set_exception(
    uow: UnitOfWork,
    day: dt.date,
    opening: OpeningHours | None,
    *,
    note: str,
    by: Operator,
    now: dt.datetime,
) -> None:
    """A dated exception (a holiday: None, closed; a short day: its hours); replaces one."""
    now = require_aware(now)
    row = {
        "day": day,
        "opens": opening.opens if opening else None,
        "closes": opening.closes if opening else None,
        "note": note.strip()[:100],
        "updated_at": now,
        "updated_by": by.id,
    }
    for attempt in range(_SAVE_ATTEMPTS):
        async with uow:
            try:
                await uow.session.execute(
                    delete(desk_hours_exceptions).where(desk_hours_exceptions.c.day == day)
                )
                await uow.session.execute(insert(desk_hours_exceptions).values(**row))
                await uow.commit()
                return
            except IntegrityError:  # the same date saved at once: the later one wins
                await uow.rollback()
                if attempt == _SAVE_ATTEMPTS - 1:
                    raise


async def remove_exception(uow: UnitOfWork, day: dt.date) -> bool:
    async with uow:
        result = await uow.session.execute(
            delete(desk_hours_exceptions).where(desk_hours_exceptions.c.day == day)
        )
        await uow.commit()
        return _rowcount(result) == 1


async def exception_notes(uow: UnitOfWork) -> dict[dt.date, str]:
    async with uow:
        rows = await uow.session.execute(
            select(desk_hours_exceptions.c.day, desk_hours_exceptions.c.note)
        )
        return {r.day: r.note for r in rows}


# --- rows ----------------------------------------------------------------------------------


def _chat(row: Any) -> DeskChat:
    return DeskChat(
        id=row.id,
        channel=row.channel,
        user_id=row.user_id,
        address=row.address,
        patient_id=row.patient_id,
        state=DeskState(row.state),
        operator_id=row.operator_id,
        operator_name=row.operator_name,
        reason=row.reason,
        language=row.language,
        snapshot=dict(row.snapshot or {}),
        created_at=row.created_at,
        queued_at=row.queued_at,
        claimed_at=row.claimed_at,
        first_response_at=row.first_response_at,
        end_reason=row.end_reason,
    )


def _message(row: Any) -> DeskMessage:
    return DeskMessage(
        id=row.id,
        chat_id=row.chat_id,
        sender=Sender(row.sender),
        operator_id=row.operator_id,
        kind=MessageKind(row.kind),
        body=row.body,
        at=row.at,
        delivery=Delivery(row.delivery),
    )


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _event(
    uow: UnitOfWork, chat_id: int, what: str, now: dt.datetime, operator_id: int | None = None
) -> None:
    actor = "operator" if operator_id is not None else "patient" if what in _PATIENT else "system"
    await uow.session.execute(
        insert(desk_events).values(
            chat_id=chat_id, actor=actor, operator_id=operator_id, what=what, at=now
        )
    )


_PATIENT = frozenset({"queued", "left", "message"})


async def _system_message(
    uow: UnitOfWork, chat_id: int, kind: MessageKind, now: dt.datetime, body: str = ""
) -> None:
    await uow.session.execute(
        insert(desk_messages).values(
            chat_id=chat_id,
            sender=Sender.SYSTEM.value,
            kind=kind.value,
            body=body,
            at=now,
            delivery=Delivery.PENDING.value,
        )
    )


async def _get(uow: UnitOfWork, chat_id: int) -> DeskChat:
    row = (await uow.session.execute(select(desk_chats).where(desk_chats.c.id == chat_id))).first()
    if row is None:
        raise DeskRefusal("no_such_chat")
    return _chat(row)


# --- the patient's side --------------------------------------------------------------------


async def open_chat(uow: UnitOfWork, channel: str, user_id: str) -> DeskChat | None:
    """The conversation's open chat (waiting or with an operator), if any."""
    async with uow:
        row = (
            await uow.session.execute(
                select(desk_chats).where(
                    desk_chats.c.channel == channel,
                    desk_chats.c.user_id == user_id,
                    desk_chats.c.state.in_(DESK_OPEN_STATES),
                )
            )
        ).first()
        return None if row is None else _chat(row)


async def _place(uow: UnitOfWork, chat: DeskChat) -> int:
    ahead = await uow.session.execute(
        select(func.count())
        .select_from(desk_chats)
        .where(
            desk_chats.c.state == DeskState.WAITING.value,
            (desk_chats.c.queued_at < chat.queued_at)
            | and_(desk_chats.c.queued_at == chat.queued_at, desk_chats.c.id < chat.id),
        )
    )
    return int(ahead.scalar_one()) + 1


async def place(uow: UnitOfWork, chat_id: int) -> int | None:
    """The chat's place in the queue (1 = next), None when it is not waiting."""
    async with uow:
        chat = await _get(uow, chat_id)
        return await _place(uow, chat) if chat.state is DeskState.WAITING else None


async def escalate(
    uow: UnitOfWork,
    *,
    channel: str,
    user_id: str,
    address: str,
    patient_id: int | None,
    reason: str,
    language: str,
    snapshot: Mapping[str, Any],
    now: dt.datetime,
) -> Entered:
    """Queue the conversation (idempotent: an open chat is returned as it is)."""
    now = require_aware(now)
    async with uow:
        try:
            result = await uow.session.execute(
                insert(desk_chats)
                .values(
                    channel=channel,
                    user_id=user_id,
                    address=address,
                    patient_id=patient_id,
                    state=DeskState.WAITING.value,
                    reason=reason[:32],
                    language=language,
                    snapshot=dict(snapshot),
                    created_at=now,
                    queued_at=now,
                    last_patient_at=now,
                )
                .returning(desk_chats.c.id)
            )
            chat_id = int(result.scalar_one())
            await _event(uow, chat_id, "queued", now)
            await uow.commit()
        except IntegrityError:  # already open (a double tap): the open one
            await uow.rollback()
    chat = await open_chat(uow, channel, user_id)
    if chat is None:  # pragma: no cover - closed in between: try again once
        return await escalate(
            uow,
            channel=channel,
            user_id=user_id,
            address=address,
            patient_id=patient_id,
            reason=reason,
            language=language,
            snapshot=snapshot,
            now=now,
        )
    async with uow:
        where = await _place(uow, chat) if chat.state is DeskState.WAITING else 0
    return Entered(chat, where, await expected_wait(uow, now))


async def leave_queue(uow: UnitOfWork, chat_id: int, now: dt.datetime) -> bool:
    """The patient leaves the queue (back to the bot); False when the chat was not waiting."""
    async with uow:
        result = await uow.session.execute(
            update(desk_chats)
            .where(desk_chats.c.id == chat_id, desk_chats.c.state == DeskState.WAITING.value)
            .values(state=DeskState.LEFT.value, ended_at=now, end_reason="left")
        )
        if _rowcount(result) != 1:
            return False
        await _event(uow, chat_id, "left", now)
        await uow.commit()
        return True


async def record_patient_message(
    uow: UnitOfWork, chat_id: int, text: str, now: dt.datetime
) -> DeskMessage:
    async with uow:
        result = await uow.session.execute(
            insert(desk_messages)
            .values(
                chat_id=chat_id,
                sender=Sender.PATIENT.value,
                kind=MessageKind.TEXT.value,
                body=text,
                at=now,
                delivery=Delivery.NONE.value,
            )
            .returning(*desk_messages.c)
        )
        message = _message(result.one())
        await uow.session.execute(
            update(desk_chats).where(desk_chats.c.id == chat_id).values(last_patient_at=now)
        )
        await uow.commit()
        return message


async def request_callback(
    uow: UnitOfWork,
    *,
    channel: str,
    address: str,
    patient_id: int | None,
    language: str,
    text: str,
    now: dt.datetime,
) -> int:
    """A message left outside the desk's hours for a call back (anchors §2.2 item 2)."""
    async with uow:
        result = await uow.session.execute(
            insert(desk_callbacks)
            .values(
                channel=channel,
                address=address,
                patient_id=patient_id,
                language=language,
                body=text,
                created_at=now,
            )
            .returning(desk_callbacks.c.id)
        )
        callback_id = int(result.scalar_one())
        await uow.commit()
        return callback_id


@dataclass(frozen=True)
class Callback:
    id: int
    channel: str
    address: str
    patient_id: int | None
    language: str
    body: str
    created_at: dt.datetime


async def callbacks(uow: UnitOfWork) -> list[Callback]:
    """The open call-back requests, oldest first (the desk sees them first when it opens)."""
    async with uow:
        rows = await uow.session.execute(
            select(desk_callbacks)
            .where(desk_callbacks.c.done_at.is_(None))
            .order_by(desk_callbacks.c.created_at, desk_callbacks.c.id)
        )
        return [
            Callback(r.id, r.channel, r.address, r.patient_id, r.language, r.body, r.created_at)
            for r in rows
        ]


async def callback_done(
    uow: UnitOfWork, callback_id: int, operator: Operator, now: dt.datetime
) -> bool:
    async with uow:
        result = await uow.session.execute(
            update(desk_callbacks)
            .where(desk_callbacks.c.id == callback_id, desk_callbacks.c.done_at.is_(None))
            .values(done_at=now, done_by=operator.id)
        )
        await uow.commit()
        return _rowcount(result) == 1


async def answer_quality(
    uow: UnitOfWork, chat_id: int, question: int, answer: int, now: dt.datetime
) -> bool:
    """Seed 001 §2.7 (Annex 3): one answer (1..3) per question and chat; a repeat is ignored."""
    if question not in QUALITY_QUESTIONS or answer not in QUALITY_ANSWERS:
        raise ValueError("no such question or answer")
    async with uow:
        try:
            await uow.session.execute(
                insert(desk_quality).values(
                    chat_id=chat_id, question=question, answer=answer, at=now
                )
            )
            await uow.commit()
        except IntegrityError:
            await uow.rollback()
            return False
        return True


async def quality_answers(uow: UnitOfWork, chat_id: int) -> dict[int, int]:
    async with uow:
        rows = await uow.session.execute(
            select(desk_quality.c.question, desk_quality.c.answer).where(
                desk_quality.c.chat_id == chat_id
            )
        )
        return {int(q): int(a) for q, a in rows}


# --- the operator's side -------------------------------------------------------------------


async def queue(uow: UnitOfWork, now: dt.datetime) -> list[QueueEntry]:
    """The waiting chats, first come first served."""
    async with uow:
        rows = await uow.session.execute(
            select(desk_chats)
            .where(desk_chats.c.state == DeskState.WAITING.value)
            .order_by(desk_chats.c.queued_at, desk_chats.c.id)
        )
        chats = [_chat(r) for r in rows]
    return [QueueEntry(c, i + 1, now - c.queued_at) for i, c in enumerate(chats)]


async def chats_of(uow: UnitOfWork, operator_id: int) -> list[DeskChat]:
    async with uow:
        rows = await uow.session.execute(
            select(desk_chats)
            .where(
                desk_chats.c.state == DeskState.TAKEN.value,
                desk_chats.c.operator_id == operator_id,
            )
            .order_by(desk_chats.c.claimed_at)
        )
        return [_chat(r) for r in rows]


async def get(uow: UnitOfWork, chat_id: int) -> DeskChat:
    async with uow:
        return await _get(uow, chat_id)


async def claim(uow: UnitOfWork, chat_id: int, operator: Operator, now: dt.datetime) -> bool:
    """Take a waiting chat: one conditional UPDATE, so of two operators exactly one wins."""
    async with uow:
        result = await uow.session.execute(
            update(desk_chats)
            .where(desk_chats.c.id == chat_id, desk_chats.c.state == DeskState.WAITING.value)
            .values(
                state=DeskState.TAKEN.value,
                operator_id=operator.id,
                operator_name=operator.name[:100],
                claimed_at=now,
                last_operator_at=now,
                warned_at=None,
            )
        )
        if _rowcount(result) != 1:
            await uow.rollback()
            return False
        await _event(uow, chat_id, "claimed", now, operator.id)
        await uow.commit()
        return True


async def _owned(uow: UnitOfWork, chat_id: int, operator: Operator) -> DeskChat:
    chat = await _get(uow, chat_id)
    if chat.state is not DeskState.TAKEN:
        raise DeskRefusal("not_taken")
    if chat.operator_id != operator.id:
        raise DeskRefusal("taken_by_another")
    return chat


async def reply(
    uow: UnitOfWork, chat_id: int, operator: Operator, text: str, now: dt.datetime
) -> DeskMessage:
    """An operator's message: stored and queued for delivery on the patient's channel."""
    body = text.strip()
    if not body:
        raise DeskRefusal("empty")
    async with uow:
        chat = await _owned(uow, chat_id, operator)
        result = await uow.session.execute(
            insert(desk_messages)
            .values(
                chat_id=chat_id,
                sender=Sender.OPERATOR.value,
                operator_id=operator.id,
                kind=MessageKind.TEXT.value,
                body=body,
                at=now,
                delivery=Delivery.PENDING.value,
            )
            .returning(*desk_messages.c)
        )
        message = _message(result.one())
        values: dict[str, Any] = {"last_operator_at": now, "warned_at": None}
        if chat.first_response_at is None:
            values["first_response_at"] = now
        await uow.session.execute(
            update(desk_chats).where(desk_chats.c.id == chat_id).values(**values)
        )
        await uow.commit()
        return message


async def _end(
    uow: UnitOfWork,
    chat_id: int,
    *,
    state: DeskState,
    reason: str,
    kind: MessageKind,
    now: dt.datetime,
    operator: Operator | None,
    from_states: Sequence[DeskState],
) -> bool:
    where = [desk_chats.c.id == chat_id, desk_chats.c.state.in_([s.value for s in from_states])]
    if operator is not None:
        where.append(desk_chats.c.operator_id == operator.id)
    result = await uow.session.execute(
        update(desk_chats)
        .where(*where)
        .values(state=state.value, ended_at=now, end_reason=reason[:32])
    )
    if _rowcount(result) != 1:
        return False
    await _event(uow, chat_id, state.value, now, operator.id if operator else None)
    await _system_message(uow, chat_id, kind, now)
    return True


async def hand_back(uow: UnitOfWork, chat_id: int, operator: Operator, now: dt.datetime) -> None:
    """Back to the bot, where the patient left the dialog (the relay tells the patient)."""
    async with uow:
        await _owned(uow, chat_id, operator)
        ok = await _end(
            uow,
            chat_id,
            state=DeskState.RETURNED,
            reason="handed_back",
            kind=MessageKind.HANDED_BACK,
            now=now,
            operator=operator,
            from_states=(DeskState.TAKEN,),
        )
        if not ok:  # pragma: no cover - changed between the two statements
            raise DeskRefusal("not_taken")
        await uow.commit()


async def close(
    uow: UnitOfWork, chat_id: int, operator: Operator, now: dt.datetime, reason: str = "resolved"
) -> None:
    """Close the chat; the patient is told and asked the two quality questions (Annex 3)."""
    async with uow:
        await _owned(uow, chat_id, operator)
        ok = await _end(
            uow,
            chat_id,
            state=DeskState.CLOSED,
            reason=reason,
            kind=MessageKind.CLOSED,
            now=now,
            operator=operator,
            from_states=(DeskState.TAKEN,),
        )
        if not ok:  # pragma: no cover
            raise DeskRefusal("not_taken")
        await uow.commit()


async def reassign(
    uow: UnitOfWork, chat_id: int, to: Operator, supervisor: Operator, now: dt.datetime
) -> None:
    """A supervisor gives an open chat to another operator."""
    async with uow:
        result = await uow.session.execute(
            update(desk_chats)
            .where(desk_chats.c.id == chat_id, desk_chats.c.state.in_(DESK_OPEN_STATES))
            .values(
                state=DeskState.TAKEN.value,
                operator_id=to.id,
                operator_name=to.name[:100],
                claimed_at=func.coalesce(desk_chats.c.claimed_at, now),
                last_operator_at=now,
                warned_at=None,
            )
        )
        if _rowcount(result) != 1:
            raise DeskRefusal("not_open")
        await _event(uow, chat_id, f"reassigned:{to.id}", now, supervisor.id)
        await uow.commit()


async def transcript(uow: UnitOfWork, chat_id: int) -> list[DeskMessage]:
    """The whole transcript, oldest first."""
    async with uow:
        rows = await uow.session.execute(
            select(desk_messages)
            .where(desk_messages.c.chat_id == chat_id)
            .order_by(desk_messages.c.at, desk_messages.c.id)
        )
        return [_message(r) for r in rows]


async def events(uow: UnitOfWork, chat_id: int) -> list[tuple[str, int | None, str, dt.datetime]]:
    """(actor, operator id, what, when) of every transition, oldest first."""
    async with uow:
        rows = await uow.session.execute(
            select(desk_events).where(desk_events.c.chat_id == chat_id).order_by(desk_events.c.id)
        )
        return [(r.actor, r.operator_id, r.what, r.at) for r in rows]


async def log_access(
    uow: UnitOfWork,
    operator: Operator,
    *,
    what: str,
    now: dt.datetime,
    chat_id: int | None = None,
    patient_id: int | None = None,
) -> None:
    async with uow:
        await uow.session.execute(
            insert(desk_access_log).values(
                operator_id=operator.id,
                operator_name=operator.name[:100],
                chat_id=chat_id,
                patient_id=patient_id,
                what=what[:32],
                at=now,
            )
        )
        await uow.commit()


@dataclass(frozen=True)
class Access:
    operator_id: int
    operator_name: str | None
    chat_id: int | None
    patient_id: int | None
    what: str
    at: dt.datetime


async def access_log(
    uow: UnitOfWork, *, patient_id: int | None = None, limit: int = 200
) -> list[Access]:
    """Who looked at which patient's data, newest first (a supervisor's page)."""
    async with uow:
        query = select(desk_access_log).order_by(desk_access_log.c.id.desc()).limit(limit)
        if patient_id is not None:
            query = query.where(desk_access_log.c.patient_id == patient_id)
        rows = await uow.session.execute(query)
        return [
            Access(r.operator_id, r.operator_name, r.chat_id, r.patient_id, r.what, r.at)
            for r in rows
        ]


async def context(uow: UnitOfWork, chat_id: int, operator: Operator, now: dt.datetime) -> Context:
    """What the operator sees (anchors §2.2 item 4); writes an access-log row."""
    chat = await get(uow, chat_id)
    masked_iin = masked_phone = None
    apps: list[applications.ApplicationSummary] = []
    if chat.patient_id is not None:
        patient = await patients.get_patient(uow, chat.patient_id)
        masked_iin = mask_iin(patient.iin)
        masked_phone = mask_phone(patient.phone) if patient.phone else None
        apps = [
            a
            for a in await applications.list_applications(uow, chat.patient_id)
            if is_open(a.status)
        ]
    if chat.channel == "sms" and masked_phone is None:
        masked_phone = mask_phone(chat.address)
    await log_access(
        uow, operator, what="context", now=now, chat_id=chat_id, patient_id=chat.patient_id
    )
    snapshot = chat.snapshot
    step = snapshot.get("state")
    entered = snapshot.get("data")
    return Context(
        chat=chat,
        masked_iin=masked_iin,
        masked_phone=masked_phone,
        channel=chat.channel,
        language=chat.language,
        step=step if isinstance(step, str) else None,
        entered=entered if isinstance(entered, dict) else {},
        applications=apps,
        reason=chat.reason,
        transcript=await transcript(uow, chat_id),
    )


# --- delivery (the relay) ------------------------------------------------------------------


async def pending_deliveries(uow: UnitOfWork, *, limit: int = 50) -> list[Outgoing]:
    async with uow:
        rows = await uow.session.execute(
            select(
                desk_messages,
                desk_chats.c.channel,
                desk_chats.c.user_id,
                desk_chats.c.address,
                desk_chats.c.language,
            )
            .join(desk_chats, desk_chats.c.id == desk_messages.c.chat_id)
            .where(desk_messages.c.delivery == Delivery.PENDING.value)
            .order_by(desk_messages.c.id)
            .limit(limit)
        )
        return [Outgoing(_message(r), r.channel, r.user_id, r.address, r.language) for r in rows]


async def mark_delivered(
    uow: UnitOfWork, message_id: int, now: dt.datetime, *, ok: bool = True
) -> None:
    async with uow:
        await uow.session.execute(
            update(desk_messages)
            .where(desk_messages.c.id == message_id)
            .values(
                delivery=(Delivery.SENT if ok else Delivery.FAILED).value,
                delivered_at=now,
            )
        )
        await uow.commit()


# --- figures and timeouts ------------------------------------------------------------------


def _median(values: Sequence[dt.timedelta]) -> dt.timedelta | None:
    if not values:
        return None
    return dt.timedelta(seconds=statistics.median(v.total_seconds() for v in values))


async def expected_wait(uow: UnitOfWork, now: dt.datetime) -> dt.timedelta | None:
    """The median first response of the last 7 days (anchors §2.2); None: unknown."""
    async with uow:
        rows = await uow.session.execute(
            select(desk_chats.c.queued_at, desk_chats.c.first_response_at).where(
                desk_chats.c.first_response_at.is_not(None),
                desk_chats.c.queued_at >= now - EXPECTED_WAIT_WINDOW,
            )
        )
        return _median([r.first_response_at - r.queued_at for r in rows])


async def figures(uow: UnitOfWork, since: dt.datetime) -> Figures:
    """Waiting, with operators, median first response and handling time, chats per hour."""
    async with uow:
        rows = list(
            await uow.session.execute(select(desk_chats).where(desk_chats.c.created_at >= since))
        )
        counts = await uow.session.execute(
            select(desk_chats.c.state, func.count())
            .where(desk_chats.c.state.in_(DESK_OPEN_STATES))
            .group_by(desk_chats.c.state)
        )
        by_state = {s: int(n) for s, n in counts}
    first = [r.first_response_at - r.queued_at for r in rows if r.first_response_at]
    handling = [r.ended_at - r.claimed_at for r in rows if r.ended_at and r.claimed_at]
    per_hour: dict[int, int] = {}
    for r in rows:
        hour = r.created_at.astimezone(ALMATY).hour
        per_hour[hour] = per_hour.get(hour, 0) + 1
    return Figures(
        waiting=by_state.get(DeskState.WAITING.value, 0),
        taken=by_state.get(DeskState.TAKEN.value, 0),
        median_first_response=_median(first),
        median_handling=_median(handling),
        chats_started=len(rows),
        per_hour=per_hour,
    )


async def idle_sweep(uow: UnitOfWork, now: dt.datetime, timeouts: Timeouts) -> Sweep:
    """The timeouts (anchors §2.2 item 6): a long wait offers the call back or the bot (once);
    an idle operator is warned, then the chat goes back to the queue; an idle patient's chat is
    closed and the patient told."""
    long_wait: list[int] = []
    warned: list[int] = []
    requeued: list[int] = []
    closed: list[int] = []
    async with uow:
        s = uow.session
        rows = await s.execute(
            select(desk_chats.c.id).where(
                desk_chats.c.state == DeskState.WAITING.value,
                desk_chats.c.wait_offered_at.is_(None),
                desk_chats.c.queued_at <= now - timeouts.long_wait,
            )
        )
        for (chat_id,) in rows.all():
            result = await s.execute(
                update(desk_chats)
                .where(desk_chats.c.id == chat_id, desk_chats.c.wait_offered_at.is_(None))
                .values(wait_offered_at=now)
            )
            if _rowcount(result) == 1:
                await _system_message(uow, chat_id, MessageKind.LONG_WAIT, now)
                await _event(uow, chat_id, "long_wait", now)
                long_wait.append(chat_id)
        taken = (
            await s.execute(select(desk_chats).where(desk_chats.c.state == DeskState.TAKEN.value))
        ).all()
        for row in taken:
            operator_at = row.last_operator_at or row.claimed_at or row.queued_at
            patient_at = row.last_patient_at or row.queued_at
            if operator_at >= patient_at and now - operator_at >= timeouts.patient_idle_close:
                # The operator spoke last and the patient has not answered: gone away.
                ok = await _end(
                    uow,
                    row.id,
                    state=DeskState.CLOSED,
                    reason="patient_idle",
                    kind=MessageKind.IDLE_CLOSED,
                    now=now,
                    operator=None,
                    from_states=(DeskState.TAKEN,),
                )
                if ok:
                    closed.append(row.id)
                continue
            if patient_at <= operator_at:
                continue  # the patient is waiting for nothing: the operator spoke last
            idle = now - max(operator_at, patient_at)
            if idle >= timeouts.operator_idle_requeue:
                result = await s.execute(
                    update(desk_chats)
                    .where(
                        desk_chats.c.id == row.id,
                        desk_chats.c.state == DeskState.TAKEN.value,
                        desk_chats.c.operator_id == row.operator_id,
                    )
                    .values(
                        state=DeskState.WAITING.value,
                        operator_id=None,
                        operator_name=None,
                        warned_at=None,
                        queued_at=row.queued_at,  # keeps its place at the head
                    )
                )
                if _rowcount(result) == 1:
                    await _event(uow, row.id, "requeued", now)
                    requeued.append(row.id)
            elif idle >= timeouts.operator_idle_warn and row.warned_at is None:
                await s.execute(
                    update(desk_chats).where(desk_chats.c.id == row.id).values(warned_at=now)
                )
                await _event(uow, row.id, "operator_warned", now)
                warned.append(row.id)
        await uow.commit()
    return Sweep(long_wait, warned, requeued, closed)


# --- the supervisor's side -----------------------------------------------------------------


async def open_chats(uow: UnitOfWork) -> list[DeskChat]:
    """Every chat waiting or with an operator, oldest in the queue first (a supervisor's view)."""
    async with uow:
        rows = await uow.session.execute(
            select(desk_chats)
            .where(desk_chats.c.state.in_(DESK_OPEN_STATES))
            .order_by(desk_chats.c.queued_at, desk_chats.c.id)
        )
        return [_chat(r) for r in rows]


async def close_stuck(
    uow: UnitOfWork,
    chat_id: int,
    supervisor: Operator,
    now: dt.datetime,
    reason: str = "closed_by_supervisor",
) -> None:
    """A supervisor closes a chat that is stuck (waiting or with any operator); the patient is
    told as on any close and is back with the bot."""
    async with uow:
        result = await uow.session.execute(
            update(desk_chats)
            .where(desk_chats.c.id == chat_id, desk_chats.c.state.in_(DESK_OPEN_STATES))
            .values(state=DeskState.CLOSED.value, ended_at=now, end_reason=reason[:32])
        )
        if _rowcount(result) != 1:
            await uow.rollback()
            raise DeskRefusal("not_open")
        await _event(uow, chat_id, DeskState.CLOSED.value, now, supervisor.id)
        await _system_message(uow, chat_id, MessageKind.CLOSED, now)
        await uow.commit()


async def per_day(uow: UnitOfWork, since: dt.datetime) -> dict[dt.date, int]:
    """Chats started per day (Almaty dates) since `since`."""
    async with uow:
        rows = await uow.session.execute(
            select(desk_chats.c.created_at).where(desk_chats.c.created_at >= since)
        )
        days: dict[dt.date, int] = {}
        for (created,) in rows:
            day = created.astimezone(ALMATY).date()
            days[day] = days.get(day, 0) + 1
        return days


async def median_waiting(uow: UnitOfWork, since: dt.datetime) -> dt.timedelta | None:
    """The median time from queueing to an operator taking the chat, since `since`."""
    async with uow:
        rows = await uow.session.execute(
            select(desk_chats.c.queued_at, desk_chats.c.claimed_at).where(
                desk_chats.c.created_at >= since, desk_chats.c.claimed_at.is_not(None)
            )
        )
        return _median([r.claimed_at - r.queued_at for r in rows])


@dataclass(frozen=True)
class AccessPage:
    entries: Sequence[Access]
    masked_iins: Mapping[int, str]  # patient id -> masked ИИН
    total: int


async def access_page(
    uow: UnitOfWork,
    *,
    operator_id: int | None = None,
    patient_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> AccessPage:
    """The access log filtered by operator and/or patient, newest first, one page; ИИН masked."""
    table = desk_access_log
    where = []
    if operator_id is not None:
        where.append(table.c.operator_id == operator_id)
    if patient_id is not None:
        where.append(table.c.patient_id == patient_id)
    async with uow:
        total = (
            await uow.session.execute(select(func.count()).select_from(table).where(*where))
        ).scalar_one()
        rows = await uow.session.execute(
            select(table)
            .where(*where)
            .order_by(table.c.id.desc())
            .offset(max(0, offset))
            .limit(limit)
        )
        entries = [
            Access(r.operator_id, r.operator_name, r.chat_id, r.patient_id, r.what, r.at)
            for r in rows
        ]
        ids = {e.patient_id for e in entries if e.patient_id is not None}
        masked: dict[int, str] = {}
        if ids:
            found = await uow.session.execute(
                select(patients_table.c.id, patients_table.c.iin).where(
                    patients_table.c.id.in_(ids)
                )
            )
            masked = {int(i): mask_iin(iin) for i, iin in found}
    return AccessPage(entries, masked, int(total))


async def patient_id_by_iin(uow: UnitOfWork, iin: str) -> int | None:
    """The patient with this ИИН (12 digits, as typed by a supervisor), or None."""
    patient = await patients.find_by_iin(uow, iin)
    return patient.id if patient is not None else None
