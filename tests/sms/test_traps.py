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


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("keyword", ["1414", "OPERATOR"])
async def test_the_operator_screen_says_how_to_go_on(
    alice: SmsPhone, language: str, keyword: str
) -> None:
    await alice.send(LANGUAGE_KEYWORD[language])
    reply = await alice.send(keyword)
    assert await alice.screen() == "operator"
    lines = reply.splitlines()
    assert any(line.startswith(("00 ", "0 ")) for line in lines), reply  # «00 мәзір»
    await alice.send("00")
    assert await alice.screen() == "menu"


async def test_signing_out_keeps_the_language(alice: SmsPhone, world: World) -> None:
    await _signed_in(alice, world, "ru")
    await alice.choose("account")
    reply = await alice.choose("signout")
    assert await alice.screen() == "menu"
    assert (await alice.state()).rendering.language == "ru", reply
    assert "Вы вышли" in reply, reply


async def test_a_number_on_the_empty_application_list(alice: SmsPhone, world: World) -> None:
    await _signed_in(alice, world, "ru")
    await alice.choose("apps")
    assert await alice.screen() == "apps.list"
    reply = await alice.send("5")
    assert "Нет заявки с таким номером" not in reply
    assert "нет заявок" in reply, reply
    assert (await alice.state()).current.numbers  # still a way on


@pytest.mark.parametrize(
    ("greeting", "language"),
    [("Привет", "ru"), ("Здравствуйте!", "ru"), ("Hello", "en"), ("hi", "en"), ("Сәлем", "kk")],
)
async def test_a_greeting_is_answered_in_its_language(
    alice: SmsPhone, greeting: str, language: str
) -> None:
    reply = await alice.send(greeting)
    state = await alice.state()
    assert state.rendering.state == "menu"
    assert state.rendering.language == language, reply
    assert "KZ" in reply and "RU" in reply and "EN" in reply, reply


async def test_cancel_points_to_the_option_on_the_screen(alice: SmsPhone, world: World) -> None:
    await _signed_in(alice, world, "ru")
    await alice.choose("book")
    await alice.choose(f"sp.{world.therapist.id}")
    await alice.choose(f"dr.{world.doctor_a.id}")
    await alice.choose(f"slot.{world.slots_a[0].id}")
    await alice.choose("confirm")
    await alice.send("00")
    await alice.choose("appts")
    await alice.send("1")
    number = await alice.number_of("cancel")
    reply = await alice.send("ОТМЕНА")
    assert f"отправьте {number}" in reply, reply
    assert "00" not in reply


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_stop_names_the_start_words_of_every_alphabet(
    alice: SmsPhone, language: str
) -> None:
    await alice.send(LANGUAGE_KEYWORD[language])
    reply = await alice.send("STOP")
    for word in ("START", "СТАРТ", "БАСТАУ"):
        assert word in reply, reply
    assert "СТАРТ" in await alice.send("меню")  # while off
    assert await alice.send("БАСТАУ")
    assert await alice.screen() == "menu"


async def test_an_emoji_only_reason_asks_for_words(alice: SmsPhone, world: World) -> None:
    await _signed_in(alice, world, "ru")
    await alice.choose("visit")
    await alice.choose("start")
    await alice.choose("addr.reg")
    assert await alice.screen() == "visit.reason"
    await alice.send("🤒🤒🤒")
    assert await alice.screen() == "visit.reason", alice.last
    await alice.send("температура 38")
    assert await alice.screen() == "visit.symptoms", alice.last
