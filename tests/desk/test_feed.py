"""The live feed for the console: the in-process broadcaster and Redis pub/sub, one interface."""

from __future__ import annotations

import asyncio
import datetime as dt

from redis.asyncio import Redis

from bot.desk.feed import DeskEvent, Feed, MemoryFeed, RedisFeed

AT = dt.datetime(2026, 11, 23, 5, tzinfo=dt.UTC)


async def _round_trip(feed: Feed, *, settle: float = 0.0) -> list[DeskEvent]:
    stream = feed.subscribe()
    got: list[DeskEvent] = []

    async def read() -> None:
        async for event in stream:
            got.append(event)
            if len(got) == 2:
                return

    reader = asyncio.create_task(read())
    await asyncio.sleep(settle)  # the subscription is in place
    await feed.publish(DeskEvent("queued", 1, AT, {"channel": "sms"}))
    await feed.publish(DeskEvent("claimed", 1, AT, {"operator_id": 7}))
    await asyncio.wait_for(reader, 10)
    await stream.aclose()
    return got


async def test_memory_feed_broadcasts_to_every_subscriber() -> None:
    feed = MemoryFeed()
    got = await _round_trip(feed)
    assert [(e.kind, e.chat_id, e.data) for e in got] == [
        ("queued", 1, {"channel": "sms"}),
        ("claimed", 1, {"operator_id": 7}),
    ]
    assert feed.subscribers == 0  # a finished subscriber is gone


async def test_a_slow_subscriber_never_blocks_the_publisher() -> None:
    feed = MemoryFeed(queue_size=2)
    stream = feed.subscribe()
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    for n in range(5):
        await feed.publish(DeskEvent("message", n, AT))
    assert (await first).chat_id in range(5)
    await stream.aclose()


async def test_redis_feed(redis_client: Redis, redis_prefix: str) -> None:
    feed = RedisFeed(redis_client, prefix=redis_prefix)
    got = await _round_trip(feed, settle=0.3)
    assert [(e.kind, e.at) for e in got] == [("queued", AT), ("claimed", AT)]
