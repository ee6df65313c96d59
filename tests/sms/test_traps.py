"""Issue 15, "Never trapped": after any wrong answer the numbers that were valid stay valid,
the options are on the page the patient sees, and every screen says how to go on."""

from __future__ import annotations

import pytest

from tests.backend.world import World
from tests.sms.harness import SmsPhone

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LANGUAGE_KEYWORD = {"kk": "KZ", "ru": "RU", "en": "EN"}


async def _signed_in(phone: SmsPhone, world: World, language: str) -> None:
    await phone.send(LANGUAGE_KEYWORD[language])
    await phone.choose("signin")
    await phone.send(world.alice.iin)
    await phone.send(phone.last_code())
    assert await phone.screen() == "menu"


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_home_visit_wrong_answer_keeps_the_numbers(
    alice: SmsPhone, world: World, language: str
) -> None:
    await _signed_in(alice, world, language)
    await alice.choose("visit")
    screen = await alice.screen()
    before = dict((await alice.state()).current.numbers)
    assert before, alice.last
    for wrong in ("x", "xx"):
        reply = await alice.send(wrong)
        state = await alice.state()
        assert state.rendering.state == screen
        assert state.page == 0
        assert state.current.numbers == before, reply
        for number in before:
            assert f"\n{number} " in f"\n{reply}", reply
    await alice.send("1")
    assert await alice.screen() != screen, alice.last


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_welcome_after_a_second_greeting_keeps_the_numbers(
    alice: SmsPhone, language: str
) -> None:
    await alice.send(LANGUAGE_KEYWORD[language])
    before = dict((await alice.state()).current.numbers)
    for _ in range(3):
        reply = await alice.send("Сәлем")
        assert (await alice.state()).current.numbers == before, reply
    await alice.choose("signin")
    assert await alice.screen() == "signin.iin", alice.last


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_code_screen_after_three_wrong_codes_keeps_its_options(
    alice: SmsPhone, world: World, language: str
) -> None:
    await alice.send(LANGUAGE_KEYWORD[language])
    await alice.choose("signin")
    await alice.send(world.alice.iin)
    before = dict((await alice.state()).current.numbers)
    assert len(before) >= 2, alice.last
    for wrong in ("000000", "111111", "222222"):
        reply = await alice.send(wrong)
        assert (await alice.state()).current.numbers == before, reply
        assert "1414" in reply or "1 " in reply
    # the hint names 1414 as something to send, never a button that is not on the page
    assert "«Operator 1414»" not in alice.last and "«Оператор 1414»" not in alice.last


async def test_help_then_a_number_of_the_menu(alice: SmsPhone) -> None:
    await alice.send("RU")
    menu = dict((await alice.state()).current.numbers)
    await alice.send("HELP")
    await alice.send("1")
    state = await alice.state()
    assert state.rendering.state != "help" or state.rendering.pages[0].numbers, alice.replies
    assert alice.last.strip(), alice.replies
    assert menu
