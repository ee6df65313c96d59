"""Conversation storage port: Redis in production, in-process for the embedded default.

The store also isolates events per user: two taps of one patient never run the dialog at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from redis.asyncio import Redis

from dialogs.engine.conversation import Conversation

DEFAULT_TTL_SECONDS = 30 * 24 * 3600  # a conversation resumes after any gap up to this


class ConversationStore(Protocol):
    async def load(self, channel: str, user_id: str) -> Conversation | None: ...
    async def save(self, conversation: Conversation) -> None: ...
    async def delete(self, channel: str, user_id: str) -> None: ...
    def lock(self, channel: str, user_id: str) -> AbstractAsyncContextManager[None]: ...


class MemoryConversationStore:
    def __init__(self, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.ttl = ttl_seconds
        self._docs: dict[str, tuple[float, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def load(self, channel: str, user_id: str) -> Conversation | None:
        item = self._docs.get(f"{channel}:{user_id}")
        if item is None or item[0] < time.monotonic():
            return None
        return Conversation.from_json(item[1])

    async def save(self, conversation: Conversation) -> None:
        self._docs[conversation.key] = (time.monotonic() + self.ttl, conversation.to_json())

    async def delete(self, channel: str, user_id: str) -> None:
        self._docs.pop(f"{channel}:{user_id}", None)

    @asynccontextmanager
    async def lock(self, channel: str, user_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(f"{channel}:{user_id}", asyncio.Lock())
        async with lock:
            yield


class RedisConversationStore:
    """One JSON value per conversation at `{prefix}conv:{channel}:{user}` with a TTL; a Redis
    lock per conversation so that several processes never step one conversation at once."""

    def __init__(
        self, redis: Redis, *, prefix: str = "dariger:", ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl_seconds

    def _key(self, channel: str, user_id: str) -> str:
        return f"{self.prefix}conv:{channel}:{user_id}"

    async def load(self, channel: str, user_id: str) -> Conversation | None:
        raw = await self.redis.get(self._key(channel, user_id))
        return None if raw is None else Conversation.from_json(raw)

    async def save(self, conversation: Conversation) -> None:
        key = self._key(conversation.channel, conversation.user_id)
        await self.redis.set(key, conversation.to_json(), ex=self.ttl)

    async def delete(self, channel: str, user_id: str) -> None:
        await self.redis.delete(self._key(channel, user_id))

    @asynccontextmanager
    async def lock(self, channel: str, user_id: str) -> AsyncIterator[None]:
        lock = self.redis.lock(
            f"{self._key(channel, user_id)}:lock", timeout=30, blocking_timeout=30
        )
        async with lock:
            yield
