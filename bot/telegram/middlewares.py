"""Update middlewares and the FSM pieces aiogram still provides around the engine.

- `UpdateDedupe` (outer, on every update): Telegram delivers an update again when a webhook
  answer is late, and networks duplicate; an `update_id` seen before is dropped, so one tap
  is one dialog step and one reply. In-process (bounded) or Redis `SET NX` with a TTL.
- Event isolation per user comes from aiogram's FSM middleware (`SimpleEventIsolation`, or
  `RedisEventIsolation` across workers). The dialog state itself is the engine's: aiogram's
  FSM storage is `NoStorage`, which keeps nothing and costs no round trip.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import structlog
from aiogram.dispatcher.middlewares.base import BaseMiddleware
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis

from bot.logs import get_logger

log = get_logger("bot.telegram")

SEEN_TTL_SECONDS = 24 * 3600  # Telegram keeps an undelivered update for 24 hours
SEEN_IN_MEMORY = 10_000


class SeenUpdates(Protocol):
    async def first_time(self, bot_id: int, update_id: int) -> bool: ...


class MemorySeenUpdates:
    """The last `size` update ids, per process (the embedded default: one process polls)."""

    def __init__(self, size: int = SEEN_IN_MEMORY) -> None:
        self._order: deque[tuple[int, int]] = deque()
        self._seen: set[tuple[int, int]] = set()
        self._size = size

    async def first_time(self, bot_id: int, update_id: int) -> bool:
        key = (bot_id, update_id)
        if key in self._seen:
            return False
        self._seen.add(key)
        self._order.append(key)
        if len(self._order) > self._size:
            self._seen.discard(self._order.popleft())
        return True


class RedisSeenUpdates:
    """Shared by every worker behind the webhook: the first to claim an update handles it."""

    def __init__(self, redis: Redis, *, prefix: str, ttl_seconds: int = SEEN_TTL_SECONDS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl_seconds

    async def first_time(self, bot_id: int, update_id: int) -> bool:
        key = f"{self.prefix}{bot_id}:{update_id}"
        return bool(await self.redis.set(key, b"1", nx=True, ex=self.ttl))


class UpdateDedupe(BaseMiddleware):
    """Drop an update seen before; bind the update id to every log line of the update."""

    def __init__(self, seen: SeenUpdates) -> None:
        self.seen = seen

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        update_id = event.update_id
        with structlog.contextvars.bound_contextvars(channel="telegram", update_id=update_id):
            if not await self.seen.first_time(data["bot"].id, update_id):
                log.info("duplicate update dropped")
                return None
            return await handler(event, data)


class NoStorage(BaseStorage):
    """aiogram's FSM storage, unused: the conversation lives in the engine's store."""

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        return None

    async def get_state(self, key: StorageKey) -> str | None:
        return None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        return None

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        return None
