"""Issue 14 by SMS, in Kazakh, Russian and English: a parent books a paediatrician for one
child, calls a doctor home for the other, sees both in "My applications" with the children's
names and cancels one; a patient who represents no one is never asked "for whom?"; a child
whose representation ended at 18 is not offered; another child's number is not found."""

from __future__ import annotations

import pytest

from backend.bootstrap import Backend
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.services import applications
from bench.sms_cost import GOALS
from tests.backend.children import Children, add_children
from tests.backend.world import World
from tests.sms.conftest import PhoneFactory
from tests.sms.harness import SmsPhone
from tests.sms.test_journeys import BUDGET, LANGUAGE_KEYWORD

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FOR_NAME = {"kk": "Әли С. үшін", "ru": "Әли С.:", "en": "For Ali S."}
# Issue 15: names in Latin letters on English screens.
ALI = {"kk": "Әли С.", "ru": "Әли С.", "en": "Ali S."}
DANA = {"kk": "Дана С.", "ru": "Дана С.", "en": "Dana S."}


@pytest.fixture(params=["kk", "ru", "en"])
def language(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def kids(backend: Backend, world: World) -> Children:
    return await add_children(backend, world)


async def _signed_in(phone: SmsPhone, iin: str, language: str) -> None:
    await phone.send(LANGUAGE_KEYWORD[language])
    await phone.choose("signin")
    await phone.send(iin)
    await phone.send(phone.last_code())
    assert await phone.screen() == "menu"


def _text(phone: SmsPhone) -> str:
    return phone.last


def _within_budget(phone: SmsPhone) -> None:
    assert max(phone.reply_segments) <= BUDGET, list(
        zip(phone.reply_segments, phone.replies, strict=True)
    )


async def test_a_parent_books_calls_a_doctor_sees_and_cancels(
    alice: SmsPhone, world: World, kids: Children, backend: Backend, language: str
) -> None:
    await _signed_in(alice, world.alice.iin, language)
    # Booking: the menu offers "for myself" and (two children) "for a child" (issue 15); then
    # the children by name and age; Ерлан (18 today) is not there.
    assert (await alice.options())[:2] == ["book", "book.child"]
    await alice.choose("book.child")
    options = await alice.options()
    assert options[:2] == [f"for.{kids.ali.id}", f"for.{kids.dana.id}"]
    assert "for.me" not in options
    assert f"for.{kids.erlan.id}" not in options
    assert ALI[language] in _text(alice)
    await alice.choose(f"for.{kids.ali.id}")
    # Әли's clinic (B) and age: the paediatrician, the only one, so straight to the times of
    # the earliest free day (issue 15).
    await alice.choose(f"sp.{kids.paediatrician.id}")
    await alice.choose(f"slot.{kids.slots_paed_b[0].id}")
    assert await alice.screen() == "book.confirm"
    assert FOR_NAME[language] in _text(alice)
    await alice.choose("confirm")
    assert await alice.screen() == "book.done"

    # A home visit for Дана: her address, her district doctor, her mother's phone.
    await alice.send("00")
    await alice.choose("visit")
    await alice.choose(f"for.{kids.dana.id}")
    await alice.choose("start")
    await alice.choose("addr.reg")
    await alice.send("fever 38.5, cough")
    await alice.choose("skip")
    await alice.choose("phone.reg")
    assert await alice.screen() == "visit.confirm"
    assert DANA[language] in _text(alice)
    await alice.choose("confirm")
    assert await alice.screen() == "visit.done"

    today = backend.clock.now().date()
    listed = await applications.list_applications(backend.uow(), world.alice.id or 0, today=today)
    assert {(a.service, a.for_name) for a in listed} == {
        (ServiceType.APPOINTMENT, "Әли С."),
        (ServiceType.HOME_VISIT, "Дана С."),
    }
    # Both in "My applications", marked with the children's names.
    await alice.send("00")
    await alice.choose("apps")
    page = "\n".join(p.text for p in (await alice.state()).rendering.pages)
    assert ALI[language] in page and DANA[language] in page
    visit = next(a for a in listed if a.service is ServiceType.HOME_VISIT)
    await alice.send(visit.number)
    assert await alice.screen() == "apps.details"
    await alice.choose("cancel")
    await alice.choose("yes")
    after = await applications.application_details(
        backend.uow(), world.alice.id or 0, visit.number, today=today
    )
    assert after.summary.status is ApplicationStatus.CANCELLED
    _within_budget(alice)


async def test_another_childs_number_is_not_found(
    alice: SmsPhone,
    *,
    world: World,
    kids: Children,
    backend: Backend,
    phone_of: PhoneFactory,
    language: str,
) -> None:
    """Bob calls a doctor for his son; Alice types that application's number: not found."""
    assert world.bob.phone is not None
    bob = await phone_of(world.bob.phone)
    await _signed_in(bob, world.bob.iin, language)
    await bob.choose("certs")
    await bob.choose(f"for.{kids.bobs_son.id}")
    assert "cert.tb" not in " ".join(await bob.options())  # statements: oneself only
    await bob.choose("cert.027")
    await bob.choose("confirm")
    [theirs] = await applications.list_applications(
        backend.uow(), world.bob.id or 0, today=backend.clock.now().date()
    )
    assert theirs.for_name == "Павел П."

    await _signed_in(alice, world.alice.iin, language)
    await alice.choose("apps")
    await alice.send(theirs.number)
    assert await alice.screen() == "apps.list"  # "no such application of yours"
    # A number beyond the "for whom?" list is refused there, nothing chosen.
    await alice.send("00")
    await alice.choose("certs")
    await alice.send("7")
    assert await alice.screen() == "certs.list"
    assert f"for.{kids.ali.id}" in await alice.options()
    _within_budget(alice)


async def test_who_represents_no_one_is_never_asked(
    world: World, kids: Children, phone_of: PhoneFactory, language: str
) -> None:
    assert world.dave.phone is not None
    dave = await phone_of(world.dave.phone)
    await _signed_in(dave, world.dave.iin, language)
    for entry in ("book", "visit", "certs"):
        await dave.send("00")
        await dave.choose(entry)
        assert not any(o.startswith("for.") for o in await dave.options())


async def test_a_parent_books_and_requests_a_certificate_for_a_child_within_the_budget(
    alice: SmsPhone, world: World, kids: Children, backend: Backend, language: str
) -> None:
    """Issue 15: a parent's journeys for a child by SMS, every reply within 2 segments, and a
    booking for a child from the menu within the booking goal (kk/ru ≤ 7, en ≤ 5)."""
    await _signed_in(alice, world.alice.iin, language)
    # Booking for Әли: "Book for a child" → which child → specialty → time → confirm.
    start = len(alice.reply_segments)
    await alice.choose("book.child")
    await alice.choose(f"for.{kids.ali.id}")
    await alice.choose(f"sp.{kids.paediatrician.id}")  # one doctor: the earliest day's times
    await alice.choose(f"slot.{kids.slots_paed_b[0].id}")
    await alice.choose("confirm")
    assert await alice.screen() == "book.done"
    booking_cost = sum(alice.reply_segments[start:])
    assert booking_cost <= GOALS[language], alice.replies[start:]

    # A 027/е for Дана.
    await alice.send("00")
    await alice.choose("certs")
    await alice.choose(f"for.{kids.dana.id}")
    await alice.choose("cert.027")
    assert DANA[language] in _text(alice)
    await alice.choose("confirm")
    assert await alice.screen() == "certs.done"
    listed = await applications.list_applications(
        backend.uow(), world.alice.id or 0, today=backend.clock.now().date()
    )
    assert {(a.service, a.for_name) for a in listed} == {
        (ServiceType.APPOINTMENT, "Әли С."),
        (ServiceType.CERTIFICATE_027, "Дана С."),
    }
    _within_budget(alice)


# Issue 15: the plain word for booking a parent may type on the menu («Жазылу: өзім» /
# «Запись: Әли С.» is what it offers), and the single patient's label.
BOOKING_WORDS = {
    "kk": ("жазылу", "Дәрігерге жазылу"),
    "ru": ("запись", "Записаться к врачу"),
    "en": ("book", "Book an appointment"),
}


async def test_a_parent_typing_the_word_for_booking_is_asked_for_whom(
    alice: SmsPhone, world: World, kids: Children, language: str
) -> None:
    await _signed_in(alice, world.alice.iin, language)
    if language == "kk":  # the parent's booking options read alike, no name declined
        menu = await alice.send("00")
        assert "1 Жазылу: өзім\n2 Жазылу: бала\n" in menu, menu
    for word in BOOKING_WORDS[language]:
        await alice.send("00")
        assert "book" in await alice.options()
        await alice.send(word)
        # "For whom?" with herself and every child, not a strike on the menu.
        assert await alice.screen() == "book.specialty", alice.last
        options = await alice.options()
        assert options[:3] == ["for.me", f"for.{kids.ali.id}", f"for.{kids.dana.id}"], options
    await alice.choose("for.me")
    assert "for.me" not in await alice.options()  # booking for herself goes on
    _within_budget(alice)
