"""Journey 3, booking an appointment (S3), through the public `Engine.handle`."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, event

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.model import Audience, Doctor, Patient, Specialty
from backend.ports import FixedClock
from backend.services import applications, booking
from dialogs.engine.events import Chose
from dialogs.engine.screen import Screen
from tests.backend.world import World, build_world
from tests.dialogs.harness import Chat, RecordingSender, make_engine, sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TUESDAY = "day.2026-11-24"


async def _signed_in(chat: Chat, sender: RecordingSender, patient: Patient) -> None:
    screen = await sign_in(chat, sender, patient.iin)
    assert screen.state == "menu"


async def _to_times(chat: Chat, world: World) -> Screen:
    """Issue 15: the doctor's earliest free day's times (Tuesday's) follow the doctor at once."""
    await chat.tap("book")
    await chat.tap(f"sp.{world.therapist.id}")
    return await chat.tap(f"dr.{world.doctor_a.id}")


def _items(screen: Screen, prefix: str) -> list[str]:
    return [i for i in screen.option_ids if i.startswith(prefix)]


async def _book_for(backend: Backend, clock: FixedClock, patient: Patient, slot_id: int) -> str:
    view = await booking.book(
        backend.uow(), patient.id or 0, slot_id, now=clock.now(), policy=backend.policy
    )
    return view.application_number


async def test_alice_books_specialty_doctor_day_and_time_and_gets_the_number_and_time(
    backend: Backend, chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)

    screen = await chat.tap("book")
    assert screen.state == "book.specialty"
    assert _items(screen, "sp.") == [f"sp.{world.cardiologist.id}", f"sp.{world.therapist.id}"]
    assert "Booking at Polyclinic No. 1" in chat.text()

    screen = await chat.tap(f"sp.{world.therapist.id}")
    assert screen.state == "book.doctor"
    assert _items(screen, "dr.") == [f"dr.{world.doctor_a.id}", f"dr.{world.therapist_a2.id}"]
    assert "Akhmetova A. S." in chat.text()
    assert "Bekova G." in chat.text()

    # Issue 15: no day step; the earliest free day's times, and the other days one tap away.
    screen = await chat.tap(f"dr.{world.doctor_a.id}")
    assert screen.state == "book.slot"
    assert screen.columns == 3
    assert _items(screen, "slot.") == [f"slot.{s.id}" for s in world.slots_a]
    assert "Akhmetova A. S., Tuesday, 24 November: choose a time." in chat.text()
    assert chat.text().split("\n")[1:8] == [
        "Other day", "09:00", "09:20", "09:40", "10:00", "10:20", "10:40",
    ]  # fmt: skip

    screen = await chat.tap("days")
    assert screen.state == "book.day"
    assert _items(screen, "day.") == [TUESDAY]
    assert "Tuesday, 24 November" in chat.text()
    screen = await chat.tap(TUESDAY)  # back to the times, of the day chosen
    assert screen.state == "book.slot"
    assert _items(screen, "slot.") == [f"slot.{s.id}" for s in world.slots_a]
    assert (await chat.tap("nav.back")).state == "book.doctor"  # the days are not a step
    screen = await chat.tap(f"dr.{world.doctor_a.id}")

    screen = await chat.tap(f"slot.{world.slots_a[1].id}")
    assert screen.state == "book.confirm"
    text = chat.text()
    for part in ("Akhmetova A. S.", "therapist", "Polyclinic No. 1", "Room 101"):
        assert part in text
    assert "Tuesday, 24 November, 09:20" in text
    assert "free of charge" in text

    screen = await chat.tap("confirm")

    assert screen.state == "book.done"
    apps = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert len(apps) == 1
    text = chat.text()
    assert f"Application No. {apps[0].number}" in text
    assert "Status: Registered." in text
    assert "Tuesday, 24 November, 09:20" in text
    assert "room 101" in text
    assert "nav.back" not in screen.option_ids  # a finished request: no way back into it
    assert (await chat.tap("appts")).state == "appts.list"


async def test_the_booked_time_is_no_longer_offered(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)
    await _to_times(chat, world)
    await chat.tap(f"slot.{world.slots_a[0].id}")
    await chat.tap("confirm")
    await chat.tap("nav.menu")

    screen = await _to_times(chat, world)

    assert _items(screen, "slot.") == [f"slot.{s.id}" for s in world.slots_a[1:]]


async def test_a_patient_attached_nowhere_is_told_why_and_how_to_attach(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.carol)

    screen = await chat.tap("book")

    assert screen.state == "book.specialty"
    assert _items(screen, "sp.") == []
    text = chat.text()
    assert "Reasoned refusal" in text
    assert "You are not attached to any PHC clinic." in text  # issue 10 part 5
    assert "this primary health care organisation" not in text
    assert "1414" in text
    assert "eGov" in text
    assert "ID document" in text


async def test_only_doctors_of_the_patients_own_clinic_are_offered(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)  # attached to clinic A
    await chat.tap("book")
    screen = await chat.tap(f"sp.{world.therapist.id}")
    assert _items(screen, "dr.") == [f"dr.{world.doctor_a.id}", f"dr.{world.therapist_a2.id}"]

    screen = await chat.forge(f"dr.{world.doctor_b.id}")  # clinic B's therapist

    assert screen.state == "book.doctor"
    assert screen.error is not None
    assert "book:doctor" not in await chat.data()


async def test_a_specialty_with_one_doctor_goes_straight_to_that_doctors_times(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.dave)  # clinic B has one therapist
    await chat.tap("book")

    screen = await chat.tap(f"sp.{world.therapist.id}")

    assert screen.state == "book.slot"
    assert "Ivanov P., Tuesday, 24 November: choose a time." in chat.text()
    assert (await chat.data())["book:doctor"] == world.doctor_b.id
    screen = await chat.tap("nav.back")  # back skips the doctor step too
    assert screen.state == "book.specialty"


async def test_a_doctor_with_no_free_times_offers_another_doctor_or_specialty(
    backend: Backend, chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)
    await chat.tap("book")
    await chat.tap(f"sp.{world.therapist.id}")

    screen = await chat.tap(f"dr.{world.therapist_a2.id}")  # no slots at all

    assert screen.state == "book.slot"
    assert "Bekova G. has no free times in the next 14 days." in chat.text()
    assert "Choose another doctor" in chat.text()
    assert (await chat.tap("other")).state == "book.doctor"

    # The only cardiologist, without a schedule: the way out is another specialty.
    async with backend.uow() as uow:
        await uow.session.execute(
            delete(orm.slots).where(orm.slots.c.doctor_id == world.cardio_a.id)
        )
        await uow.commit()
    await chat.tap("nav.back")
    screen = await chat.tap(f"sp.{world.cardiologist.id}")
    assert screen.state == "book.slot"
    assert "Choose another specialty" in chat.text()
    assert (await chat.tap("other")).state == "book.specialty"


async def test_a_time_taken_between_listing_and_confirming_returns_to_the_fresh_list(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)
    await _to_times(chat, world)
    await chat.tap(f"slot.{world.slots_a[0].id}")
    await _book_for(backend, clock, world.bob, world.slots_a[0].id or 0)

    screen = await chat.tap("confirm")

    assert screen.state == "book.slot"
    assert screen.notice is not None
    assert "just been taken" in chat.text()
    assert _items(screen, "slot.") == [f"slot.{s.id}" for s in world.slots_a[1:]]
    assert "Akhmetova A. S., Tuesday, 24 November" in chat.text()  # doctor and day kept
    screen = await chat.tap(f"slot.{world.slots_a[1].id}")
    assert (await chat.tap("confirm")).state == "book.done"


async def test_a_time_taken_while_the_list_was_shown_is_a_retry_with_the_list_refreshed(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)
    await _to_times(chat, world)
    await _book_for(backend, clock, world.bob, world.slots_a[0].id or 0)

    screen = await chat.tap(f"slot.{world.slots_a[0].id}")

    assert screen.state == "book.slot"
    assert screen.error is not None
    assert f"slot.{world.slots_a[0].id}" not in screen.option_ids


async def test_the_cap_reached_at_confirmation_names_the_limit_and_leads_to_my_appointments(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)
    await _to_times(chat, world)
    await chat.tap(f"slot.{world.slots_a[0].id}")
    for slot in world.slots_cardio[:3]:
        await _book_for(backend, clock, world.alice, slot.id or 0)

    screen = await chat.tap("confirm")

    assert screen.state == "book.specialty"
    assert screen.notice is not None
    assert "You already have 3 upcoming appointments" in chat.text()
    assert _items(screen, "sp.") == []
    assert (await chat.tap("appts")).state == "appts.list"


async def test_the_cap_is_said_before_any_choice(
    backend: Backend, clock: FixedClock, chat: Chat, sender: RecordingSender, world: World
) -> None:
    for slot in world.slots_cardio[:3]:
        await _book_for(backend, clock, world.alice, slot.id or 0)
    await _signed_in(chat, sender, world.alice)

    screen = await chat.tap("book")

    assert "at most 3 upcoming appointments" in chat.text()
    assert "appts" in screen.option_ids
    assert _items(screen, "sp.") == []


async def test_no_free_days_says_so_and_offers_another_doctor(
    backend: Backend, sender: RecordingSender
) -> None:
    world = await build_world(backend, slots_per_doctor=0)
    chat = Chat(make_engine(backend, sender))
    await _signed_in(chat, sender, world.alice)
    await chat.tap("book")
    await chat.tap(f"sp.{world.therapist.id}")

    screen = await chat.tap(f"dr.{world.doctor_a.id}")

    assert screen.state == "book.slot"
    assert _items(screen, "slot.") == []
    assert "days" not in screen.option_ids  # no other day to offer
    assert "has no free times in the next 14 days" in chat.text()
    screen = await chat.tap("other")
    assert screen.state == "book.doctor"


async def test_a_typed_name_date_or_time_is_accepted_when_it_is_on_the_list(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)
    await chat.tap("book")
    assert (await chat.type("Терапевт")).state == "book.doctor"
    assert (await chat.type("ахметова")).state == "book.slot"
    assert (await chat.tap("days")).state == "book.day"

    assert (await chat.type("25.11")).error is not None
    assert (await chat.type(" 24.11 ")).state == "book.slot"
    assert (await chat.type("11:00")).error is not None
    screen = await chat.type("9:40")

    assert screen.state == "book.confirm"
    assert "09:40" in chat.text()


async def test_back_from_the_times_keeps_the_doctor(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)
    await _to_times(chat, world)

    screen = await chat.tap("nav.back")

    assert screen.state == "book.doctor"  # issue 15: the days are asked for, not a step
    assert (await chat.data())["book:specialty"] == world.therapist.id
    screen = await chat.tap(f"dr.{world.doctor_a.id}")
    assert (await chat.tap("days")).state == "book.day"
    screen = await chat.tap("nav.back")
    assert screen.state == "book.slot"
    assert "Akhmetova A. S., Tuesday, 24 November: choose a time." in chat.text()


@pytest.mark.parametrize(
    ("steps", "state", "forged"),
    [
        (0, "book.specialty", ["sp.999", "sp.", "sp.x", "dr.1", "zzz"]),
        (1, "book.doctor", ["dr.999", "dr.", "dr.1.2", "sp.1", "other"]),
        (3, "book.day", ["day.2026-13-45", "day.2026-11-25", "day.", "slot.1", "days"]),
        (4, "book.slot", ["slot.999", "slot.-1", "slot.abc", "slot.", "confirm", "other"]),
        (5, "book.confirm", ["yes", "slot.1", "appts", "confirm.1"]),
        (6, "book.done", ["confirm", "ap.1", "yes"]),
    ],
)
async def test_forged_ids_and_random_text_on_every_booking_screen_are_retried_losing_nothing(
    *,
    chat: Chat,
    sender: RecordingSender,
    world: World,
    steps: int,
    state: str,
    forged: list[str],
) -> None:
    await _signed_in(chat, sender, world.alice)
    path = [
        "book",
        f"sp.{world.therapist.id}",
        f"dr.{world.doctor_a.id}",
        "days",
        TUESDAY,
        f"slot.{world.slots_a[2].id}",
        "confirm",
    ]
    for option_id in path[:steps]:
        await chat.tap(option_id)
    shown = await chat.tap(path[steps])
    assert shown.state == state
    data = await chat.data()

    for answer in [*forged, "hello?"]:
        screen = await (chat.type(answer) if answer == "hello?" else chat.forge(answer))
        assert screen.state == state, answer
        assert screen.error is not None, answer
        assert _items(screen, "") == _items(shown, ""), answer
        assert await chat.data() == data, answer


async def test_a_shown_option_from_an_older_screen_is_stale_not_a_choice(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)
    specialties = await chat.tap("book")
    await chat.tap(f"sp.{world.therapist.id}")

    screen = await chat.send(Chose(f"sp.{world.cardiologist.id}", seq=specialties.seq))

    assert screen.state == "book.doctor"
    # one screen back on the same message: a double tap (issue 15), answered, not chosen
    assert screen.stale and screen.repeat
    assert "Already done" in chat.text()
    assert (await chat.data())["book:specialty"] == world.therapist.id


async def test_the_dates_are_rendered_in_kazakh_and_russian(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _signed_in(chat, sender, world.alice)
    await chat.tap("book")
    await chat.tap(f"sp.{world.therapist.id}")
    await chat.tap(f"dr.{world.doctor_a.id}")

    assert "24 қараша" in chat.text("kk")
    assert "24 ноября" in chat.text("ru")


async def test_choosing_a_time_reads_each_look_up_once(
    backend: Backend, chat: Chat, sender: RecordingSender, world: World
) -> None:
    """A query count, not a timing: the handler and the next view share their look-ups."""
    await _signed_in(chat, sender, world.alice)
    await _to_times(chat, world)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(backend.engine.sync_engine, "before_cursor_execute", record)
    try:
        screen = await chat.tap(f"slot.{world.slots_a[0].id}")
    finally:
        event.remove(backend.engine.sync_engine, "before_cursor_execute", record)

    assert screen.state == "book.confirm"
    repeated = [s for s in set(statements) if statements.count(s) > 1 and "specialties" in s]
    assert repeated == []
    assert len(statements) <= 25, len(statements)


async def test_an_adult_is_not_offered_the_paediatrician(
    backend: Backend, chat: Chat, sender: RecordingSender, world: World
) -> None:
    """Issue 10: Иванов (born 1985) was offered a paediatrician; alice (born 1985) is not."""
    async with backend.uow() as uow:
        paediatrics = Specialty(
            code="pediatrician", name_kk="Педиатр", name_ru="Педиатр", name_en="Paediatrician",
            audience=Audience.CHILDREN,
        )  # fmt: skip
        uow.session.add(paediatrics)
        await uow.session.flush()
        uow.session.add(
            Doctor(
                code="A-P1", clinic_id=world.clinic_a.id or 0,
                specialty_id=paediatrics.id or 0, surname="Нұрпейісова", given_name="Динара",
            )
        )  # fmt: skip
        await uow.commit()
    await _signed_in(chat, sender, world.alice)

    screen = await chat.tap("book")

    assert _items(screen, "sp.") == [f"sp.{world.cardiologist.id}", f"sp.{world.therapist.id}"]
    assert "Paediatrician" not in chat.text()
    # A forged button for the paediatrician is not accepted.
    screen = await chat.send(Chose(f"sp.{paediatrics.id}", seq=screen.seq))
    assert screen.state == "book.specialty"
    assert (await chat.data()).get("book:specialty") != paediatrics.id
