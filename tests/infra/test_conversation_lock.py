"""The per-conversation Redis lock under a burst (issue 16): a step that outlives the lock's
timeout keeps the conversation to itself and ends without an error; a holder that stalled so
long that its lock expired still releases without crashing."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from dialogs.engine.store import RedisConversationStore

pytestmark = pytest.mark.redis

SECRET = b"s" * 32
TIMEOUT = 0.6  # seconds: the tests hold the lock for several times this


def _store(redis: Redis, prefix: str) -> RedisConversationStore:
    """One process's store; two of them on one prefix are two serving processes."""
    return RedisConversationStore(redis, prefix=prefix, secret=SECRET, lock_timeout=TIMEOUT)


async def test_a_step_longer_than_the_timeout_keeps_the_conversation(
    redis_client: Redis, redis_prefix: str
) -> None:
    first, second = _store(redis_client, redis_prefix), _store(redis_client, redis_prefix)
    events: list[str] = []
    entered = asyncio.Event()

    async def slow_step() -> None:
        async with first.lock("telegram", "42"):
            entered.set()
            events.append("first in")
            await asyncio.sleep(TIMEOUT * 4)  # a burst: four times the lock's timeout
            events.append("first out")

    async def next_update() -> None:
        await entered.wait()
        async with second.lock("telegram", "42"):
            events.append("second in")

    await asyncio.wait_for(asyncio.gather(slow_step(), next_update()), timeout=10)

    assert events == ["first in", "first out", "second in"]
    assert [key async for key in redis_client.scan_iter(match=redis_prefix + "*:lock")] == []


async def test_other_conversations_are_not_held_up(redis_client: Redis, redis_prefix: str) -> None:
    store = _store(redis_client, redis_prefix)
    async with store.lock("telegram", "1"):
        started = time.monotonic()
        async with store.lock("telegram", "2"), store.lock("sms", "1"):
            pass
        assert time.monotonic() - started < TIMEOUT


async def test_a_stalled_holder_whose_lock_expired_releases_without_error(
    redis_client: Redis, redis_prefix: str
) -> None:
    first, second = _store(redis_client, redis_prefix), _store(redis_client, redis_prefix)
    async with first.lock("sms", "+77010000000"):
        # The event loop itself is blocked: nothing can renew, the lock expires.
        time.sleep(TIMEOUT * 1.5)  # noqa: ASYNC251 - the stall is what is under test
        async with second.lock("sms", "+77010000000"):  # free again, taken and given back
            pass
    # Leaving the first block released nothing it did not own, and raised nothing.
    async with second.lock("sms", "+77010000000"):
        pass
