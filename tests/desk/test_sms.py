"""The desk on SMS, through signed Twilio webhooks into the real app (issue 12)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from backend.bootstrap import Backend
from backend.services import desk
from backend.services.desk import DeskState, Operator
from bot.app import create_app
from bot.desk.channel import DESK_KEY, DESK_LOOP_KEY, Desk, sweep_once
from bot.sms.channel import SMS_WORKER_KEY
from tests.sms.conftest import (
    PhoneFactory,
    _no_settings_env,
    alice,
    gateway,
    phone_of,
    world,
)
from tests.sms.harness import GatewaySender, SmsPhone, sms_settings

__all__ = ["_no_settings_env", "alice", "gateway", "phone_of", "world"]  # SMS fixtures

ANNA = Operator(3, "Anna")


@pytest.fixture
def sms_app(backend: Backend, gateway: GatewaySender) -> web.Application:
    app = create_app(sms_settings(), backend, sender=gateway)
    app[SMS_WORKER_KEY] = False  # the tests run the outbox worker and the relay themselves
    app[DESK_LOOP_KEY] = False
    return app


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, sms_app: web.Application) -> TestClient[Any, Any]:
    return await aiohttp_client(sms_app)


async def _relay(phone: SmsPhone) -> None:
    the_desk: Desk = phone.app[DESK_KEY]
    await the_desk.relay.run_once()
    await phone.channel.worker.drain()


async def _queued(alice: SmsPhone) -> desk.DeskChat:
    await alice.send("Hello")
    await alice.send("РУС")
    await alice.send("OPERATOR")
    assert await alice.screen() == "operator"
    await alice.choose("desk.join")
    assert await alice.screen() == "operator.queued"
    assert "1414: 1" in alice.last  # «Ваш номер в очереди 1414: 1.»
    chat = await desk.open_chat(alice.app[DESK_KEY].relay.backend.uow(), "sms", alice.phone)
    assert chat is not None and chat.state is DeskState.WAITING
    return chat


async def test_the_bot_never_answers_a_queued_or_taken_chat(
    alice: SmsPhone, backend: Backend
) -> None:
    chat = await _queued(alice)
    await alice.send("Нужна справка 027")
    assert alice.last.startswith("Ваше сообщение передано. Ваш номер в очереди: 1.")
    assert "0" in alice.last

    actions = alice.app[DESK_KEY].actions
    assert await actions.claim(chat.id, ANNA)
    assert await alice.send("Алло?") == ""  # with an operator: no answer from the bot
    assert await alice.send("MENU") == ""
    bodies = [m.body for m in await desk.transcript(backend.uow(), chat.id)]
    assert bodies[-3:] == ["Нужна справка 027", "Алло?", "MENU"]

    await actions.reply(chat.id, ANNA, "Здравствуйте, справка готова.")
    await _relay(alice)
    assert alice.outbox_texts()[-1] == "Оператор 1414: Здравствуйте, справка готова."

    await actions.hand_back(chat.id, ANNA)
    await _relay(alice)
    assert "вернул вас к боту" in alice.outbox_texts()[-1]
    assert await alice.screen() == "menu"  # where Alice was before asking for 1414
    await alice.send("HELP")
    assert await alice.screen() == "help"  # the bot answers again


@pytest.mark.parametrize("leave", ["0", "1"])  # 0, or the queue screen's own number
async def test_zero_leaves_the_queue(alice: SmsPhone, backend: Backend, leave: str) -> None:
    chat = await _queued(alice)
    assert await alice.number_of("desk.leave") == "1"
    reply = await alice.send(leave)
    assert "вышли из очереди" in reply
    assert (await desk.get(backend.uow(), chat.id)).state is DeskState.LEFT
    assert await alice.screen() == "menu"


async def test_close_asks_the_quality_questions_by_sms(alice: SmsPhone, backend: Backend) -> None:
    chat = await _queued(alice)
    actions = alice.app[DESK_KEY].actions
    await actions.claim(chat.id, ANNA)
    await actions.close(chat.id, ANNA)
    await _relay(alice)
    assert "качеством" in alice.outbox_texts()[-1]
    assert await alice.screen() == "desk.quality.1"
    await alice.choose("q.1")
    assert await alice.screen() == "desk.quality.2"
    await alice.choose("q.3")
    assert await alice.screen() == "menu"
    assert await desk.quality_answers(backend.uow(), chat.id) == {1: 1, 2: 3}


async def test_an_idle_patient_is_told_the_chat_closed(
    alice: SmsPhone, backend: Backend, clock: Any
) -> None:
    chat = await _queued(alice)
    the_desk: Desk = alice.app[DESK_KEY]
    await the_desk.actions.claim(chat.id, ANNA)
    await the_desk.actions.reply(chat.id, ANNA, "Чем помочь?")
    clock.advance(the_desk.timeouts.patient_idle_close)
    swept = await sweep_once(the_desk)
    assert swept.closed == [chat.id]
    await _relay(alice)
    assert "долгое время не было ответа" in alice.outbox_texts()[-1]
    await alice.send("HELP")
    assert await alice.screen() == "help"


async def test_escalating_is_shown_on_the_feed(alice: SmsPhone) -> None:
    the_desk: Desk = alice.app[DESK_KEY]
    events = the_desk.feed.subscribe()
    first = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    chat = await _queued(alice)
    event = await asyncio.wait_for(first, 5)
    assert (event.kind, event.chat_id) == ("queued", chat.id)
    await events.aclose()


_ = PhoneFactory
