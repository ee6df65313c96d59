"""The live feed of the desk for the operator console (server-sent events).

One interface, two implementations: `MemoryFeed` (one process, the embedded default) and
`RedisFeed` (Redis pub/sub, for several processes). `publish(event)` never fails the caller
(a feed is a convenience: the console also reads the database); `await listen()` returns a
`Listening` that is already subscribed when it returns (every event published after that
reaches it; close it with `aclose()`), so a page can subscribe before it reads the database
and lose nothing in between; `subscribe()` is the same as an async generator. Events carry
ids and kinds only, never a patient's text, ИИН or phone: the console fetches the transcript
through the desk service (and its access log).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from bot.logs import get_logger

log = get_logger("bot.desk")

QUEUED = "queued"
CLAIMED = "claimed"
MESSAGE = "message"
HANDED_BACK = "handed_back"
CLOSED = "closed"
LEFT = "left"
REQUEUED = "requeued"
WARNED = "operator_warned"
KINDS = frozenset({QUEUED, CLAIMED, MESSAGE, HANDED_BACK, CLOSED, LEFT, REQUEUED, WARNED})


@dataclass(frozen=True)
class DeskEvent:
    kind: str
    chat_id: int
    at: dt.datetime
    data: dict[str, Any] = field(default_factory=dict)  # ids and small facts only

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": self.kind,
                "chat_id": self.chat_id,
                "at": self.at.isoformat(),
                "data": self.data,
            }
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> DeskEvent | None:
        try:
            doc = json.loads(raw)
            return cls(
                kind=str(doc["kind"]),
                chat_id=int(doc["chat_id"]),
                at=dt.datetime.fromisoformat(doc["at"]),
                data=dict(doc.get("data") or {}),
            )
        except (ValueError, TypeError, KeyError):
            return None


class Listening(Protocol):
    """A subscription in place: the events published since it was made, in order."""

    def __aiter__(self) -> AsyncIterator[DeskEvent]: ...
    async def __anext__(self) -> DeskEvent: ...
    async def aclose(self) -> None: ...


class Feed(Protocol):
    async def publish(self, event: DeskEvent) -> None: ...
    async def listen(self) -> Listening: ...
    def subscribe(self) -> AsyncGenerator[DeskEvent, None]: ...


async def _events(listen: Callable[[], Awaitable[Listening]]) -> AsyncGenerator[DeskEvent, None]:
    listening = await listen()
    try:
        async for event in listening:
            yield event
    finally:
        await listening.aclose()


class _Queued:
    """One subscriber of a `MemoryFeed`: its queue is registered from the start."""

    def __init__(self, queues: set[asyncio.Queue[DeskEvent]], size: int) -> None:
        self._queues = queues
        self.queue: asyncio.Queue[DeskEvent] = asyncio.Queue(size)
        queues.add(self.queue)

    def __aiter__(self) -> _Queued:
        return self

    async def __anext__(self) -> DeskEvent:
        if self.queue not in self._queues:
            raise StopAsyncIteration
        return await self.queue.get()

    async def aclose(self) -> None:
        self._queues.discard(self.queue)


class MemoryFeed:
    """An in-process broadcaster: every subscriber gets its own bounded queue; a subscriber that
    does not keep up loses the oldest events, never blocks the publisher."""

    def __init__(self, *, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._queues: set[asyncio.Queue[DeskEvent]] = set()

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def publish(self, event: DeskEvent) -> None:
        for queue in list(self._queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    async def listen(self) -> Listening:
        return _Queued(self._queues, self.queue_size)

    def subscribe(self) -> AsyncGenerator[DeskEvent, None]:
        return _events(self.listen)


class RedisFeed:
    """Redis pub/sub on one channel `{prefix}desk:feed`."""

    def __init__(self, redis: Redis, *, prefix: str = "dariger:") -> None:
        self.redis = redis
        self.channel = f"{prefix}desk:feed"

    async def publish(self, event: DeskEvent) -> None:
        try:
            await self.redis.publish(self.channel, event.to_json())
        except Exception:  # the feed is best effort: the action itself has happened
            log.warning("desk feed publish failed", exc_info=True)

    async def listen(self) -> Listening:
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            # SUBSCRIBE is only sent above; Redis delivers what is published after it has
            # processed it, which its confirmation says (read here, so it is in place on return).
            deadline = asyncio.get_running_loop().time() + SUBSCRIBE_WAIT_SECONDS
            while asyncio.get_running_loop().time() < deadline:
                message = await pubsub.get_message(timeout=0.1)
                if message is not None and message.get("type") == "subscribe":
                    break
        except BaseException:
            await _close(pubsub, self.channel)
            raise
        return _Subscribed(pubsub, self.channel)

    def subscribe(self) -> AsyncGenerator[DeskEvent, None]:
        return _events(self.listen)


SUBSCRIBE_WAIT_SECONDS = 5.0


async def _close(pubsub: PubSub, channel: str) -> None:
    with contextlib.suppress(Exception):
        await pubsub.unsubscribe(channel)
        await pubsub.aclose()  # type: ignore[no-untyped-call]


class _Subscribed:
    """One subscriber of a `RedisFeed`: its own pub/sub connection, subscribed."""

    def __init__(self, pubsub: PubSub, channel: str) -> None:
        self.pubsub = pubsub
        self.channel = channel
        self.closed = False

    def __aiter__(self) -> _Subscribed:
        return self

    async def __anext__(self) -> DeskEvent:
        while not self.closed:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None or message.get("type") != "message":
                continue
            event = DeskEvent.from_json(message["data"])
            if event is not None:
                return event
        raise StopAsyncIteration

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            await _close(self.pubsub, self.channel)


_MEMORY: dict[int, MemoryFeed] = {}


def feed_for(owner: object, redis: Redis | None, *, prefix: str = "dariger:") -> Feed:
    """The feed of one application: Redis when there is one, else one in-process broadcaster
    per `owner` (the backend), so the channels and the console share it."""
    if redis is not None:
        return RedisFeed(redis, prefix=prefix)
    key = id(owner)
    feed = _MEMORY.get(key)
    if feed is None:
        feed = _MEMORY[key] = MemoryFeed()
        weakref.finalize(owner, _MEMORY.pop, key, None)
    return feed
