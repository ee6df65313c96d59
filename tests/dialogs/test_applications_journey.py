"""Journey 6, my applications (R-33..R-35), through the engine."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.domain.refusals import RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications, booking
from backend.services.certificates import request_certificate
from backend.services.home_visit import HomeVisitRequest, request_home_visit
from backend.services.schedules import ScheduleTemplate, save_templates
from tests.backend.world import World, at
from tests.dialogs.harness import Chat, RecordingSender, sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _book(backend: Backend, world: World, clock: FixedClock) -> str:
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    return view.application_number


async def _home_visit(backend: Backend, world: World, clock: FixedClock) -> str:
    request = HomeVisitRequest(reason="қызба", symptoms="", contact_phone="+77011234501")
    view = await request_home_visit(backend.uow(), world.alice.id or 0, request, now=clock.now())
    return view.application_number


async def _open(chat: Chat, sender: RecordingSender, world: World) -> None:
    await sign_in(chat, sender, world.alice.iin)
    await chat.tap("apps")


async def test_no_applications_yet(chat: Chat, sender: RecordingSender, world: World) -> None:
    await _open(chat, sender, world)

    assert chat.state == "apps.list"
    assert "You have no applications yet." in chat.text("en")
    assert chat.last is not None
    assert {"refresh", "nav.menu"} <= set(chat.last.option_ids)


async def test_list_newest_first_and_appointment_details_with_history(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    booked = await _book(backend, world, clock)
    clock.advance(dt.timedelta(minutes=5))
    visit = await _home_visit(backend, world, clock)
    await _open(chat, sender, world)

    assert chat.last is not None
    assert chat.last.option_ids[:2] == (f"app.{visit}", f"app.{booked}")
    listing = chat.text("en")
    assert listing.index(visit) < listing.index(booked)
    # issue 10 part 3: the appointment's own date and time, not its processing deadline
    assert (
        f"{booked}: Appointment with a doctor on Tuesday, 24 November, 09:00. Registered."
    ) in listing
    assert f"{visit}: Doctor's home visit. Registered." in listing
    assert "Deadline" not in listing

    await chat.tap(f"app.{booked}")

    assert chat.state == "apps.details"
    details = chat.text("en")
    assert f"Application {booked}: Appointment with a doctor." in details
    assert "Status: Registered." in details
    assert "Submitted: Monday, 23 November, 10:00." in details
    assert "Deadline" not in details  # an appointment owes no result by a deadline
    assert "Late" not in details
    assert (
        "Appointment: Tuesday, 24 November, 09:00, Akhmetova A. S. (therapist), room 101, "
        "Polyclinic No. 1."
    ) in details
    assert "History:" in details
    assert "Monday, 23 November, 10:00: Submitted (patient)" in details
    assert "Monday, 23 November, 10:00: Registered (system)" in details
    assert "refresh" in chat.last.option_ids


async def test_home_visit_details(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    visit = await _home_visit(backend, world, clock)
    await _open(chat, sender, world)

    await chat.tap(f"app.{visit}")

    details = chat.text("en")
    assert "Address: Астана, Мәңгілік Ел, 10, 5" in details
    assert "Doctor: Akhmetova A. S." in details
    assert "Planned arrival: Monday, 23 November, 12:00–14:00." in details
    assert chat.last is not None and chat.last.sensitive


async def test_a_refused_application_shows_its_ground_and_1414(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    booked = await _book(backend, world, clock)
    clock.advance(dt.timedelta(minutes=10))
    await applications.change_status(
        backend.uow(),
        booked,
        ApplicationStatus.REFUSED,
        actor=Actor.CLINIC,
        now=clock.now(),
        reason=RefusalCode.UNRELIABLE_DATA,
    )
    await _open(chat, sender, world)
    assert f"{booked}: Appointment with a doctor. Reasoned refusal." in chat.text("en")

    await chat.tap(f"app.{booked}")

    details = chat.text("en")
    assert "Status: Reasoned refusal." in details
    assert (
        "Reasoned refusal: The documents or data you submitted were found to be unreliable. "
        "Information: 1414, 8-800-080-7777 (free)."
    ) in details
    assert "Monday, 23 November, 10:10: Reasoned refusal (clinic)" in details
    assert "Appointment:" not in details  # the slot was freed with the refusal


async def test_refresh_shows_changes_on_the_list_and_the_details(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    booked = await _book(backend, world, clock)
    await _open(chat, sender, world)
    clock.advance(dt.timedelta(minutes=1))
    later = await request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.CERTIFICATE_027, now=clock.now()
    )
    assert later.number not in chat.text("en")

    await chat.tap("refresh")

    assert chat.state == "apps.list"
    assert later.number in chat.text("en")

    await chat.tap(f"app.{booked}")
    await applications.change_status(
        backend.uow(), booked, ApplicationStatus.COMPLETED, actor=Actor.CLINIC, now=clock.now()
    )
    await chat.tap("refresh")

    assert chat.state == "apps.details"
    assert "Status: Completed." in chat.text("en")


async def test_a_typed_number_opens_the_details_and_a_foreign_one_does_not(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    booked = await _book(backend, world, clock)
    bobs = await request_certificate(
        backend.uow(), world.bob.id or 0, ServiceType.STATEMENT_TB, now=clock.now()
    )
    await _open(chat, sender, world)

    await chat.type(bobs.number)
    assert chat.state == "apps.list"
    assert chat.last is not None and chat.last.error is not None

    await chat.type(booked.lower().replace("-", ""))
    assert chat.state == "apps.details"
    assert f"Application {booked}" in chat.text("en")


async def test_many_applications_are_paged(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    numbers = []
    for _ in range(8):
        clock.advance(dt.timedelta(minutes=1))
        summary = await request_certificate(
            backend.uow(), world.alice.id or 0, ServiceType.STATEMENT_TB, now=clock.now()
        )
        numbers.append(summary.number)
    await _open(chat, sender, world)
    assert chat.last is not None
    assert f"app.{numbers[-1]}" in chat.last.option_ids
    assert f"app.{numbers[0]}" not in chat.last.option_ids

    await chat.tap("more")

    assert f"app.{numbers[0]}" in chat.last.option_ids
    assert "more" not in chat.last.option_ids
    await chat.tap("newer")
    assert f"app.{numbers[-1]}" in chat.last.option_ids


async def test_a_certificate_shows_its_deadline_while_owed_and_is_late_after_it_with_1414(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    """Issue 10 part 3, R-16: a deadline only while a result is owed; past it, late and 1414."""
    requested = await request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.CERTIFICATE_027, now=clock.now()
    )
    number = requested.number
    await _open(chat, sender, world)

    line = f"{number}: Certificate from the PHC clinic (form 027/u). Registered."
    assert f"{line} Deadline: Monday, 23 November, 10:30." in chat.text("en")
    await chat.tap(f"app.{number}")
    assert "Deadline: Monday, 23 November, 10:30." in chat.text("en")
    assert "Late" not in chat.text("en")

    clock.advance(dt.timedelta(minutes=31))  # 10:31: the deadline has passed, no result
    await chat.tap("refresh")

    card = chat.text("en")
    assert (
        "Late: the deadline Monday, 23 November, 10:30 has passed without a result. Please "
        "call the contact centre: 1414, 8-800-080-7777 (free)."
    ) in card
    assert "Deadline: 23 November" not in card
    assert "Заявка просрочена" in chat.text("ru") and "1414" in chat.text("ru")
    assert "Өтінім кешікті" in chat.text("kk")
    await chat.tap("nav.back")
    assert chat.state == "apps.list"
    assert f"{line} Late: due Monday, 23 November, 10:30; call 1414." in chat.text("en")

    await applications.change_status(
        backend.uow(), number, ApplicationStatus.COMPLETED, actor=Actor.CLINIC, now=clock.now()
    )
    await chat.tap("refresh")

    listing = chat.text("en")
    assert f"{number}: Certificate from the PHC clinic (form 027/u). Completed." in listing
    assert "Late" not in listing and "Deadline" not in listing


async def test_a_home_visit_carried_to_the_next_working_day_shows_that_deadline(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    """A carried-over request still owes its registration: the deadline is shown until then."""
    clock.current = at(dt.date(2026, 11, 23), 19)  # after the cut-off
    visit = await _home_visit(backend, world, clock)
    await _open(chat, sender, world)

    assert (
        f"{visit}: Doctor's home visit. Will be processed on the next working day. "
        "Deadline: Tuesday, 24 November, 08:30."
    ) in chat.text("en")

    await applications.change_status(
        backend.uow(), visit, ApplicationStatus.REGISTERED, actor=Actor.CLINIC, now=clock.now()
    )
    await chat.tap("refresh")
    assert f"{visit}: Doctor's home visit. Registered." in chat.text("en")
    assert "Deadline" not in chat.text("en")


async def test_a_clinic_refusal_for_not_being_attached_names_this_clinic(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    """NOT_ATTACHED_HERE decided by a clinic: attached elsewhere, so «this» clinic is right."""
    booked = await _book(backend, world, clock)
    await applications.change_status(
        backend.uow(),
        booked,
        ApplicationStatus.REFUSED,
        actor=Actor.CLINIC,
        now=clock.now(),
        reason=RefusalCode.NOT_ATTACHED_HERE,
    )
    await _open(chat, sender, world)
    await chat.tap(f"app.{booked}")

    details = chat.text("en")
    assert "You are not attached to this primary health care organisation." in details
    assert "any PHC clinic" not in details


# --- issue 10: the patient cancels an open home-visit request --------------------------------


async def test_a_home_visit_is_cancelled_after_a_confirmation_and_its_place_is_freed(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    async with backend.uow() as uow:  # one place on Monday 12:00-14:00
        await save_templates(
            uow, [ScheduleTemplate.home_visits("A-T1", 0, dt.time(12), dt.time(14), capacity=1)]
        )
        await uow.commit()
    visit = await _home_visit(backend, world, clock)
    await _open(chat, sender, world)
    await chat.tap(f"app.{visit}")
    assert chat.last is not None and "cancel" in chat.last.option_ids

    await chat.tap("cancel")
    assert chat.state == "apps.cancel_visit"
    question = chat.text("en")
    assert f"Cancel the home-visit request No. {visit}?" in question
    assert "Planned arrival: Monday, 23 November, 12:00–14:00." in question
    await chat.tap("no")
    assert chat.state == "apps.details"
    assert "Nothing has changed: the request is kept." in chat.text("en")
    [kept] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert kept.status is ApplicationStatus.REGISTERED

    await chat.tap("cancel")
    await chat.tap("yes")

    assert chat.state == "apps.details"
    card = chat.text("en")
    assert f"Cancelled: the home-visit request No. {visit}." in card
    assert "Status: Cancelled." in card
    assert "Cancelled (patient)" in card
    assert chat.last is not None and "cancel" not in chat.last.option_ids
    # The place is free again: bob gets the same window.
    request = HomeVisitRequest(reason="қызба", symptoms="", contact_phone="+77011234502")
    bobs = await request_home_visit(backend.uow(), world.bob.id or 0, request, now=clock.now())
    assert bobs.window_start.astimezone(world.clinic_a.tz).hour == 12


async def test_a_completed_home_visit_cannot_be_cancelled(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    visit = await _home_visit(backend, world, clock)
    await _open(chat, sender, world)
    await chat.tap(f"app.{visit}")
    await chat.tap("cancel")  # the card was open when the doctor closed the visit
    await applications.change_status(
        backend.uow(), visit, ApplicationStatus.COMPLETED, actor=Actor.CLINIC, now=clock.now()
    )

    await chat.tap("yes")

    assert chat.state == "apps.details"
    assert "The application is already completed or cancelled." in chat.text("en")
    assert "Status: Completed." in chat.text("en")
    assert chat.last is not None and "cancel" not in chat.last.option_ids


async def test_an_appointment_card_has_no_home_visit_cancel(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    booked = await _book(backend, world, clock)
    await _open(chat, sender, world)

    await chat.tap(f"app.{booked}")

    assert chat.last is not None and "cancel" not in chat.last.option_ids
