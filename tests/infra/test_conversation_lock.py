"""The per-conversation Redis lock under a burst (issue 16): a step that outlives the lock's
timeout keeps the conversation to itself and ends without an error; a holder that stalled so
long that its lock expired still releases without crashing."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from dialogs.engine.store import MemoryConversationStore, RedisConversationStore

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


async def test_a_nested_lock_of_the_held_conversation_costs_nothing(
    redis_client: Redis, redis_prefix: str
) -> None:
    """The SMS channel locks around the engine's own lock of the same conversation (issue 16):
    within one task the inner lock is free, and the outer one still holds when it ends."""
    store, other_process = _store(redis_client, redis_prefix), _store(redis_client, redis_prefix)
    other_got_in = asyncio.Event()

    async def other() -> None:
        async with other_process.lock("sms", "+77010000000"):
            other_got_in.set()

    async with store.lock("sms", "+77010000000"):
        async with asyncio.timeout(TIMEOUT / 2):  # no wait for itself
            async with store.lock("sms", "+77010000000"), store.lock("sms", "+77010000000"):
                pass
        waiting = asyncio.create_task(other())
        await asyncio.sleep(TIMEOUT / 2)
        assert not other_got_in.is_set()  # the inner block released nothing
    await asyncio.wait_for(waiting, timeout=5)
    assert other_got_in.is_set()


@pytest.mark.parametrize("kind", ["redis", "memory"])
async def test_a_task_started_under_the_lock_does_not_inherit_it(
    redis_client: Redis, redis_prefix: str, kind: str
) -> None:
    store = _store(redis_client, redis_prefix) if kind == "redis" else MemoryConversationStore()
    order: list[str] = []

    async def child() -> None:
        async with store.lock("telegram", "7"):
            order.append("child")

    async with store.lock("telegram", "7"):
        async with asyncio.timeout(2), store.lock("telegram", "7"):  # re-entered, same task
            order.append("parent")
        task = asyncio.create_task(child())
        await asyncio.sleep(0.05)
        order.append("parent out")
    await asyncio.wait_for(task, timeout=5)
    assert order == ["parent", "parent out", "child"]
