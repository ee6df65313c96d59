"""Journey 4, my appointments: list, details, cancel, reschedule, through `Engine.handle`."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.domain.model import Patient
from backend.ports import FixedClock
from backend.services import applications, booking
from backend.services.booking import AppointmentView
from dialogs.engine.screen import Screen
from tests.backend.world import World, build_world
from tests.dialogs.harness import Chat, RecordingSender, make_engine, sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TUESDAY = dt.date(2026, 11, 24)


async def _signed_in(chat: Chat, sender: RecordingSender, patient: Patient) -> None:
    screen = await sign_in(chat, sender, patient.iin)
    assert screen.state == "menu"


async def _book(backend: Backend, clock: FixedClock, patient: Patient, slot_id: int) -> str:
    view = await booking.book(
        backend.uow(), patient.id or 0, slot_id, now=clock.now(), policy=backend.policy
    )
    return view.application_number


async def _upcoming(
    backend: Backend, clock: FixedClock, patient: Patient
) -> list[AppointmentView]:
    return await booking.upcoming_appointments(backend.uow(), patient.id or 0, now=clock.now())


async def _free(backend: Backend, clock: FixedClock, world: World) -> list[int]:
    slots = await booking.free_slots(
        backend.uow(), world.alice.id or 0, world.doctor_a.id or 0, TUESDAY, now=clock.now()
    )
    return [s.id or 0 for s in slots]


def _items(screen: Screen, prefix: str) -> list[str]:
    return [i for i in screen.option_ids if i.startswith(prefix)]


async def _open_first(chat: Chat) -> Screen:
    screen = await chat.tap("appts")
    return await chat.tap(_items(screen, "ap.")[0])


async def test_an_empty_list_says_so_and_offers_booking(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)

    screen = await chat.tap("appts")

    assert screen.state == "appts.list"
    assert _items(screen, "ap.") == []
    assert "You have no upcoming appointments." in chat.text()
    assert (await chat.tap("book")).state == "book.specialty"


async def test_the_list_shows_date_time_and_doctor_and_opens_the_details(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    cardio = await _book(backend, clock, world.alice, world.slots_cardio[0].id or 0)
    therapist = await _book(backend, clock, world.alice, world.slots_a[1].id or 0)
    views = await _upcoming(backend, clock, world.alice)
    await _signed_in(chat, sender, world.alice)

    screen = await chat.tap("appts")

    assert _items(screen, "ap.") == [f"ap.{v.appointment_id}" for v in views]
    text = chat.text()
    assert "Tuesday, 24 November, 09:20, Akhmetova A. S." in text
    assert "Tuesday, 24 November, 14:00, Kim V." in text
    assert text.index("09:20") < text.index("14:00")

    screen = await chat.tap(f"ap.{views[1].appointment_id}")

    assert screen.state == "appts.detail"
    assert {"move", "cancel"} <= set(screen.option_ids)
    text = chat.text()
    assert f"Application No. {cardio}, status: Registered." in text
    assert "Kim V., cardiologist" in text
    assert "room 205" in text
    assert therapist not in text


async def test_a_typed_application_number_opens_its_appointment(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    number = await _book(backend, clock, world.alice, world.slots_a[0].id or 0)
    await _signed_in(chat, sender, world.alice)
    await chat.tap("appts")

    assert (await chat.type("ZZZZ-ZZZZ")).error is not None
    screen = await chat.type(number.lower().replace("-", ""))

    assert screen.state == "appts.detail"
    assert number in chat.text()


async def test_cancel_no_changes_nothing(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _book(backend, clock, world.alice, world.slots_a[0].id or 0)
    await _signed_in(chat, sender, world.alice)
    await _open_first(chat)

    screen = await chat.tap("cancel")
    assert screen.state == "appts.cancel"
    assert {"yes", "no"} <= set(screen.option_ids)
    assert "Cancel this appointment?" in chat.text()

    screen = await chat.tap("no")

    assert screen.state == "appts.detail"
    assert "Nothing has changed" in chat.text()
    assert len(await _upcoming(backend, clock, world.alice)) == 1
    assert world.slots_a[0].id not in await _free(backend, clock, world)


async def test_cancel_yes_cancels_and_frees_the_slot(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    number = await _book(backend, clock, world.alice, world.slots_a[0].id or 0)
    await _signed_in(chat, sender, world.alice)
    await _open_first(chat)
    await chat.tap("cancel")

    screen = await chat.tap("yes")

    assert screen.state == "appts.list"
    assert "nav.back" not in screen.option_ids
    assert (
        f"Cancelled: the appointment of Tuesday, 24 November, 09:00, application No. {number}."
        in chat.text()
    )
    assert _items(screen, "ap.") == []
    assert await _upcoming(backend, clock, world.alice) == []
    assert world.slots_a[0].id in await _free(backend, clock, world)
    details = await applications.application_details(backend.uow(), world.alice.id or 0, number)
    assert details.summary.status.value == "cancelled"


async def test_an_appointment_cancelled_elsewhere_is_not_cancelled_twice(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _book(backend, clock, world.alice, world.slots_a[0].id or 0)
    await _signed_in(chat, sender, world.alice)
    await _open_first(chat)
    await chat.tap("cancel")
    [view] = await _upcoming(backend, clock, world.alice)
    await booking.cancel(backend.uow(), world.alice.id or 0, view.appointment_id, now=clock.now())

    screen = await chat.tap("yes")

    assert screen.state == "appts.list"
    assert "already cancelled or over" in chat.text()


async def test_reschedule_moves_to_another_time_keeping_the_application_number(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    number = await _book(backend, clock, world.alice, world.slots_a[0].id or 0)
    await _signed_in(chat, sender, world.alice)
    await _open_first(chat)

    screen = await chat.tap("move")  # issue 15: the earliest free day's times at once
    assert screen.state == "appts.slot"
    assert _items(screen, "slot.") == [f"slot.{s.id}" for s in world.slots_a[1:]]
    screen = await chat.tap("days")  # and the days one tap away
    assert screen.state == "appts.day"
    assert _items(screen, "day.") == ["day.2026-11-24"]
    screen = await chat.tap("day.2026-11-24")
    assert screen.state == "appts.slot"
    assert _items(screen, "slot.") == [f"slot.{s.id}" for s in world.slots_a[1:]]
    screen = await chat.tap(f"slot.{world.slots_a[2].id}")
    assert screen.state == "appts.confirm"
    text = chat.text()
    assert "Move your appointment of Tuesday, 24 November, 09:00 to this time?" in text
    assert "Date and time: Tuesday, 24 November, 09:40." in text

    screen = await chat.tap("confirm")

    assert screen.state == "appts.done"
    text = chat.text()
    assert f"Your appointment is moved. Application No. {number}." in text
    assert "Status: Registered." in text
    assert "09:40" in text
    [view] = await _upcoming(backend, clock, world.alice)
    assert view.application_number == number
    assert view.local_start.time() == dt.time(9, 40)
    free = await _free(backend, clock, world)
    assert world.slots_a[0].id in free
    assert world.slots_a[2].id not in free
    assert (await chat.tap("appts")).state == "appts.list"


async def test_a_reschedule_target_taken_meanwhile_changes_nothing(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    number = await _book(backend, clock, world.alice, world.slots_a[0].id or 0)
    await _signed_in(chat, sender, world.alice)
    await _open_first(chat)
    await chat.tap("move")
    await chat.tap(f"slot.{world.slots_a[2].id}")
    await _book(backend, clock, world.bob, world.slots_a[2].id or 0)

    screen = await chat.tap("confirm")

    assert screen.state == "appts.slot"
    assert "just been taken" in chat.text()
    assert f"slot.{world.slots_a[2].id}" not in screen.option_ids
    [view] = await _upcoming(backend, clock, world.alice)
    assert view.application_number == number
    assert view.local_start.time() == dt.time(9, 0)
    assert "Tuesday, 24 November" in chat.text()  # the same day's times, read again


async def test_no_free_day_to_move_to_leaves_the_appointment_as_it_is(
    backend: Backend, clock: FixedClock, sender: RecordingSender
) -> None:
    world = await build_world(backend, slots_per_doctor=1)
    chat = Chat(make_engine(backend, sender))
    await _book(backend, clock, world.alice, world.slots_a[0].id or 0)
    await _signed_in(chat, sender, world.alice)
    await _open_first(chat)

    screen = await chat.tap("move")

    assert screen.state == "appts.slot"
    assert _items(screen, "slot.") == []
    assert "days" not in screen.option_ids
    assert "Your appointment stays as it is." in chat.text()
    assert (await chat.tap("nav.back")).state == "appts.detail"


@pytest.mark.parametrize(
    ("path", "state", "forged"),
    [
        ((), "appts.list", ["ap.999", "ap.", "ap.x", "slot.1", "yes"]),
        (("ap",), "appts.detail", ["yes", "ap.1", "moved", "cancel.1"]),
        (("ap", "cancel"), "appts.cancel", ["cancel", "move", "ap.1", "yes.1"]),
        (("ap", "move"), "appts.slot", ["slot.999", "slot.", "days.1", "confirm", "other"]),
        (("ap", "move", "days"), "appts.day", ["day.2026-11-23", "day.x", "other", "slot.1"]),
        (("ap", "move", "slot"), "appts.confirm", ["yes", "slot.2", "move"]),
    ],
)
async def test_forged_ids_and_random_text_on_every_appointments_screen_are_retried(
    *,
    backend: Backend,
    clock: FixedClock,
    chat: Chat,
    sender: RecordingSender,
    world: World,
    path: tuple[str, ...],
    state: str,
    forged: list[str],
) -> None:
    await _book(backend, clock, world.alice, world.slots_a[0].id or 0)
    await _signed_in(chat, sender, world.alice)
    shown = await chat.tap("appts")
    concrete = {"day": "day.2026-11-24", "slot": f"slot.{world.slots_a[3].id}"}
    for step in path:
        option_id = _items(shown, "ap.")[0] if step == "ap" else concrete.get(step, step)
        shown = await chat.tap(option_id)
    assert shown.state == state
    data = await chat.data()

    for answer in [*forged, "hello?"]:
        screen = await (chat.type(answer) if answer == "hello?" else chat.forge(answer))
        assert screen.state == state, answer
        assert screen.error is not None, answer
        assert _items(screen, "") == _items(shown, ""), answer
        assert await chat.data() == data, answer
    assert len(await _upcoming(backend, clock, world.alice)) == 1
