"""Journey 5, the home visit (S4), through the engine: terms first, 103, cut-off, the result."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from backend.adapters import orm
from backend.bootstrap import Backend
from backend.domain.calendar import OpeningHours, WeeklySchedule
from backend.domain.model import Clinic
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications
from backend.services.home_visit import HomeVisitRequest, request_home_visit
from backend.services.schedules import ScheduleTemplate, save_templates
from tests.backend.world import World, at
from tests.dialogs.harness import Chat, RecordingSender, sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MONDAY = dt.date(2026, 11, 23)
SATURDAY = dt.date(2026, 11, 28)
H = dt.time
BOB_REQUEST = HomeVisitRequest(reason="қызба", symptoms="", contact_phone="+77011234502")
ALICE_REQUEST = HomeVisitRequest(reason="қызба", symptoms="", contact_phone="+77011234501")


async def _open(chat: Chat, sender: RecordingSender, iin: str) -> None:
    await sign_in(chat, sender, iin)
    await chat.tap("visit")


async def _fill(chat: Chat, *, reason: str = "fever 38.5, cough") -> None:
    """Terms → registered address → reason → no symptoms → registered phone → confirm."""
    await chat.tap("start")
    await chat.tap("addr.reg")
    await chat.type(reason)
    await chat.tap("skip")
    await chat.tap("phone.reg")


async def _applications(backend: Backend, world: World) -> list[applications.ApplicationSummary]:
    return await applications.list_applications(backend.uow(), world.alice.id or 0)


async def test_same_day_visit_end_to_end(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.alice.iin)

    assert chat.state == "visit.terms"
    first = chat.text("en")
    assert first.index("Call 103 now") < first.index("Today requests are accepted until 18:00")
    assert chat.last is not None and chat.last.option_ids[0] == "start"

    await chat.tap("start")
    assert chat.state == "visit.address"
    assert "Use my registered address: Астана, Мәңгілік Ел, 10, 5" in chat.text("en")
    await chat.tap("addr.reg")
    assert chat.state == "visit.reason"
    await chat.type("fever 38.5,   cough")
    assert chat.state == "visit.symptoms"
    await chat.type("since yesterday")
    assert chat.state == "visit.phone"
    assert "My registered phone +7 701 *** ** 01" in chat.text("en")
    await chat.tap("phone.reg")

    assert chat.state == "visit.confirm"
    assert chat.last is not None and chat.last.sensitive
    summary = chat.text("en")
    assert "Address: Астана, Мәңгілік Ел, 10, 5" in summary
    assert "Reason: fever 38.5, cough" in summary
    assert "Symptoms: since yesterday" in summary
    assert "Contact phone: +7 701 *** ** 01" in summary
    assert await _applications(backend, world) == []  # nothing sent before confirming

    await chat.tap("confirm")

    assert chat.state == "visit.done"
    result = chat.text("en")
    [app] = await _applications(backend, world)
    assert app.service is ServiceType.HOME_VISIT
    assert app.status is ApplicationStatus.REGISTERED
    assert f"Application number: {app.number}." in result
    assert "Status: Registered." in result
    assert "Doctor: Akhmetova A. S." in result
    assert "Planned arrival: Monday, 23 November, 12:00–14:00." in result
    assert "Medical care is given at home at the set time." in result
    assert "nav.back" not in chat.last.option_ids  # the request is finished

    await chat.tap("apps")
    assert chat.state == "apps.list"
    assert app.number in chat.text("en")


async def test_after_the_cut_off_the_first_screen_says_next_working_day(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, clock: FixedClock
) -> None:
    clock.current = at(MONDAY, 18, 30)
    await _open(chat, sender, world.alice.iin)

    first = chat.text("en")
    assert "Today's requests closed at 18:00." in first
    assert "registered for the next working day, Tuesday, 24 November." in first

    await _fill(chat)
    assert "next working day, Tuesday, 24 November" in chat.text("en")
    await chat.tap("confirm")

    result = chat.text("en")
    assert "Status: Will be processed on the next working day." in result
    assert "Planned arrival: Tuesday, 24 November, 12:00–14:00." in result
    assert "1414" in result  # the contact centre on every delay
    [app] = await _applications(backend, world)
    assert app.status is ApplicationStatus.NEXT_WORKING_DAY


@pytest.mark.parametrize(
    ("minute", "expected"),
    [
        (59, "Today requests are accepted until 12:00: the doctor comes today."),
        (60, "next working day, Monday, 30 November."),
    ],
)
async def test_saturday_cut_off_is_noon(
    chat: Chat,
    *,
    sender: RecordingSender,
    world: World,
    backend: Backend,
    clock: FixedClock,
    minute: int,
    expected: str,
) -> None:
    clock.current = at(SATURDAY, 11) + dt.timedelta(minutes=minute)
    await _open(chat, sender, world.alice.iin)

    assert expected in chat.text("en")

    await _fill(chat)
    await chat.tap("confirm")
    [app] = await _applications(backend, world)
    assert app.status is (
        ApplicationStatus.REGISTERED if minute == 59 else ApplicationStatus.NEXT_WORKING_DAY
    )


async def test_on_sunday_the_clinic_is_closed(
    chat: Chat, sender: RecordingSender, world: World, clock: FixedClock
) -> None:
    clock.current = at(dt.date(2026, 11, 29), 10)
    await _open(chat, sender, world.alice.iin)

    assert (
        "The clinic is closed today. Your request will be registered for the next working day, "
        "Monday, 30 November."
    ) in chat.text("en")


async def test_a_typed_address_is_used_and_a_bad_one_is_asked_again(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.alice.iin)
    await chat.tap("start")

    await chat.type("12")
    assert chat.state == "visit.address"
    assert chat.last is not None and chat.last.error is not None
    # Issue 15: no letter is no address: say to write it in words, not "up to 500 characters".
    assert "Please write the address in words: city, street, house." in chat.text("en")
    await chat.type("🤒🤒🤒🤒🤒")
    assert chat.state == "visit.address"
    assert "Please write the address in words: city, street, house." in chat.text("en")
    await chat.type("Астана " * 80)
    assert chat.state == "visit.address"
    assert "up to 500 characters" in chat.text("en")

    await chat.type("Астана,  Сарыарқа 5, пәтер 12")
    await chat.type("температура")
    await chat.tap("skip")
    await chat.tap("phone.reg")
    assert "Address: Астана, Сарыарқа 5, пәтер 12" in chat.text("en")
    await chat.tap("confirm")

    [app] = await _applications(backend, world)
    details = await applications.application_details(
        backend.uow(), world.alice.id or 0, app.number
    )
    assert details.home_visit is not None
    assert details.home_visit.address == "Астана, Сарыарқа 5, пәтер 12"


async def test_a_bad_phone_gets_a_hint_and_nothing_typed_is_lost(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.alice.iin)
    await chat.tap("start")
    await chat.type("Астана, Сарыарқа 5, пәтер 12")
    await chat.type("жөтел, қызба")
    await chat.type("2 күннен бері")

    await chat.type("+1 202 555 0100")
    assert chat.state == "visit.phone"
    assert "Please give a Kazakhstan mobile number" in chat.text("en")

    await chat.type("my phone")
    assert chat.state == "visit.phone"
    assert "This is not a phone number. Example: +7 701 123 45 67." in chat.text("en")

    await chat.type("8 (707) 123-45-67")
    assert chat.state == "visit.confirm"
    summary = chat.text("en")
    assert "Address: Астана, Сарыарқа 5, пәтер 12" in summary
    assert "Reason: жөтел, қызба" in summary
    assert "Symptoms: 2 күннен бері" in summary
    assert "Contact phone: +77071234567" in summary

    await chat.tap("confirm")
    [app] = await _applications(backend, world)
    details = await applications.application_details(
        backend.uow(), world.alice.id or 0, app.number
    )
    assert details.home_visit is not None
    assert details.home_visit.contact_phone == "+77071234567"
    assert details.home_visit.symptoms == "2 күннен бері"


async def test_an_empty_reason_is_asked_again(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _open(chat, sender, world.alice.iin)
    await chat.tap("start")
    await chat.tap("addr.reg")

    await chat.type("   ")

    assert chat.state == "visit.reason"
    assert "Please describe the reason in a few words." in chat.text("en")


@pytest.mark.parametrize(
    "words",
    ["Кеуде қатты ауырады", "Мама без сознания", "my husband can't breathe"],
)
async def test_emergency_words_stop_the_flow_and_nothing_is_sent(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend, words: str
) -> None:
    await _open(chat, sender, world.alice.iin)
    await chat.tap("start")
    await chat.tap("addr.reg")

    await chat.type(words)

    assert chat.state == "visit.emergency"
    assert "This sounds like an emergency. Call 103 now." in chat.text("en")
    assert "confirm" not in (chat.last.option_ids if chat.last else ())
    assert await _applications(backend, world) == []


async def test_emergency_words_in_the_symptoms_also_stop_the_flow(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.alice.iin)
    await chat.tap("start")
    await chat.tap("addr.reg")
    await chat.type("температура")

    await chat.type("и сильная боль в груди")

    assert chat.state == "visit.emergency"
    assert await _applications(backend, world) == []


async def test_not_attached_gets_the_legal_ground_and_how_to_attach(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _open(chat, sender, world.carol.iin)

    assert chat.state == "visit.terms"
    text = chat.text("en")
    assert text.index("Call 103 now") < text.index("Reasoned refusal")
    # issue 10 part 5: attached to no clinic at all, not «this» one, and how to attach
    assert "You are not attached to any PHC clinic. To attach, apply to the clinic" in text
    assert "this primary health care organisation" not in text
    assert text.count("To attach") == 1  # said once, in the refusal
    assert "1414" in text
    assert "eGov" in text
    assert chat.last is not None and "start" not in chat.last.option_ids


async def test_change_the_details_goes_back_to_the_address(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _open(chat, sender, world.alice.iin)
    await _fill(chat)

    await chat.tap("edit")

    assert chat.state == "visit.address"


async def test_random_text_where_an_option_is_expected_is_retried(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.alice.iin)
    await chat.type("hello")
    assert chat.state == "visit.terms"
    assert "Please choose one of the options below." in chat.text("en")

    await _fill(chat)
    await chat.type("yes please")
    assert chat.state == "visit.confirm"
    assert chat.last is not None and chat.last.error is not None

    await chat.tap("confirm")
    await chat.type("thanks")
    assert chat.state == "visit.done"
    assert len(await _applications(backend, world)) == 1


async def test_back_from_the_emergency_screen_lets_the_patient_rephrase(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.alice.iin)
    await chat.tap("start")
    await chat.tap("addr.reg")
    await chat.type("he fainted")

    await chat.tap("nav.back")

    assert chat.state == "visit.reason"
    await chat.type("ear ache")
    await chat.tap("skip")
    await chat.tap("phone.reg")
    assert "Address: Астана, Мәңгілік Ел, 10, 5" in chat.text("en")


# A clinic whose hours differ from the standard ones: Mon-Thu 08-19, Fri 08-17, no Saturday.
SHORT_WEEK = WeeklySchedule(
    {
        **{day: OpeningHours(dt.time(8), dt.time(19)) for day in range(4)},
        4: OpeningHours(dt.time(8), dt.time(17)),
    }
)


async def set_hours(backend: Backend, clinic: Clinic, schedule: WeeklySchedule) -> None:
    async with backend.uow() as uow:
        await uow.session.execute(
            update(orm.clinics)
            .where(orm.clinics.c.id == clinic.id)
            .values(schedule_json=schedule.to_json())
        )
        await uow.commit()


async def test_the_terms_tell_the_cut_off_of_the_patients_own_clinic(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    """Issue 10 part 3, S4 row 7 (R-14): closing − 2 h from the clinic's own schedule."""
    await set_hours(backend, world.clinic_a, SHORT_WEEK)
    await _open(chat, sender, world.alice.iin)

    text = chat.text("en")
    assert (
        "Your clinic accepts home visits until 2 hours before it closes: Mon–Thu until 17:00, "
        "Fri until 15:00. Later requests go to the next working day."
    ) in text
    assert "Today requests are accepted until 17:00" in text
    assert "18:00" not in text and "12:00" not in text
    assert "пн–чт до 17:00, пт до 15:00" in chat.text("ru")
    assert "соңғы уақыт: дс–бс 17:00, жм 15:00" in chat.text("kk")


async def test_the_terms_of_a_standard_clinic_group_the_weekdays(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await _open(chat, sender, world.alice.iin)

    assert "Mon–Fri until 18:00, Sat until 12:00." in chat.text("en")


# --- issue 10: a full day, one open request per day ------------------------------------------


async def _only_window(backend: Backend, weekday: int, capacity: int = 1) -> None:
    """doctor_a's home-visit hours: one 12:00-14:00 window on `weekday` and on Tuesday."""
    async with backend.uow() as uow:
        await save_templates(
            uow,
            [
                ScheduleTemplate.home_visits("A-T1", weekday, H(12), H(14), capacity=capacity),
                ScheduleTemplate.home_visits("A-T1", 1, H(12), H(14), capacity=capacity),
            ],
        )
        await uow.commit()


async def test_a_full_day_offers_the_next_working_day_and_keeps_what_was_typed(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _only_window(backend, 0)
    bobs = await request_home_visit(
        backend.uow(), world.bob.id or 0, BOB_REQUEST, now=at(MONDAY, 9)
    )
    await _open(chat, sender, world.alice.iin)
    await _fill(chat)

    await chat.tap("confirm")

    assert chat.state == "visit.full"
    full = chat.text("en")
    assert "The doctor's home visits on Monday, 23 November are fully booked." in full
    assert "The next working day with free time is Tuesday, 24 November." in full
    assert await _applications(backend, world) == []  # not sent, nor overbooked
    assert chat.last is not None and "accept" in chat.last.option_ids

    await chat.tap("accept")

    assert chat.state == "visit.done"
    assert "Planned arrival: Tuesday, 24 November, 12:00–14:00." in chat.text("en")
    [app] = await _applications(backend, world)
    details = await applications.application_details(
        backend.uow(), world.alice.id or 0, app.number
    )
    assert details.home_visit is not None and details.home_visit.reason == "fever 38.5, cough"
    assert bobs.window_start == at(MONDAY, 12)


async def test_no_free_day_in_two_weeks_says_so_with_1414(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    async with backend.uow() as uow:  # reception only: no home-visit hours at all
        await save_templates(uow, [ScheduleTemplate("A-T1", 0, H(8), H(12))])
        await uow.commit()
    await _open(chat, sender, world.alice.iin)
    await _fill(chat)

    await chat.tap("confirm")

    assert chat.state == "visit.full"
    text = chat.text("en")
    assert "There is no free home-visit time in the next two weeks." in text
    assert "1414" in text
    assert chat.last is not None and "accept" not in chat.last.option_ids


async def test_an_open_request_for_the_day_is_shown_instead_of_a_second_one(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    first = await request_home_visit(
        backend.uow(), world.alice.id or 0, ALICE_REQUEST, now=at(MONDAY, 9)
    )
    await _open(chat, sender, world.alice.iin)

    await chat.tap("start")

    assert chat.state == "visit.exists"
    text = chat.text("en")
    assert (
        f"You already have an open home-visit request for that day: No. "
        f"{first.application_number}."
    ) in text
    assert "Status: Registered." in text
    assert "Planned arrival: Monday, 23 November, 12:00–14:00." in text
    assert len(await _applications(backend, world)) == 1

    await chat.tap("open")
    assert chat.state == "apps.details"
    assert first.application_number in chat.text("en")


async def test_a_request_made_meanwhile_from_another_channel_is_shown_at_sending(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.alice.iin)
    await _fill(chat)
    other = await request_home_visit(  # e.g. by SMS while this chat was at the summary
        backend.uow(), world.alice.id or 0, ALICE_REQUEST, now=at(MONDAY, 10)
    )

    await chat.tap("confirm")

    assert chat.state == "visit.exists"
    assert other.application_number in chat.text("en")
    assert len(await _applications(backend, world)) == 1
