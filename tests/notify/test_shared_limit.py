"""Telegram's limits are per bot, not per process (issue 11): two limiters on one Redis (two
`dariger serve` processes) share one budget of 1 message/s per chat and N/s overall, and a
429 seen by one pauses both. On the real Redis server, each limiter with its own client."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from redis.asyncio import Redis

from backend.bootstrap import bootstrap
from bot.app import BACKEND_KEY, REDIS_KEY, RUNTIME_KEY, create_app
from bot.notify.channel import NOTIFY_KEY
from bot.notify.limits import RedisRateLimiter
from tests.conftest import REDIS_URL
from tests.telegram.harness import tg_settings

pytestmark = pytest.mark.redis

SECRET = b"k" * 32


async def _close(app: web.Application) -> None:
    redis = app[REDIS_KEY]
    if redis is not None:
        await redis.aclose()
    await app[BACKEND_KEY].close()


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


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_without_redis_the_process_keeps_its_own_limits() -> None:
    # Redis down: sending goes on, limited per process, instead of failing every round.
    down = Redis.from_url(f"redis://127.0.0.1:{_closed_port()}/0", socket_connect_timeout=0.2)
    limiter = RedisRateLimiter(down, per_second=2)
    try:
        assert await limiter.acquire("1", 0.0) == 0
        assert 0 < await limiter.acquire("1", 0.0) <= 1.0  # one chat: 1/s
        assert await limiter.acquire("2", 0.0) == 0
        assert await limiter.acquire("3", 0.0) > 0  # 2/s overall
        await limiter.suspend(0.0, 5.0)  # a 429 still pauses this process
        assert await limiter.acquire("4", 0.0) > 4.0
    finally:
        await down.aclose()


async def test_the_served_app_spends_the_shared_budget(redis_client: Redis) -> None:
    # `dariger serve` with REDIS_URL: its Telegram worker counts in Redis, where another
    # process (same prefix and pepper) sees the send.
    backend = bootstrap("sqlite+aiosqlite:///:memory:")
    app = create_app(tg_settings(redis_url=REDIS_URL), backend)
    runtime = app[RUNTIME_KEY]
    other = RedisRateLimiter(redis_client, prefix=runtime.key_prefix, secret=runtime.key_secret)
    chat = f"9{time.time_ns() % 10**9}"
    try:
        worker = app[NOTIFY_KEY].telegram
        assert worker is not None
        assert await worker.limiter.acquire(chat, 0.0) == 0

        assert await other.acquire(chat, 0.0) > 0.5
    finally:  # the keys expire within 2 s
        await _close(app)
