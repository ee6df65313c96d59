"""Issue 14 through the Telegram dispatcher, in Kazakh, Russian and English: a parent books a
paediatrician for one child, calls a doctor home for the other, sees both in "My applications"
and cancels one; a forged button for a child one does not represent changes nothing; a child
whose representation ended at 18 is not offered."""

from __future__ import annotations

import pytest

from backend.bootstrap import Backend
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.services import applications, booking
from bot.runtime import Runtime
from bot.telegram.callbacks import Pick
from tests.backend.children import Children, add_children
from tests.backend.world import World
from tests.dialogs.harness import RecordingSender
from tests.telegram.harness import TelegramChat, make_chat, sign_in, signed_in_chat

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.parametrize("language", ["kk", "ru", "en"]),
]
FOR_ALI = {"kk": "Әли С. үшін", "ru": "Ребёнок: Әли С.", "en": "For Ali S."}
# Issue 15: names in Latin letters on English screens.
ALI = {"kk": "Әли С.", "ru": "Әли С.", "en": "Ali S."}
DANA = {"kk": "Дана С.", "ru": "Дана С.", "en": "Dana S."}


@pytest.fixture
async def kids(backend: Backend, world: World) -> Children:
    return await add_children(backend, world)


@pytest.fixture
async def alice(
    runtime: Runtime, sms: RecordingSender, world: World, kids: Children, language: str
) -> TelegramChat:
    return await signed_in_chat(runtime, sms.last_code, world.alice.iin, language)


async def test_a_parent_books_calls_a_doctor_sees_and_cancels(
    alice: TelegramChat, world: World, kids: Children, backend: Backend, language: str
) -> None:
    assert alice.options[:2] == ["book", "book.child"]  # issue 15: for whom, in the menu
    await alice.tap("book.child")
    assert await alice.state() == "book.specialty"
    assert [o for o in alice.options if o.startswith("for.")] == [
        f"for.{kids.ali.id}",
        f"for.{kids.dana.id}",
    ]  # Ерлан turned 18 today: no longer offered
    await alice.tap(f"for.{kids.ali.id}")
    assert f"sp.{kids.paediatrician.id}" in alice.options  # Әли's clinic and age
    await alice.tap(f"sp.{kids.paediatrician.id}")  # the earliest free day's times
    await alice.tap(f"slot.{kids.slots_paed_b[1].id}")
    assert await alice.state() == "book.confirm"
    assert FOR_ALI[language] in alice.last_text
    await alice.tap("confirm")
    assert await alice.state() == "book.done"
    assert FOR_ALI[language] in alice.last_text

    await alice.tap("nav.menu")
    await alice.tap("visit")
    await alice.tap(f"for.{kids.dana.id}")
    await alice.tap("start")
    await alice.tap("addr.reg")
    await alice.send_text("high fever, cough")
    await alice.tap("skip")
    await alice.tap("phone.reg")
    assert await alice.state() == "visit.confirm"
    assert DANA[language] in alice.last_text
    await alice.tap("confirm")
    assert await alice.state() == "visit.done"

    await alice.tap("nav.menu")
    await alice.tap("apps")
    assert ALI[language] in alice.last_text and DANA[language] in alice.last_text
    today = backend.clock.now().date()
    listed = await applications.list_applications(backend.uow(), world.alice.id or 0, today=today)
    booked = next(a for a in listed if a.service is ServiceType.APPOINTMENT)
    # The child's appointment is cancelled from its card.
    await alice.tap(f"app.{booked.number}")
    await alice.tap("appt")
    assert await alice.state() == "appts.detail"
    await alice.tap("cancel")
    await alice.tap("yes")
    after = await applications.application_details(
        backend.uow(), world.alice.id or 0, booked.number, today=today
    )
    assert after.summary.status is ApplicationStatus.CANCELLED


async def test_a_forged_button_for_another_child_changes_nothing(
    alice: TelegramChat, world: World, kids: Children, backend: Backend
) -> None:
    await alice.tap("book.child")
    real = Pick.unpack(alice.callback_data(f"for.{kids.ali.id}"))
    forged = Pick(seq=real.seq, opt=f"for.{kids.bobs_son.id}").pack()
    await alice.press(forged)
    assert await alice.state() == "book.specialty"
    assert f"for.{kids.ali.id}" in alice.options  # still asked, nothing chosen
    await alice.tap("nav.menu")
    menu = Pick.unpack(alice.callback_data("book"))  # nor as the menu's "Book for <child>"
    await alice.press(Pick(seq=menu.seq, opt=f"book.for.{kids.bobs_son.id}").pack())
    assert await alice.state() == "menu"
    await alice.tap("book")  # for herself
    assert f"sp.{kids.paediatrician.id}" not in alice.options  # her own clinic and age
    assert await applications.list_applications(backend.uow(), kids.bobs_son.id or 0) == []


async def test_a_parent_moves_the_childs_appointment_in_my_appointments(
    alice: TelegramChat, world: World, kids: Children, backend: Backend, language: str
) -> None:
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        kids.slots_paed_b[0].id or 0,
        now=backend.clock.now(),
        policy=backend.policy,
        for_patient=kids.ali.id,
    )
    await alice.tap("appts")
    assert ALI[language] in alice.labels[f"ap.{view.appointment_id}"]  # marked with the name
    await alice.tap(f"ap.{view.appointment_id}")
    await alice.tap("move")  # the earliest free day's times (issue 15)
    # The paediatrician's times at Әли's clinic, not the mother's.
    assert f"slot.{kids.slots_paed_b[2].id}" in alice.options
    await alice.tap(f"slot.{kids.slots_paed_b[2].id}")
    await alice.tap("confirm")
    assert await alice.state() == "appts.done"
    [moved] = await booking.upcoming_appointments(
        backend.uow(), world.alice.id or 0, now=backend.clock.now(), for_patient=kids.ali.id
    )
    assert moved.starts_at == kids.slots_paed_b[2].starts_at


# Issue 15: with one child, the main menu names the child: "Book for <child>".
BOOK_FOR_PAVEL = {
    "kk": "Павел П. үшін жазылу",
    "ru": "Запись ребёнка: Павел П.",
    "en": "Book for Pavel P.",
}
FOR_PAVEL = {"kk": "Павел П. үшін", "ru": "Ребёнок: Павел П.", "en": "For Pavel P."}


async def test_a_parent_of_one_child_books_for_the_child_from_the_menu(
    runtime: Runtime,
    *,
    sms: RecordingSender,
    world: World,
    kids: Children,
    language: str,
) -> None:
    bob = make_chat(runtime, user_id=777002, language_code=language)
    await sign_in(bob, sms.last_code, world.bob.iin)
    son = f"book.for.{kids.bobs_son.id}"
    assert bob.options[:2] == ["book", son]
    assert bob.labels[son] == BOOK_FOR_PAVEL[language]
    # A forged "Book for <another parent's child>" is refused in the menu; nothing opens.
    menu = Pick.unpack(bob.callback_data(son))
    await bob.press(Pick(seq=menu.seq, opt=f"book.for.{kids.ali.id}").pack())
    assert await bob.state() == "menu"

    await bob.tap(son)
    assert await bob.state() == "book.specialty"  # no "for whom?" question: the menu asked
    assert not any(o.startswith("for.") for o in bob.options)
    assert FOR_PAVEL[language] in bob.last_text
    await bob.tap("nav.menu")
    await bob.tap("book")  # for himself: no child named
    assert await bob.state() == "book.specialty"
    assert FOR_PAVEL[language] not in bob.last_text
