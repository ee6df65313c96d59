"""Emergencies texted by SMS get the 103 reply and nothing is queued (S12, R-38; issue 10).

Signed Twilio webhooks into the production app: the home visit's free-text answers and free
text at the main menu, in Kazakh, Russian and English, each reply within the segment budget.
"""

from __future__ import annotations

import pytest

from backend.bootstrap import Backend
from backend.services import applications
from tests.backend.world import World
from tests.sms.conftest import PhoneFactory
from tests.sms.harness import SmsPhone
from tests.sms.test_journeys import BUDGET, _signed_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

EMERGENCY = {
    "kk": "босану басталды",
    "ru": "ребенок не просыпается",
    "en": "suicidal",
}


@pytest.fixture(params=["kk", "ru", "en"])
def language(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


async def _applications(backend: Backend, world: World) -> list[str]:
    found = await applications.list_applications(backend.uow(), world.alice.id or 0)
    return [a.number for a in found]


def _is_103(phone: SmsPhone) -> None:
    assert "103" in phone.last
    assert phone.reply_segments[-1] <= BUDGET, phone.last


async def test_an_emergency_reason_gets_103_and_nothing_is_queued(
    alice: SmsPhone, world: World, backend: Backend, language: str
) -> None:
    await _signed_in(alice, world, language)
    await alice.choose("visit")
    await alice.choose("start")
    await alice.choose("addr.reg")

    await alice.send(EMERGENCY[language])

    assert await alice.screen() == "visit.emergency"
    _is_103(alice)
    assert "confirm" not in await alice.options()
    assert await _applications(backend, world) == []


async def test_emergency_symptoms_and_address_get_103(
    alice: SmsPhone, world: World, backend: Backend, language: str
) -> None:
    await _signed_in(alice, world, language)
    await alice.choose("visit")
    await alice.choose("start")
    await alice.send({"kk": "уланып қалды", "ru": "кровотечение", "en": "poisoning"}[language])
    assert await alice.screen() == "visit.emergency"
    _is_103(alice)

    await alice.send("0")  # back to the address: nothing typed is lost, nothing sent
    await alice.send("00")
    await alice.choose("visit")
    await alice.choose("start")
    await alice.choose("addr.reg")
    await alice.send("температура 37.5")
    assert await alice.screen() == "visit.symptoms"
    await alice.send({"kk": "zhurek auyrady", "ru": "serdtse bolit", "en": "chest pain"}[language])

    assert await alice.screen() == "visit.emergency"
    _is_103(alice)
    assert await _applications(backend, world) == []


async def test_an_emergency_texted_at_the_main_menu_gets_103(
    alice: SmsPhone, world: World, backend: Backend, language: str
) -> None:
    await _signed_in(alice, world, language)

    await alice.send(EMERGENCY[language])

    assert await alice.screen() == "emergency"
    _is_103(alice)
    assert await _applications(backend, world) == []


async def test_ordinary_text_at_the_main_menu_is_no_emergency(
    alice: SmsPhone, world: World, language: str
) -> None:
    await _signed_in(alice, world, language)

    await alice.send(
        {"kk": "тісім ауырады", "ru": "давление 140 на 90", "en": "sore throat"}[language]
    )

    assert await alice.screen() == "menu"


async def test_a_first_sms_naming_an_emergency_gets_103(
    phone_of: PhoneFactory, language: str
) -> None:
    stranger = await phone_of("+77015550123")

    await stranger.send(EMERGENCY[language])

    assert await stranger.screen() == "emergency"
    _is_103(stranger)
