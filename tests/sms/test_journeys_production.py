"""Representative SMS journeys on the production pair: PostgreSQL + Redis (issue 17).

The journeys in tests/sms/test_journeys.py run on SQLite with in-memory conversation and OTP
stores; these run a subset of the same tests (imported, not copied) against a PostgreSQL
database of this run and the real Redis server, under a key prefix of this test's own."""

from __future__ import annotations

import pytest
from aiohttp import web
from redis.asyncio import Redis

from backend.bootstrap import Backend
from bot.app import RUNTIME_KEY
from bot.runtime import build_runtime
from bot.sms import channel as sms_channel
from bot.sms.channel import SMS_WORKER_KEY
from bot.sms.state import RedisSmsStateStore
from dialogs.engine.store import RedisConversationStore
from tests.sms.harness import GatewaySender, SmsPhone, sms_settings
from tests.sms.test_journeys import (
    test_book,
    test_cancel_needs_the_numbered_confirmation,
    test_home_visit,
    test_reschedule,
    test_sign_in_with_the_code_from_the_outbox,
    test_status_of_applications,
)

pytestmark = [
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.redis,
]

__all__ = [
    "test_book",
    "test_cancel_needs_the_numbered_confirmation",
    "test_home_visit",
    "test_reschedule",
    "test_sign_in_with_the_code_from_the_outbox",
    "test_status_of_applications",
]


@pytest.fixture
def language() -> str:
    return "kk"  # the default language, the longest texts (the SMS segment budget)


@pytest.fixture
def sms_app(
    backend: Backend, gateway: GatewaySender, redis_client: Redis, redis_prefix: str
) -> web.Application:
    runtime = build_runtime(
        sms_settings(), backend, redis_client, sender=gateway, key_prefix=redis_prefix
    )
    app = web.Application()
    app[RUNTIME_KEY] = runtime
    sms_channel.install(app, runtime)
    app[SMS_WORKER_KEY] = False  # the tests run the outbox worker themselves
    return app


async def test_the_production_pair_is_in_use(
    alice: SmsPhone, backend: Backend, redis_client: Redis, redis_prefix: str
) -> None:
    """The subset above really ran on PostgreSQL and Redis (not a silent fallback)."""
    await alice.send("KZ")

    runtime = alice.app[RUNTIME_KEY]
    assert backend.engine.dialect.name == "postgresql"
    assert isinstance(runtime.engine.store, RedisConversationStore)
    assert isinstance(alice.app[sms_channel.SMS_KEY].conversations.states, RedisSmsStateStore)
    assert [key async for key in redis_client.scan_iter(match=redis_prefix + "*")] != []
