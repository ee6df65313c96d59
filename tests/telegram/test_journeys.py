"""Every journey end to end through Telegram, in Kazakh, Russian and English.

The patient's Telegram client language is the first guess of the language. The assertions are
on structure (states, option ids, keyboard layout, what is sent or edited) and on what does not
depend on translations (numbers, times, names, CLDR month names), so they hold before and after
the Kazakh and Russian catalogs are filled in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, TelegramMethod

from backend.bootstrap import Backend
from backend.domain.statuses import ServiceType
from backend.ports import FixedClock
from backend.services import applications, booking
from backend.services.home_visit import HomeVisitRequest, request_home_visit
from bot.runtime import Runtime
from tests.backend.world import World
from tests.dialogs.harness import RecordingSender
from tests.telegram.harness import TelegramChat, signed_in_chat

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.parametrize("language", ["kk", "ru", "en"]),
]
TUESDAY = "day.2026-11-24"
NOVEMBER = {"kk": "қараша", "ru": "ноября", "en": "November"}  # CLDR, not our catalogs
# Issue 15: the doctor's name in Latin letters on English screens (ICAO Doc 9303).
AKHMETOVA = {"kk": "Ахметова А. С.", "ru": "Ахметова А. С.", "en": "Akhmetova A. S."}
EDIT = [AnswerCallbackQuery, EditMessageText]
NEW = [AnswerCallbackQuery, SendMessage]


def kinds(calls: list[TelegramMethod[Any]]) -> list[type]:
    return [type(c) for c in calls]


def items(tg: TelegramChat, prefix: str) -> list[str]:
    return [o for o in tg.options if o.startswith(prefix)]


@pytest.fixture
async def alice(
    runtime: Runtime, sms: RecordingSender, world: World, language: str
) -> TelegramChat:
    """Alice, signed in on Telegram, whose client speaks `language`."""
    tg = await signed_in_chat(runtime, sms.last_code, world.alice.iin, language)
    uid = str(tg.user_id)
    assert await runtime.engine.current_language("telegram", uid, language_hint=language) == (
        language
    )
    return tg


async def _book(backend: Backend, clock: FixedClock, world: World, slot: int) -> str:
    view = await booking.book(
        backend.uow(), world.alice.id or 0, slot, now=clock.now(), policy=backend.policy
    )
    return view.application_number


async def _numbers(backend: Backend, world: World) -> list[str]:
    return [
        a.number for a in await applications.list_applications(backend.uow(), world.alice.id or 0)
    ]


async def test_book_an_appointment(
    alice: TelegramChat, world: World, backend: Backend, language: str
) -> None:
    assert kinds(await alice.tap("book")) == EDIT
    assert await alice.state() == "book.specialty"
    assert items(alice, "sp.") == [f"sp.{world.cardiologist.id}", f"sp.{world.therapist.id}"]

    assert kinds(await alice.tap(f"sp.{world.therapist.id}")) == EDIT
    assert items(alice, "dr.") == [f"dr.{world.doctor_a.id}", f"dr.{world.therapist_a2.id}"]
    assert alice.labels[f"dr.{world.doctor_a.id}"] == AKHMETOVA[language]

    # Issue 15: the earliest free day's times at once; "Other day" (on a row of its own, below
    # the times) lists the days.
    await alice.tap(f"dr.{world.doctor_a.id}")
    assert await alice.state() == "book.slot"
    await alice.tap("days")
    assert items(alice, "day.") == [TUESDAY]
    assert NOVEMBER[language] in alice.labels[TUESDAY]

    await alice.tap(TUESDAY)
    assert await alice.state() == "book.slot"
    slots = [f"slot.{s.id}" for s in world.slots_a]
    assert alice.rows[:3] == [slots[:3], slots[3:6], ["days"]]  # times in rows of three
    assert [alice.labels[s] for s in slots] == [
        "09:00",
        "09:20",
        "09:40",
        "10:00",
        "10:20",
        "10:40",
    ]

    await alice.tap(slots[1])
    assert await alice.state() == "book.confirm"
    assert alice.rows[0] == ["confirm"]
    for part in (AKHMETOVA[language], "101", "09:20", NOVEMBER[language]):
        assert part in alice.last_text

    assert kinds(await alice.tap("confirm")) == EDIT

    assert await alice.state() == "book.done"
    [number] = await _numbers(backend, world)
    assert number in alice.last_text
    assert "09:20" in alice.last_text
    assert "nav.back" not in alice.options
    await alice.tap("appts")
    assert await alice.state() == "appts.list"
    assert len(items(alice, "ap.")) == 1


async def test_reschedule_then_cancel_an_appointment(
    alice: TelegramChat, world: World, backend: Backend, clock: FixedClock
) -> None:
    number = await _book(backend, clock, world, world.slots_a[0].id or 0)
    await alice.tap("appts")
    [appointment] = items(alice, "ap.")
    await alice.tap(appointment)
    assert await alice.state() == "appts.detail"
    assert number in alice.last_text
    assert {"move", "cancel"} <= set(alice.options)

    await alice.tap("move")  # the earliest free day's times (issue 15)
    assert await alice.state() == "appts.slot"
    assert items(alice, "slot.") == [f"slot.{s.id}" for s in world.slots_a[1:]]
    await alice.tap(f"slot.{world.slots_a[2].id}")
    assert await alice.state() == "appts.confirm"
    await alice.tap("confirm")

    assert await alice.state() == "appts.done"
    assert number in alice.last_text  # the same application, a new time
    assert "09:40" in alice.last_text
    [moved] = await booking.upcoming_appointments(
        backend.uow(), world.alice.id or 0, now=clock.now()
    )
    assert moved.starts_at == world.slots_a[2].starts_at

    await alice.tap("nav.menu")
    await alice.tap("appts")
    await alice.tap(items(alice, "ap.")[0])
    await alice.tap("cancel")
    assert await alice.state() == "appts.cancel"
    assert {"yes", "no"} <= set(alice.options)
    await alice.tap("yes")

    assert await alice.state() == "appts.list"
    assert items(alice, "ap.") == []
    assert number in alice.last_text
    assert (
        await booking.upcoming_appointments(backend.uow(), world.alice.id or 0, now=clock.now())
        == []
    )


async def test_call_a_doctor_home(alice: TelegramChat, world: World, backend: Backend) -> None:
    await alice.tap("visit")
    assert await alice.state() == "visit.terms"
    assert "103" in alice.last_text
    assert alice.options[0] == "start"

    await alice.tap("start")
    assert await alice.state() == "visit.address"
    assert "Мәңгілік Ел, 10, 5" in alice.last_text + "".join(alice.labels.values())
    await alice.tap("addr.reg")
    assert kinds(await alice.send_text("38.5, жөтел / кашель / cough")) == [SendMessage]
    assert await alice.state() == "visit.symptoms"
    await alice.tap("skip")
    assert await alice.state() == "visit.phone"
    await alice.tap("phone.reg")

    # The summary holds medical data: a new, protected message (the one before was not).
    assert await alice.state() == "visit.confirm"
    assert isinstance(alice.last_reply, SendMessage)
    assert alice.last_reply.protect_content is True
    assert "38.5" in alice.last_text
    assert await _numbers(backend, world) == []

    await alice.tap("confirm")

    assert await alice.state() == "visit.done"
    [number] = await _numbers(backend, world)
    assert number in alice.last_text
    assert "12:00–14:00" in alice.last_text
    await alice.tap("apps")
    assert await alice.state() == "apps.list"
    assert f"app.{number}" in alice.options


async def test_my_applications(
    alice: TelegramChat, world: World, backend: Backend, clock: FixedClock, language: str
) -> None:
    booked = await _book(backend, clock, world, world.slots_a[0].id or 0)
    clock.advance(dt.timedelta(minutes=5))
    request = HomeVisitRequest(reason="қызба", symptoms="", contact_phone="+77011234501")
    visit = await request_home_visit(backend.uow(), world.alice.id or 0, request, now=clock.now())

    await alice.tap("apps")

    assert await alice.state() == "apps.list"
    assert alice.options[:2] == [f"app.{visit.application_number}", f"app.{booked}"]
    assert "refresh" in alice.options
    text = alice.last_text
    assert text.index(visit.application_number) < text.index(booked)

    await alice.tap(f"app.{booked}")

    assert await alice.state() == "apps.details"
    for part in (booked, "09:00", AKHMETOVA[language], "101"):
        assert part in alice.last_text


async def test_request_a_certificate(alice: TelegramChat, world: World, backend: Backend) -> None:
    await alice.tap("certs")
    assert await alice.state() == "certs.list"
    assert alice.options[:7] == [
        "cert.027",
        "cert.tb",
        "cert.psy",
        "cert.narco",
        "cert.sick",
        "cert.075",
        "cert.103",
    ]

    await alice.tap("cert.027")
    assert await alice.state() == "certs.027"
    await alice.tap("confirm")

    assert await alice.state() == "certs.done"
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert app.service is ServiceType.CERTIFICATE_027
    assert app.number in alice.last_text
    await alice.tap("apps")
    assert f"app.{app.number}" in alice.options


async def test_a_registry_statement_is_sent_protected(alice: TelegramChat) -> None:
    await alice.tap("certs")

    calls = await alice.tap("cert.tb")

    assert await alice.state() == "certs.tb"
    assert kinds(calls) == NEW  # the catalogue was not protected: a new message
    assert isinstance(alice.last_reply, SendMessage)
    assert alice.last_reply.protect_content is True
    assert kinds(await alice.tap("confirm")) == EDIT  # protected already: edited in place


async def test_help_and_the_operator(alice: TelegramChat) -> None:
    await alice.tap("help")
    assert await alice.state() == "help"
    assert "1414" in alice.last_text
    assert "103" in alice.last_text
    assert alice.rows[0] == ["hours"]
    await alice.tap("hours")
    assert await alice.state() == "help.hours"
    for hour in ("08:00", "20:00", "14:00", "18:00", "12:00"):
        assert hour in alice.last_text
    await alice.tap("nav.back")
    assert await alice.state() == "help"

    await alice.tap("nav.op")
    assert await alice.state() == "operator"
    assert "1414" in alice.last_text
    assert alice.rows == [["desk.join"], ["nav.back", "nav.menu"], ["nav.lang"]]  # issue 12


async def test_a_shared_contact_answers_the_phone_question(alice: TelegramChat) -> None:
    await alice.tap("visit")
    await alice.tap("start")
    await alice.tap("addr.reg")
    await alice.send_text("қызба")
    await alice.tap("skip")
    assert await alice.state() == "visit.phone"

    calls = await alice.send_contact("+7 705 765 43 21", owner=alice.user_id)

    assert kinds(calls) == [SendMessage]
    assert await alice.state() == "visit.confirm"
    assert "+77057654321" in alice.last_text
