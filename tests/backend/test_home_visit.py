"""S4 home visits: the 2-hour cut-off, the next-working-day rule, the journal record."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.domain.calendar import IntakeDay
from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications
from backend.services.home_visit import HomeVisitRequest, home_visit_terms, request_home_visit
from tests.backend.world import World, at, build_world

MONDAY = dt.date(2026, 11, 23)
SATURDAY = dt.date(2026, 11, 28)
REQUEST = HomeVisitRequest(reason="Қызба", symptoms="38.5, жөтел", contact_phone="8 701 123 45 01")


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


async def _request(backend: Backend, world: World, moment: dt.datetime) -> object:
    return await request_home_visit(backend.uow(), world.alice.id or 0, REQUEST, now=moment)


@pytest.mark.parametrize(
    ("moment", "expected_day", "kind"),
    [
        (at(MONDAY, 17, 59), MONDAY, IntakeDay.SAME_DAY),
        (at(MONDAY, 18, 0), dt.date(2026, 11, 24), IntakeDay.AFTER_CUTOFF),
        (at(SATURDAY, 11, 59), SATURDAY, IntakeDay.SAME_DAY),
        (at(SATURDAY, 12, 0), dt.date(2026, 11, 30), IntakeDay.AFTER_CUTOFF),
        (at(dt.date(2026, 11, 29), 10, 0), dt.date(2026, 11, 30), IntakeDay.DAY_OFF),
        # Independence Day, Wednesday 16.12.2026: registered for Thursday.
        (at(dt.date(2026, 12, 16), 9, 0), dt.date(2026, 12, 17), IntakeDay.DAY_OFF),
        # Tuesday 15.12 after the cut-off skips the holiday.
        (at(dt.date(2026, 12, 15), 19, 0), dt.date(2026, 12, 17), IntakeDay.AFTER_CUTOFF),
    ],
)
async def test_cut_off_and_next_working_day(
    backend: Backend, world: World, moment: dt.datetime, expected_day: dt.date, kind: IntakeDay
) -> None:
    view = await request_home_visit(backend.uow(), world.alice.id or 0, REQUEST, now=moment)

    assert view.intake.day == expected_day
    assert view.intake.kind is kind
    assert view.window_start.astimezone(world.clinic_a.tz).date() == expected_day
    expected_status = (
        ApplicationStatus.REGISTERED
        if kind is IntakeDay.SAME_DAY
        else ApplicationStatus.NEXT_WORKING_DAY
    )
    assert view.status is expected_status


async def test_the_terms_are_known_before_the_patient_types_anything(
    backend: Backend, world: World
) -> None:
    terms = await home_visit_terms(backend.uow(), world.alice.id or 0, now=at(MONDAY, 18, 30))

    assert terms.intake.kind is IntakeDay.AFTER_CUTOFF
    assert terms.intake.day == dt.date(2026, 11, 24)
    assert terms.cutoff_today == at(MONDAY, 18, 0)
    assert terms.registered_address == world.alice.address


async def test_the_result_is_a_journal_record_with_the_district_doctor_and_a_window(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    view = await request_home_visit(
        backend.uow(), world.alice.id or 0, REQUEST, now=at(MONDAY, 10, 20)
    )

    assert view.doctor is not None and view.doctor.code == "A-T1"
    assert view.address == world.alice.address
    assert (view.window_start, view.window_end) == (at(MONDAY, 11), at(MONDAY, 13))
    details = await applications.application_details(
        backend.uow(), world.alice.id or 0, view.application_number
    )
    assert details.summary.service is ServiceType.HOME_VISIT
    assert details.home_visit is not None
    assert details.home_visit.contact_phone == "+77011234501"
    assert details.home_visit.symptoms == "38.5, жөтел"


async def test_a_next_day_visit_is_planned_from_opening(backend: Backend, world: World) -> None:
    view = await request_home_visit(
        backend.uow(), world.alice.id or 0, REQUEST, now=at(MONDAY, 19)
    )

    tuesday = dt.date(2026, 11, 24)
    assert (view.window_start, view.window_end) == (at(tuesday, 8), at(tuesday, 10))


async def test_a_full_window_moves_the_next_visit_to_the_next_window(
    backend: Backend, world: World
) -> None:
    views = [
        await request_home_visit(
            backend.uow(), world.alice.id or 0, REQUEST, now=at(MONDAY, 10, 20)
        )
        for _ in range(5)
    ]

    assert [v.window_start.astimezone(world.clinic_a.tz).hour for v in views] == [
        11,
        11,
        11,
        11,
        13,
    ]


async def test_another_address_can_be_given(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    request = HomeVisitRequest(
        reason="Бас ауруы",
        symptoms="",
        contact_phone="+77011234501",
        address="  Сарайшық 5,  кв 2 ",
    )

    view = await request_home_visit(backend.uow(), world.alice.id or 0, request, now=clock.now())

    assert view.address == "Сарайшық 5, кв 2"


async def test_not_attached_is_refused_with_the_legal_ground(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    with pytest.raises(Refusal) as refused:
        await request_home_visit(backend.uow(), world.carol.id or 0, REQUEST, now=clock.now())

    assert refused.value.code is RefusalCode.NOT_ATTACHED_HERE
    assert await applications.list_applications(backend.uow(), world.carol.id or 0) == []


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (HomeVisitRequest(reason="  ", symptoms="", contact_phone="+77011234501"), "reason"),
        (
            HomeVisitRequest(reason="Қызба", symptoms="", contact_phone="+996555123456"),
            "contact_phone",
        ),
        (
            HomeVisitRequest(reason="Қызба", symptoms="x" * 1001, contact_phone="+77011234501"),
            "symptoms",
        ),
        (
            HomeVisitRequest(
                reason="Қызба", symptoms="", contact_phone="+77011234501", address=""
            ),
            "address",
        ),
    ],
)
async def test_bad_input_is_a_typed_refusal_naming_the_field(
    backend: Backend, world: World, clock: FixedClock, request_: HomeVisitRequest, field: str
) -> None:
    with pytest.raises(Refusal) as refused:
        await request_home_visit(backend.uow(), world.alice.id or 0, request_, now=clock.now())

    assert refused.value.code is RefusalCode.INVALID_INPUT
    assert refused.value.params["field"] == field


async def test_a_patient_without_a_registered_address_must_give_one(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    with pytest.raises(Refusal) as refused:
        await request_home_visit(
            backend.uow(),
            world.dave.id or 0,
            HomeVisitRequest(
                reason="Қызба", symptoms="", contact_phone="+77011234504", address=""
            ),
            now=clock.now(),
        )

    assert refused.value.params["field"] == "address"
