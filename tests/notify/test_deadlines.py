"""A deadline that passes without a result is told to the patient once, naming 1414, and the
application is listed for the clinic as overdue (R-16); a 027/е carried over to the next
working day is registered by the system when the clinic opens (R-13)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from backend.bootstrap import Backend
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications, booking, certificates, notifications, patients
from backend.services.notifications import Kind
from bot.notify.render import render_sms, render_telegram
from bot.notify.scheduler import Scheduler
from tests.backend.world import World
from tests.dialogs.harness import TRANSLATOR

ALMATY = ZoneInfo("Asia/Almaty")
MONDAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ALMATY)


async def _told(backend: Backend, world: World, kind: Kind) -> list[notifications.Notification]:
    return [
        n
        for n in await notifications.of_patient(backend.uow(), world.alice.id or 0)
        if n.kind is kind
    ]


async def test_a_passed_deadline_is_told_once_with_1414_and_listed_for_the_clinic(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    await patients.remember_channel(
        backend.uow(), world.alice.id or 0, "telegram", "1001", "ru", now=clock.now()
    )
    app = await certificates.request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.CERTIFICATE_027, now=clock.now()
    )
    assert app.deadline == at(MONDAY, 10, 30)  # ≤ 30 min (S5 row 3)
    scheduler = Scheduler(backend)

    clock.current = at(MONDAY, 10, 30)  # not yet passed
    assert (await scheduler.run_once()).deadlines == 0
    assert await notifications.overdue(backend.uow(), now=clock.now()) == []

    clock.current = at(MONDAY, 10, 31)
    assert (await scheduler.run_once()).deadlines == 1
    [overdue] = await notifications.overdue(
        backend.uow(), now=clock.now(), clinic_id=world.clinic_a.id
    )
    assert overdue.number == app.number
    assert (
        await notifications.overdue(backend.uow(), now=clock.now(), clinic_id=world.clinic_b.id)
        == []
    )

    clock.current = at(MONDAY, 12)
    assert (await scheduler.run_once()).deadlines == 0  # once only
    [told] = await _told(backend, world, Kind.DEADLINE)
    claimed = await notifications.claim(
        backend.uow(), channel="telegram", now=clock.now(), lease=dt.timedelta(seconds=60)
    )
    [deadline] = [n for n in claimed if n.id == told.id]
    telegram = render_telegram(deadline, TRANSLATOR)
    assert app.number in telegram.text
    assert "1414" in telegram.text
    assert "Срок" in telegram.text  # Russian, as she signed in
    sms = render_sms(deadline, TRANSLATOR)
    assert "1414" in sms
    assert app.number in sms

    # Completed: no longer overdue.
    await applications.change_status(
        backend.uow(), app.number, ApplicationStatus.COMPLETED, actor=Actor.CLINIC, now=clock.now()
    )
    assert await notifications.overdue(backend.uow(), now=clock.now()) == []


async def test_a_booked_appointment_has_had_its_response(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    clock.current = at(MONDAY, 18)
    assert (await Scheduler(backend).run_once()).deadlines == 0
    assert await notifications.overdue(backend.uow(), now=clock.now()) == []


async def test_next_working_day_becomes_registered_when_the_clinic_opens(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    clock.current = at(MONDAY, 21)  # after hours (S5 row 7): the next working day
    app = await certificates.request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.CERTIFICATE_027, now=clock.now()
    )
    assert app.status is ApplicationStatus.NEXT_WORKING_DAY
    scheduler = Scheduler(backend)

    clock.current = at(TUESDAY, 7, 59)
    assert (await scheduler.run_once()).registered == 0
    clock.current = at(TUESDAY, 8)  # the clinic opens on the processing day
    assert (await scheduler.run_once()).registered == 1
    details = await applications.application_details(
        backend.uow(), world.alice.id or 0, app.number
    )
    assert details.summary.status is ApplicationStatus.REGISTERED
    last = details.history[-1]
    assert (last.from_status, last.to_status, last.actor) == (
        ApplicationStatus.NEXT_WORKING_DAY,
        ApplicationStatus.REGISTERED,
        Actor.SYSTEM,
    )
    [told] = await _told(backend, world, Kind.STATUS)  # a change not made by her: told
    assert told.params["status"] == "registered"
    assert (await scheduler.run_once()).registered == 0


async def test_carried_over_on_friday_night_is_registered_at_saturdays_opening(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    friday = dt.date(2026, 11, 27)
    saturday = dt.date(2026, 11, 28)  # PHC Saturday hours 09:00-14:00 (S3/S4 row 7, R-12)
    clock.current = at(friday, 21)
    app = await certificates.request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.CERTIFICATE_027, now=clock.now()
    )
    assert app.status is ApplicationStatus.NEXT_WORKING_DAY
    scheduler = Scheduler(backend)
    clock.current = at(saturday, 8, 59)
    assert (await scheduler.run_once()).registered == 0
    clock.current = at(saturday, 9)
    assert (await scheduler.run_once()).registered == 1
