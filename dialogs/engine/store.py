"""Conversation storage port: Redis in production, in-process for the embedded default.

The store also isolates events per user: two taps of one patient never run the dialog at once.

Key names never carry the channel user id in clear (on SMS it is the patient's phone; issue 9
§3): they carry `identity_key`, a keyed hash (HMAC-SHA256 with a secret from the settings), and
the stored record leaves the user id out (the caller knows it when it loads the record).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from typing import Protocol

from redis.asyncio import Redis

from dialogs.engine.conversation import Conversation
from dialogs.engine.lock import LOCK_TIMEOUT_SECONDS, renewed_lock

DEFAULT_TTL_SECONDS = 30 * 24 * 3600  # a conversation resumes after any gap up to this


def key_secret(secret: bytes | str | None) -> bytes:
    """The secret of `identity_key`; None: a random one (in-process stores only)."""
    if secret is None:
        return secrets.token_bytes(32)
    return secret.encode() if isinstance(secret, str) else secret


def identity_key(secret: bytes, *parts: str) -> str:
    """A keyed hash of an identity for key names: no phone in them, and no list of every
    Kazakhstan number can reverse it without the secret (issue 9 §3)."""
    return hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


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


# The conversation locks the current task holds: (task, frozenset of (store id, key)). A task
# started inside inherits the variable but not the locks (the task is checked).
_held: ContextVar[tuple[asyncio.Task[object] | None, frozenset[tuple[int, str]]]] = ContextVar(
    "dariger_conversation_locks", default=(None, frozenset())
)


def _holding(store: object, key: str) -> bool:
    """Whether this task holds the lock of `key` through `store` already."""
    owner, keys = _held.get()
    return owner is asyncio.current_task() and (id(store), key) in keys


@asynccontextmanager
async def _reentrant(
    store: object, key: str, take: AbstractAsyncContextManager[object]
) -> AsyncIterator[None]:
    """Enter `take` (the lock of `key`) unless this task already holds it through `store`: a
    nested lock of the same conversation costs nothing (the SMS channel locks around the
    engine's own lock, issue 16) instead of waiting for itself."""
    if _holding(store, key):
        yield
        return
    task = asyncio.current_task()
    owner, keys = _held.get()
    held = keys if owner is task else frozenset()
    async with take:
        token = _held.set((task, held | {(id(store), key)}))
        try:
            yield
        finally:
            _held.reset(token)


class AlreadyClaimed(Exception):
    """`lock(claim=...)`: the claim was made before (a duplicate delivery); nothing is held."""


class ConversationStore(Protocol):
    async def load(self, channel: str, user_id: str) -> Conversation | None: ...
    async def save(self, conversation: Conversation) -> None: ...
    async def delete(self, channel: str, user_id: str) -> None: ...
    def lock(
        self, channel: str, user_id: str, *, claim: str | None = None, claim_ttl: int = 0
    ) -> AbstractAsyncContextManager[None]:
        """The conversation to this task, re-entrant within it. `claim` (Redis stores only):
        a key set, for `claim_ttl` seconds, in the same round trip as the lock is taken; if it
        was set already the lock is not taken and `AlreadyClaimed` is raised (a duplicate)."""
        ...


class _DocumentConversations:
    """A conversation as one JSON document at `conv:{channel}:{keyed hash of the user}`,
    without the user id."""

    def __init__(self, documents: Documents, secret: bytes | str | None = None) -> None:
        self.documents = documents
        self._secret = key_secret(secret)

    def _key(self, channel: str, user_id: str) -> str:
        return f"conv:{channel}:{identity_key(self._secret, 'conv', channel, user_id)}"

    async def load(self, channel: str, user_id: str) -> Conversation | None:
        raw = await self.documents.get(self._key(channel, user_id))
        return None if raw is None else Conversation.from_json(raw, channel, user_id)

    async def save(self, conversation: Conversation) -> None:
        key = self._key(conversation.channel, conversation.user_id)
        await self.documents.put(key, conversation.to_json())

    async def delete(self, channel: str, user_id: str) -> None:
        await self.documents.delete(self._key(channel, user_id))


class MemoryConversationStore(_DocumentConversations):
    claims = False  # `lock(claim=...)` is for Redis stores only

    def __init__(
        self, ttl_seconds: int = DEFAULT_TTL_SECONDS, *, secret: bytes | str | None = None
    ) -> None:
        super().__init__(MemoryDocuments(ttl_seconds), secret)
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(
        self, channel: str, user_id: str, *, claim: str | None = None, claim_ttl: int = 0
    ) -> AbstractAsyncContextManager[None]:
        """Re-entrant within one task (see `_reentrant`)."""
        if claim is not None:
            raise ValueError("claims are made in Redis: an in-process store has none")
        key = f"{channel}:{user_id}"
        return _reentrant(self, key, self._locks.setdefault(key, asyncio.Lock()))


# Issue 16: one round trip to start a step: the update's claim (a dedupe mark, SET NX), the
# conversation lock (SET NX PX) and the conversation itself. 0: claimed before (nothing
# taken); 1: the lock is ours, with the conversation (or nil); 2: the lock is busy.
_CLAIM_AND_LOCK = """
if KEYS[1] ~= '' and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then
  return {0}
end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {1, redis.call('GET', KEYS[3])}
"""

# The conversations fetched with their lock, by (store, key), for the task that took it.
_prefetched: ContextVar[dict[tuple[int, str], str | None] | None] = ContextVar(
    "dariger_prefetched_conversations", default=None
)


class RedisConversationStore(_DocumentConversations):
    """One JSON value per conversation at `{prefix}conv:{channel}:{user hash}` with a TTL; a
    Redis lock per conversation so that several processes never step one conversation at once.
    Every process must be given the same `secret` (the settings' pepper)."""

    claims = True

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "dariger:",
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        secret: bytes | str | None = None,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(RedisDocuments(redis, prefix=prefix, ttl_seconds=ttl_seconds), secret)
        self.redis = redis
        self.prefix = prefix
        self.lock_timeout = lock_timeout
        self._claim_and_lock = redis.register_script(_CLAIM_AND_LOCK)

    async def load(self, channel: str, user_id: str) -> Conversation | None:
        key = self._key(channel, user_id)
        fetched = _prefetched.get()
        if fetched is not None and (id(self), key) in fetched:
            raw = fetched.pop((id(self), key))  # once: a later load reads what was saved
            return None if raw is None else Conversation.from_json(raw, channel, user_id)
        return await super().load(channel, user_id)

    def _forget_fetched(self, key: str) -> None:
        fetched = _prefetched.get()
        if fetched is not None:
            fetched.pop((id(self), key), None)

    async def save(self, conversation: Conversation) -> None:
        self._forget_fetched(self._key(conversation.channel, conversation.user_id))
        await super().save(conversation)

    async def delete(self, channel: str, user_id: str) -> None:
        self._forget_fetched(self._key(channel, user_id))
        await super().delete(channel, user_id)

    def lock(
        self, channel: str, user_id: str, *, claim: str | None = None, claim_ttl: int = 0
    ) -> AbstractAsyncContextManager[None]:
        """Re-entrant within one task (see `_reentrant`); renewed while held, never raising
        on release (issue 16): dialogs/engine/lock.py. The first attempt also makes the
        claim and fetches the conversation, in one round trip."""
        return self._lock(channel, user_id, claim, claim_ttl)

    @asynccontextmanager
    async def _lock(
        self, channel: str, user_id: str, claim: str | None, claim_ttl: int
    ) -> AsyncIterator[None]:
        doc = self._key(channel, user_id)
        key = f"{self.prefix}{doc}:lock"
        if claim is None and _holding(self, key):
            yield  # re-entered: nothing to do, not even the round trip below
            return
        token = secrets.token_hex(16).encode()
        got = await self._claim_and_lock(
            keys=[claim or "", key, self.prefix + doc],
            args=[token, max(int(self.lock_timeout * 1000), 1), max(claim_ttl, 1)],
        )
        status = int(got[0])
        if status == 0:
            raise AlreadyClaimed(claim)
        if status == 1:
            raw = got[1] if len(got) > 1 else None
            text = raw.decode() if isinstance(raw, bytes) else raw
            fetched = dict(_prefetched.get() or {})
            fetched[(id(self), doc)] = text
            prefetch = _prefetched.set(fetched)
            try:
                taken = renewed_lock(self.redis, key, ttl=self.lock_timeout, token=token)
                async with _reentrant(self, key, taken):
                    yield
            finally:
                _prefetched.reset(prefetch)
            return
        # Busy: another event of this conversation runs; wait for it as before.
        async with _reentrant(self, key, renewed_lock(self.redis, key, ttl=self.lock_timeout)):
            yield
