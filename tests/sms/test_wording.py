"""Issue 10 parts 3 and 5 by SMS: the new screens within the segment budget, in kk, ru, en."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.domain.statuses import ServiceType
from backend.ports import FixedClock
from backend.services.certificates import request_certificate
from tests.backend.world import World
from tests.sms.conftest import PhoneFactory
from tests.sms.harness import SmsPhone

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LANGUAGE_KEYWORD = {"kk": "KZ", "ru": "RU", "en": "EN"}
BUDGET = 2
ATTACHED_NOWHERE = {
    "kk": "Ешбір емханаға бекітілмегенсіз",
    "ru": "не прикреплены к поликлинике",
    "en": "not attached to any clinic",
}
LATE = {"kk": "кешікті", "ru": "просрочена", "en": "late"}


@pytest.fixture(params=["kk", "ru", "en"])
def language(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def _within_budget(phone: SmsPhone) -> None:
    assert phone.reply_segments, phone.replies
    assert max(phone.reply_segments) <= BUDGET, list(
        zip(phone.reply_segments, phone.replies, strict=True)
    )


async def test_attached_nowhere_is_told_so_and_how_to_attach_within_budget(
    world: World, phone_of: PhoneFactory, language: str
) -> None:
    assert world.carol.phone is not None
    carol = await phone_of(world.carol.phone)
    await carol.send(LANGUAGE_KEYWORD[language])
    await carol.sign_in(world.carol.iin)

    for option, refused_on in (("book", "book.specialty"), ("visit", "visit.terms")):
        await carol.send("00")
        await carol.choose(option)
        assert await carol.screen() == refused_on
        assert ATTACHED_NOWHERE[language] in carol.last, carol.last
        assert "eGov" in carol.last and "1414" in carol.last
    _within_budget(carol)


async def test_a_late_certificate_names_1414_on_the_list_within_budget(
    alice: SmsPhone, world: World, backend: Backend, clock: FixedClock, language: str
) -> None:
    summary = await request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.CERTIFICATE_027, now=clock.now()
    )
    clock.advance(dt.timedelta(hours=1))
    await alice.send(LANGUAGE_KEYWORD[language])
    await alice.sign_in(world.alice.iin)
    await alice.choose("apps")

    assert summary.number in alice.last
    assert LATE[language] in alice.last.lower() and "1414" in alice.last

    await alice.choose(f"app.{summary.number}")
    assert "1414" in alice.last
    _within_budget(alice)
