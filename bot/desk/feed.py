"""The live feed of the desk for the operator console (server-sent events).

One interface, two implementations: `MemoryFeed` (one process, the embedded default) and
`RedisFeed` (Redis pub/sub, for several processes). `publish(event)` never fails the caller
(a feed is a convenience: the console also reads the database); `subscribe()` yields the
events published after it started (close it with `aclose()`). Events carry ids and kinds
only, never a patient's text, ИИН or phone: the console fetches the transcript through the
desk service (and its access log).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import weakref
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis

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


class Feed(Protocol):
    async def publish(self, event: DeskEvent) -> None: ...
    def subscribe(self) -> AsyncGenerator[DeskEvent, None]: ...


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

    async def subscribe(self) -> AsyncGenerator[DeskEvent, None]:
        queue: asyncio.Queue[DeskEvent] = asyncio.Queue(self.queue_size)
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)


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

    async def subscribe(self) -> AsyncGenerator[DeskEvent, None]:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is None or message.get("type") != "message":
                    continue
                event = DeskEvent.from_json(message["data"])
                if event is not None:
                    yield event
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe(self.channel)
                await pubsub.aclose()  # type: ignore[no-untyped-call]


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
