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


class Documents(Protocol):
    """Text documents (JSON) by key, each kept for a TTL after it was last written."""

    async def get(self, key: str) -> str | None: ...
    async def put(self, key: str, text: str) -> None: ...
    async def delete(self, key: str) -> None: ...


class MemoryDocuments:
    def __init__(self, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.ttl = ttl_seconds
        self._docs: dict[str, tuple[float, str]] = {}

    async def get(self, key: str) -> str | None:
        item = self._docs.get(key)
        return None if item is None or item[0] < time.monotonic() else item[1]

    async def put(self, key: str, text: str) -> None:
        self._docs[key] = (time.monotonic() + self.ttl, text)

    async def delete(self, key: str) -> None:
        self._docs.pop(key, None)


class RedisDocuments:
    """One Redis string per document at `{prefix}{key}`, with the TTL."""

    def __init__(
        self, redis: Redis, *, prefix: str = "dariger:", ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl_seconds

    async def get(self, key: str) -> str | None:
        raw = await self.redis.get(self.prefix + key)
        return None if raw is None else raw.decode() if isinstance(raw, bytes) else str(raw)

    async def put(self, key: str, text: str) -> None:
        await self.redis.set(self.prefix + key, text, ex=self.ttl)

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)


class ConversationStore(Protocol):
    async def load(self, channel: str, user_id: str) -> Conversation | None: ...
    async def save(self, conversation: Conversation) -> None: ...
    async def delete(self, channel: str, user_id: str) -> None: ...
    def lock(self, channel: str, user_id: str) -> AbstractAsyncContextManager[None]: ...


class _DocumentConversations:
    """A conversation as one JSON document at `conv:{channel}:{user}`."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    @staticmethod
    def _key(channel: str, user_id: str) -> str:
        return f"conv:{channel}:{user_id}"

    async def load(self, channel: str, user_id: str) -> Conversation | None:
        raw = await self.documents.get(self._key(channel, user_id))
        return None if raw is None else Conversation.from_json(raw)

    async def save(self, conversation: Conversation) -> None:
        key = self._key(conversation.channel, conversation.user_id)
        await self.documents.put(key, conversation.to_json())

    async def delete(self, channel: str, user_id: str) -> None:
        await self.documents.delete(self._key(channel, user_id))


class MemoryConversationStore(_DocumentConversations):
    def __init__(self, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        super().__init__(MemoryDocuments(ttl_seconds))
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def lock(self, channel: str, user_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(f"{channel}:{user_id}", asyncio.Lock())
        async with lock:
            yield


class RedisConversationStore(_DocumentConversations):
    """One JSON value per conversation at `{prefix}conv:{channel}:{user}` with a TTL; a Redis
    lock per conversation so that several processes never step one conversation at once."""

    def __init__(
        self, redis: Redis, *, prefix: str = "dariger:", ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        super().__init__(RedisDocuments(redis, prefix=prefix, ttl_seconds=ttl_seconds))
        self.redis = redis
        self.prefix = prefix

    @asynccontextmanager
    async def lock(self, channel: str, user_id: str) -> AsyncIterator[None]:
        key = f"{self.prefix}{self._key(channel, user_id)}:lock"
        async with self.redis.lock(key, timeout=30, blocking_timeout=30):
            yield
