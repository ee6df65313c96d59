"""S3 booking through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from backend.bootstrap import Backend, BookingPolicy
from backend.domain.iin import Sex, make_iin
from backend.domain.model import (
    Attachment,
    Audience,
    Doctor,
    Patient,
    Slot,
    Specialty,
    default_audience,
)
from backend.domain.refusals import ATTACHED_NOWHERE, Refusal, RefusalCode
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications, booking
from tests.backend.world import World, at, build_world


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


async def test_booking_a_free_slot_registers_an_application_with_date_time_and_room(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    slot = world.slots_a[0]

    view = await booking.book(
        backend.uow(), world.alice.id or 0, slot.id or 0, now=clock.now(), policy=backend.policy
    )

    assert view.doctor.code == "A-T1"
    assert view.room == "101"
    assert view.local_start == at(dt.date(2026, 11, 24), 9)
    assert view.clinic.code == "A"
    apps = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert [(a.number, a.service, a.status) for a in apps] == [
        (view.application_number, ServiceType.APPOINTMENT, ApplicationStatus.REGISTERED)
    ]
    assert apps[0].deadline == clock.now() + dt.timedelta(minutes=30)


async def test_a_booked_slot_is_no_longer_offered(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    uow, alice, doc = backend.uow, world.alice.id or 0, world.doctor_a.id or 0
    await booking.book(
        uow(), alice, world.slots_a[0].id or 0, now=clock.now(), policy=backend.policy
    )

    free = await booking.free_slots(uow(), alice, doc, dt.date(2026, 11, 24), now=clock.now())

    assert [s.id for s in free] == [s.id for s in world.slots_a[1:]]


async def test_times_read_back_as_the_same_instants_in_utc(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    """SQLite stores naive UTC and PostgreSQL `timestamptz`; asyncpg's values are kept as it
    gives them (no per-value step, issue 16): on both, a free slot and a booking read back
    aware, in UTC, at the instant stored."""
    alice, doctor = world.alice.id or 0, world.doctor_a.id or 0
    first = world.slots_a[0]

    free = await booking.free_slots(
        backend.uow(), alice, doctor, dt.date(2026, 11, 24), now=clock.now()
    )
    view = await booking.book(
        backend.uow(), alice, free[0].id, now=clock.now(), policy=backend.policy
    )

    assert free[0].id == first.id
    assert (free[0].starts_at, view.starts_at) == (first.starts_at, first.starts_at)
    assert view.local_start == at(dt.date(2026, 11, 24), 9)
    for moment in (free[0].starts_at, free[0].ends_at, view.starts_at, view.ends_at):
        assert moment.utcoffset() == dt.timedelta(0)
        assert moment.tzinfo is dt.UTC


async def test_a_days_free_slots_are_those_of_the_clinic_local_day(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    """Tuesday in Almaty (UTC+5) runs from Monday 19:00 to Tuesday 19:00 UTC: a slot late on
    Monday or early on Wednesday, clinic time, is not Tuesday's, though its UTC date may be."""
    doctor = world.doctor_a.id or 0
    monday, tuesday, wednesday = (dt.date(2026, 11, d) for d in (23, 24, 25))
    edges = [at(monday, 23, 40), at(tuesday, 0, 0), at(tuesday, 23, 40), at(wednesday, 0, 0)]
    async with backend.uow() as uow:
        added = [
            Slot(doctor_id=doctor, starts_at=t, ends_at=t + dt.timedelta(minutes=20))
            for t in edges
        ]
        uow.session.add_all(added)
        await uow.commit()

    free = await booking.free_slots(
        backend.uow(), world.alice.id or 0, doctor, tuesday, now=clock.now()
    )

    assert [s.id for s in free] == [
        added[1].id,
        *[s.id for s in world.slots_a],
        added[2].id,
    ]
    assert {s.starts_at.astimezone(world.clinic_a.tz).date() for s in free} == {tuesday}


async def test_a_slot_that_starts_now_is_not_offered(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    """What is offered can be booked: `book` refuses a slot starting at `now`, so the list of
    free slots leaves it out (it offered it, and the patient got a refusal)."""
    doctor = world.doctor_a.id or 0
    now = clock.now()
    async with backend.uow() as uow:
        starting = Slot(doctor_id=doctor, starts_at=now, ends_at=now + dt.timedelta(minutes=20))
        uow.session.add(starting)
        await uow.commit()

    free = await booking.free_slots(
        backend.uow(),
        world.alice.id or 0,
        doctor,
        now.astimezone(world.clinic_a.tz).date(),
        now=now,
    )

    assert starting.id not in [s.id for s in free]
    with pytest.raises(Refusal):
        await booking.book(
            backend.uow(), world.alice.id or 0, starting.id or 0, now=now, policy=BookingPolicy()
        )


async def test_the_same_slot_cannot_be_booked_twice(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    slot = world.slots_a[0].id or 0
    await booking.book(
        backend.uow(), world.alice.id or 0, slot, now=clock.now(), policy=backend.policy
    )

    with pytest.raises(Refusal) as refused:
        await booking.book(
            backend.uow(), world.bob.id or 0, slot, now=clock.now(), policy=backend.policy
        )

    assert refused.value.code is RefusalCode.SLOT_TAKEN


async def test_the_database_itself_refuses_a_second_active_appointment_for_a_slot(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    """Even code that skips the service's check cannot double-book: the index decides."""
    await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    async with backend.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT application_id, doctor_id, created_at FROM appointments")
            )
        ).one()
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            await conn.execute(
                text(
                    "INSERT INTO appointments (application_id, patient_id, slot_id, doctor_id, "
                    "active, created_at) VALUES (:a, :p, :s, :d, :act, :c)"
                ),
                {
                    "a": row[0],
                    "p": world.bob.id,
                    "s": world.slots_a[0].id,
                    "d": row[1],
                    "act": True,
                    "c": row[2],
                },
            )


async def test_a_patient_not_attached_anywhere_is_refused_with_the_legal_ground(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    with pytest.raises(Refusal) as refused:
        await booking.book(
            backend.uow(),
            world.carol.id or 0,
            world.slots_a[0].id or 0,
            now=clock.now(),
            policy=backend.policy,
        )

    assert refused.value.code is RefusalCode.NOT_ATTACHED_HERE
    assert refused.value.is_legal_ground
    # issue 10 part 5: attached to no clinic at all, told apart from "another clinic"
    assert refused.value.params.get("attached") == ATTACHED_NOWHERE
    with pytest.raises(Refusal) as browsing:
        await booking.specialties_for(backend.uow(), world.carol.id or 0)
    assert browsing.value.code is RefusalCode.NOT_ATTACHED_HERE
    assert browsing.value.params.get("attached") == ATTACHED_NOWHERE


async def test_only_slots_of_the_patients_own_clinic_can_be_booked(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    with pytest.raises(Refusal) as refused:
        await booking.book(
            backend.uow(),
            world.alice.id or 0,
            world.slots_b[0].id or 0,
            now=clock.now(),
            policy=backend.policy,
        )

    assert refused.value.code is RefusalCode.NOT_ATTACHED_HERE
    with pytest.raises(Refusal):
        await booking.free_slots_by_day(
            backend.uow(),
            world.alice.id or 0,
            world.doctor_b.id or 0,
            now=clock.now(),
            horizon_days=14,
        )


async def test_browsing_offers_only_the_own_clinics_specialties_and_doctors(
    backend: Backend, world: World
) -> None:
    specialties = await booking.specialties_for(backend.uow(), world.dave.id or 0)
    doctors = await booking.doctors_for(
        backend.uow(), world.alice.id or 0, world.therapist.id or 0
    )

    assert [s.code for s in specialties] == ["therapist"]
    assert [d.code for d in doctors] == ["A-T1", "A-T2"]


async def test_free_days_are_clinic_local_dates_with_a_free_slot(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    days = list(
        await booking.free_slots_by_day(
            backend.uow(),
            world.alice.id or 0,
            world.doctor_a.id or 0,
            now=clock.now(),
            horizon_days=14,
        )
    )

    assert days == [dt.date(2026, 11, 24)]  # the 23.11 08:00 slot is already past


async def test_a_past_slot_cannot_be_booked(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    assert world.past_slot_a is not None
    with pytest.raises(Refusal) as refused:
        await booking.book(
            backend.uow(),
            world.alice.id or 0,
            world.past_slot_a.id or 0,
            now=clock.now(),
            policy=backend.policy,
        )

    assert refused.value.code is RefusalCode.SLOT_UNAVAILABLE


async def test_an_unknown_slot_is_unavailable(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    with pytest.raises(Refusal) as refused:
        await booking.book(
            backend.uow(), world.alice.id or 0, 999_999, now=clock.now(), policy=backend.policy
        )

    assert refused.value.code is RefusalCode.SLOT_UNAVAILABLE


async def test_the_cap_on_upcoming_appointments_is_enforced_and_names_the_limit(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    policy = BookingPolicy(max_future_appointments=2)
    for slot in world.slots_a[:2]:
        await booking.book(
            backend.uow(), world.alice.id or 0, slot.id or 0, now=clock.now(), policy=policy
        )

    with pytest.raises(Refusal) as refused:
        await booking.book(
            backend.uow(),
            world.alice.id or 0,
            world.slots_a[2].id or 0,
            now=clock.now(),
            policy=policy,
        )

    assert refused.value.code is RefusalCode.TOO_MANY_APPOINTMENTS
    assert refused.value.params == {"limit": 2}


async def test_cancelling_frees_the_slot_at_once_and_lowers_the_count(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    policy = BookingPolicy(max_future_appointments=1)
    slot = world.slots_a[0].id or 0
    view = await booking.book(
        backend.uow(), world.alice.id or 0, slot, now=clock.now(), policy=policy
    )

    await booking.cancel(backend.uow(), world.alice.id or 0, view.appointment_id, now=clock.now())

    again = await booking.book(
        backend.uow(), world.bob.id or 0, slot, now=clock.now(), policy=policy
    )
    assert again.appointment_id != view.appointment_id
    await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[1].id or 0,
        now=clock.now(),
        policy=policy,
    )
    details = await applications.application_details(
        backend.uow(), world.alice.id or 0, view.application_number
    )
    assert details.summary.status is ApplicationStatus.CANCELLED
    assert [h.to_status for h in details.history] == [
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.REGISTERED,
        ApplicationStatus.CANCELLED,
    ]


async def test_a_patient_cannot_cancel_someone_elses_appointment(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )

    with pytest.raises(Refusal) as refused:
        await booking.cancel(
            backend.uow(), world.bob.id or 0, view.appointment_id, now=clock.now()
        )

    assert refused.value.code is RefusalCode.APPOINTMENT_NOT_FOUND
    assert (
        len(
            await booking.upcoming_appointments(
                backend.uow(), world.alice.id or 0, now=clock.now()
            )
        )
        == 1
    )


async def test_cancelling_twice_is_refused_not_crashed(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    await booking.cancel(backend.uow(), world.alice.id or 0, view.appointment_id, now=clock.now())

    with pytest.raises(Refusal) as refused:
        await booking.cancel(
            backend.uow(), world.alice.id or 0, view.appointment_id, now=clock.now()
        )

    assert refused.value.code is RefusalCode.APPOINTMENT_NOT_ACTIVE


async def test_reschedule_moves_the_appointment_and_keeps_the_application(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    alice = world.alice.id or 0
    old = await booking.book(
        backend.uow(), alice, world.slots_a[0].id or 0, now=clock.now(), policy=backend.policy
    )

    new = await booking.reschedule(
        backend.uow(), alice, old.appointment_id, world.slots_a[3].id or 0, now=clock.now()
    )

    assert new.application_number == old.application_number
    assert new.starts_at == world.slots_a[3].starts_at
    upcoming = await booking.upcoming_appointments(backend.uow(), alice, now=clock.now())
    assert [u.appointment_id for u in upcoming] == [new.appointment_id]
    # the old slot is free again for somebody else
    await booking.book(
        backend.uow(),
        world.bob.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    details = await applications.application_details(backend.uow(), alice, new.application_number)
    assert details.history[-1].note == "rescheduled"
    assert details.summary.status is ApplicationStatus.REGISTERED


async def test_reschedule_to_a_taken_slot_changes_nothing(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    alice, bob = world.alice.id or 0, world.bob.id or 0
    mine = await booking.book(
        backend.uow(), alice, world.slots_a[0].id or 0, now=clock.now(), policy=backend.policy
    )
    await booking.book(
        backend.uow(), bob, world.slots_a[1].id or 0, now=clock.now(), policy=backend.policy
    )

    with pytest.raises(Refusal) as refused:
        await booking.reschedule(
            backend.uow(), alice, mine.appointment_id, world.slots_a[1].id or 0, now=clock.now()
        )

    assert refused.value.code is RefusalCode.SLOT_TAKEN
    upcoming = await booking.upcoming_appointments(backend.uow(), alice, now=clock.now())
    assert [(u.appointment_id, u.starts_at) for u in upcoming] == [
        (mine.appointment_id, world.slots_a[0].starts_at)
    ]


async def test_reschedule_to_another_clinics_slot_is_refused(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    mine = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )

    with pytest.raises(Refusal) as refused:
        await booking.reschedule(
            backend.uow(),
            world.alice.id or 0,
            mine.appointment_id,
            world.slots_b[0].id or 0,
            now=clock.now(),
        )

    assert refused.value.code is RefusalCode.NOT_ATTACHED_HERE
    assert "attached" not in refused.value.params  # attached, but to another clinic: "this"


# --- issue 10: a specialty serves an age ----------------------------------------------------


async def _paediatrician(backend: Backend, world: World) -> tuple[Doctor, Slot]:
    """A paediatrician at clinic A with one free slot on Tuesday 24.11 at 16:00."""
    async with backend.uow() as uow:
        specialty = Specialty(
            code="pediatrician", name_kk="Педиатр", name_ru="Педиатр", name_en="Paediatrician",
            audience=Audience.CHILDREN,
        )  # fmt: skip
        uow.session.add(specialty)
        await uow.session.flush()
        doctor = Doctor(
            code="A-P1", clinic_id=world.clinic_a.id or 0, specialty_id=specialty.id or 0,
            surname="Нұрпейісова", given_name="Динара", room="21",
        )  # fmt: skip
        uow.session.add(doctor)
        await uow.session.flush()
        tuesday = dt.date(2026, 11, 24)
        slot = Slot(
            doctor_id=doctor.id or 0, starts_at=at(tuesday, 16), ends_at=at(tuesday, 16, 20)
        )
        uow.session.add(slot)
        await uow.commit()
    return doctor, slot


async def _child_of_alice(backend: Backend, world: World) -> int:
    async with backend.uow() as uow:
        child = Patient.register(
            iin=make_iin(dt.date(2019, 9, 1), Sex.MALE, 77),
            surname="Сейтқали",
            given_name="Әли",
            representative_id=world.alice.id,
        )
        uow.session.add(child)
        await uow.session.flush()
        uow.session.add(
            Attachment(
                patient_id=child.id or 0,
                clinic_id=world.clinic_a.id or 0,
                since=dt.date(2020, 1, 1),
            )
        )
        await uow.commit()
        return child.id or 0


async def test_an_adult_is_not_offered_a_paediatrician_nor_can_book_one(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    paediatrician, slot = await _paediatrician(backend, world)
    alice = world.alice.id or 0  # born 1985
    specialty_id = paediatrician.specialty_id

    offered = await booking.specialties_for(backend.uow(), alice, now=clock.now())
    doctors = await booking.doctors_for(backend.uow(), alice, specialty_id, now=clock.now())

    assert "pediatrician" not in {s.code for s in offered}
    assert doctors == []
    # A forged button or typed number still reaches the service: refused, nothing booked.
    with pytest.raises(Refusal) as refused:
        await booking.book(
            backend.uow(), alice, slot.id or 0, now=clock.now(), policy=backend.policy
        )
    assert refused.value.code is RefusalCode.SPECIALTY_NOT_FOR_AGE
    assert await applications.list_applications(backend.uow(), alice) == []


async def test_a_child_is_offered_the_paediatrician_not_the_therapist(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    async with backend.uow() as uow:  # the world's therapist: adults only, as imported
        await uow.session.execute(
            text("UPDATE specialties SET audience = 'adults' WHERE code = 'therapist'")
        )
        await uow.commit()
    paediatrician, slot = await _paediatrician(backend, world)
    child = await _child_of_alice(backend, world)

    offered = await booking.specialties_for(backend.uow(), child, now=clock.now())
    view = await booking.book(
        backend.uow(), child, slot.id or 0, now=clock.now(), policy=backend.policy
    )

    assert {s.code for s in offered} == {"pediatrician", "cardiologist"}
    assert view.doctor.code == paediatrician.code
    with pytest.raises(Refusal) as refused:
        await booking.book(
            backend.uow(), child, world.slots_a[0].id or 0, now=clock.now(),
            policy=backend.policy,
        )  # fmt: skip
    assert refused.value.code is RefusalCode.SPECIALTY_NOT_FOR_AGE


def test_who_a_specialty_serves() -> None:
    def specialty(audience: Audience) -> Specialty:
        return Specialty(code="x", name_kk="x", name_ru="x", name_en="x", audience=audience)

    assert [specialty(Audience.CHILDREN).serves(age) for age in (0, 17, 18)] == [True, True, False]
    assert [specialty(Audience.ADULTS).serves(age) for age in (17, 18, 90)] == [False, True, True]
    assert all(specialty(Audience.ALL).serves(age) for age in (0, 17, 18, 90))
    assert default_audience("pediatrician") is Audience.CHILDREN
    assert default_audience("therapist") is Audience.ADULTS
    assert default_audience("gp") is Audience.ALL
    assert default_audience("cardiologist") is Audience.ALL
