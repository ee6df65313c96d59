"""Telegram's limits are per bot, not per process (issue 11): two limiters on one Redis (two
`dariger serve` processes) share one budget of 1 message/s per chat and N/s overall, and a
429 seen by one pauses both. On the real Redis server, each limiter with its own client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.notify.limits import RedisRateLimiter
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis

SECRET = b"k" * 32


@pytest.fixture
async def two(redis_client: Redis, redis_prefix: str) -> AsyncIterator[list[RedisRateLimiter]]:
    """Two processes' limiters: separate clients, the same Redis and key prefix."""
    other = Redis.from_url(REDIS_URL)
    limiters = [
        RedisRateLimiter(client, prefix=redis_prefix, secret=SECRET, per_second=5)
        for client in (redis_client, other)
    ]
    yield limiters
    await other.aclose()


async def test_two_processes_share_one_overall_budget(two: list[RedisRateLimiter]) -> None:
    waits = [await two[i % 2].acquire(f"chat{i}", 0.0) for i in range(12)]

    granted = [i for i, wait in enumerate(waits) if wait == 0]
    assert granted == [0, 1, 2, 3, 4]  # 5/s for both together, not 5 each
    assert all(0 < wait <= 1.0 for wait in waits[5:])


async def test_concurrent_sends_never_overspend(two: list[RedisRateLimiter]) -> None:
    waits = await asyncio.gather(*(two[i % 2].acquire(f"c{i}", 0.0) for i in range(40)))

    assert sum(1 for wait in waits if wait == 0) == 5


async def test_one_chat_gets_one_message_a_second_whichever_process_sends(
    two: list[RedisRateLimiter],
) -> None:
    first, second = two
    assert await first.acquire("777", 0.0) == 0
    wait = await second.acquire("777", 0.0)

    assert 0.8 < wait <= 1.0
    assert await second.acquire("778", 0.0) == 0  # another chat is not held up


async def test_a_429_seen_by_one_process_pauses_the_other(two: list[RedisRateLimiter]) -> None:
    first, second = two
    await first.suspend(0.0, 3.0)

    assert 2.5 < await second.acquire("new", 0.0) <= 3.0
    await first.suspend(0.0, 1.0)  # a shorter pause does not cut the longer one
    assert await second.acquire("new", 0.0) > 2.0


async def test_paced_senders_in_two_processes_stay_within_the_rate(
    two: list[RedisRateLimiter],
) -> None:
    sent: list[float] = []

    async def sender(limiter: RedisRateLimiter, name: str) -> None:
        for n in range(6):
            while (wait := await limiter.acquire(f"{name}{n}", 0.0)) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            sent.append(time.monotonic())

    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(sender(two[0], "a"), sender(two[1], "b")), 10)

    assert len(sent) == 12
    assert time.monotonic() - started >= 2.0  # 12 at 5/s: the third second is needed
    sent.sort()
    for i, at in enumerate(sent):  # never more than 5 in any second (a little clock slack)
        assert sum(1 for other in sent[i:] if other - at < 0.95) <= 5


async def test_chat_ids_are_not_in_key_names(
    redis_client: Redis, redis_prefix: str, two: list[RedisRateLimiter]
) -> None:
    await two[0].acquire("123456789", 0.0)

    keys = [key.decode() async for key in redis_client.scan_iter(match=redis_prefix + "*")]
    assert keys
    assert not any("123456789" in key for key in keys)
