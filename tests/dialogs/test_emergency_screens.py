"""Emergency words typed where the screen cannot use them get the 103 screen (S12, R-38).

Through the engine: text typed at the main menu, the help screen, the home visit's phone
field and the sign-in IIN field; whatever was entered before is kept, Back returns to it, and
ordinary text still gets the usual hint.
"""

from __future__ import annotations

import pytest

from backend.bootstrap import Backend
from backend.services import applications
from tests.backend.world import World
from tests.dialogs.harness import Chat, RecordingSender, sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CALL_103 = "This sounds like an emergency. Call 103 now."


async def test_the_main_menu_signed_out_shows_103_without_sign_in(chat: Chat) -> None:
    await chat.start()

    await chat.type("ребенок не дышит")

    assert chat.state == "emergency"
    assert CALL_103 in chat.text("en")
    assert "The ambulance 103 answers day and night, free of charge." in chat.text("en")
    assert "Скорая помощь 103 отвечает круглосуточно и бесплатно." in chat.text("ru")


async def test_ordinary_text_at_the_menu_still_gets_the_hint(chat: Chat) -> None:
    await chat.start()

    await chat.type("температура 37.5, насморк")

    assert chat.state == "menu"
    assert chat.last is not None and chat.last.error is not None
    assert CALL_103 not in chat.text("en")


async def test_the_help_screen_and_back(chat: Chat) -> None:
    await chat.start()
    await chat.tap("help")

    await chat.type("zhurek qatty auyrady")

    assert chat.state == "emergency"
    await chat.tap("nav.back")
    assert chat.state == "help"


async def test_the_phone_field_keeps_what_was_entered(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await sign_in(chat, sender, world.alice.iin)
    await chat.tap("visit")
    await chat.tap("start")
    await chat.tap("addr.reg")
    await chat.type("ear ache")
    await chat.tap("skip")
    assert chat.state == "visit.phone"

    await chat.type("he is bleeding heavily")

    assert chat.state == "emergency"
    assert CALL_103 in chat.text("en")
    assert (await chat.data())["visit.reason"] == "ear ache"  # nothing lost
    assert await applications.list_applications(backend.uow(), world.alice.id or 0) == []
    await chat.tap("nav.back")
    assert chat.state == "visit.phone"


async def test_the_iin_field(chat: Chat) -> None:
    await chat.start()
    await chat.tap("signin")

    await chat.type("есінен танып қалды")

    assert chat.state == "emergency"
    assert CALL_103 in chat.text("en")
