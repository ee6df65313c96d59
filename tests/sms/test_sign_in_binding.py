"""Issue 9 §1: the SMS sign-in is bound to the sender's phone on every path an ИИН can take.

Through signed Twilio webhooks into the real app: a stranger's phone that sends a patient's
ИИН (as its first message, after an expired conversation, from the menu, after HELP / 00 / a
language switch, in a shortcut like "1 900315410014", at the sign-in step) gets no code sent
anywhere and no pending request (the code the patient would have got cannot sign it in); the
owner's phone gets a code and signs in. On SQLite with the in-process stores, and on
PostgreSQL with the Redis stores (conversation, SMS pages, OTP, sessions).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from backend.bootstrap import Backend
from backend.domain.iin import Sex, make_iin
from backend.ports import FixedClock
from bot.app import RUNTIME_KEY
from bot.i18n import Translator
from bot.runtime import build_runtime
from bot.sms import channel as sms_channel
from bot.sms.channel import SMS_WORKER_KEY
from dialogs.engine.store import RedisConversationStore
from otp import messages
from otp.storage import RedisOtpStore
from tests.backend.world import World
from tests.sms.harness import GatewaySender, SmsPhone, sms_settings

STRANGER = "+77059876543"
CODE = "111111"  # every code of these tests: a stranger would only need to type it
TRANSLATOR = Translator()
NOT_THIS_PHONE = {
    lang: TRANSLATOR.gettext(lang, messages.NOT_THIS_PHONE) for lang in ("kk", "ru", "en")
}


@pytest.fixture
async def stack(
    database_url: str,
    backend: Backend,
    gateway: GatewaySender,
    redis_client: Redis,
    redis_prefix: str,
) -> web.Application:
    """The production SMS channel: in-process stores on SQLite, Redis stores on PostgreSQL."""
    redis = None if database_url.startswith("sqlite") else redis_client
    runtime = build_runtime(
        sms_settings(), backend, redis, sender=gateway, key_prefix=redis_prefix
    )
    app = web.Application()
    app[RUNTIME_KEY] = runtime
    sms_channel.install(app, runtime)
    app[SMS_WORKER_KEY] = False  # the tests run the outbox worker themselves
    otp = runtime.services.otp
    otp._generate_code = lambda digits: CODE
    if redis is not None:
        assert isinstance(runtime.engine.store, RedisConversationStore)
        assert isinstance(otp.store, RedisOtpStore)
    return app


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, stack: web.Application) -> TestClient[Any, Any]:
    return await aiohttp_client(stack)


@pytest.fixture
def phone_of(
    client: TestClient[Any, Any], stack: web.Application, gateway: GatewaySender
) -> Callable[[str], SmsPhone]:
    return lambda number: SmsPhone(client, stack, gateway, number)


async def _first_message(phone: SmsPhone, iin: str) -> str:
    return await phone.send(iin)


async def _after_expiry(phone: SmsPhone, iin: str) -> str:
    await phone.send("Сәлем")
    await phone.choose("signin")
    # The conversation and the SMS pages expire (their TTL): both records are gone.
    conversations = phone.channel.conversations
    await conversations.engine.store.delete("sms", phone.phone)
    await conversations.states.delete(phone.phone)
    return await phone.send(iin)


async def _from_the_menu(phone: SmsPhone, iin: str) -> str:
    await phone.send("Сәлем")
    return await phone.send(iin)


async def _after_help_and_00(phone: SmsPhone, iin: str) -> str:
    await phone.send("HELP")
    await phone.send("00")
    return await phone.send(iin)


async def _after_00(phone: SmsPhone, iin: str) -> str:
    await phone.send("00")
    return await phone.send(iin)


async def _after_a_language_switch(phone: SmsPhone, iin: str) -> str:
    await phone.send("RU")
    return await phone.send(iin)


async def _shortcut(phone: SmsPhone, iin: str) -> str:
    await phone.send("Сәлем")
    signin = await phone.number_of("signin")
    return await phone.send(f"{signin} {iin}")


async def _sign_in_step(phone: SmsPhone, iin: str) -> str:
    await phone.send("Сәлем")
    await phone.choose("signin")
    return await phone.send(iin)


PATHS = {
    "first message": _first_message,
    "after expiry": _after_expiry,
    "from the menu": _from_the_menu,
    "after HELP and 00": _after_help_and_00,
    "after 00": _after_00,
    "after a language switch": _after_a_language_switch,
    "shortcut": _shortcut,
    "sign-in step": _sign_in_step,
}


async def _signed_in(phone: SmsPhone) -> bool:
    runtime = phone.app[RUNTIME_KEY]
    return await runtime.services.sessions.current("sms", phone.phone) is not None


@pytest.mark.parametrize("path", list(PATHS))
async def test_a_stranger_gets_no_code_on_any_path(
    path: str, world: World, phone_of: Callable[[str], SmsPhone], gateway: GatewaySender
) -> None:
    stranger = phone_of(STRANGER)

    reply = await PATHS[path](stranger, world.alice.iin)

    assert any(text in reply for text in NOT_THIS_PHONE.values()), reply
    assert gateway.sent == []  # no code to Alice, nothing to anyone
    assert gateway.attempts == 0
    # No pending request: the code Alice would have got signs nobody in.
    await stranger.send(CODE)
    assert not await _signed_in(stranger)
    assert "book" not in await stranger.options()
    assert gateway.sent == []


@pytest.mark.parametrize("path", list(PATHS))
async def test_the_owner_gets_a_code_and_signs_in_on_every_path(
    path: str, world: World, phone_of: Callable[[str], SmsPhone], gateway: GatewaySender
) -> None:
    assert world.alice.phone is not None
    alice = phone_of(world.alice.phone)

    reply = await PATHS[path](alice, world.alice.iin)

    assert not any(text in reply for text in NOT_THIS_PHONE.values()), reply
    assert await alice.screen() == "signin.code"
    [body] = alice.outbox_texts()
    assert re.search(r"111 ?111", body)
    await alice.send(alice.last_code())
    assert await _signed_in(alice)
    assert await alice.screen() == "menu"
    assert "book" in await alice.options()


async def test_one_reply_for_another_phone_an_unknown_iin_and_no_phone(
    world: World, phone_of: Callable[[str], SmsPhone], gateway: GatewaySender, backend: Backend
) -> None:
    async with backend.uow() as uow:  # Carol's register entry has no phone
        carol = await uow.register.patient_by_iin(world.carol.iin)
        assert carol is not None
        carol.phone = None
        await uow.commit()
    unknown = make_iin(dt.date(1970, 5, 5), Sex.MALE, 4242)
    stranger = phone_of(STRANGER)
    await stranger.send("Сәлем")
    await stranger.choose("signin")

    replies = [await stranger.send(iin) for iin in (world.alice.iin, unknown, world.carol.iin)]

    assert len(set(replies)) == 1, replies
    assert "1414" in replies[0]
    assert world.alice.phone is not None
    assert world.alice.phone[-7:] not in replies[0]
    assert gateway.sent == []
    assert await stranger.screen() == "signin.iin"


async def test_a_code_typed_from_another_phone_does_not_sign_it_in(
    world: World, phone_of: Callable[[str], SmsPhone], clock: FixedClock
) -> None:
    """Alice asks for a code on her own phone; the stranger who knows it cannot use it."""
    assert world.alice.phone is not None
    alice = phone_of(world.alice.phone)
    stranger = phone_of(STRANGER)
    await _sign_in_step(alice, world.alice.iin)

    await stranger.send(alice.last_code())
    clock.advance(dt.timedelta(minutes=2))  # past the resend cool-down
    await _sign_in_step(stranger, world.alice.iin)
    await stranger.send(alice.last_code())

    assert not await _signed_in(stranger)
    await alice.send(alice.last_code())
    assert await _signed_in(alice)


async def test_words_at_the_code_prompt_cost_no_attempt(
    world: World, phone_of: Callable[[str], SmsPhone]
) -> None:
    """Issue 9 §1 / issue 15: "hello", an ИИН, a short number get the hint; 5 attempts stay."""
    assert world.alice.phone is not None
    alice = phone_of(world.alice.phone)
    await _sign_in_step(alice, world.alice.iin)
    hint = TRANSLATOR.gettext("kk", messages.NOT_A_CODE).format(digits=6)

    for text in ("hello", world.alice.iin, "12345", "сәлем", "12 34"):
        reply = await alice.send(text)
        assert hint in reply, reply
        assert await alice.screen() == "signin.code"

    for left in (4, 3, 2, 1):  # every wrong code still counts, from 5
        reply = await alice.send("000000")
        assert str(left) in reply
    await alice.send(alice.last_code())
    assert await _signed_in(alice)
