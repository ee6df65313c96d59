"""Appointment reminders at their edges, with a fixed clock (issue 11): the day before at
18:00 and 2 h before (clinic time); none when booked less than 2 h ahead or cancelled; moved:
the old ones dropped; nothing non-urgent between 22:00 and 08:00 (it waits until 08:00).
Answerable on Telegram: Confirm, or Cancel into the normal confirmed cancellation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage

from backend.bootstrap import Backend
from backend.domain.statuses import Actor, ApplicationStatus
from backend.ports import FixedClock
from backend.services import applications, booking, notifications
from backend.services.notifications import (
    Kind,
    NotificationStatus,
    ReminderKind,
    ReminderStatus,
    not_before,
)
from bot.notify.scheduler import Scheduler
from bot.notify.workers import TelegramWorker
from bot.runtime import Runtime
from bot.telegram.notifications import AiogramSender, Notice
from tests.backend.world import World
from tests.dialogs.harness import RecordingSender
from tests.notify.sim import SimClock
from tests.telegram.harness import TelegramChat, make_chat, sign_in

ALMATY = ZoneInfo("Asia/Almaty")
MONDAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ALMATY)


async def _book(backend: Backend, world: World, clock: FixedClock, slot: int = 0) -> int:
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[slot].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    return view.appointment_id


async def _plan(backend: Backend, appointment_id: int) -> list[tuple[ReminderKind, dt.datetime]]:
    return [
        (r.kind, r.due_at.astimezone(ALMATY))
        for r in await notifications.reminders_of(backend.uow(), appointment_id)
        if r.status is ReminderStatus.PENDING
    ]


async def _reminders_sent(backend: Backend, world: World) -> list[notifications.Notification]:
    return [
        n
        for n in await notifications.of_patient(backend.uow(), world.alice.id or 0)
        if n.kind is Kind.REMINDER
    ]


async def test_booked_the_day_before_gets_both_reminders(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    assert world.slots_a[0].starts_at == at(TUESDAY, 9)
    appointment = await _book(backend, world, clock)
    assert await _plan(backend, appointment) == [
        (ReminderKind.DAY_BEFORE, at(MONDAY, 18)),
        (ReminderKind.TWO_HOURS, at(TUESDAY, 7)),
    ]


async def test_the_eve_reminder_goes_at_18_not_before(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    await _book(backend, world, clock)
    scheduler = Scheduler(backend)
    clock.current = at(MONDAY, 17, 59)
    assert (await scheduler.run_once()).reminders == 0
    clock.current = at(MONDAY, 18)
    assert (await scheduler.run_once()).reminders == 1
    [sent] = await _reminders_sent(backend, world)
    assert sent.next_attempt_at == at(MONDAY, 18)  # not in the quiet hours: at once
    assert sent.params["reminder"] == "day_before"
    assert (await scheduler.run_once()).reminders == 0  # once


async def test_the_2h_reminder_in_the_quiet_hours_waits_until_8(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    await _book(backend, world, clock)
    scheduler = Scheduler(backend)
    clock.current = at(TUESDAY, 7)  # 09:00 − 2 h: quiet hours until 08:00
    await scheduler.run_once()
    early = [
        n for n in await _reminders_sent(backend, world) if n.params["reminder"] == "two_hours"
    ]
    assert [n.next_attempt_at for n in early] == [at(TUESDAY, 8)]


def test_quiet_hours_edges() -> None:
    assert not_before(at(MONDAY, 21, 59), ALMATY, urgent=False) == at(MONDAY, 21, 59)
    assert not_before(at(MONDAY, 22), ALMATY, urgent=False) == at(TUESDAY, 8)
    assert not_before(at(TUESDAY, 3), ALMATY, urgent=False) == at(TUESDAY, 8)
    assert not_before(at(TUESDAY, 7, 59), ALMATY, urgent=False) == at(TUESDAY, 8)
    assert not_before(at(TUESDAY, 8), ALMATY, urgent=False) == at(TUESDAY, 8)
    assert not_before(at(MONDAY, 23), ALMATY, urgent=True) == at(MONDAY, 23)  # codes: never wait


async def test_a_status_change_at_night_waits_until_8(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[3].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    clock.current = at(MONDAY, 23, 30)
    await applications.change_status(
        backend.uow(),
        view.application_number,
        ApplicationStatus.IN_PROGRESS,
        actor=Actor.CLINIC,
        now=clock.now(),
    )
    [note] = [
        n
        for n in await notifications.of_patient(backend.uow(), world.alice.id or 0)
        if n.kind is Kind.STATUS
    ]
    assert note.next_attempt_at == at(TUESDAY, 8)


async def test_booked_after_18_the_day_before_gets_only_the_2h_reminder(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    clock.current = at(MONDAY, 19)
    appointment = await _book(backend, world, clock)
    assert await _plan(backend, appointment) == [(ReminderKind.TWO_HOURS, at(TUESDAY, 7))]


@pytest.mark.parametrize(("hour", "minute"), [(7, 1), (8, 30)])
async def test_booked_less_than_2h_ahead_gets_no_reminder(
    backend: Backend, world: World, clock: FixedClock, hour: int, minute: int
) -> None:
    clock.current = at(TUESDAY, hour, minute)  # the 09:00 slot is < 2 h ahead
    appointment = await _book(backend, world, clock)
    assert await _plan(backend, appointment) == []


async def test_exactly_2h_ahead_still_gets_none_already_due(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    clock.current = at(TUESDAY, 7)  # the 2-h reminder would be due this very moment
    appointment = await _book(backend, world, clock)
    assert await _plan(backend, appointment) == []


async def test_a_cancelled_appointment_is_not_reminded(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    appointment = await _book(backend, world, clock)
    await booking.cancel(backend.uow(), world.alice.id or 0, appointment, now=clock.now())
    assert await _plan(backend, appointment) == []
    clock.current = at(TUESDAY, 8)
    await Scheduler(backend).run_once()
    assert await _reminders_sent(backend, world) == []


async def test_cancelled_by_the_clinic_is_not_reminded_either(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    await applications.change_status(
        backend.uow(),
        view.application_number,
        ApplicationStatus.CANCELLED,
        actor=Actor.CLINIC,
        now=clock.now(),
    )
    assert await _plan(backend, view.appointment_id) == []


async def test_a_moved_appointment_drops_the_old_reminders(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    old = await _book(backend, world, clock, slot=0)
    moved = await booking.reschedule(
        backend.uow(), world.alice.id or 0, old, world.slots_a[2].id or 0, now=clock.now()
    )
    assert await _plan(backend, old) == []
    new_start = world.slots_a[2].starts_at.astimezone(ALMATY)
    assert await _plan(backend, moved.appointment_id) == [
        (ReminderKind.DAY_BEFORE, at(MONDAY, 18)),
        (ReminderKind.TWO_HOURS, new_start - dt.timedelta(hours=2)),
    ]
    clock.current = at(MONDAY, 18)
    await Scheduler(backend).run_once()
    [sent] = await _reminders_sent(backend, world)
    assert dt.datetime.fromisoformat(sent.params["when"]) == new_start


async def test_staff_moving_an_appointment_tells_the_patient(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    old = await _book(backend, world, clock, slot=0)
    await booking.reschedule(
        backend.uow(),
        world.alice.id or 0,
        old,
        world.slots_a[2].id or 0,
        now=clock.now(),
        actor=Actor.OPERATOR,
    )
    kinds = [n.kind for n in await notifications.of_patient(backend.uow(), world.alice.id or 0)]
    assert kinds == [Kind.MOVED]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_reminder_is_answered_on_telegram(
    runtime: Runtime, sms: RecordingSender, backend: Backend, world: World, clock: FixedClock
) -> None:
    tg: TelegramChat = make_chat(runtime, language_code="ru")
    await sign_in(tg, sms.last_code, world.alice.iin)
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    clock.current = at(MONDAY, 18)
    await Scheduler(backend).run_once()
    sim = SimClock(clock.now())
    worker = TelegramWorker(
        backend,
        AiogramSender(tg.bot),
        runtime.translator,
        monotonic=sim.monotonic,
        sleep=sim.sleep,
    )
    mark = len(tg.session.calls)
    assert await worker.drain() == 1
    [reminder] = tg.session.of(SendMessage, since=mark)
    assert view.application_number in (reminder.text or "")
    assert "09:00" in (reminder.text or "")
    buttons = {
        Notice.unpack(b.callback_data).act: b.callback_data
        for row in reminder.reply_markup.inline_keyboard
        for b in row
        if b.callback_data
    }
    assert list(buttons) == ["ok", "cancel"]

    await tg.press(buttons["ok"])  # Confirm: a short thank-you, nothing else changes
    [answer] = tg.session.of(AnswerCallbackQuery, since=tg.mark)
    assert answer.show_alert is True
    assert answer.text == runtime.translator.gettext("ru", "Thank you! We are expecting you.")
    [confirmed] = [
        r
        for r in await notifications.reminders_of(backend.uow(), view.appointment_id)
        if r.kind is ReminderKind.DAY_BEFORE
    ]
    assert confirmed.status is ReminderStatus.QUEUED

    await tg.press(buttons["cancel"])  # Cancel: the normal yes / no confirmation first
    assert await tg.state() == "appts.cancel"
    assert await booking.upcoming_appointments(backend.uow(), world.alice.id or 0, now=clock.now())
    await tg.tap("yes")
    assert (
        await booking.upcoming_appointments(backend.uow(), world.alice.id or 0, now=clock.now())
        == []
    )
    # The 2-h reminder of the cancelled appointment never goes out.
    clock.current = at(TUESDAY, 8)
    await Scheduler(backend).run_once()
    assert [n.status for n in await _reminders_sent(backend, world)] == [NotificationStatus.SENT]
