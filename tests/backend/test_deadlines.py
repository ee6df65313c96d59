"""Deadlines of the services count from the clinic's opening and never fall while it is closed
(issue 10 part 3; S3-S5 row 3 and row 7, R-13/R-14)."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications, booking, certificates
from backend.services.home_visit import HomeVisitRequest, request_home_visit
from tests.backend.world import World, at, build_world

MON, TUE = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
SAT, NEXT_MON = dt.date(2026, 11, 28), dt.date(2026, 11, 30)


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


@pytest.mark.parametrize(
    ("moment", "status", "deadline"),
    [
        (at(MON, 6), ApplicationStatus.REGISTERED, at(MON, 8, 30)),  # before opening
        (at(MON, 7, 59), ApplicationStatus.REGISTERED, at(MON, 8, 30)),
        (at(MON, 8), ApplicationStatus.REGISTERED, at(MON, 8, 30)),
        (at(MON, 19, 45), ApplicationStatus.REGISTERED, at(TUE, 8, 15)),  # 15 + 15 minutes
        (at(SAT, 13, 50), ApplicationStatus.REGISTERED, at(NEXT_MON, 8, 20)),  # closes 14:00
        (at(SAT, 14), ApplicationStatus.NEXT_WORKING_DAY, at(NEXT_MON, 8, 30)),
        (at(dt.date(2026, 11, 29), 11), ApplicationStatus.NEXT_WORKING_DAY, at(NEXT_MON, 8, 30)),
        # Tuesday 15 December 19:50; Wednesday 16 is Independence Day.
        (at(dt.date(2026, 12, 15), 19, 50), ApplicationStatus.REGISTERED,
         at(dt.date(2026, 12, 17), 8, 20)),
    ],
)  # fmt: skip
async def test_027_deadline_counts_in_the_clinics_working_time(
    backend: Backend,
    world: World,
    moment: dt.datetime,
    status: ApplicationStatus,
    deadline: dt.datetime,
) -> None:
    summary = await certificates.request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.CERTIFICATE_027, now=moment
    )

    assert (summary.status, summary.deadline) == (status, deadline)
    listed = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert listed[0].deadline == deadline  # as stored


async def test_registry_statements_are_automated_and_keep_30_minutes_around_the_clock(
    backend: Backend, world: World
) -> None:
    summary = await certificates.request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.STATEMENT_TB, now=at(MON, 6)
    )

    assert summary.deadline == at(MON, 6, 30)


@pytest.mark.parametrize(
    ("moment", "status", "deadline"),
    [
        (at(MON, 6), ApplicationStatus.REGISTERED, at(MON, 8, 30)),  # before opening
        (at(MON, 17, 50), ApplicationStatus.REGISTERED, at(MON, 18, 20)),  # before the cut-off
        (at(MON, 18), ApplicationStatus.NEXT_WORKING_DAY, at(TUE, 8, 30)),  # after it
        (at(SAT, 11, 50), ApplicationStatus.REGISTERED, at(SAT, 12, 20)),
        (at(SAT, 13, 50), ApplicationStatus.NEXT_WORKING_DAY, at(NEXT_MON, 8, 30)),
    ],
)
async def test_home_visit_deadline_counts_from_opening(
    backend: Backend,
    world: World,
    moment: dt.datetime,
    status: ApplicationStatus,
    deadline: dt.datetime,
) -> None:
    view = await request_home_visit(
        backend.uow(),
        world.alice.id or 0,
        HomeVisitRequest(reason="Қызба", symptoms="", contact_phone="+77011234501"),
        now=moment,
    )

    listed = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert (view.status, listed[0].deadline) == (status, deadline)


@pytest.mark.parametrize(
    ("moment", "deadline"),
    [
        (at(MON, 6), at(MON, 8, 30)),
        (at(MON, 10), at(MON, 10, 30)),
        (at(MON, 19, 50), at(TUE, 8, 20)),
        (at(MON, 22), at(TUE, 8, 30)),
    ],
)
async def test_booking_deadline_counts_in_the_clinics_working_time(
    backend: Backend, world: World, clock: FixedClock, moment: dt.datetime, deadline: dt.datetime
) -> None:
    clock.current = moment
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=moment,
        policy=backend.policy,
    )

    listed = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert listed[0].number == view.application_number
    assert (listed[0].status, listed[0].deadline) == (ApplicationStatus.REGISTERED, deadline)
