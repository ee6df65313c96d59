"""Weekly templates become slots only when and where the clinic is open."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.calendar import ClinicCalendar, HolidayCalendar, WeeklySchedule
from backend.domain.model import Clinic, Doctor, Patient, Slot, Specialty
from backend.ports import FixedClock
from backend.services import booking
from backend.services.importer import import_path
from backend.services.schedules import (
    ScheduleTemplate,
    materialise_slots,
    save_templates,
    stored_templates,
    top_up_slots,
)
from tests.backend import _db

ALMATY = ZoneInfo("Asia/Almaty")
MONDAY = dt.date(2026, 5, 25)  # Wed 27 May 2026 is Құрбан айт
PILOT_JSON = Path(__file__).parent.parent / "fixtures" / "import" / "pilot.json"
MOTHER = "820412420011"  # attached to KOSSHY-CP in the pilot
H = dt.time


def week(
    code: str, start: dt.time, end: dt.time, days: range = range(7)
) -> list[ScheduleTemplate]:
    return [ScheduleTemplate(code, d, start, end, 20, "") for d in days]


async def seed(backend: Backend) -> None:
    async with backend.uow() as uow:
        spec = Specialty(code="therapist", name_kk="Терапевт", name_ru="Терапевт", name_en="T")
        clinic = Clinic(code="C1", name_kk="k", name_ru="r", name_en="e", address="Астана")
        uow.session.add_all([spec, clinic])
        await uow.session.flush()
        assert clinic.id is not None and spec.id is not None
        uow.session.add_all(
            Doctor(code=code, clinic_id=clinic.id, specialty_id=spec.id, surname="А",
                   given_name="Б", room="7")
            for code in ("D1", "D2")
        )  # fmt: skip
        await uow.commit()


async def all_slots(backend: Backend) -> list[Slot]:
    async with backend.uow() as uow:
        stmt = select(Slot).order_by(orm.slots.c.starts_at)
        return list((await uow.session.execute(stmt)).scalars())


def test_template_validation() -> None:
    with pytest.raises(ValueError, match="weekday"):
        ScheduleTemplate("D", 7, H(8), H(9))
    with pytest.raises(ValueError, match="start before"):
        ScheduleTemplate("D", 0, H(9), H(9))
    with pytest.raises(ValueError, match="slot minutes"):
        ScheduleTemplate("D", 0, H(8), H(9), 0)


def test_periods_are_cut_to_opening_hours() -> None:
    calendar = ClinicCalendar(WeeklySchedule.standard(), ALMATY, HolidayCalendar())
    late = ScheduleTemplate("D", 0, H(18), H(21), 30)
    assert late.periods_on(MONDAY, calendar) == [
        (H(18), H(18, 30)), (H(18, 30), H(19)), (H(19), H(19, 30)), (H(19, 30), H(20)),
    ]  # fmt: skip
    saturday = ScheduleTemplate("D", 5, H(8), H(15), 60)
    assert saturday.periods_on(dt.date(2026, 5, 30), calendar) == [
        (H(h), H(h + 1)) for h in range(9, 14)
    ]
    # the last period does not run past the template's end
    assert ScheduleTemplate("D", 0, H(8), H(9, 10), 20).periods_on(MONDAY, calendar)[-1] == (
        H(8, 40), H(9),
    )  # fmt: skip
    assert late.periods_on(dt.date(2026, 5, 31), calendar) == []  # Sunday


async def test_materialise_respects_calendar_and_zone(backend: Backend) -> None:
    await seed(backend)
    async with backend.uow() as uow:
        created = await materialise_slots(uow, week("D1", H(7), H(21)), MONDAY, 14)
        await uow.commit()
    slots = await all_slots(backend)
    assert created == len(slots) > 0
    local = [(s.starts_at.astimezone(ALMATY), s.ends_at.astimezone(ALMATY)) for s in slots]
    days = {start.date() for start, _ in local}
    assert dt.date(2026, 5, 27) not in days  # Құрбан айт
    assert all(d.weekday() != 6 for d in days)  # Sundays closed
    assert len(days) == 14 - 2 - 1
    for start, end in local:
        hours = WeeklySchedule.standard().hours_on(start.weekday())
        assert hours is not None
        assert hours.opens <= start.time() and end.time() <= hours.closes
        assert end - start == dt.timedelta(minutes=20)
    per_weekday = 12 * 3  # 08:00-20:00
    per_saturday = 5 * 3  # 09:00-14:00
    assert created == 9 * per_weekday + 2 * per_saturday
    assert all(s.room == "7" for s in slots)  # the doctor's room when the template has none
    assert all(s.starts_at.tzinfo is not None for s in slots)


async def test_materialise_is_idempotent_and_tops_up(backend: Backend) -> None:
    await seed(backend)
    templates = week("D1", H(8), H(10), range(5))
    async with backend.uow() as uow:
        first = await materialise_slots(uow, templates, MONDAY, 7)
        await uow.commit()
    async with backend.uow() as uow:
        again = await materialise_slots(uow, templates, MONDAY, 7)
        more = await materialise_slots(uow, templates, MONDAY, 14)
        await uow.commit()
    assert first == 4 * 6  # Mon, Tue, Thu, Fri (Wed is a holiday)
    assert again == 0
    assert more == 5 * 6
    assert len(await all_slots(backend)) == first + more


async def test_calendar_days_close_and_open_days(backend: Backend) -> None:
    await seed(backend)
    tuesday, saturday = dt.date(2026, 5, 26), dt.date(2026, 5, 30)
    async with backend.uow() as uow:
        await uow.session.execute(
            orm.calendar_days.insert(),
            [{"day": tuesday, "kind": "day_off", "note": "transfer"},
             {"day": saturday, "kind": "working", "note": "transfer"}],
        )  # fmt: skip
        await uow.commit()
    templates = [
        ScheduleTemplate("D1", 0, H(8), H(12), 60, "1"),  # Monday schedule, worked on Sat 30
        ScheduleTemplate("D1", 1, H(8), H(12), 60, "1"),
        ScheduleTemplate("D1", 5, H(9), H(11), 60, "1"),  # ordinary Saturdays only
    ]
    async with backend.uow() as uow:
        await materialise_slots(uow, templates, MONDAY, 7)
        await uow.commit()
    by_day: dict[dt.date, list[dt.time]] = {}
    for slot in await all_slots(backend):
        local = slot.starts_at.astimezone(ALMATY)
        by_day.setdefault(local.date(), []).append(local.time())
    assert sorted(by_day) == [MONDAY, saturday]
    assert by_day[saturday] == [H(8), H(9), H(10), H(11)]


async def test_unknown_doctor(backend: Backend) -> None:
    async with backend.uow() as uow:
        with pytest.raises(LookupError, match="NOPE"):
            await materialise_slots(uow, week("NOPE", H(8), H(9)), MONDAY, 1)


# --- stored templates and the daily top-up ----------------------------------------------------


async def stored(backend: Backend) -> list[ScheduleTemplate]:
    async with backend.uow() as uow:
        return await stored_templates(uow)


async def test_saving_replaces_each_named_doctors_schedule(backend: Backend) -> None:
    await seed(backend)
    d1 = week("D1", H(8), H(14), range(2))
    d2 = [ScheduleTemplate("D2", 2, H(14), H(20), 30, "9")]
    async with backend.uow() as uow:
        assert await save_templates(uow, d1 + d2) == 2
        await uow.commit()
    assert await stored(backend) == d1 + d2

    new_d1 = [ScheduleTemplate("D1", 4, H(9), H(12), 15, "3"), d1[0]]
    async with backend.uow() as uow:
        assert await save_templates(uow, new_d1) == 1  # D2 is not named: it keeps its rows
        assert await save_templates(uow, new_d1) == 0  # the same again: nothing to write
        await uow.commit()
    assert await stored(backend) == [d1[0], new_d1[0], *d2]


async def test_saving_refuses_bad_templates_and_writes_nothing(backend: Backend) -> None:
    await seed(backend)
    async with backend.uow() as uow:
        with pytest.raises(LookupError, match="NOPE"):
            await save_templates(uow, week("D1", H(8), H(9)) + week("NOPE", H(8), H(9)))
        with pytest.raises(ValueError, match="D1"):
            await save_templates(uow, week("D1", H(8), H(9)) + week("D1", H(8), H(10)))
    assert await stored(backend) == []


async def test_top_up_with_nothing_stored_creates_nothing(
    backend: Backend, clock: FixedClock
) -> None:
    await seed(backend)
    async with backend.uow() as uow:
        assert await top_up_slots(uow, now=clock.now(), days=14) == 0
    assert await all_slots(backend) == []


async def slot_rows(backend: Backend) -> set[tuple[Any, ...]]:
    """Every slot as (doctor code, start, end, room), comparable across databases."""
    async with backend.uow() as uow:
        stmt = select(
            orm.doctors.c.code, orm.slots.c.starts_at, orm.slots.c.ends_at, orm.slots.c.room
        ).join(orm.doctors, orm.doctors.c.id == orm.slots.c.doctor_id)
        return {tuple(r) for r in await uow.session.execute(stmt)}


async def test_top_up_a_week_later_adds_exactly_the_new_days(
    backend: Backend, clock: FixedClock, tmp_path: Path
) -> None:
    clock.current = dt.datetime(2026, 12, 2, 10, 0, tzinfo=ALMATY)  # a Wednesday
    await import_path(backend, PILOT_JSON, days_ahead=14)  # 2 .. 15 December
    async with backend.uow() as uow:
        patient = (
            await uow.session.execute(select(Patient).where(orm.patients.c.iin == MOTHER))
        ).scalar_one()
        # The therapist's: the paediatrician (KOS-P1) does not see adults (issue 10).
        therapist = select(orm.doctors.c.id).where(orm.doctors.c.code == "KOS-T1")
        stmt = (
            select(Slot)
            .where(orm.slots.c.doctor_id == therapist.scalar_subquery())
            .order_by(orm.slots.c.starts_at)
        )
        slot = (await uow.session.execute(stmt)).scalars()
        first = next(s for s in slot if s.starts_at > clock.now())
        assert patient.id is not None and first.id is not None
    async with backend.uow() as uow:
        booked = await booking.book(
            uow, patient.id, first.id, now=clock.now(), policy=backend.policy
        )
    before = await slot_rows(backend)
    async with backend.uow() as uow:
        appointments_before = (await uow.session.execute(select(orm.appointments))).all()

    clock.advance(dt.timedelta(days=7))  # 9 December: the window is now 9 .. 22 December
    async with backend.uow() as uow:
        created = await top_up_slots(uow, now=clock.now(), days=14)
    async with backend.uow() as uow:
        again = await top_up_slots(uow, now=clock.now(), days=14)

    after = await slot_rows(backend)
    new = after - before
    assert before <= after  # nothing removed or changed, the booked slot included
    assert created == len(new) > 0
    assert again == 0
    days = {starts.astimezone(ALMATY).date() for _code, starts, _end, _room in new}
    # 16 Dec is Independence Day, 20 Dec a Sunday: closed; 19 Dec (Sat) is a working day in
    # the pilot's calendar. Only the days that came into the window get slots.
    assert days == {dt.date(2026, 12, d) for d in (17, 18, 19, 21, 22)}
    # exactly what an import of the same schedule would make for those seven days
    reference = await _db.fresh_sqlite(tmp_path / "reference.db")
    try:
        await import_path(reference, PILOT_JSON, days_ahead=7, today=dt.date(2026, 12, 16))
        assert new == await slot_rows(reference)
    finally:
        await reference.close()
    async with backend.uow() as uow:
        assert (await uow.session.execute(select(orm.appointments))).all() == appointments_before
        still = await uow.session.get(Slot, first.id)
    assert still is not None and still.starts_at == booked.starts_at


async def test_top_up_uses_each_clinics_local_date(backend: Backend) -> None:
    """At 20:00 UTC it is already tomorrow in Almaty (UTC+5): the window starts there."""
    await seed(backend)
    async with backend.uow() as uow:
        await save_templates(uow, week("D1", H(8), H(10), range(5)))
        await uow.commit()
    sunday_evening_utc = dt.datetime(2026, 5, 24, 20, 0, tzinfo=dt.UTC)  # Monday 01:00 in Almaty
    async with backend.uow() as uow:
        created = await top_up_slots(uow, now=sunday_evening_utc, days=1)
    slots = await all_slots(backend)
    assert created == len(slots) == 6
    assert {s.starts_at.astimezone(ALMATY).date() for s in slots} == {MONDAY}


async def test_two_top_ups_at_once_make_each_slot_once(
    backend: Backend, clock: FixedClock
) -> None:
    """Two servers topping up at the same moment: no error, no slot twice, every slot counted
    by exactly one of them."""
    clock.current = dt.datetime(2026, 12, 2, 10, 0, tzinfo=ALMATY)
    await import_path(backend, PILOT_JSON, days_ahead=1)
    before = await slot_rows(backend)
    clock.advance(dt.timedelta(days=7))

    async def top_up() -> int:
        async with backend.uow() as uow:
            return await top_up_slots(uow, now=clock.now(), days=14)

    first, second = await asyncio.gather(top_up(), top_up())

    after = await slot_rows(backend)
    assert len(after) == len(await all_slots(backend))  # (doctor, start) never twice
    assert first + second == len(after - before) > 0
