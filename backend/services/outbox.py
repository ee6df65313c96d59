"""The SMS outbox, opt-outs and inbound message ids (issue 5): durable, pure SQLAlchemy.

Outgoing messages that are not an immediate reply (OTP codes, notifications) are written here
first and sent by a worker (bot/sms/outbox_worker.py) with retries and back-off, so nothing is
lost while the gateway or the process is down. A message moves

    queued -> sending -> accepted                    (the gateway took it)
                      -> queued (retry, later)       (a temporary failure)
                      -> failed                      (a permanent failure, or too many tries)
    queued -> expired                                (an OTP code nobody can use any more)
    queued -> suppressed                             (the recipient sent STOP)

A worker *claims* a message with one conditional UPDATE, so two workers never send the same
one. A claim is a lease: when a worker dies between claiming and recording the result, the
message is sent again once the lease runs out (at least once; a duplicate is only possible in
that crash window). The gateway's delivery reports (queued, sent, delivered, undelivered,
failed) land in `provider_status`; `problems` lists what operators must see.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Executable,
    and_,
    bindparam,
    case,
    delete,
    insert,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from backend.adapters.orm import (
    DESK_OPEN_STATES,
    desk_chats,
    sms_inbound,
    sms_opt_outs,
    sms_outbox,
)
from backend.services.leased_queue import ERROR_LENGTH as _ERROR_LENGTH
from backend.services.leased_queue import LeasedQueue
from backend.services.unit_of_work import UnitOfWork


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    ACCEPTED = "accepted"
    FAILED = "failed"
    EXPIRED = "expired"
    SUPPRESSED = "suppressed"


FINAL = frozenset(
    {OutboxStatus.ACCEPTED, OutboxStatus.FAILED, OutboxStatus.EXPIRED, OutboxStatus.SUPPRESSED}
)

# Twilio's message statuses in the order they happen; a late report never moves one back.
_PROVIDER_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "partially_delivered": 3,
    "read": 4,
}
PROVIDER_FAILURES = frozenset({"undelivered", "failed"})


class OptedOut(Exception):
    """The recipient sent STOP: nothing may be sent to it until it sends START."""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    to_phone: str
    body: str | None
    kind: str
    sensitive: bool
    status: OutboxStatus
    attempts: int
    next_attempt_at: dt.datetime
    expires_at: dt.datetime | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    provider_id: str | None
    provider_status: str | None
    error: str | None


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        to_phone=row.to_phone,
        body=row.body,
        kind=row.kind,
        sensitive=row.sensitive,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        expires_at=row.expires_at,
        created_at=row.created_at,
        sent_at=row.sent_at,
        provider_id=row.provider_id,
        provider_status=row.provider_status,
        error=row.error,
    )


def _rowcount(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount


# --- opt-outs -----------------------------------------------------------------------------


async def is_opted_out(uow: UnitOfWork, phone: str) -> bool:
    async with uow:
        found = await uow.session.execute(
            select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone == phone)
        )
        return found.first() is not None


async def opt_out(uow: UnitOfWork, phone: str, *, now: dt.datetime, source: str) -> bool:
    """Record STOP; True when the number was not opted out before. Queued messages to it are
    suppressed at once (a code or a reminder written before STOP never goes out after it)."""
    async with uow:
        s = uow.session
        existing = await s.execute(
            select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone == phone)
        )
        new = existing.first() is None
        if new:
            await s.execute(insert(sms_opt_outs).values(phone=phone, at=now, source=source[:16]))
        await s.execute(
            update(sms_outbox)
            .where(
                sms_outbox.c.to_phone == phone,
                sms_outbox.c.status == OutboxStatus.QUEUED.value,
            )
            .values(
                status=OutboxStatus.SUPPRESSED.value,
                error="opted_out",
                updated_at=now,
                body=None,
            )
        )
        await uow.commit()
        return new


async def opt_in(uow: UnitOfWork, phone: str) -> bool:
    """Record START; True when the number was opted out."""
    async with uow:
        result = await uow.session.execute(
            delete(sms_opt_outs).where(sms_opt_outs.c.phone == phone)
        )
        await uow.commit()
        return _rowcount(result) > 0


# --- the outbox ----------------------------------------------------------------------------


async def enqueue(
    uow: UnitOfWork,
    *,
    to: str,
    body: str,
    kind: str,
    now: dt.datetime,
    sensitive: bool = False,
    expires_at: dt.datetime | None = None,
) -> int:
    """Queue a message; its id. Raises OptedOut when the recipient sent STOP."""
    async with uow:
        s = uow.session
        stopped = await s.execute(select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone == to))
        if stopped.first() is not None:
            raise OptedOut(kind)
        result = await s.execute(
            insert(sms_outbox)
            .values(
                to_phone=to,
                body=body,
                kind=kind[:32],
                sensitive=sensitive,
                status=OutboxStatus.QUEUED.value,
                attempts=0,
                next_attempt_at=now,
                expires_at=expires_at,
                created_at=now,
                updated_at=now,
            )
            .returning(sms_outbox.c.id)
        )
        message_id = int(result.scalar_one())
        await uow.commit()
        return message_id


_QUEUE = LeasedQueue(sms_outbox, OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value)


async def due(uow: UnitOfWork, *, now: dt.datetime, limit: int = 50) -> list[OutboxMessage]:
    """Messages a worker may claim now (queued and due, or a lease that ran out), oldest first."""
    async with uow:
        rows = await uow.session.execute(
            select(sms_outbox)
            .where(_QUEUE.claimable(now))
            .order_by(sms_outbox.c.next_attempt_at, sms_outbox.c.id)
            .limit(limit)
        )
        return [_message(row) for row in rows]


async def next_due_at(uow: UnitOfWork) -> dt.datetime | None:
    """When the earliest queued message is due (None: nothing queued)."""
    async with uow:
        found = await uow.session.execute(
            select(sms_outbox.c.next_attempt_at)
            .where(sms_outbox.c.status == OutboxStatus.QUEUED.value)
            .order_by(sms_outbox.c.next_attempt_at)
            .limit(1)
        )
        value = found.scalar_one_or_none()
        return cast(dt.datetime | None, value)


async def claim(
    uow: UnitOfWork, message_id: int, *, now: dt.datetime, lease: dt.timedelta
) -> OutboxMessage | None:
    """Take the message for sending (one attempt more), or None when another worker has it,
    it is no longer due, it expired, or its recipient opted out (both recorded here)."""
    async with uow:
        s = uow.session
        claimed = await s.execute(
            update(sms_outbox)
            .where(sms_outbox.c.id == message_id, _QUEUE.claimable(now))
            .values(**_QUEUE.leased(now, lease))
        )
        if _rowcount(claimed) != 1:
            await uow.rollback()
            return None
        row = (await s.execute(select(sms_outbox).where(sms_outbox.c.id == message_id))).one()
        message = _message(row)
        final: tuple[OutboxStatus, str] | None = None
        if message.expires_at is not None and message.expires_at <= now:
            final = (OutboxStatus.EXPIRED, "expired_before_sending")
        else:
            stopped = await s.execute(
                select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone == message.to_phone)
            )
            if stopped.first() is not None:
                final = (OutboxStatus.SUPPRESSED, "opted_out")
        if final is not None:
            await s.execute(
                update(sms_outbox)
                .where(sms_outbox.c.id == message_id)
                .values(
                    status=final[0].value,
                    error=final[1],
                    lease_until=None,
                    updated_at=now,
                    body=None if message.sensitive else sms_outbox.c.body,
                )
            )
            await uow.commit()
            return None
        await uow.commit()
        return message


async def mark_accepted(
    uow: UnitOfWork,
    message_id: int,
    *,
    now: dt.datetime,
    provider_id: str,
    provider_status: str,
) -> None:
    """The gateway took the message. A code's body is erased: it lives on the phone only."""
    values: dict[str, Any] = {
        "status": OutboxStatus.ACCEPTED.value,
        "provider_id": provider_id[:64] or None,
        "provider_status": provider_status[:32] or None,
        "sent_at": now,
        "lease_until": None,
        "error": None,
        "updated_at": now,
        "body": _body_unless_sensitive(),
    }
    stmt = update(sms_outbox).where(sms_outbox.c.id == message_id)
    async with uow:
        try:
            await uow.session.execute(stmt.values(**values))
            await uow.commit()
        except IntegrityError:  # a gateway id seen before: keep the message, drop the id
            await uow.rollback()
            await uow.session.execute(
                stmt.values(**{**values, "provider_id": None, "error": "duplicate_provider_id"})
            )
            await uow.commit()


def _body_unless_sensitive() -> Any:
    return case((sms_outbox.c.sensitive, null()), else_=sms_outbox.c.body)


async def mark_retry(
    uow: UnitOfWork, message_id: int, *, now: dt.datetime, error: str, retry_at: dt.datetime
) -> None:
    await _QUEUE.retry(uow, message_id, now=now, error=error, retry_at=retry_at)


async def mark_final(
    uow: UnitOfWork, message_id: int, *, now: dt.datetime, status: OutboxStatus, error: str
) -> None:
    if status not in FINAL:
        raise ValueError(f"{status} is not a final status")
    await _QUEUE.finish(
        uow, message_id, now=now, status=status.value, error=error, body=_body_unless_sensitive()
    )


async def record_provider_status(
    uow: UnitOfWork,
    provider_id: str,
    status: str,
    *,
    now: dt.datetime,
    error_code: str | None = None,
) -> OutboxMessage | None:
    """A delivery report: the message it is about (None: not one of ours). Reports may arrive
    out of order; a later stage is never overwritten by an earlier one."""
    status = status.strip().lower()[:32]
    async with uow:
        s = uow.session
        row = (
            await s.execute(select(sms_outbox).where(sms_outbox.c.provider_id == provider_id))
        ).first()
        if row is None:
            return None
        current = row.provider_status
        if current is None or _PROVIDER_RANK.get(status, 0) >= _PROVIDER_RANK.get(current, 0):
            values: dict[str, object] = {"provider_status": status, "updated_at": now}
            if error_code:
                values["error"] = f"provider_error_{error_code}"[:_ERROR_LENGTH]
            await s.execute(update(sms_outbox).where(sms_outbox.c.id == row.id).values(**values))
            await uow.commit()
        updated = (await s.execute(select(sms_outbox).where(sms_outbox.c.id == row.id))).one()
        return _message(updated)


async def get(uow: UnitOfWork, message_id: int) -> OutboxMessage | None:
    async with uow:
        stmt = select(sms_outbox).where(sms_outbox.c.id == message_id)
        row = (await uow.session.execute(stmt)).first()
        return None if row is None else _message(row)


async def messages_to(uow: UnitOfWork, phone: str, *, limit: int = 20) -> list[OutboxMessage]:
    """The last messages to a number, oldest first."""
    async with uow:
        rows = await uow.session.execute(
            select(sms_outbox)
            .where(sms_outbox.c.to_phone == phone)
            .order_by(sms_outbox.c.id.desc())
            .limit(limit)
        )
        return [_message(row) for row in reversed(rows.all())]


async def problems(
    uow: UnitOfWork, *, since: dt.datetime | None = None, limit: int = 100
) -> Sequence[OutboxMessage]:
    """What operators must see: given up, expired unsent, or reported undelivered or failed."""
    condition = or_(
        sms_outbox.c.status.in_([OutboxStatus.FAILED.value, OutboxStatus.EXPIRED.value]),
        sms_outbox.c.provider_status.in_(sorted(PROVIDER_FAILURES)),
    )
    if since is not None:
        condition = and_(condition, sms_outbox.c.updated_at >= since)
    async with uow:
        rows = await uow.session.execute(
            select(sms_outbox).where(condition).order_by(sms_outbox.c.id.desc()).limit(limit)
        )
        return [_message(row) for row in rows]


# --- inbound messages (idempotent webhooks) --------------------------------------------------


class InboundState(StrEnum):
    PROCESSING = "processing"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class InboundClaim:
    new: bool  # True: process it; False: a duplicate
    reply: str | None = None  # a duplicate's earlier reply (None: still being processed)
    # Issue 16: read in the claim's own round trip when it is new (None: not read, ask).
    opted_out: bool | None = None
    # The open desk chat of (desk_channel, phone) when one was asked for (None: none open, or
    # not read: `desk_read` says which).
    desk_chat_id: int | None = None
    desk_read: bool = False


def _facts(desk_channel: str | None) -> list[ColumnElement[Any]]:
    """What the message's handling needs to know first, read by the claim's own statement
    (the phone is the bound parameter `the_phone`)."""
    phone = bindparam("the_phone", type_=sms_inbound.c.phone.type)
    facts: list[ColumnElement[Any]] = [
        select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone == phone).exists().label("opt")
    ]
    if desk_channel is not None:
        chat = (
            select(desk_chats.c.id)
            .where(
                desk_chats.c.channel == desk_channel,
                desk_chats.c.user_id == phone,
                desk_chats.c.state.in_(DESK_OPEN_STATES),
            )
            .limit(1)
            .scalar_subquery()
        )
        facts.append(chat.label("chat"))
    return facts


@functools.cache
def _claim_statement(dialect_name: str, desk_channel: str | None) -> Executable:
    """The claim with its facts, built once per dialect and desk channel (issue 16: building
    the expression cost more CPU than running it); parameters `sid`, `the_phone` and `now`."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement: Executable = (
        dialect.insert(sms_inbound)
        .values(
            message_sid=bindparam("sid", type_=sms_inbound.c.message_sid.type),
            phone=bindparam("the_phone", type_=sms_inbound.c.phone.type),
            received_at=bindparam("now", type_=sms_inbound.c.received_at.type),
            state=InboundState.PROCESSING.value,
        )
        .on_conflict_do_nothing(index_elements=[sms_inbound.c.message_sid])
        .returning(*_facts(desk_channel))
    )
    return statement


_FINISH = (
    update(sms_inbound)
    .where(sms_inbound.c.message_sid == bindparam("sid", type_=sms_inbound.c.message_sid.type))
    .values(
        state=InboundState.DONE.value,
        reply=bindparam("the_reply", type_=sms_inbound.c.reply.type),
    )
)


def _claimed(row: Any, desk_channel: str | None) -> InboundClaim:
    chat = row.chat if desk_channel is not None else None
    return InboundClaim(
        new=True,
        opted_out=bool(row.opt),
        desk_chat_id=None if chat is None else int(chat),
        desk_read=desk_channel is not None,
    )


async def begin_inbound(
    uow: UnitOfWork,
    message_sid: str,
    *,
    phone: str,
    now: dt.datetime,
    stale_after: dt.timedelta = dt.timedelta(minutes=2),
    desk_channel: str | None = None,
) -> InboundClaim:
    """Record an inbound message id; whether this delivery of it should be processed.

    The claim is committed when this returns (one statement on its own, in autocommit on
    PostgreSQL), so a concurrent delivery of the same id sees it and is answered as a duplicate.
    A message whose processing died half-way (still `processing` after `stale_after`) is
    processed again by the next delivery, so a crash never loses it. A new claim carries, read
    by the same statement, whether `phone` opted out and (with `desk_channel`) the id of its
    open desk chat: issue 16, one round trip where there were three transactions.
    """
    claim = _claim_statement(uow.dialect_name, desk_channel)
    rows = await uow.run_alone(claim, {"sid": message_sid, "the_phone": phone, "now": now})
    if rows:
        return _claimed(rows[0], desk_channel)
    # A delivery of an id already claimed: rare (Twilio's retries), so plain statements.
    found = await uow.run_alone(
        select(sms_inbound.c.state, sms_inbound.c.reply).where(
            sms_inbound.c.message_sid == message_sid
        )
    )
    if found and found[0].state == InboundState.DONE.value:
        return InboundClaim(new=False, reply=found[0].reply)
    retaken = await uow.run_alone(
        update(sms_inbound)
        .where(
            sms_inbound.c.message_sid == message_sid,
            sms_inbound.c.state == InboundState.PROCESSING.value,
            sms_inbound.c.received_at < now - stale_after,
        )
        .values(received_at=now)
        .returning(*_facts(desk_channel)),
        {"the_phone": phone},
    )
    if retaken:
        return _claimed(retaken[0], desk_channel)
    return InboundClaim(new=False)


async def finish_inbound(uow: UnitOfWork, message_sid: str, *, reply: str | None) -> None:
    """The message was handled: its reply, for the duplicates (one statement, on its own)."""
    await uow.run_alone(_FINISH, {"sid": message_sid, "the_reply": reply})


async def abandon_inbound(uow: UnitOfWork, message_sid: str) -> None:
    """Processing failed: forget the id, so that the gateway's retry is processed."""
    await uow.run_alone(
        delete(sms_inbound).where(
            sms_inbound.c.message_sid == message_sid,
            sms_inbound.c.state == InboundState.PROCESSING.value,
        )
    )


async def forget_inbound(uow: UnitOfWork, *, before: dt.datetime) -> int:
    """Drop the ids and replies of messages received before `before` (a retry comes within
    minutes; the replies may name appointments, so they are not kept longer than needed)."""
    async with uow:
        result = await uow.session.execute(
            delete(sms_inbound).where(sms_inbound.c.received_at < before)
        )
        await uow.commit()
        return _rowcount(result)
