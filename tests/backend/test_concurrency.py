"""Races on the real PostgreSQL server: a slot is never booked twice, whatever the load.

Anchor: cosmicpython's tests/integration/test_uow.py (concurrent updates: exactly one wins),
ported to asyncio.gather on real connections.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest
from sqlalchemy import func, select

from backend.adapters import orm
from backend.bootstrap import Backend, BookingPolicy
from backend.domain.iin import Sex, make_iin
from backend.domain.model import Attachment, Patient, Slot
from backend.domain.refusals import Refusal, RefusalCode
from backend.ports import FixedClock
from backend.services import booking
from tests.backend.world import World, at, build_world

# At most this many bookings in flight at once, below the engine's pool (10 + 20 overflow,
# backend/adapters/db.py): a loaded machine then never waits 30 s for a connection (QueuePool
# timeout), and the in-flight bookings still race on the same slots with real connections.
IN_FLIGHT = 25


async def _add_patients(backend: Backend, world: World, count: int) -> list[int]:
    async with backend.uow() as uow:
        patients = [
            Patient.register(
                iin=make_iin(dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28), Sex.MALE, i),
                surname=f"Тестов{i}",
                given_name="Тест",
                phone=f"+7701{i:07d}",
            )
            for i in range(count)
        ]
        uow.session.add_all(patients)
        await uow.session.flush()
        uow.session.add_all(
            Attachment(
                patient_id=p.id or 0, clinic_id=world.clinic_a.id or 0, since=dt.date(2020, 1, 1)
            )
            for p in patients
        )
        await uow.commit()
        return [p.id or 0 for p in patients]


async def _active_appointments(backend: Backend) -> list[tuple[int, int]]:
    async with backend.engine.connect() as conn:
        rows = await conn.execute(
            select(orm.appointments.c.slot_id, orm.appointments.c.patient_id).where(
                orm.appointments.c.active
            )
        )
        return [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_200_coroutines_booking_one_slot_exactly_one_wins(
    backend: Backend, clock: FixedClock
) -> None:
    world = await build_world(backend)
    patients = await _add_patients(backend, world, 200)
    slot = world.slots_a[0].id or 0

    in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def attempt(patient_id: int) -> object:
        try:
            async with in_flight:
                return await booking.book(
                    backend.uow(), patient_id, slot, now=clock.now(), policy=backend.policy
                )
        except Refusal as refusal:
            return refusal

    results = await asyncio.gather(*(attempt(p) for p in patients), return_exceptions=True)

    escaped = [r for r in results if isinstance(r, BaseException) and not isinstance(r, Refusal)]
    assert escaped == []
    wins = [r for r in results if isinstance(r, booking.AppointmentView)]
    refusals = [r for r in results if isinstance(r, Refusal)]
    assert len(wins) == 1
    assert len(refusals) == 199
    assert {r.code for r in refusals} == {RefusalCode.SLOT_TAKEN}
    assert len(await _active_appointments(backend)) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_1000_patients_racing_for_100_slots_get_exactly_100_appointments(
    backend: Backend, clock: FixedClock
) -> None:
    world = await build_world(backend)
    async with backend.uow() as uow:
        first = at(dt.date(2026, 11, 25), 8)
        extra = [
            Slot(
                doctor_id=world.doctor_a.id or 0,
                starts_at=first + dt.timedelta(minutes=5 * i),
                ends_at=first + dt.timedelta(minutes=5 * (i + 1)),
                room="101",
            )
            for i in range(100 - len(world.slots_a))  # the past 23.11 slot is not offered
        ]
        uow.session.add_all(extra)
        await uow.commit()
    async with backend.engine.connect() as conn:
        slot_ids = list(
            (
                await conn.execute(
                    select(orm.slots.c.id).where(
                        orm.slots.c.doctor_id == world.doctor_a.id,
                        orm.slots.c.starts_at > clock.now(),
                    )
                )
            ).scalars()
        )
    assert len(slot_ids) == 100
    patients = await _add_patients(backend, world, 1000)
    rng = random.Random(7)
    policy = BookingPolicy(max_future_appointments=3)

    days = (dt.date(2026, 11, 24), dt.date(2026, 11, 25))

    in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def patient_books(patient_id: int) -> str:
        async with in_flight:
            return await looks_and_books(patient_id)

    async def looks_and_books(patient_id: int) -> str:
        """Like a patient: look at the free slots, pick one; if it was just taken, look again."""
        while True:
            free = [
                s.id or 0
                for day in days
                for s in await booking.free_slots(
                    backend.uow(), patient_id, world.doctor_a.id or 0, day, now=clock.now()
                )
            ]
            if not free:
                return "none left"
            try:
                await booking.book(
                    backend.uow(), patient_id, rng.choice(free), now=clock.now(), policy=policy
                )
            except Refusal as refusal:
                assert refusal.code is RefusalCode.SLOT_TAKEN
                continue
            return "booked"

    outcomes = await asyncio.gather(*(patient_books(p) for p in patients))

    active = await _active_appointments(backend)
    assert outcomes.count("booked") == 100
    assert len(active) == 100
    assert len({slot for slot, _ in active}) == 100  # no slot twice
    assert len({patient for _, patient in active}) == 100
    async with backend.engine.connect() as conn:
        apps = await conn.scalar(select(func.count()).select_from(orm.applications))
    assert apps == 100  # refused attempts leave no half-made application behind


async def test_concurrent_bookings_of_one_slot_on_either_database(
    backend: Backend, clock: FixedClock
) -> None:
    """The embedded default (SQLite) holds the same guarantee under concurrency."""
    world = await build_world(backend)
    patients = await _add_patients(backend, world, 20)
    slot = world.slots_a[1].id or 0

    async def attempt(patient_id: int) -> bool:
        try:
            await booking.book(
                backend.uow(), patient_id, slot, now=clock.now(), policy=backend.policy
            )
        except Refusal as refusal:
            assert refusal.code is RefusalCode.SLOT_TAKEN
            return False
        return True

    results = await asyncio.gather(*(attempt(p) for p in patients))

    assert results.count(True) == 1
    assert len(await _active_appointments(backend)) == 1


async def test_one_patient_booking_many_slots_at_once_gets_no_more_than_the_cap(
    backend: Backend, clock: FixedClock
) -> None:
    """The cap holds when one patient books from several channels at the same moment: the
    patient's row lock orders the bookings and each counts the ones committed before it (on
    PostgreSQL a count read in the statement that waited for the lock would see none)."""
    world = await build_world(backend, slots_per_doctor=8)
    policy = BookingPolicy(max_future_appointments=2)
    alice = world.alice.id or 0

    async def attempt(slot_id: int) -> RefusalCode | None:
        try:
            await booking.book(backend.uow(), alice, slot_id, now=clock.now(), policy=policy)
        except Refusal as refusal:
            return refusal.code
        return None

    results = await asyncio.gather(*(attempt(s.id or 0) for s in world.slots_a))

    assert results.count(None) == 2, results
    assert set(results) == {None, RefusalCode.TOO_MANY_APPOINTMENTS}
    assert len(await _active_appointments(backend)) == 2
    async with backend.engine.connect() as conn:
        apps = await conn.scalar(select(func.count()).select_from(orm.applications))
    assert apps == 2  # a refused booking leaves no application behind
