"""The engine's cross-cutting rules, through the public `Engine.handle`."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.ports import FixedClock
from backend.services import patients
from dialogs.engine.events import Chose, Typed
from tests.backend.world import World
from tests.dialogs.harness import Chat, RecordingSender, make_engine, sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
UNKNOWN_IIN = "900101301233"  # valid check digit, registered for nobody


async def test_a_new_patient_gets_the_welcome_menu_in_kazakh_with_the_navigation(
    chat: Chat,
) -> None:
    screen = await chat.start()

    assert screen.state == "menu"
    assert screen.option_ids == ("signin", "help", "nav.lang", "nav.op")
    assert await chat.engine.current_language("test", "1") == "kk"


async def test_telegram_language_code_is_only_a_first_guess(
    backend: Backend, sender: RecordingSender, world: World
) -> None:
    chat = Chat(make_engine(backend, sender), language_hint="ru-RU")
    await chat.start()
    assert await chat.engine.current_language("test", "1", language_hint="ru-RU") == "ru"

    await chat.tap("nav.lang")
    await chat.tap("lang.en")

    assert await chat.engine.current_language("test", "1", language_hint="ru-RU") == "en"


async def test_every_screen_offers_menu_language_and_operator(chat: Chat) -> None:
    await chat.start()
    screen = await chat.tap("help")

    assert {"nav.back", "nav.menu", "nav.lang", "nav.op"} <= set(screen.option_ids)


async def test_back_returns_to_the_previous_screen(chat: Chat) -> None:
    await chat.start()
    await chat.tap("help")

    screen = await chat.tap("nav.back")

    assert screen.state == "menu"


async def test_a_stale_button_gets_the_current_screen_and_no_strike(chat: Chat) -> None:
    first = await chat.start()
    await chat.tap("help")
    await chat.tap("hours")  # two screens on (one screen on is a double tap, issue 15)

    screen = await chat.send(Chose("signin", seq=first.seq))

    assert screen.state == "help.hours"
    assert "out of date" in chat.text()
    assert screen.error is None


async def test_an_option_that_was_never_shown_is_stale(chat: Chat) -> None:
    await chat.start()

    screen = await chat.send(Chose("book"))

    assert screen.state == "menu"
    assert "out of date" in chat.text()


async def test_bad_input_repeats_the_screen_with_a_hint_and_three_strikes_offer_the_operator(
    chat: Chat,
) -> None:
    await chat.start()
    for _ in range(2):
        screen = await chat.send(Typed("hello?"))
        assert screen.state == "menu"
        assert screen.error is not None
        assert "Operator 1414" not in (chat.text().split("\n")[0])

    screen = await chat.send(Typed("hello?"))

    assert screen.notice is not None
    assert "Operator 1414" in chat.text().split("\n")[0]


async def test_an_unknown_command_is_answered_once_not_crashed(chat: Chat) -> None:
    await chat.start()

    screen = await chat.command("/frobnicate")

    assert screen.state == "menu"
    assert "Unknown command" in chat.text()


async def test_an_expired_conversation_restarts_politely(chat: Chat) -> None:
    screen = await chat.send(Chose("book", seq=7))

    assert screen.state == "menu"
    assert "Welcome back" in chat.text()
    assert screen.stale


async def test_a_first_message_that_is_not_an_iin_gets_the_welcome_without_a_strike(
    chat: Chat,
) -> None:
    screen = await chat.send(Typed("Сәлеметсіз бе"))

    assert screen.state == "menu"
    assert screen.error is None
    assert "Welcome back" not in chat.text()


async def test_a_first_message_with_an_iin_starts_sign_in(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    screen = await chat.send(Typed(world.alice.iin))

    assert screen.state == "signin.code"
    assert sender.sent[-1][0] == world.alice.phone


async def test_a_signed_in_step_asks_for_sign_in_first_and_continues_there(
    backend: Backend, chat: Chat, sender: RecordingSender, world: World
) -> None:
    await chat.start()
    await chat.command("operator")
    await chat.tap("nav.menu")
    await chat.tap("signin")
    await chat.type(world.alice.iin)

    screen = await chat.type(sender.last_code())

    assert screen.state == "menu"
    assert "book" in screen.option_ids


async def test_sign_in_sends_the_code_to_the_registered_phone_and_opens_the_menu(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await chat.start()
    await chat.tap("signin")

    screen = await chat.type(world.alice.iin)

    assert screen.state == "signin.code"
    assert sender.sent[-1][0] == world.alice.phone
    screen = await chat.type(sender.last_code())
    assert screen.state == "menu"
    assert "signed in" in chat.text()


async def test_an_unknown_iin_gets_the_same_reply_and_no_sms(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await chat.start()
    await chat.tap("signin")
    known = await chat.type(world.alice.iin)
    sender.sent.clear()
    other = Chat(chat.engine, user_id="2")
    await other.start()
    await other.tap("signin")

    unknown = await other.type(UNKNOWN_IIN)

    assert (unknown.state, unknown.notice) == (known.state, known.notice)
    assert sender.sent == []


async def test_an_invalid_iin_is_a_hint_and_keeps_the_screen(
    chat: Chat, sender: RecordingSender
) -> None:
    await chat.start()
    await chat.tap("signin")

    screen = await chat.type("12345")

    assert screen.state == "signin.iin"
    assert screen.error is not None
    assert sender.sent == []


async def test_a_wrong_code_is_a_hint_with_attempts_left(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await chat.start()
    await chat.tap("signin")
    await chat.type(world.alice.iin)
    code = sender.last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    screen = await chat.type(wrong)

    assert screen.state == "signin.code"
    assert "Attempts left: 4" in chat.text()


async def test_the_language_chosen_before_sign_in_is_stored_for_the_patient(
    backend: Backend, chat: Chat, sender: RecordingSender, world: World
) -> None:
    await chat.start()
    await chat.tap("nav.lang")
    await chat.tap("lang.ru")

    await sign_in(chat, sender, world.alice.iin)

    patient = await patients.get_patient(backend.uow(), world.alice.id or 0)
    assert patient.language is not None and patient.language.value == "ru"


async def test_sign_out_and_sign_out_everywhere(
    backend: Backend, chat: Chat, sender: RecordingSender, world: World, clock: FixedClock
) -> None:
    await sign_in(chat, sender, world.alice.iin)
    other = Chat(chat.engine, channel="sms", user_id=world.alice.phone or "")
    clock.advance(dt.timedelta(minutes=2))
    await sign_in(other, sender, world.alice.iin)

    await chat.tap("account")
    screen = await chat.tap("signout.all")

    assert screen.state == "menu"
    assert "signin" in screen.option_ids
    await other.start()
    assert other.last is not None and "signin" in other.last.option_ids


async def test_the_screen_names_its_language_after_a_switch_in_the_same_step(chat: Chat) -> None:
    first = await chat.start()
    await chat.tap("nav.lang")

    switched = await chat.tap("lang.ru")

    assert (first.language, switched.language) == ("kk", "ru")


async def test_a_tap_on_an_old_screen_is_flagged_stale_and_a_current_tap_is_not(
    chat: Chat,
) -> None:
    first = await chat.start()
    fresh = await chat.tap("help")

    old = await chat.send(Chose("signin", seq=first.seq))

    assert (fresh.stale, old.stale) == (False, True)


async def test_an_iin_sent_to_the_welcome_menu_starts_sign_in(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await chat.start()

    screen = await chat.type(world.alice.iin)

    assert screen.state == "signin.code"
    assert sender.sent[-1][0] == world.alice.phone


async def test_other_text_at_the_welcome_menu_is_still_a_hint(
    chat: Chat, sender: RecordingSender
) -> None:
    await chat.start()

    screen = await chat.type("hello 123")

    assert screen.state == "menu"
    assert screen.error is not None
    assert sender.sent == []
