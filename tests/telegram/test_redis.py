"""With REDIS_URL: the conversation, the sign-in, the dedupe and the per-user isolation all live
in Redis (shared by every worker behind the webhook). One smoke test on the real server."""

from __future__ import annotations

import asyncio
import os

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage
from redis.asyncio import Redis

from backend.bootstrap import Backend
from bot.runtime import Runtime
from bot.telegram.setup import build_dispatcher
from bot.wiring import build_engine, build_services
from dialogs.engine.store import RedisConversationStore
from tests.backend.world import World
from tests.dialogs.harness import PEPPER, TRANSLATOR, RecordingSender
from tests.telegram.harness import TelegramChat, make_bot, sign_in, tg_settings

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.redis,
]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis(redis_client: Redis) -> Redis:
    return redis_client


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    return redis_prefix


async def test_a_full_sign_in_with_the_redis_stores(
    backend: Backend, world: World, sms: RecordingSender, redis: Redis, prefix: str
) -> None:
    services = build_services(
        backend, sender=sms, pepper=PEPPER, translator=TRANSLATOR, redis=redis, key_prefix=prefix
    )
    engine = build_engine(services, redis=redis, key_prefix=prefix)
    runtime = Runtime(tg_settings(), backend, redis, TRANSLATOR, sms, services, engine)
    dispatcher = build_dispatcher(runtime, key_prefix=prefix)
    tg = TelegramChat(dispatcher=dispatcher, bot=make_bot(), runtime=runtime, language_code="ru")
    assert isinstance(engine.store, RedisConversationStore)
    # Per-user isolation is the engine's Redis conversation lock, held for the whole update
    # (bot/telegram/middlewares.py); two taps at once below are handled one after the other.
    assert not [key async for key in redis.scan_iter(match=f"{prefix}*:lock")]

    await sign_in(tg, sms.last_code, world.alice.iin)

    assert await tg.state() == "menu"
    assert "book" in tg.options
    # The conversation is in Redis, named by a keyed hash of the user (issue 9 §3).
    [conv] = [key async for key in redis.scan_iter(match=f"{prefix}conv:telegram:*")]
    assert str(tg.user_id).encode() not in conv
    # The same update again (a webhook retry, another worker): dropped through Redis.
    update = tg.update(message=tg.message(text="/help"))
    assert [type(c) for c in await tg.feed(update)] == [SendMessage]
    assert await tg.feed(update) == []
    assert [key async for key in redis.scan_iter(match=f"{prefix}tg:update:42:*")]
    # Two taps at once are handled one after the other: the second is a double tap, answered
    # with an alert and nothing sent again (issue 15).
    await tg.send_text("/menu")
    data = tg.callback_data("help")
    mark = len(tg.session.calls)
    await asyncio.gather(*(tg.press(data) for _ in range(2)))

    calls = tg.session.calls[mark:]
    assert sorted(type(c).__name__ for c in calls) == [
        "AnswerCallbackQuery",
        "AnswerCallbackQuery",
        "EditMessageText",
    ]
    assert [c.show_alert for c in tg.session.of(AnswerCallbackQuery, mark)] in (
        [None, True],
        [True, None],
    )
    assert await tg.state() == "help"
