"""Update middlewares and the FSM pieces aiogram still provides around the engine.

- `UpdateDedupe` (outer, on every update): Telegram delivers an update again when a webhook
  answer is late, and networks duplicate; an `update_id` seen before is dropped, so one tap
  is one dialog step and one reply. In-process (bounded) or Redis `SET NX` with a TTL.
- Event isolation per user (issue 16): the update holds the engine's own conversation lock
  (dialogs/engine/store.py) from before the desk gate to after the reply, so the engine's
  lock inside is re-entered for free and aiogram's isolation is not used (it was a second
  lock of the same user: two more round trips per update). With Redis the dedupe mark, the
  lock and the conversation come in one round trip.
  The dialog state itself is the engine's: aiogram's FSM storage is `NoStorage`, which keeps
  nothing and costs no round trip.
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
from dialogs.engine.store import AlreadyClaimed, ConversationStore

log = get_logger("bot.telegram")

SEEN_TTL_SECONDS = 24 * 3600  # Telegram keeps an undelivered update for 24 hours
SEEN_IN_MEMORY = 10_000


class SeenUpdates(Protocol):
    async def first_time(self, bot_id: int, update_id: int) -> bool: ...

    def claim_key(self, bot_id: int, update_id: int) -> str | None:
        """The Redis key that marks the update seen, for a lock that makes the claim in the
        same round trip (None: in process)."""
        ...


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

    def claim_key(self, bot_id: int, update_id: int) -> str | None:
        return None


class RedisSeenUpdates:
    """Shared by every worker behind the webhook: the first to claim an update handles it."""

    def __init__(self, redis: Redis, *, prefix: str, ttl_seconds: int = SEEN_TTL_SECONDS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl_seconds

    async def first_time(self, bot_id: int, update_id: int) -> bool:
        key = f"{self.prefix}{bot_id}:{update_id}"
        return bool(await self.redis.set(key, b"1", nx=True, ex=self.ttl))

    def claim_key(self, bot_id: int, update_id: int) -> str | None:
        return f"{self.prefix}{bot_id}:{update_id}"


class UpdateDedupe(BaseMiddleware):
    """Drop an update seen before; hold the sender's conversation lock (`store`) while the
    update is handled; bind the update id to every log line of the update."""

    def __init__(
        self, seen: SeenUpdates, store: ConversationStore | None = None, channel: str = "telegram"
    ) -> None:
        self.seen = seen
        self.store = store
        self.channel = channel

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        update_id = event.update_id
        bot_id = data["bot"].id
        user = data.get("event_from_user")
        with structlog.contextvars.bound_contextvars(channel="telegram", update_id=update_id):
            if self.store is None or user is None:
                if not await self.seen.first_time(bot_id, update_id):
                    log.info("duplicate update dropped")
                    return None
                return await handler(event, data)
            claims = getattr(self.store, "claims", False)
            claim = self.seen.claim_key(bot_id, update_id) if claims else None
            if claim is None and not await self.seen.first_time(bot_id, update_id):
                log.info("duplicate update dropped")
                return None
            try:
                lock = self.store.lock(
                    self.channel, str(user.id), claim=claim, claim_ttl=SEEN_TTL_SECONDS
                )
                async with lock:
                    return await handler(event, data)
            except AlreadyClaimed:
                log.info("duplicate update dropped")
                return None


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
