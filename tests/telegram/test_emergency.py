"""Emergencies typed on Telegram get the 103 screen and nothing is queued (S12, R-38; issue 10).

Through the production dispatcher: the home visit's free-text answers (reason, symptoms,
address) and free text typed at the main menu, in Kazakh, Russian and English.
"""

from __future__ import annotations

import pytest

from backend.bootstrap import Backend
from backend.services import applications
from bot.runtime import Runtime
from tests.backend.world import World
from tests.dialogs.harness import RecordingSender
from tests.telegram.harness import TelegramChat, make_chat, signed_in_chat

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.parametrize("language", ["kk", "ru", "en"]),
]

EMERGENCY = {
    "kk": "бала оянбайды",
    "ru": "сердце болит, давит",
    "en": "my son swallowed a battery",
}
ORDINARY = {"kk": "бас ауырады, суық тидім", "ru": "температура 37.5, насморк", "en": "back pain"}


@pytest.fixture
async def alice(
    runtime: Runtime, sms: RecordingSender, world: World, language: str
) -> TelegramChat:
    return await signed_in_chat(runtime, sms.last_code, world.alice.iin, language)


async def _applications(backend: Backend, world: World) -> list[str]:
    found = await applications.list_applications(backend.uow(), world.alice.id or 0)
    return [a.number for a in found]


async def _at_reason(alice: TelegramChat) -> None:
    await alice.tap("visit")
    await alice.tap("start")
    await alice.tap("addr.reg")
    assert await alice.state() == "visit.reason"


async def test_an_emergency_reason_gets_103_and_nothing_is_queued(
    alice: TelegramChat, world: World, backend: Backend, language: str
) -> None:
    await _at_reason(alice)

    await alice.send_text(EMERGENCY[language])

    assert await alice.state() == "visit.emergency"
    assert "103" in alice.last_text
    assert "confirm" not in alice.options
    assert await _applications(backend, world) == []


async def test_emergency_symptoms_get_103(
    alice: TelegramChat, world: World, backend: Backend, language: str
) -> None:
    await _at_reason(alice)
    await alice.send_text(ORDINARY[language])
    assert await alice.state() == "visit.symptoms"

    await alice.send_text(
        {"kk": "қан құсып жатыр", "ru": "рвота кровью", "en": "vomiting blood"}[language]
    )

    assert await alice.state() == "visit.emergency"
    assert "103" in alice.last_text
    assert await _applications(backend, world) == []


async def test_an_emergency_typed_in_the_address_gets_103(
    alice: TelegramChat, world: World, backend: Backend, language: str
) -> None:
    await alice.tap("visit")
    await alice.tap("start")
    assert await alice.state() == "visit.address"

    await alice.send_text(
        {"kk": "тыныс ала алмай жатыр", "ru": "ne dyshit", "en": "car accident"}[language]
    )

    assert await alice.state() == "visit.emergency"
    assert "103" in alice.last_text
    assert await _applications(backend, world) == []


async def test_an_emergency_typed_at_the_main_menu_gets_103(
    alice: TelegramChat, world: World, backend: Backend, language: str
) -> None:
    await alice.send_text(EMERGENCY[language])

    assert await alice.state() == "emergency"
    assert "103" in alice.last_text
    assert "nav.menu" in alice.options
    assert await _applications(backend, world) == []
    await alice.tap("nav.back")  # back where the patient was
    assert await alice.state() == "menu"


async def test_ordinary_text_at_the_main_menu_is_no_emergency(
    alice: TelegramChat, language: str
) -> None:
    await alice.send_text(ORDINARY[language])

    assert await alice.state() == "menu"
    assert "103" in alice.last_text  # the menu's own reminder, not the emergency screen


async def test_a_stranger_s_first_message_naming_an_emergency_gets_103(
    runtime: Runtime, language: str
) -> None:
    tg = make_chat(runtime, language_code=language)

    await tg.send_text(EMERGENCY[language])

    assert await tg.state() == "emergency"  # no sign-in asked first
    assert "103" in tg.last_text
