"""Issue 15 on Telegram: a double tap books once and sends nothing twice; only sensitive screens
are protected, also when a screen is edited into the message of a protected one."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, TelegramMethod

from backend.bootstrap import Backend
from backend.services import applications
from bot.runtime import Runtime
from tests.backend.world import World
from tests.dialogs.harness import RecordingSender
from tests.telegram.harness import TelegramChat, make_chat, sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def kinds(calls: list[TelegramMethod[Any]]) -> list[type]:
    return [type(c) for c in calls]


@pytest.fixture
async def alice(runtime: Runtime, sms: RecordingSender, world: World) -> TelegramChat:
    tg = make_chat(runtime, language_code="ru")
    await sign_in(tg, sms.last_code, world.alice.iin)
    return tg


async def test_a_double_tap_on_confirm_books_once_and_only_alerts(
    alice: TelegramChat, world: World, backend: Backend
) -> None:
    await alice.tap("book")
    await alice.tap(f"sp.{world.therapist.id}")
    await alice.tap(f"dr.{world.doctor_a.id}")  # Tuesday's times: the earliest free day
    await alice.tap(f"slot.{world.slots_a[1].id}")
    assert await alice.state() == "book.confirm"
    confirm_message = alice.current
    data = alice.callback_data("confirm")

    assert kinds(await alice.press(data, confirm_message)) == [
        AnswerCallbackQuery,
        EditMessageText,
    ]
    assert await alice.state() == "book.done"
    done_message = alice.current

    second = await alice.press(data, confirm_message)  # the same button, tapped again

    assert kinds(second) == [AnswerCallbackQuery]  # the alert only: no second success screen
    [answer] = second
    assert isinstance(answer, AnswerCallbackQuery) and answer.show_alert
    assert len(await applications.list_applications(backend.uow(), world.alice.id or 0)) == 1
    # the success screen's own buttons still work
    assert kinds(await alice.press(alice.callback_data("nav.menu", done_message))) == [
        AnswerCallbackQuery,
        EditMessageText,
    ]
    assert await alice.state() == "menu"


async def test_after_a_protected_screen_the_next_one_is_not_protected(
    alice: TelegramChat,
) -> None:
    await alice.tap("visit")
    await alice.tap("start")
    await alice.tap("addr.reg")
    await alice.send_text("38.5, кашель")
    await alice.tap("skip")
    await alice.tap("phone.reg")
    assert await alice.state() == "visit.confirm"
    assert isinstance(alice.last_reply, SendMessage) and alice.last_reply.protect_content

    calls = await alice.tap("nav.menu")  # the main menu holds nothing sensitive

    sent = [c for c in calls if isinstance(c, SendMessage)]
    assert kinds(calls) == [AnswerCallbackQuery, SendMessage]  # not edited into the protected one
    assert sent[0].protect_content is False
    # and from there an unprotected screen is edited in place again
    assert kinds(await alice.tap("help")) == [AnswerCallbackQuery, EditMessageText]
