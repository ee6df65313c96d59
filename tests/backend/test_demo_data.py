"""The demo city: complete, deterministic, idempotent, and bookable only when clinics are open."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.calendar import HolidayCalendar
from backend.domain.iin import Sex, is_valid_iin, parse_iin
from backend.domain.model import Audience, Clinic, Patient
from backend.domain.phone import is_kz_mobile
from backend.ports import FixedClock
from backend.services import booking, demo
from backend.services.demo import load_demo_data
from backend.services.home_visit import HomeVisitRequest, request_home_visit
from backend.services.schedules import (
    HOME_VISITS_PER_WINDOW,
    TemplateKind,
    overlapping,
    stored_templates,
    top_up_slots,
)
from tests.backend import _db

TODAY = dt.date(2026, 5, 25)  # a Monday; Wed 27 May 2026 is Құрбан айт
TABLES = (orm.specialties, orm.clinics, orm.doctors, orm.districts, orm.slots, orm.patients,
          orm.attachments)  # fmt: skip


async def counts(backend: Backend) -> dict[str, int]:
    async with backend.uow() as uow:
        return {
            t.name: int(
                (await uow.session.execute(select(func.count()).select_from(t))).scalar_one()
            )
            for t in TABLES
        }


async def rows(backend: Backend, table: Any) -> list[Any]:
    async with backend.uow() as uow:
        return list((await uow.session.execute(select(table))).all())


async def patients(backend: Backend) -> list[Patient]:
    async with backend.uow() as uow:
        stmt = select(Patient).order_by(orm.patients.c.iin)
        return list((await uow.session.execute(stmt)).scalars())


def test_city_is_pure_and_stable() -> None:
    first, second = demo._city(), demo._city()
    assert first == second
    featured = demo.featured_patients()
    # documented in docs/import.md: keep these stable
    assert [p.iin for p in featured] == [
        "900315410014", "850702310020", "951120310035", "780109310040", "600525410053",
        "190901510065", "150410610075",
    ]  # fmt: skip
    assert all(is_valid_iin(p.iin) for p in featured)
    assert [p.iin for p in first.patients[:5]] == [p.iin for p in featured[:5]]


async def test_demo_city_contents(backend: Backend) -> None:
    summary = await load_demo_data(backend, today=TODAY)
    assert summary.created
    n = await counts(backend)
    assert n["clinics"] == 3
    assert n["specialties"] >= 5
    assert n["doctors"] >= 20
    assert n["patients"] >= 50
    assert n["slots"] == summary.slots_created > 0
    assert (summary.clinics, summary.doctors, summary.patients) == (
        n["clinics"], n["doctors"], n["patients"],
    )  # fmt: skip

    async with backend.uow() as uow:
        clinics = list((await uow.session.execute(select(Clinic))).scalars())
    assert {c.tz_name for c in clinics} == {"Asia/Almaty"}
    assert all(c.name_kk and c.name_ru and c.name_en for c in clinics)

    specialty_of = {r.id: r.code for r in await rows(backend, orm.specialties)}
    doctor_specialty = {
        r.id: specialty_of[r.specialty_id] for r in await rows(backend, orm.doctors)
    }
    districts = await rows(backend, orm.districts)
    assert Counter(d.clinic_id for d in districts) == {c.id: 4 for c in clinics}
    for district in districts:
        assert doctor_specialty[district.doctor_id] in {"therapist", "gp", "pediatrician"}

    people = await patients(backend)
    assert all(is_valid_iin(p.iin) for p in people)
    assert len({p.iin for p in people}) == len(people)
    assert all(p.phone is None or is_kz_mobile(p.phone) for p in people)
    attachments = {r.patient_id: r for r in await rows(backend, orm.attachments)}
    by_id = {p.id: p for p in people}
    assert sum(1 for p in people if p.id not in attachments) >= 3
    adults_without_phone = [p for p in people if p.phone is None and p.age_on(TODAY) >= 18]
    assert [p.full_name for p in adults_without_phone] == ["Ким Елена Викторовна"]
    children = [p for p in people if p.age_on(TODAY) < 14]
    assert len(children) >= 3
    for child in children:
        assert child.representative_id is not None
        parent = by_id[child.representative_id]
        assert parent.age_on(TODAY) >= 18
        assert child.id in attachments
    district_of = {d.id: d for d in districts}
    for attachment in attachments.values():
        if attachment.district_id is not None:
            assert district_of[attachment.district_id].clinic_id == attachment.clinic_id
    assert {p.language for p in people} >= {"kk", "ru", "en"}

    featured = {p.iin: p for p in summary.featured}
    assert len(featured) >= 6
    for person in people:
        if person.iin in featured:
            assert person.phone == featured[person.iin].phone
    assert featured["780109310040"].phone is not None
    unattached = next(p for p in people if p.iin == "780109310040")
    assert unattached.id not in attachments
    text = str(summary)
    assert all(iin in text for iin in featured)


async def test_slots_follow_the_clinic_calendar(backend: Backend) -> None:
    await load_demo_data(backend, today=TODAY)
    async with backend.uow() as uow:
        clinics = {c.id: c for c in (await uow.session.execute(select(Clinic))).scalars()}
    clinic_of_doctor = {r.id: clinics[r.clinic_id] for r in await rows(backend, orm.doctors)}
    slots = await rows(backend, orm.slots)
    holidays = HolidayCalendar()
    window = [TODAY + dt.timedelta(days=i) for i in range(14)]
    open_days = {d for d in window if d.weekday() != 6 and not holidays.is_holiday(d)}
    assert dt.date(2026, 5, 27) not in open_days
    seen_days = set()
    for slot in slots:
        clinic = clinic_of_doctor[slot.doctor_id]
        start, end = slot.starts_at.astimezone(clinic.tz), slot.ends_at.astimezone(clinic.tz)
        hours = clinic.calendar(holidays).hours(start.date())
        assert hours is not None, start
        assert hours.opens <= start.time() < end.time() <= hours.closes
        assert end - start == dt.timedelta(minutes=20)
        seen_days.add(start.date())
    assert seen_days == open_days
    # morning and afternoon shifts on weekdays, short Saturdays
    tz = next(iter(clinics.values())).tz
    starts = {(s.starts_at.astimezone(tz).weekday() == 5, s.starts_at.astimezone(tz).time())
              for s in slots}  # fmt: skip
    assert {(False, dt.time(8)), (False, dt.time(19, 40)), (True, dt.time(9))} <= starts
    assert max(t for sat, t in starts if sat) == dt.time(13, 40)


async def test_demo_is_idempotent_and_tops_up(backend: Backend) -> None:
    await load_demo_data(backend, today=TODAY)
    before = await counts(backend)
    again = await load_demo_data(backend, today=TODAY)
    assert not again.created
    assert again.slots_created == 0
    assert await counts(backend) == before
    later = await load_demo_data(backend, today=TODAY + dt.timedelta(days=1))
    after = await counts(backend)
    assert later.slots_created > 0
    assert after == {**before, "slots": before["slots"] + later.slots_created}


async def test_demo_is_deterministic(backend: Backend, tmp_path: Path) -> None:
    other = await _db.fresh_sqlite(tmp_path / "other.db")
    try:
        await load_demo_data(backend, today=TODAY)
        await load_demo_data(other, today=dt.date(2027, 1, 4))

        def people(ps: list[Patient]) -> list[tuple[object, ...]]:
            return [(p.iin, p.phone, p.full_name, p.language, p.address) for p in ps]

        assert people(await patients(backend)) == people(await patients(other))
        doctors = [(r.code, r.surname, r.given_name) for r in await rows(backend, orm.doctors)]
        doctors_other = [(r.code, r.surname, r.given_name) for r in await rows(other, orm.doctors)]
        assert sorted(doctors) == sorted(doctors_other)
    finally:
        await other.close()


async def test_default_today_is_the_clinic_local_date(backend: Backend, clock: FixedClock) -> None:
    # 20:30 UTC on Sunday 24 May is 01:30 on Monday 25 May in Kazakhstan (UTC+5)
    clock.current = dt.datetime(2026, 5, 24, 20, 30, tzinfo=dt.UTC)
    summary = await load_demo_data(backend)
    assert summary.first_day == TODAY


async def test_demo_schedules_are_kept_for_the_top_up(backend: Backend) -> None:
    await load_demo_data(backend, today=TODAY)
    first = await rows(backend, orm.schedule_templates)
    async with backend.uow() as uow:
        stored = await stored_templates(uow)
    assert sorted(stored, key=repr) == sorted(demo.demo_templates(), key=repr)

    again = await load_demo_data(backend, today=TODAY + dt.timedelta(days=7))
    assert await rows(backend, orm.schedule_templates) == first  # unchanged: not rewritten
    assert again.slots_created > 0
    # the stored schedules are the ones the loader materialised: nothing left to top up
    noon = dt.datetime.combine(TODAY, dt.time(12), tzinfo=ZoneInfo(demo.DEMO_TZ))
    async with backend.uow() as uow:
        assert await top_up_slots(uow, now=noon, days=7 + demo.DEMO_DAYS) == 0


_FEMININE = ("ова", "ева", "ёва", "ина", "ына", "ская", "цкая")
_MASCULINE = ("ов", "ев", "ёв", "ин", "ын", "ский", "цкий")


async def test_every_demo_surname_agrees_with_the_sex_in_the_iin(backend: Backend) -> None:
    """Issue 10 part 5: a daughter is Ахметова, not «Ахметов Әсел»; a son never -ова."""
    await load_demo_data(backend, today=TODAY)
    people = await patients(backend)
    women = [p for p in people if parse_iin(p.iin).sex is Sex.FEMALE]
    men = [p for p in people if parse_iin(p.iin).sex is Sex.MALE]
    assert women and men
    for woman in women:
        assert not woman.surname.endswith(_MASCULINE), (woman.surname, woman.given_name)
    for man in men:
        assert not man.surname.endswith(_FEMININE), (man.surname, man.given_name)
    # the children take their parent's surname in their own form
    assert any(p.surname.endswith("ова") and p.representative_id for p in women)


def test_surname_for_derives_the_feminine_and_back() -> None:
    assert demo.surname_for("Ахметов", Sex.FEMALE) == "Ахметова"
    assert demo.surname_for("Сәрсенбаев", Sex.FEMALE) == "Сәрсенбаева"
    assert demo.surname_for("Ахметова", Sex.MALE) == "Ахметов"
    assert demo.surname_for("Иванова", Sex.FEMALE) == "Иванова"
    assert demo.surname_for("Ким", Sex.FEMALE) == "Ким"
    assert demo.surname_for("Сейтқали", Sex.FEMALE) == "Сейтқали"


# --- issue 10: home-visit hours of the district doctors; specialties serve an age ----------


async def _patient_id(backend: Backend, surname: str, given: str) -> int:
    async with backend.uow() as uow:
        stmt = select(orm.patients.c.id).where(
            orm.patients.c.surname == surname, orm.patients.c.given_name == given
        )
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_district_doctors_have_home_visit_hours_apart_from_their_reception(
    backend: Backend,
) -> None:
    await load_demo_data(backend, today=TODAY)
    async with backend.uow() as uow:
        stored = await stored_templates(uow)
        district_doctors = set(
            (
                await uow.session.execute(
                    select(orm.doctors.c.code).join(
                        orm.districts, orm.districts.c.doctor_id == orm.doctors.c.id
                    )
                )
            ).scalars()
        )
    home = [t for t in stored if t.kind is TemplateKind.HOME_VISITS]
    assert {t.doctor_code for t in home} == district_doctors
    for code in district_doctors:  # every working weekday has home-visit windows
        assert {t.weekday for t in home if t.doctor_code == code} >= {0, 1, 2, 3, 4}
    assert overlapping(stored) == []
    assert all(t.slot_minutes == 120 and t.capacity == HOME_VISITS_PER_WINDOW for t in home)


async def test_a_demo_home_visit_comes_in_the_doctors_home_visit_window(
    backend: Backend,
) -> None:
    await load_demo_data(backend, today=TODAY)
    ivanov = await _patient_id(backend, "Иванов", "Сергей")  # district 2: afternoon reception
    monday_10 = dt.datetime.combine(TODAY, dt.time(10), tzinfo=ZoneInfo(demo.DEMO_TZ))

    view = await request_home_visit(
        backend.uow(),
        ivanov,
        HomeVisitRequest(reason="Қызба", symptoms="", contact_phone="+77021110002"),
        now=monday_10,
    )

    local = view.window_start.astimezone(ZoneInfo(demo.DEMO_TZ))
    assert (local.date(), local.hour) == (TODAY, 10)
    assert view.window_end - view.window_start == dt.timedelta(hours=2)


async def test_demo_specialties_serve_their_ages(backend: Backend) -> None:
    await load_demo_data(backend, today=TODAY)
    async with backend.uow() as uow:
        stmt = select(orm.specialties.c.code, orm.specialties.c.audience)
        audience = dict((await uow.session.execute(stmt)).all())
    assert audience["pediatrician"] is Audience.CHILDREN
    assert audience["therapist"] is Audience.ADULTS
    assert audience["gp"] is Audience.ALL
    assert audience["cardiologist"] is Audience.ALL
    now = dt.datetime.combine(TODAY, dt.time(10), tzinfo=ZoneInfo(demo.DEMO_TZ))

    ivanov = await _patient_id(backend, "Иванов", "Сергей")  # born 1985
    child = await _patient_id(backend, "Сейтқали", "Әли")  # born 2019
    adult_offer = {s.code for s in await booking.specialties_for(backend.uow(), ivanov, now=now)}
    child_offer = {s.code for s in await booking.specialties_for(backend.uow(), child, now=now)}

    assert "pediatrician" not in adult_offer
    assert {"therapist", "gp"} <= adult_offer
    assert "pediatrician" in child_offer and "gp" in child_offer
    assert "therapist" not in child_offer
