"""Durable, honest delivery (issue 11): 429 waits `retry_after`, 403 marks the chat blocked
and falls back to SMS, a dead chat fails visibly, a temporary error is retried; the limiter
keeps 1 message/s per chat and 30/s overall. Telegram is the stub bot session."""

from __future__ import annotations

import datetime as dt

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import SendMessage
from sqlalchemy import update

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.statuses import Actor, ApplicationStatus
from backend.ports import FixedClock
from backend.services import applications, booking, notifications, outbox, patients
from backend.services.notifications import NotificationStatus
from bench.notify import check_limits
from bot.notify.limits import RateLimiter
from bot.notify.workers import SmsNotificationWorker, TelegramWorker
from bot.runtime import Runtime
from bot.telegram.notifications import AiogramSender
from tests.backend.world import World
from tests.notify.sim import SimClock
from tests.telegram.harness import RecordingSession, make_bot

CHAT = "555000111"
METHOD = SendMessage(chat_id=int(CHAT), text="x")


async def _completed_by_clinic(backend: Backend, world: World, clock: FixedClock) -> str:
    """Alice (reached on Telegram) has an appointment the clinic takes into work."""
    patient_id = world.alice.id or 0
    await patients.remember_channel(
        backend.uow(), patient_id, "telegram", CHAT, "ru", now=clock.now()
    )
    view = await booking.book(
        backend.uow(), patient_id, world.slots_a[0].id or 0, now=clock.now(), policy=backend.policy
    )
    await applications.change_status(
        backend.uow(),
        view.application_number,
        ApplicationStatus.IN_PROGRESS,
        actor=Actor.CLINIC,
        now=clock.now(),
    )
    return view.application_number


def _worker(runtime: Runtime, session: RecordingSession, clock: FixedClock) -> TelegramWorker:
    sim = SimClock(clock.now())
    return TelegramWorker(
        runtime.backend,
        AiogramSender(make_bot(session)),
        runtime.translator,
        monotonic=sim.monotonic,
        sleep=sim.sleep,
    )


async def test_429_waits_retry_after_then_sends(
    runtime: Runtime, backend: Backend, world: World, clock: FixedClock
) -> None:
    await _completed_by_clinic(backend, world, clock)
    session = RecordingSession()
    session.fail[SendMessage] = TelegramRetryAfter(METHOD, "Too Many Requests", retry_after=7)
    worker = _worker(runtime, session, clock)

    assert await worker.drain() == 1  # tried once, told to wait
    [note] = await notifications.of_patient(backend.uow(), world.alice.id or 0)
    assert note.status is NotificationStatus.QUEUED
    assert note.next_attempt_at == clock.now() + dt.timedelta(seconds=7)
    clock.advance(dt.timedelta(seconds=6))
    assert await worker.drain() == 0  # not before retry_after
    clock.advance(dt.timedelta(seconds=1))
    assert await worker.drain() == 1
    [note] = await notifications.of_patient(backend.uow(), world.alice.id or 0)
    assert note.status is NotificationStatus.SENT
    assert len(session.of(SendMessage)) == 2  # the refused try and the delivery


async def test_403_blocks_the_chat_and_falls_back_to_sms(
    runtime: Runtime, backend: Backend, world: World, clock: FixedClock
) -> None:
    number = await _completed_by_clinic(backend, world, clock)
    session = RecordingSession()
    session.fail[SendMessage] = TelegramForbiddenError(METHOD, "bot was blocked by the user")
    assert await _worker(runtime, session, clock).drain() == 1

    blocked, by_sms = await notifications.of_patient(backend.uow(), world.alice.id or 0)
    assert blocked.status is NotificationStatus.REROUTED
    assert (by_sms.channel, by_sms.address) == ("sms", world.alice.phone)
    # The blocked chat is no longer where she is reached: later notifications go by SMS.
    async with backend.uow() as uow:
        now_reached = await notifications.address_of(uow.session, world.alice.id or 0)
    assert now_reached is not None
    assert (now_reached.channel, now_reached.address) == ("sms", world.alice.phone)
    sms_worker = SmsNotificationWorker(backend, runtime.translator)
    assert await sms_worker.drain() == 1
    [sms] = await outbox.messages_to(backend.uow(), world.alice.phone or "")
    assert number in (sms.body or "")
    assert "1414" in (sms.body or "")
    assert "Мои заявки" in (sms.body or "")  # Russian, the language of her Telegram sign-in
    assert [
        n.status for n in await notifications.of_patient(backend.uow(), world.alice.id or 0)
    ] == [
        NotificationStatus.REROUTED,
        NotificationStatus.SENT,
    ]


async def test_a_blocked_patient_without_a_phone_is_a_visible_failure(
    runtime: Runtime, backend: Backend, world: World, clock: FixedClock
) -> None:
    dave = world.dave
    async with backend.uow() as uow:  # a patient with no registered phone
        await uow.session.execute(
            update(orm.patients).where(orm.patients.c.id == dave.id).values(phone=None)
        )
        await uow.commit()
    await patients.remember_channel(
        backend.uow(), dave.id or 0, "telegram", CHAT, "kk", now=clock.now()
    )
    async with backend.uow() as uow:
        await notifications.add(
            uow.session,
            patient_id=dave.id or 0,
            kind=notifications.Kind.DEADLINE,
            params={"number": "AAAA-BBBB", "service": "certificate_027"},
            now=clock.now(),
            application_number="AAAA-BBBB",
        )
        await uow.commit()
    session = RecordingSession()
    session.fail[SendMessage] = TelegramForbiddenError(METHOD, "bot was blocked by the user")
    await _worker(runtime, session, clock).drain()
    [note] = await notifications.problems(backend.uow())
    assert note.status is NotificationStatus.FAILED
    assert note.error == "blocked_by_user, no phone"


async def test_a_chat_that_does_not_exist_fails_for_the_operators(
    runtime: Runtime, backend: Backend, world: World, clock: FixedClock
) -> None:
    await _completed_by_clinic(backend, world, clock)
    session = RecordingSession()
    session.fail[SendMessage] = TelegramBadRequest(METHOD, "Bad Request: chat not found")
    await _worker(runtime, session, clock).drain()
    [failed] = await notifications.problems(backend.uow())
    assert "chat not found" in (failed.error or "")


async def test_a_network_error_is_retried_with_back_off(
    runtime: Runtime, backend: Backend, world: World, clock: FixedClock
) -> None:
    await _completed_by_clinic(backend, world, clock)
    session = RecordingSession()
    session.fail[SendMessage] = OSError("connection reset")
    worker = _worker(runtime, session, clock)
    await worker.drain()
    [note] = await notifications.of_patient(backend.uow(), world.alice.id or 0)
    assert note.status is NotificationStatus.QUEUED
    assert note.next_attempt_at == clock.now() + worker.backoff(1)
    clock.advance(worker.backoff(1))
    assert await worker.drain() == 1
    [note] = await notifications.of_patient(backend.uow(), world.alice.id or 0)
    assert note.status is NotificationStatus.SENT


async def test_two_workers_never_claim_the_same_notification(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    await _completed_by_clinic(backend, world, clock)
    lease = dt.timedelta(seconds=60)
    first = await notifications.claim(
        backend.uow(), channel="telegram", now=clock.now(), lease=lease
    )
    second = await notifications.claim(
        backend.uow(), channel="telegram", now=clock.now(), lease=lease
    )
    assert len(first) == 1
    assert second == []
    # A worker that died: the lease runs out and another takes it (at least once).
    clock.advance(lease + dt.timedelta(seconds=1))
    again = await notifications.claim(
        backend.uow(), channel="telegram", now=clock.now(), lease=lease
    )
    assert [n.id for n in again] == [first[0].id]
    assert again[0].attempts == 2


def test_the_limiter_spaces_one_chat_and_caps_the_total() -> None:
    limiter = RateLimiter(per_second=30, chat_interval=1.0)
    assert limiter.try_acquire("a", 0.0) == 0
    assert limiter.try_acquire("a", 0.5) == pytest.approx(0.5)  # one chat: 1 message/s
    for i in range(29):
        assert limiter.try_acquire(f"c{i}", 0.5) == 0
    assert limiter.try_acquire("z", 0.6) == pytest.approx(0.4)  # 30 in the last second
    assert limiter.try_acquire("z", 1.0) == 0
    limiter.pause(1.0, 5.0)  # a 429 with retry_after=5
    assert limiter.delay("new", 2.0) == pytest.approx(4.0)


def test_the_limit_check_of_the_simulated_test_catches_violations() -> None:
    """bench.notify.check_limits, used by the 10,000-reminder test, is not vacuous."""
    ok = [(f"c{i}", i / 30, "", (), str(i)) for i in range(90)]
    check_limits(ok)
    with pytest.raises(AssertionError, match="within"):
        check_limits([(f"c{i}", i / 31, "", (), str(i)) for i in range(90)])
    with pytest.raises(AssertionError, match="between two messages"):
        check_limits([("same", 0.0, "", (), "a"), ("same", 0.9, "", (), "b")])
