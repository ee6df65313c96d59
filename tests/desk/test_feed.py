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


async def _listened(feed: Feed) -> list[DeskEvent]:
    listening = await feed.listen()
    # No pause: the subscription is in place when listen() returns.
    await feed.publish(DeskEvent("message", 3, AT))
    try:
        return [await asyncio.wait_for(anext(listening), 5)]
    finally:
        await listening.aclose()


async def test_a_listener_gets_what_is_published_as_soon_as_listen_returns(
    redis_client: Redis, redis_prefix: str
) -> None:
    memory = MemoryFeed()
    assert [e.chat_id for e in await _listened(memory)] == [3]
    assert memory.subscribers == 0
    redis_feed = RedisFeed(redis_client, prefix=redis_prefix)
    assert [e.chat_id for e in await _listened(redis_feed)] == [3]
    assert (await redis_client.pubsub_numsub(redis_feed.channel))[0][1] == 0  # closed


async def test_redis_feed(redis_client: Redis, redis_prefix: str) -> None:
    feed = RedisFeed(redis_client, prefix=redis_prefix)
    got = await _round_trip(feed, settle=0.3)
    assert [(e.kind, e.at) for e in got] == [("queued", AT), ("claimed", AT)]
