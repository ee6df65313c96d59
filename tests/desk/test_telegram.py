"""The desk on Telegram, through the production dispatcher (issue 12): escalate, the queue
place, the bot never answers a queued or taken chat, the relay, hand-back, close, leave."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from aiogram.methods import SendMessage
from aiogram.types import Message

from backend.ports import FixedClock
from backend.services import desk
from backend.services.desk import DeskState, Operator
from bot.desk.actions import DeskActions
from bot.desk.feed import MemoryFeed
from bot.desk.relay import Relay
from bot.desk.telegram import TelegramPatient
from bot.runtime import Runtime
from tests.telegram.conftest import runtime, sms, tg, world
from tests.telegram.harness import TelegramChat, plain

__all__ = ["runtime", "sms", "tg", "world"]  # the Telegram fixtures, used here too

ANNA = Operator(7, "Anna")


def _relay(runtime: Runtime, tg: TelegramChat) -> Relay:
    channel = TelegramPatient(tg.bot, runtime.translator)
    return Relay(runtime.backend, runtime.engine, runtime.translator, {"telegram": channel})


async def _queue(tg: TelegramChat) -> desk.DeskChat:
    await tg.start()
    await tg.tap("help")
    await tg.tap("hours")
    assert await tg.state() == "help.hours"
    await tg.tap("nav.op")
    assert await tg.state() == "operator"
    assert "desk.join" in tg.options
    await tg.tap("desk.join")
    assert await tg.state() == "operator.queued"
    assert "desk.leave" in tg.options
    chat = await desk.open_chat(tg.runtime.backend.uow(), "telegram", str(tg.user_id))
    assert chat is not None and chat.state is DeskState.WAITING
    return chat


async def _deliver(relay: Relay, tg: TelegramChat) -> int:
    """Run the relay once; what it sent with a keyboard becomes the chat's current message."""
    mark = len(tg.session.results)
    done = await relay.run_once()
    for result in tg.session.results[mark:]:
        if isinstance(result, Message) and result.reply_markup is not None:
            tg.current = result
    return done


def _sent(calls: Sequence[object]) -> list[str]:
    return [plain(c.text) for c in calls if isinstance(c, SendMessage)]


async def test_queued_then_taken_chat_never_reaches_the_bot(
    tg: TelegramChat, runtime: Runtime
) -> None:
    tg.language_code = "ru"
    chat = await _queue(tg)
    assert "1" in tg.last_text  # number 1 in the queue
    assert chat.snapshot["state"] == "help.hours"

    # Waiting: stored, answered only with the place and the way out; no bot screen.
    calls = await tg.send_text("Мне нужна справка")
    assert _sent(calls) == ["Ваше сообщение передано. Ваш номер в очереди: 1."]
    assert tg.options == ["desk.leave"]
    assert await tg.state() == "operator.queued"

    actions = DeskActions(runtime.backend, MemoryFeed())
    assert await actions.claim(chat.id, ANNA)
    # Taken: stored, and the bot says nothing at all (the operator answers), even to /menu.
    assert await tg.send_text("Вы здесь?") == []
    assert await tg.send_text("/menu") == []
    bodies = [m.body for m in await desk.transcript(runtime.backend.uow(), chat.id)]
    assert bodies == ["Мне нужна справка", "Вы здесь?", "/menu"]

    # The operator's reply reaches the chat at once, prefixed.
    await actions.reply(chat.id, ANNA, "Здравствуйте! Чем помочь?")
    relay = _relay(runtime, tg)
    mark = len(tg.session.calls)
    assert await relay.run_once() == 1
    assert _sent(tg.session.calls[mark:]) == ["Оператор 1414: Здравствуйте! Чем помочь?"]
    assert await relay.run_once() == 0  # delivered once

    # Hand back: the screen the patient left, and the next message goes to the bot.
    await actions.hand_back(chat.id, ANNA)
    await _deliver(relay, tg)
    assert "вернул вас к боту" in tg.last_text
    assert await tg.state() == "help.hours"
    await tg.tap("nav.back")
    assert await tg.state() == "help"
    assert await desk.open_chat(runtime.backend.uow(), "telegram", str(tg.user_id)) is None


async def test_leave_the_queue_by_the_button(tg: TelegramChat, runtime: Runtime) -> None:
    chat = await _queue(tg)
    await tg.send_text("hello")
    await tg.tap("desk.leave")
    assert (await desk.get(runtime.backend.uow(), chat.id)).state is DeskState.LEFT
    assert await tg.state() == "help.hours"
    await tg.send_text("/menu")
    assert await tg.state() == "menu"  # the bot answers again


async def test_close_asks_the_two_quality_questions(tg: TelegramChat, runtime: Runtime) -> None:
    tg.language_code = "en"
    chat = await _queue(tg)
    actions = DeskActions(runtime.backend, MemoryFeed())
    await actions.claim(chat.id, ANNA)
    await actions.reply(chat.id, ANNA, "Done, your certificate is ready.")
    await actions.close(chat.id, ANNA)
    relay = _relay(runtime, tg)
    assert await _deliver(relay, tg) == 2
    assert await tg.state() == "desk.quality.1"
    assert "quality and the result" in tg.last_text
    await tg.tap("q.3")
    assert await tg.state() == "desk.quality.2"
    await tg.tap("q.2")
    assert await tg.state() == "menu"
    assert await desk.quality_answers(runtime.backend.uow(), chat.id) == {1: 3, 2: 2}


async def test_outside_hours_a_message_for_a_call_back(
    tg: TelegramChat, runtime: Runtime, clock: FixedClock
) -> None:
    tg.language_code = "en"
    clock.advance(dt.timedelta(days=6))  # Sunday: the desk is closed
    await tg.start()
    await tg.tap("nav.op")
    assert "closed" in tg.last_text and "desk.join" not in tg.options
    await tg.tap("desk.callback")
    await tg.send_text("Please call me about my certificate")
    assert await tg.state() == "menu"
    assert "call you back" in tg.last_text
    [callback] = await desk.callbacks(runtime.backend.uow())
    assert callback.body == "Please call me about my certificate"
    assert callback.address == str(tg.user_id)
    assert await desk.queue(runtime.backend.uow(), clock.now()) == []
