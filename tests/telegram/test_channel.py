"""The Telegram channel through the production dispatcher: what a patient sees and taps."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage

from bot.runtime import Runtime
from bot.telegram import router
from dialogs.engine.engine import FAILURE, RESTARTED, STALE, UNKNOWN_COMMAND
from tests.backend.world import World
from tests.dialogs.harness import TRANSLATOR, RecordingSender
from tests.telegram.harness import TelegramChat, make_chat, plain

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

WELCOME = "Welcome to Dariger: appointments, home visits and certificates of your clinic."
LANGUAGE_CHANGED = "Done: the language is changed."
SIGNED_IN_MENU = ["book", "appts", "visit", "apps", "certs", "help", "account"]
NAV_FROM_MENU = [["nav.lang", "nav.op"]]


def said(language: str, msgid: str) -> str:
    """A message id as the patient reads it in `language`."""
    return TRANSLATOR.gettext(language, msgid)


# --- start and language -----------------------------------------------------------------


async def test_start_shows_the_welcome_in_kazakh_with_sign_in_help_and_navigation(
    tg: TelegramChat,
) -> None:
    calls = await tg.start()

    assert [type(c) for c in calls] == [SendMessage]
    assert said("kk", WELCOME) in tg.last_text
    assert tg.rows == [["signin"], ["help"], *NAV_FROM_MENU]
    assert tg.last_reply.parse_mode == "HTML"
    assert await tg.runtime.engine.current_language("telegram", str(tg.user_id)) == "kk"


@pytest.mark.parametrize(("code", "language"), [("ru", "ru"), ("en-GB", "en"), ("de", "kk")])
async def test_telegram_language_code_is_the_first_guess(
    runtime: Runtime, code: str, language: str
) -> None:
    tg = make_chat(runtime, language_code=code)

    await tg.start()

    assert said(language, WELCOME) in tg.last_text
    hint = await runtime.engine.current_language("telegram", str(tg.user_id), language_hint=code)
    assert hint == language


async def test_an_explicit_language_choice_wins_over_the_telegram_language(
    runtime: Runtime,
) -> None:
    tg = make_chat(runtime, language_code="ru")
    await tg.start()

    await tg.tap("nav.lang")
    assert tg.options[:3] == ["lang.kk", "lang.ru", "lang.en"]
    assert list(tg.labels.values())[:3] == ["Қазақша", "Русский", "English"]
    await tg.tap("lang.en")

    assert said("en", LANGUAGE_CHANGED) in tg.last_text
    await tg.start()
    assert said("en", WELCOME) in tg.last_text
    language = await runtime.engine.current_language(
        "telegram", str(tg.user_id), language_hint="ru"
    )
    assert language == "en"


# --- sign-in ------------------------------------------------------------------------------


async def test_sign_in_with_the_iin_and_the_sms_code_opens_the_main_menu(
    tg: TelegramChat, sms: RecordingSender, world: World
) -> None:
    await tg.start()
    await tg.tap("signin")
    assert await tg.state() == "signin.iin"

    await tg.send_text(world.alice.iin)
    assert await tg.state() == "signin.code"
    assert sms.sent[-1][0] == world.alice.phone
    assert tg.options == ["resend", "other", "nav.back", "nav.menu", "nav.lang", "nav.op"]

    calls = await tg.send_text(sms.last_code())

    assert [type(c) for c in calls] == [SendMessage]
    assert await tg.state() == "menu"
    assert tg.options == [*SIGNED_IN_MENU, "nav.lang", "nav.op"]


async def test_the_sign_in_screens_are_protected_from_forwarding_and_saving(
    tg: TelegramChat, sms: RecordingSender, world: World
) -> None:
    await tg.start()
    assert tg.last_reply.model_dump().get("protect_content") is False

    # The menu message is not protected: the sensitive screen comes as a new, protected one.
    calls = await tg.tap("signin")
    sent = [c for c in calls if isinstance(c, SendMessage)]
    assert [type(c) for c in calls] == [AnswerCallbackQuery, SendMessage]
    assert sent[0].protect_content is True

    await tg.send_text(world.alice.iin)
    assert isinstance(tg.last_reply, SendMessage)
    assert tg.last_reply.protect_content is True

    # A tap on the protected code screen may edit it: it stays protected.
    calls = await tg.tap("resend")
    assert [type(c) for c in calls] == [AnswerCallbackQuery, EditMessageText]


async def test_a_shared_contact_is_handled_with_one_reply(tg: TelegramChat) -> None:
    await tg.start()

    calls = await tg.send_contact("+77011234501", owner=tg.user_id)

    assert [type(c) for c in calls] == [SendMessage]
    assert await tg.state() == "menu"


# --- help, operator, commands -------------------------------------------------------------


async def test_help_and_operator_show_1414(tg: TelegramChat) -> None:
    await tg.start()

    await tg.tap("help")
    assert "1414" in tg.last_text

    calls = await tg.send_text("/operator")
    assert [type(c) for c in calls] == [SendMessage]
    assert "1414" in tg.last_text
    assert await tg.state() == "operator"


@pytest.mark.parametrize(
    ("command", "state"),
    [("/menu", "menu"), ("/help", "help"), ("/language", "language"), ("/HELP@bot x", "help")],
)
async def test_commands_open_their_screens(tg: TelegramChat, command: str, state: str) -> None:
    await tg.start()

    calls = await tg.send_text(command)

    assert [type(c) for c in calls] == [SendMessage]
    assert await tg.state() == state


async def test_an_unknown_command_gets_one_reply(tg: TelegramChat) -> None:
    await tg.start()

    calls = await tg.send_text("/frobnicate")

    assert [type(c) for c in calls] == [SendMessage]
    assert said("kk", UNKNOWN_COMMAND.msgid) in tg.last_text


async def test_a_message_in_a_group_is_ignored(tg: TelegramChat) -> None:
    from aiogram.types import Chat

    message = tg.message(text="/start").model_copy(update={"chat": Chat(id=-5, type="group")})

    calls = await tg.feed(tg.update(message=message))

    assert calls == []


# --- taps ---------------------------------------------------------------------------------


async def test_a_tap_edits_the_message_it_was_made_on(tg: TelegramChat) -> None:
    await tg.start()
    menu = tg.current
    assert menu is not None

    calls = await tg.tap("help")

    assert [type(c) for c in calls] == [AnswerCallbackQuery, EditMessageText]
    edit = calls[1]
    assert isinstance(edit, EditMessageText)
    assert edit.message_id == menu.message_id
    assert edit.chat_id == tg.user_id
    assert tg.rows == [["hours"], ["nav.back", "nav.menu"], ["nav.lang", "nav.op"]]


async def test_a_stale_button_is_answered_and_the_current_screen_sent_anew(
    tg: TelegramChat,
) -> None:
    await tg.start()
    menu = tg.current
    assert menu is not None
    old = tg.callback_data("signin")
    await tg.tap("help")
    await tg.tap("hours")  # two screens on (one screen on is a double tap: test_polish.py)
    state, rows = await tg.state(), tg.rows

    calls = await tg.press(old, message=menu)

    assert [type(c) for c in calls] == [AnswerCallbackQuery, SendMessage]
    answer = calls[0]
    assert isinstance(answer, AnswerCallbackQuery)
    assert answer.show_alert is True
    assert answer.text == said("kk", STALE.msgid)
    assert await tg.state() == state
    assert said("kk", STALE.msgid) in tg.last_text
    assert tg.rows == rows


async def test_a_button_of_an_expired_conversation_restarts_at_the_menu(tg: TelegramChat) -> None:
    await tg.start()
    await tg.runtime.engine.store.delete("telegram", str(tg.user_id))

    calls = await tg.tap("help")

    assert [type(c) for c in calls] == [AnswerCallbackQuery, SendMessage]
    answer = calls[0]
    assert isinstance(answer, AnswerCallbackQuery)
    assert answer.show_alert is True
    assert answer.text == said("kk", RESTARTED.msgid)
    assert await tg.state() == "menu"


@pytest.mark.parametrize("data", ["garbage", "p:1", "p:x:menu", "x:1:help", "p:1:a:b", "p" * 64])
async def test_foreign_callback_data_is_answered_like_a_stale_button(
    tg: TelegramChat, data: str
) -> None:
    await tg.start()

    calls = await tg.press(data)

    assert [type(c) for c in calls] == [AnswerCallbackQuery, SendMessage]
    assert await tg.state() == "menu"


async def test_a_refused_edit_falls_back_to_a_new_message(tg: TelegramChat) -> None:
    await tg.start()
    tg.session.fail[EditMessageText] = TelegramBadRequest(
        method=EditMessageText(text="x"), message="Bad Request: message can't be edited"
    )

    calls = await tg.tap("help")

    assert [type(c) for c in calls] == [AnswerCallbackQuery, EditMessageText, SendMessage]
    assert "1414" in tg.last_text


async def test_a_too_old_callback_query_still_gets_its_screen(tg: TelegramChat) -> None:
    await tg.start()
    tg.session.fail[AnswerCallbackQuery] = TelegramBadRequest(
        method=AnswerCallbackQuery(callback_query_id="x"), message="query is too old"
    )

    calls = await tg.tap("help")

    assert [type(c) for c in calls] == [AnswerCallbackQuery, EditMessageText]


# --- robustness ---------------------------------------------------------------------------


async def test_the_same_update_twice_gets_one_reply(tg: TelegramChat) -> None:
    update = tg.update(message=tg.message(text="/start"))

    first = await tg.feed(update)
    again = await tg.feed(update)

    assert [type(c) for c in first] == [SendMessage]
    assert again == []


async def test_a_failure_anywhere_gets_a_short_apology_with_1414(
    tg: TelegramChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    await tg.start()

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    logged: list[str] = []
    monkeypatch.setattr(tg.runtime.engine, "handle", broken)
    monkeypatch.setattr(router.log, "error", lambda event, **_kw: logged.append(event))
    calls = await tg.tap("help")

    assert logged == ["telegram update failed"]
    assert [type(c) for c in calls] == [AnswerCallbackQuery, SendMessage]
    assert tg.last_text == plain(said("kk", FAILURE.msgid))
    assert "1414" in tg.last_text
