"""Applications: one view over every request, the state machine, append-only history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, text

from backend.bootstrap import Backend
from backend.domain.refusals import Refusal, RefusalCode, RefusalGroundNotAllowed
from backend.domain.statuses import (
    Actor,
    ApplicationStatus,
    InvalidTransition,
    ServiceType,
    TransitionNotAllowed,
)
from backend.ports import FixedClock
from backend.services import applications, booking, certificates
from backend.services.home_visit import HomeVisitRequest, request_home_visit
from tests.backend.world import World, at, build_world


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


async def _booked_number(backend: Backend, world: World, clock: FixedClock) -> str:
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    return view.application_number


async def test_every_request_is_listed_newest_first_with_type_status_and_deadline(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    alice = world.alice.id or 0
    await _booked_number(backend, world, clock)
    clock.advance(dt.timedelta(minutes=1))
    await request_home_visit(
        backend.uow(),
        alice,
        HomeVisitRequest(reason="Қызба", symptoms="", contact_phone="+77011234501"),
        now=clock.now(),
    )
    clock.advance(dt.timedelta(minutes=1))
    await certificates.request_certificate(
        backend.uow(), alice, ServiceType.STATEMENT_TB, now=clock.now()
    )

    listed = await applications.list_applications(backend.uow(), alice)

    assert [a.service for a in listed] == [
        ServiceType.STATEMENT_TB,
        ServiceType.HOME_VISIT,
        ServiceType.APPOINTMENT,
    ]
    assert all(a.status is ApplicationStatus.REGISTERED for a in listed)
    assert listed[0].deadline == clock.now() + dt.timedelta(minutes=30)
    assert await applications.list_applications(backend.uow(), world.bob.id or 0) == []


async def test_details_show_the_history_and_the_appointment(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    number = await _booked_number(backend, world, clock)

    details = await applications.application_details(
        backend.uow(), world.alice.id or 0, number.lower()
    )

    assert details.appointment is not None
    assert details.appointment.doctor.code == "A-T1"
    assert [(h.seq, h.from_status, h.to_status, h.actor) for h in details.history] == [
        (1, None, ApplicationStatus.SUBMITTED, Actor.PATIENT),
        (2, ApplicationStatus.SUBMITTED, ApplicationStatus.REGISTERED, Actor.SYSTEM),
    ]


async def test_another_patients_application_is_not_found(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    number = await _booked_number(backend, world, clock)

    with pytest.raises(Refusal) as refused:
        await applications.application_details(backend.uow(), world.bob.id or 0, number)

    assert refused.value.code is RefusalCode.APPLICATION_NOT_FOUND


async def test_the_clinic_moves_an_application_along_and_history_records_the_actor(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    number = await _booked_number(backend, world, clock)

    await applications.change_status(
        backend.uow(), number, ApplicationStatus.COMPLETED, actor=Actor.CLINIC, now=clock.now()
    )

    details = await applications.application_details(backend.uow(), world.alice.id or 0, number)
    assert details.summary.status is ApplicationStatus.COMPLETED
    assert details.history[-1].actor is Actor.CLINIC


async def test_a_transition_outside_the_state_machine_is_refused_and_nothing_changes(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    number = await _booked_number(backend, world, clock)
    await applications.change_status(
        backend.uow(), number, ApplicationStatus.COMPLETED, actor=Actor.CLINIC, now=clock.now()
    )

    with pytest.raises(InvalidTransition):
        await applications.change_status(
            backend.uow(),
            number,
            ApplicationStatus.IN_PROGRESS,
            actor=Actor.OPERATOR,
            now=clock.now(),
        )

    details = await applications.application_details(backend.uow(), world.alice.id or 0, number)
    assert details.summary.status is ApplicationStatus.COMPLETED
    assert len(details.history) == 3


async def test_a_refusal_must_name_a_legal_ground_and_frees_the_slot(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    number = await _booked_number(backend, world, clock)
    with pytest.raises(InvalidTransition):
        await applications.change_status(
            backend.uow(), number, ApplicationStatus.REFUSED, actor=Actor.CLINIC, now=clock.now()
        )
    with pytest.raises(InvalidTransition):
        await applications.change_status(
            backend.uow(),
            number,
            ApplicationStatus.REFUSED,
            actor=Actor.CLINIC,
            now=clock.now(),
            reason=RefusalCode.SLOT_TAKEN,
        )

    refused = await applications.change_status(
        backend.uow(),
        number,
        ApplicationStatus.REFUSED,
        actor=Actor.CLINIC,
        now=clock.now(),
        reason=RefusalCode.UNRELIABLE_DATA,
    )

    assert refused.refusal is RefusalCode.UNRELIABLE_DATA
    free = await booking.free_slots(
        backend.uow(),
        world.bob.id or 0,
        world.doctor_a.id or 0,
        dt.date(2026, 11, 24),
        now=clock.now(),
    )
    assert world.slots_a[0].id in [s.id for s in free]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE application_status_history SET note = 'x'", "DELETE FROM application_status_history"],
)
async def test_status_history_is_append_only_in_the_database(
    backend: Backend, world: World, clock: FixedClock, statement: str
) -> None:
    number = await _booked_number(backend, world, clock)

    with pytest.raises(Exception, match="append-only"):
        async with backend.engine.begin() as conn:
            await conn.execute(text(statement))

    details = await applications.application_details(backend.uow(), world.alice.id or 0, number)
    assert len(details.history) == 2
    assert details.history[-1].note is None


async def test_027_certificate_needs_attachment_but_registry_statements_do_not(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    carol = world.carol.id or 0
    with pytest.raises(Refusal) as refused:
        await certificates.request_certificate(
            backend.uow(), carol, ServiceType.CERTIFICATE_027, now=clock.now()
        )
    assert refused.value.code is RefusalCode.NOT_ATTACHED_HERE

    statement = await certificates.request_certificate(
        backend.uow(), carol, ServiceType.STATEMENT_NARCOLOGY, now=clock.now()
    )

    assert statement.status is ApplicationStatus.REGISTERED


async def test_027_requested_after_hours_is_processed_on_the_next_working_day(
    backend: Backend, world: World
) -> None:
    summary = await certificates.request_certificate(
        backend.uow(),
        world.alice.id or 0,
        ServiceType.CERTIFICATE_027,
        now=at(dt.date(2026, 11, 28), 15),  # Saturday after 14:00 closing
    )

    assert summary.status is ApplicationStatus.NEXT_WORKING_DAY
    assert summary.deadline == at(dt.date(2026, 11, 30), 8, 30)


async def test_a_service_that_is_not_a_certificate_cannot_be_requested_as_one(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    with pytest.raises(Refusal) as refused:
        await certificates.request_certificate(
            backend.uow(), world.alice.id or 0, ServiceType.HOME_VISIT, now=clock.now()
        )

    assert refused.value.code is RefusalCode.INVALID_INPUT


async def test_the_list_carries_each_active_appointments_start_in_one_query(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    """Issue 10 part 3: the list shows when an appointment is, read in one query (not N+1)."""
    first = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    second = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[1].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    certificate = await certificates.request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.CERTIFICATE_027, now=clock.now()
    )
    await booking.cancel(
        backend.uow(), world.alice.id or 0, second.appointment_id, now=clock.now()
    )

    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sync_engine = backend.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        listed = await applications.list_applications(backend.uow(), world.alice.id or 0)
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)

    by_number = {a.number: a for a in listed}
    assert by_number[first.application_number].appointment_at == world.slots_a[0].starts_at
    assert by_number[second.application_number].appointment_at is None  # cancelled
    assert by_number[certificate.number].appointment_at is None
    # one query for every appointment start, not one per application (no N+1)
    assert sum("FROM appointments" in s for s in statements) == 1, statements
    assert by_number[first.application_number].pending_deadline is None
    assert by_number[certificate.number].pending_deadline == certificate.deadline
    assert not by_number[certificate.number].is_late(certificate.deadline)
    assert by_number[certificate.number].is_late(certificate.deadline + dt.timedelta(seconds=1))


# --- who may do what (issue 10 part 4) ---------------------------------------------------------


async def _history(backend: Backend, world: World, number: str) -> list[tuple[object, ...]]:
    details = await applications.application_details(backend.uow(), world.alice.id or 0, number)
    return [(h.seq, h.from_status, h.to_status, h.actor, h.reason) for h in details.history]


@pytest.mark.parametrize(
    "target",
    [ApplicationStatus.COMPLETED, ApplicationStatus.IN_PROGRESS, ApplicationStatus.NO_SHOW],
)
async def test_a_patient_cannot_complete_take_into_work_or_mark_a_no_show(
    backend: Backend, world: World, clock: FixedClock, target: ApplicationStatus
) -> None:
    number = await _booked_number(backend, world, clock)
    before = await _history(backend, world, number)

    with pytest.raises(TransitionNotAllowed) as caught:
        await applications.change_status(
            backend.uow(), number, target, actor=Actor.PATIENT, now=clock.now()
        )

    assert (caught.value.actor, caught.value.service) == (Actor.PATIENT, ServiceType.APPOINTMENT)
    assert await _history(backend, world, number) == before


async def test_the_1414_operator_cannot_refuse_but_may_cancel_on_the_patients_request(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    number = await _booked_number(backend, world, clock)
    with pytest.raises(TransitionNotAllowed):
        await applications.change_status(
            backend.uow(),
            number,
            ApplicationStatus.REFUSED,
            actor=Actor.OPERATOR,
            now=clock.now(),
            reason=RefusalCode.UNRELIABLE_DATA,
        )

    cancelled = await applications.change_status(
        backend.uow(), number, ApplicationStatus.CANCELLED, actor=Actor.OPERATOR, now=clock.now()
    )

    assert cancelled.status is ApplicationStatus.CANCELLED
    assert (await _history(backend, world, number))[-1][2:4] == (
        ApplicationStatus.CANCELLED,
        Actor.OPERATOR,
    )


async def test_the_clinic_records_a_missed_appointment_as_no_show(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    number = await _booked_number(backend, world, clock)

    summary = await applications.change_status(
        backend.uow(), number, ApplicationStatus.NO_SHOW, actor=Actor.CLINIC, now=clock.now()
    )

    assert summary.status is ApplicationStatus.NO_SHOW
    details = await applications.application_details(backend.uow(), world.alice.id or 0, number)
    assert details.summary.status is ApplicationStatus.NO_SHOW
    assert details.history[-1].to_status is ApplicationStatus.NO_SHOW
    assert details.history[-1].actor is Actor.CLINIC
    with pytest.raises(InvalidTransition):  # final
        await applications.change_status(
            backend.uow(), number, ApplicationStatus.COMPLETED, actor=Actor.CLINIC, now=clock.now()
        )


async def _home_visit_number(backend: Backend, world: World, clock: FixedClock) -> str:
    view = await request_home_visit(
        backend.uow(),
        world.alice.id or 0,
        HomeVisitRequest(reason="Қызба", symptoms="", contact_phone="+77011234501"),
        now=clock.now(),
    )
    return view.application_number


async def test_a_home_visit_has_no_no_show_and_no_consent_ground(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    number = await _home_visit_number(backend, world, clock)
    before = await _history(backend, world, number)

    with pytest.raises(TransitionNotAllowed):
        await applications.change_status(
            backend.uow(), number, ApplicationStatus.NO_SHOW, actor=Actor.CLINIC, now=clock.now()
        )
    with pytest.raises(RefusalGroundNotAllowed) as caught:
        await applications.change_status(
            backend.uow(),
            number,
            ApplicationStatus.REFUSED,
            actor=Actor.CLINIC,
            now=clock.now(),
            reason=RefusalCode.NO_SUBJECT_CONSENT,
        )

    assert caught.value.service is ServiceType.HOME_VISIT
    assert await _history(backend, world, number) == before
    refused = await applications.change_status(
        backend.uow(),
        number,
        ApplicationStatus.REFUSED,
        actor=Actor.CLINIC,
        now=clock.now(),
        reason=RefusalCode.NOT_ATTACHED_HERE,
    )
    assert refused.refusal is RefusalCode.NOT_ATTACHED_HERE


async def test_a_registry_statement_is_answered_by_the_system_not_the_clinic(
    backend: Backend, world: World, clock: FixedClock
) -> None:
    statement = await certificates.request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.STATEMENT_TB, now=clock.now()
    )
    with pytest.raises(TransitionNotAllowed):
        await applications.change_status(
            backend.uow(),
            statement.number,
            ApplicationStatus.COMPLETED,
            actor=Actor.CLINIC,
            now=clock.now(),
        )
    with pytest.raises(RefusalGroundNotAllowed):
        await applications.change_status(
            backend.uow(),
            statement.number,
            ApplicationStatus.REFUSED,
            actor=Actor.SYSTEM,
            now=clock.now(),
            reason=RefusalCode.NOT_ATTACHED_HERE,
        )

    refused = await applications.change_status(
        backend.uow(),
        statement.number,
        ApplicationStatus.REFUSED,
        actor=Actor.SYSTEM,
        now=clock.now(),
        reason=RefusalCode.NO_SUBJECT_CONSENT,
    )

    assert (refused.status, refused.refusal) == (
        ApplicationStatus.REFUSED,
        RefusalCode.NO_SUBJECT_CONSENT,
    )
