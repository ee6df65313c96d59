"""Issue 14: a parent acts for the children the register records them as representing, only
while each is under 18 (S3/S4 row 8); the rule is the backend's, whatever the dialog sends."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import (
    applications,
    booking,
    certificates,
    home_visit,
    notifications,
    patients,
)
from backend.services.home_visit import HomeVisitRequest
from backend.services.importer import import_path
from tests.backend.children import Children, add_children
from tests.backend.world import World, build_world

REQUEST = HomeVisitRequest(reason="Қызба", symptoms="38.5", contact_phone="+77011234501")


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


@pytest.fixture
async def kids(backend: Backend, world: World) -> Children:
    return await add_children(backend, world)


async def test_dependants_are_the_represented_children_under_18(
    backend: Backend, world: World, kids: Children, clock: FixedClock
) -> None:
    today = clock.now().date()
    found = await patients.dependants(backend.uow(), world.alice.id or 0, today=today)
    # Ерлан turned 18 today: his representation ended on its own.
    assert [(d.patient_id, d.short_name) for d in found] == [
        (kids.ali.id, "Әли С."),
        (kids.dana.id, "Дана С."),
    ]
    the_day_before = await patients.dependants(
        backend.uow(), world.alice.id or 0, today=today - dt.timedelta(days=1)
    )
    assert kids.erlan.id in {d.patient_id for d in the_day_before}
    assert await patients.dependants(backend.uow(), world.dave.id or 0, today=today) == []


async def test_a_parent_books_a_paediatrician_at_the_childs_clinic(
    backend: Backend, world: World, kids: Children, clock: FixedClock
) -> None:
    alice, ali = world.alice.id or 0, kids.ali.id or 0
    names = await booking.specialties_for(backend.uow(), alice, now=clock.now(), for_patient=ali)
    assert "paediatrician" in [s.code for s in names]  # clinic B, the child's age
    own = await booking.specialties_for(backend.uow(), alice, now=clock.now())
    assert "paediatrician" not in [s.code for s in own]  # clinic A, an adult
    view = await booking.book(
        backend.uow(),
        alice,
        kids.slots_paed_b[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
        for_patient=ali,
    )
    assert view.clinic.code == "B"
    details = await applications.application_details(
        backend.uow(), alice, view.application_number, today=clock.now().date()
    )
    assert details.summary.for_name == "Әли С."
    assert details.history[0].note == f"submitted by the legal representative, patient #{alice}"
    listed = await applications.list_applications(backend.uow(), alice, today=clock.now().date())
    assert [(a.number, a.for_name) for a in listed] == [(view.application_number, "Әли С.")]
    # The child's application is the child's: the parent's own list without `today` is empty.
    assert await applications.list_applications(backend.uow(), alice) == []
    # The parent cancels it; the slot is free again.
    await booking.cancel(backend.uow(), alice, view.appointment_id, now=clock.now())
    again = await applications.application_details(
        backend.uow(), alice, view.application_number, today=clock.now().date()
    )
    assert again.summary.status is ApplicationStatus.CANCELLED


async def test_a_parent_reschedules_the_childs_appointment(
    backend: Backend, world: World, kids: Children, clock: FixedClock
) -> None:
    alice, ali = world.alice.id or 0, kids.ali.id or 0
    view = await booking.book(
        backend.uow(),
        alice,
        kids.slots_paed_b[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
        for_patient=ali,
    )
    moved = await booking.reschedule(
        backend.uow(), alice, view.appointment_id, kids.slots_paed_b[1].id or 0, now=clock.now()
    )
    assert moved.starts_at == kids.slots_paed_b[1].starts_at
    # Someone else cannot touch it.
    with pytest.raises(Refusal) as refused:
        await booking.cancel(
            backend.uow(), world.bob.id or 0, moved.appointment_id, now=clock.now()
        )
    assert refused.value.code is RefusalCode.APPOINTMENT_NOT_FOUND


@pytest.mark.parametrize("who", ["bobs_son", "erlan", "dave"])
async def test_nobody_acts_for_someone_they_do_not_represent(
    backend: Backend, world: World, kids: Children, clock: FixedClock, who: str
) -> None:
    subject = {"bobs_son": kids.bobs_son, "erlan": kids.erlan, "dave": world.dave}[who]
    alice, other = world.alice.id or 0, subject.id or 0
    now = clock.now()
    calls = [
        booking.specialties_for(backend.uow(), alice, now=now, for_patient=other),
        booking.book(
            backend.uow(),
            alice,
            world.slots_a[0].id or 0,
            now=now,
            policy=backend.policy,
            for_patient=other,
        ),
        home_visit.request_home_visit(backend.uow(), alice, REQUEST, now=now, for_patient=other),
        home_visit.home_visit_terms(backend.uow(), alice, now=now, for_patient=other),
        certificates.request_certificate(
            backend.uow(), alice, ServiceType.CERTIFICATE_027, now=now, for_patient=other
        ),
    ]
    for call in calls:
        with pytest.raises(Refusal) as refused:
            await call
        assert refused.value.code is RefusalCode.NOT_REPRESENTED


async def test_another_childs_application_number_is_not_found(
    backend: Backend, world: World, kids: Children, clock: FixedClock
) -> None:
    bob, son = world.bob.id or 0, kids.bobs_son.id or 0
    visit = await home_visit.request_home_visit(
        backend.uow(), bob, REQUEST, now=clock.now(), for_patient=son
    )
    alice = world.alice.id or 0
    with pytest.raises(Refusal) as refused:
        await applications.application_details(
            backend.uow(), alice, visit.application_number, today=clock.now().date()
        )
    assert refused.value.code is RefusalCode.APPLICATION_NOT_FOUND
    with pytest.raises(Refusal) as refused:
        await home_visit.cancel(backend.uow(), alice, visit.application_number, now=clock.now())
    assert refused.value.code is RefusalCode.APPLICATION_NOT_FOUND
    # Bob, his father, cancels it.
    await home_visit.cancel(backend.uow(), bob, visit.application_number, now=clock.now())


async def test_a_home_visit_for_a_child_goes_to_the_childs_address_and_district(
    backend: Backend, world: World, kids: Children, clock: FixedClock
) -> None:
    alice, dana = world.alice.id or 0, kids.dana.id or 0
    terms = await home_visit.home_visit_terms(
        backend.uow(), alice, now=clock.now(), for_patient=dana
    )
    assert terms.registered_address == "Астана, Абай, 4"
    assert terms.registered_phone == "+77011234501"  # the parent's: Дана has none
    visit = await home_visit.request_home_visit(
        backend.uow(), alice, REQUEST, now=clock.now(), for_patient=dana
    )
    assert visit.address == "Астана, Абай, 4"
    assert visit.doctor is not None and visit.doctor.id == world.doctor_a.id
    # Dana has no channel of her own: a notice about her application goes to her mother.
    await applications.change_status(
        backend.uow(),
        visit.application_number,
        ApplicationStatus.IN_PROGRESS,
        actor=Actor.CLINIC,
        now=clock.now(),
    )
    sent = await notifications.of_patient(backend.uow(), dana)
    assert sent and {n.address for n in sent} == {"+77011234501"}


async def test_statements_are_for_oneself_only(
    backend: Backend, world: World, kids: Children, clock: FixedClock
) -> None:
    with pytest.raises(Refusal) as refused:
        await certificates.request_certificate(
            backend.uow(),
            world.alice.id or 0,
            ServiceType.STATEMENT_TB,
            now=clock.now(),
            for_patient=kids.ali.id,
        )
    assert refused.value.code is RefusalCode.NO_SUBJECT_CONSENT
    made = await certificates.request_certificate(
        backend.uow(),
        world.alice.id or 0,
        ServiceType.CERTIFICATE_027,
        now=clock.now(),
        for_patient=kids.ali.id,
    )
    listed = await applications.list_applications(
        backend.uow(), world.alice.id or 0, today=clock.now().date()
    )
    assert [(a.number, a.for_name) for a in listed] == [(made.number, "Әли С.")]


async def test_an_imported_representation_lets_the_parent_act(backend: Backend) -> None:
    """docs/import.md: `representative_iin` is what the dialogs' "for whom?" offers."""
    from tests.backend.test_importer import CHILD, MOTHER, PILOT_JSON, TODAY

    await import_path(backend, PILOT_JSON, today=TODAY)
    mother = await patients.find_by_iin(backend.uow(), MOTHER)
    child = await patients.find_by_iin(backend.uow(), CHILD)
    assert mother is not None and child is not None
    found = await patients.dependants(backend.uow(), mother.id or 0, today=TODAY)
    assert [d.patient_id for d in found] == [child.id]
