"""Representative Telegram journeys on the production pair: PostgreSQL + Redis (issue 17).

A subset of tests/telegram/test_journeys.py (imported, not copied) with the runtime built on
a PostgreSQL database of this run and the real Redis server (conversations, sign-in, dedupe),
under a key prefix of this test's own."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from backend.bootstrap import Backend
from bot.runtime import Runtime, build_runtime
from bot.telegram.setup import build_dispatcher
from dialogs.engine.store import RedisConversationStore
from tests.backend.world import World
from tests.dialogs.harness import TRANSLATOR, RecordingSender
from tests.telegram.harness import TelegramChat, make_bot, sign_in, tg_settings
from tests.telegram.test_journeys import (
    test_book_an_appointment,
    test_call_a_doctor_home,
    test_my_applications,
    test_reschedule_then_cancel_an_appointment,
)

pytestmark = [
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.parametrize("language", ["ru"]),
    pytest.mark.redis,
]

__all__ = [
    "test_book_an_appointment",
    "test_call_a_doctor_home",
    "test_my_applications",
    "test_reschedule_then_cancel_an_appointment",
]


@pytest.fixture
def runtime(
    backend: Backend, sms: RecordingSender, world: World, redis_client: Redis, redis_prefix: str
) -> Runtime:
    return build_runtime(
        tg_settings(),
        backend,
        redis_client,
        sender=sms,
        translator=TRANSLATOR,
        key_prefix=redis_prefix,
    )


@pytest.fixture
async def alice(
    runtime: Runtime, sms: RecordingSender, world: World, language: str, redis_prefix: str
) -> TelegramChat:
    """Alice, signed in on Telegram; the dispatcher's Redis keys (update dedupe, isolation)
    under this test's prefix too, as `bot.telegram.install` does with the runtime's prefix."""
    dispatcher = build_dispatcher(runtime, key_prefix=redis_prefix)
    tg = TelegramChat(
        dispatcher=dispatcher, bot=make_bot(), runtime=runtime, language_code=language
    )
    await sign_in(tg, sms.last_code, world.alice.iin)
    assert await tg.state() == "menu"
    return tg


async def test_the_production_pair_is_in_use(
    alice: TelegramChat, backend: Backend, redis_client: Redis, redis_prefix: str
) -> None:
    """The subset above really ran on PostgreSQL and Redis (not a silent fallback)."""
    assert backend.engine.dialect.name == "postgresql"
    assert isinstance(alice.runtime.engine.store, RedisConversationStore)
    # Per-user isolation: the engine's Redis conversation lock (bot/telegram/middlewares.py).
    assert [key async for key in redis_client.scan_iter(match=redis_prefix + "*")] != []
