"""The app's Redis client waits for a free connection when all are in use, instead of failing
the command (redis-py's own pool raises MaxConnectionsError at once: 500 SMS at once got 399
apologies naming 1414 in bench.sms_burst)."""

from __future__ import annotations

import asyncio

from bot.runtime import REDIS_MAX_CONNECTIONS, build_redis
from tests.conftest import REDIS_URL


async def test_more_commands_at_once_than_connections_all_succeed(redis_prefix: str) -> None:
    redis = build_redis(REDIS_URL)
    key = f"{redis_prefix}pool"
    at_once = REDIS_MAX_CONNECTIONS + 50
    try:
        # Each BLPOP holds its connection for a moment: all at once need more than the pool.
        results = await asyncio.gather(
            *(redis.blpop([f"{key}:{n}"], timeout=0.05) for n in range(at_once))
        )
        assert results == [None] * at_once
        assert await redis.ping()
    finally:
        await redis.aclose()
