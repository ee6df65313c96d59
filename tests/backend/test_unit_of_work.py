"""Issue 16: one unit of work per inbound event, read-only where it only reads.

Through the services and `Backend.event()`, on SQLite and PostgreSQL: what one service call of
an event loaded the next one finds, a write inside an event is one transaction that commits or
leaves nothing, and on SQLite a read does not wait for another transaction's write lock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.refusals import Refusal, RefusalCode
from backend.ports import FixedClock
from backend.services import applications, booking, holidays, patients
from tests.backend.world import World, build_world


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


@contextlib.contextmanager
def counted(backend: Backend) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(backend.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(backend.engine.sync_engine, "before_cursor_execute", count)


def _patient_reads(statements: list[str]) -> int:
    return sum(1 for s in statements if s.startswith("SELECT") and "FROM patients" in s)


async def test_services_of_one_event_share_what_they_loaded(
    backend: Backend, world: World
) -> None:
    alice = world.alice.id or 0
    with counted(backend) as outside:
        await patients.get_patient(backend.uow(), alice)
        await patients.get_patient(backend.uow(), alice)
    with counted(backend) as inside:
        async with backend.event():
            first = await patients.get_patient(backend.uow(), alice)
            again = await patients.get_patient(backend.uow(), alice)
            summary = await patients.attachment_summary(backend.uow(), alice)
    assert _patient_reads(outside) == 2  # each call on its own
    assert _patient_reads(inside) == 1  # the event's unit of work: loaded once
    assert first is again
    assert summary is not None and summary.clinic.id == world.clinic_a.id
    assert "BEGIN IMMEDIATE" not in inside  # reads took no write lock (SQLite)


async def test_a_booking_inside_an_event_commits_after_reads(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    alice, slot = world.alice.id or 0, world.slots_a[0].id or 0
    async with backend.event():
        before = await booking.upcoming_appointments(backend.uow(), alice, now=clock.now())
        view = await booking.book(
            backend.uow(), alice, slot, now=clock.now(), policy=backend.policy
        )
        after = await booking.upcoming_appointments(backend.uow(), alice, now=clock.now())
    assert before == []
    assert [a.application_number for a in after] == [view.application_number]
    # Seen from outside the event: committed.
    [listed] = await applications.list_applications(backend.uow(), alice)
    assert listed.number == view.application_number


async def test_a_refused_booking_inside_an_event_leaves_nothing_and_the_event_goes_on(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    alice, bob, slot = world.alice.id or 0, world.bob.id or 0, world.slots_a[0].id or 0
    await booking.book(backend.uow(), bob, slot, now=clock.now(), policy=backend.policy)
    async with backend.event():
        loaded = await patients.get_patient(backend.uow(), alice)
        with pytest.raises(Refusal) as refused:
            await booking.book(backend.uow(), alice, slot, now=clock.now(), policy=backend.policy)
        # What the event loaded before stays readable, and the event reads on.
        assert loaded.iin == world.alice.iin
        assert await booking.upcoming_appointments(backend.uow(), alice, now=clock.now()) == []
    assert refused.value.code is RefusalCode.SLOT_TAKEN
    assert await applications.list_applications(backend.uow(), alice) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_read_does_not_wait_for_a_writer_on_sqlite(backend: Backend, world: World) -> None:
    alice = world.alice.id or 0
    async with backend.uow() as writer:
        # A write transaction holds SQLite's one write lock (BEGIN IMMEDIATE) ...
        writing = await writer.register.patient_for_update(alice)
        assert writing is not None
        # ... and a read, alone or inside an event, answers at once all the same.
        async with asyncio.timeout(2):
            patient = await patients.get_patient(backend.uow(), alice)
            async with backend.event():
                summary = await patients.attachment_summary(backend.uow(), alice)
    assert patient.id == alice
    assert summary is not None


# --- the holiday calendar, read once per process (issue 16) ------------------------------------


async def test_the_holiday_calendar_is_read_once_and_a_written_day_is_seen_at_once(
    backend: Backend,
) -> None:
    today = dt.date(2040, 1, 1)  # no built-in date of Құрбан айт for these years
    assert await holidays.years_without_kurban_ait(backend.uow(), today=today) == [2040, 2041]
    with counted(backend) as statements:
        assert await holidays.years_without_kurban_ait(backend.uow(), today=today) == [2040, 2041]
    assert not [s for s in statements if "calendar_days" in s], statements  # kept

    async with backend.uow() as uow:  # what an import does (backend/services/importer.py)
        await uow.session.execute(
            orm.calendar_days.insert(),
            [{"day": dt.date(2040, 2, 20), "kind": "day_off", "note": "Құрбан айт"}],
        )
        await uow.commit()
    assert await holidays.years_without_kurban_ait(backend.uow(), today=today) == [2041]


async def test_a_calendar_write_rolled_back_leaves_the_calendar_as_it_was(
    backend: Backend,
) -> None:
    today = dt.date(2040, 1, 1)
    async with backend.uow() as uow:
        await uow.session.execute(
            orm.calendar_days.insert(),
            [{"day": dt.date(2040, 2, 20), "kind": "day_off", "note": "Құрбан айт"}],
        )
        # Read inside the writing transaction: it sees its own day...
        assert (await uow.register.holiday_calendar()).years_without_kurban_ait([2040]) == []
        await uow.rollback()
    # ...which is not kept once the write is rolled back.
    assert await holidays.years_without_kurban_ait(backend.uow(), today=today) == [2040, 2041]
