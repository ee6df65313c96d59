"""S4 home visits: the 2-hour cut-off, the next-working-day rule, the journal record."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.calendar import IntakeDay
from backend.domain.iin import Sex, make_iin
from backend.domain.model import Attachment, Patient
from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications, home_visit
from backend.services.home_visit import (
    HomeVisitRequest,
    HomeVisitView,
    home_visit_terms,
    request_home_visit,
)
from backend.services.schedules import ScheduleTemplate, save_templates
from tests.backend.world import HOME_VISIT_CAPACITY, World, at, build_world

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
    # The first window of the doctor's home-visit hours not yet started (world.py: 12-14, ...).
    assert (view.window_start, view.window_end) == (at(MONDAY, 12), at(MONDAY, 14))
    details = await applications.application_details(
        backend.uow(), world.alice.id or 0, view.application_number
    )
    assert details.summary.service is ServiceType.HOME_VISIT
    assert details.home_visit is not None
    assert details.home_visit.contact_phone == "+77011234501"
    assert details.home_visit.symptoms == "38.5, жөтел"


async def test_a_next_day_visit_is_planned_in_the_first_home_visit_window(
    backend: Backend, world: World
) -> None:
    view = await request_home_visit(
        backend.uow(), world.alice.id or 0, REQUEST, now=at(MONDAY, 19)
    )

    tuesday = dt.date(2026, 11, 24)
    # Not at opening (08:00): the doctor receives at the clinic then; home visits from 12:00.
    assert (view.window_start, view.window_end) == (at(tuesday, 12), at(tuesday, 14))


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


# --- issue 10: windows from the doctor's home-visit hours, capacity, one per day, cancel ----


async def _patients(backend: Backend, world: World, count: int) -> list[int]:
    """More patients of district A/1 (the world has two)."""
    async with backend.uow() as uow:
        patients = [
            Patient.register(
                iin=make_iin(dt.date(1970, 1, 1 + i), Sex.MALE, 500 + i),
                surname=f"Тестов{i}",
                given_name="Тест",
                phone=f"+7702{i:07d}",
                address=f"Астана, Абай, {i + 1}",
            )
            for i in range(count)
        ]
        uow.session.add_all(patients)
        await uow.session.flush()
        uow.session.add_all(
            Attachment(
                patient_id=p.id or 0,
                clinic_id=world.clinic_a.id or 0,
                district_id=world.district_a1.id,
                since=dt.date(2020, 1, 1),
            )
            for p in patients
        )
        await uow.commit()
        return [p.id or 0 for p in patients]


async def _home_hours(backend: Backend, *templates: ScheduleTemplate) -> None:
    async with backend.uow() as uow:
        await save_templates(uow, templates)
        await uow.commit()


async def _visit(backend: Backend, patient_id: int, moment: dt.datetime) -> HomeVisitView:
    return await request_home_visit(backend.uow(), patient_id, REQUEST, now=moment)


async def test_windows_fill_up_to_their_capacity_then_the_next_window(
    backend: Backend, world: World
) -> None:
    ids = await _patients(backend, world, HOME_VISIT_CAPACITY * 2 + 1)

    views = [await _visit(backend, pid, at(MONDAY, 10, 20)) for pid in ids]

    hours = [v.window_start.astimezone(world.clinic_a.tz).hour for v in views]
    assert hours == [12] * HOME_VISIT_CAPACITY + [14] * HOME_VISIT_CAPACITY + [16]


async def test_a_started_window_is_not_offered(backend: Backend, world: World) -> None:
    view = await request_home_visit(
        backend.uow(), world.alice.id or 0, REQUEST, now=at(MONDAY, 12, 5)
    )

    assert view.window_start == at(MONDAY, 14)


async def test_a_full_day_is_refused_with_the_next_working_day_never_overbooked(
    backend: Backend, world: World
) -> None:
    # Friday 27.11 has one window with room for one; the next working day is Saturday 28.11.
    await _home_hours(
        backend,
        ScheduleTemplate.home_visits("A-T1", 4, dt.time(12), dt.time(14), capacity=1),
        ScheduleTemplate.home_visits("A-T1", 5, dt.time(10), dt.time(12), capacity=1),
    )
    friday = dt.date(2026, 11, 27)
    first = await _visit(backend, world.alice.id or 0, at(friday, 9))

    with pytest.raises(Refusal) as refused:
        await _visit(backend, world.bob.id or 0, at(friday, 9))

    assert first.window_start == at(friday, 12)
    assert refused.value.code is RefusalCode.HOME_VISITS_FULL
    assert refused.value.params == {"day": "2026-11-27", "next_day": "2026-11-28"}
    assert await applications.list_applications(backend.uow(), world.bob.id or 0) == []
    # The patient accepts the day offered.
    accepted = await request_home_visit(
        backend.uow(), world.bob.id or 0, REQUEST, now=at(friday, 9), day=SATURDAY
    )
    assert (accepted.window_start, accepted.window_end) == (at(SATURDAY, 10), at(SATURDAY, 12))
    assert accepted.status is ApplicationStatus.REGISTERED


async def test_a_day_without_home_visit_hours_offers_the_next_day_that_has_them(
    backend: Backend, world: World
) -> None:
    await _home_hours(  # Wednesdays only
        backend, ScheduleTemplate.home_visits("A-T1", 2, dt.time(14), dt.time(16))
    )

    with pytest.raises(Refusal) as refused:
        await _visit(backend, world.alice.id or 0, at(MONDAY, 10))

    assert refused.value.code is RefusalCode.HOME_VISITS_FULL
    assert refused.value.params["next_day"] == "2026-11-25"


async def test_an_earlier_or_closed_day_cannot_be_asked_for(
    backend: Backend, world: World
) -> None:
    for day in (dt.date(2026, 11, 22), dt.date(2026, 11, 29)):  # yesterday, a Sunday
        with pytest.raises(Refusal) as refused:
            await request_home_visit(
                backend.uow(), world.alice.id or 0, REQUEST, now=at(MONDAY, 10), day=day
            )
        assert refused.value.code is RefusalCode.INVALID_INPUT


async def test_one_open_request_per_patient_per_day(backend: Backend, world: World) -> None:
    first = await _visit(backend, world.alice.id or 0, at(MONDAY, 10))

    with pytest.raises(Refusal) as refused:
        await _visit(backend, world.alice.id or 0, at(MONDAY, 11))

    assert refused.value.code is RefusalCode.HOME_VISIT_EXISTS
    assert refused.value.params["number"] == first.application_number
    assert len(await applications.list_applications(backend.uow(), world.alice.id or 0)) == 1
    # Another day is another request.
    tuesday = await request_home_visit(
        backend.uow(), world.alice.id or 0, REQUEST, now=at(MONDAY, 10),
        day=dt.date(2026, 11, 24),
    )  # fmt: skip
    assert tuesday.window_start == at(dt.date(2026, 11, 24), 12)


async def test_a_closed_request_does_not_count_as_open(backend: Backend, world: World) -> None:
    first = await _visit(backend, world.alice.id or 0, at(MONDAY, 10))
    await applications.change_status(
        backend.uow(), first.application_number, ApplicationStatus.COMPLETED,
        actor=Actor.CLINIC, now=at(MONDAY, 13),
    )  # fmt: skip

    again = await _visit(backend, world.alice.id or 0, at(MONDAY, 14))

    assert again.window_start == at(MONDAY, 14)


async def test_the_patient_cancels_and_the_place_is_free_again(
    backend: Backend, world: World
) -> None:
    await _home_hours(
        backend, ScheduleTemplate.home_visits("A-T1", 0, dt.time(12), dt.time(14), capacity=1)
    )
    first = await _visit(backend, world.alice.id or 0, at(MONDAY, 10))
    with pytest.raises(Refusal):
        await _visit(backend, world.bob.id or 0, at(MONDAY, 10))

    await home_visit.cancel(
        backend.uow(), world.alice.id or 0, first.application_number, now=at(MONDAY, 10, 5)
    )

    details = await applications.application_details(
        backend.uow(), world.alice.id or 0, first.application_number
    )
    assert details.summary.status is ApplicationStatus.CANCELLED
    assert details.history[-1].actor is Actor.PATIENT
    bobs = await _visit(backend, world.bob.id or 0, at(MONDAY, 10, 10))
    assert bobs.window_start == at(MONDAY, 12)
    # And alice may ask again the same day: her cancelled request is not open.
    with pytest.raises(Refusal) as refused:
        await _visit(backend, world.alice.id or 0, at(MONDAY, 10, 15))
    assert refused.value.code is RefusalCode.HOME_VISITS_FULL


async def test_only_an_open_own_home_visit_can_be_cancelled(
    backend: Backend, world: World
) -> None:
    visit = await _visit(backend, world.alice.id or 0, at(MONDAY, 10))

    for patient, number, code in (
        (world.bob, visit.application_number, RefusalCode.APPLICATION_NOT_FOUND),
        (world.alice, "AAAA-AAAA", RefusalCode.APPLICATION_NOT_FOUND),
    ):
        with pytest.raises(Refusal) as refused:
            await home_visit.cancel(backend.uow(), patient.id or 0, number, now=at(MONDAY, 11))
        assert refused.value.code is code
    await applications.change_status(
        backend.uow(), visit.application_number, ApplicationStatus.COMPLETED,
        actor=Actor.CLINIC, now=at(MONDAY, 13),
    )  # fmt: skip
    with pytest.raises(Refusal) as refused:
        await home_visit.cancel(
            backend.uow(), world.alice.id or 0, visit.application_number, now=at(MONDAY, 14)
        )
    assert refused.value.code is RefusalCode.APPLICATION_CLOSED


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_concurrent_requests_never_overbook_a_window(backend: Backend, world: World) -> None:
    await _home_hours(
        backend, ScheduleTemplate.home_visits("A-T1", 0, dt.time(12), dt.time(14), capacity=3)
    )
    ids = await _patients(backend, world, 12)

    results = await asyncio.gather(
        *(_visit(backend, pid, at(MONDAY, 10)) for pid in ids), return_exceptions=True
    )

    booked = [r for r in results if isinstance(r, HomeVisitView)]
    refused = [r for r in results if isinstance(r, Refusal)]
    assert len(booked) == 3
    assert len(refused) == 9
    assert {r.code for r in refused} == {RefusalCode.HOME_VISITS_FULL}
    async with backend.engine.connect() as conn:
        count = select(func.count()).select_from(orm.home_visits)
        assert (await conn.execute(count)).scalar_one() == 3


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_one_patient_from_two_channels_at_once_gets_one_request(
    backend: Backend, world: World
) -> None:
    results = await asyncio.gather(
        *(_visit(backend, world.alice.id or 0, at(MONDAY, 10)) for _ in range(5)),
        return_exceptions=True,
    )

    assert sum(isinstance(r, HomeVisitView) for r in results) == 1
    assert {r.code for r in results if isinstance(r, Refusal)} == {RefusalCode.HOME_VISIT_EXISTS}
