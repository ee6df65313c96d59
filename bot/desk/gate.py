"""In front of the dialog engine: a conversation that waits for or is with an operator never
reaches the bot (issue 12). Its messages go to the transcript and the live feed.

Issue 16: the gate runs before every event, and almost every conversation is with the bot. A
conversation is known to be with the bot, without asking the database, when the gate found no
open chat for it since it last escalated: a chat is opened only by the dialog's «Write to an
operator» (dialogs/journeys/common.py), and `after_screen` counts every such screen before it
says anything to the console. The marks live where the conversations do (Redis, shared by
every process; one dict per backend otherwise). One round trip reads the mark and the counter
together; a mark written by a look-up that raced an escalation holds the counter read before
the look-up, so it no longer matches and the next event asks the database again. A chat the
console closes needs nothing: the mark only ever says «with the bot», never «with the desk».
"""

from __future__ import annotations

import collections
import weakref
from typing import Any

from redis.asyncio import Redis

from backend.bootstrap import Backend
from backend.services import desk
from backend.services.desk import DeskChat, DeskState
from bot.desk import feed as events
from bot.desk.feed import DeskEvent, Feed, RedisFeed
from bot.logs import get_logger
from dialogs.engine.store import identity_key
from dialogs.journeys.common import OPERATOR_QUEUED as QUEUED_STATE

MAX_TEXT = 4000  # one Telegram message; a longer one is cut (nothing is lost by SMS: 1600)
WITH_BOT_TTL = 24 * 3600  # a mark of a conversation that went quiet expires
ESCALATED_TTL = 30 * 24 * 3600

log = get_logger("bot.desk")


class _Marks:
    """Per conversation: how many times it escalated, and the count at which the gate last
    found it with the bot."""

    async def read(self, key: str) -> tuple[str, str | None]:
        raise NotImplementedError

    async def mark(self, key: str, seen: str) -> None:
        raise NotImplementedError

    async def escalated(self, key: str) -> None:
        raise NotImplementedError


class _MemoryMarks(_Marks):
    """The marks of one process, the least recently used dropped beyond `limit` conversations
    (a dropped mark only costs the next event one look-up: no mark, ask the database)."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        # key -> (escalations, the count at which it was last found with the bot)
        self.marks: collections.OrderedDict[str, tuple[int, str | None]] = (
            collections.OrderedDict()
        )

    def _touch(self, key: str, value: tuple[int, str | None]) -> None:
        self.marks[key] = value
        self.marks.move_to_end(key)
        while len(self.marks) > self.limit:
            self.marks.popitem(last=False)

    async def read(self, key: str) -> tuple[str, str | None]:
        count, seen = self.marks.get(key, (0, None))
        return str(count), seen

    async def mark(self, key: str, seen: str) -> None:
        count, _ = self.marks.get(key, (0, None))
        self._touch(key, (count, seen))

    async def escalated(self, key: str) -> None:
        count, _ = self.marks.get(key, (0, None))
        self._touch(key, (count + 1, None))


class _RedisMarks(_Marks):
    """Key names hold a keyed hash of the conversation, never the phone (issue 9 §3)."""

    def __init__(self, redis: Redis, prefix: str, secret: bytes) -> None:
        self.redis = redis
        self.prefix = prefix
        self.secret = secret

    async def read(self, key: str) -> tuple[str, str | None]:
        key = identity_key(self.secret, "desk", key)
        count, seen = await self.redis.mget(
            f"{self.prefix}desk:escalated:{key}", f"{self.prefix}desk:with_bot:{key}"
        )
        return _text(count) or "0", _text(seen)

    async def mark(self, key: str, seen: str) -> None:
        key = identity_key(self.secret, "desk", key)
        await self.redis.set(f"{self.prefix}desk:with_bot:{key}", seen, ex=WITH_BOT_TTL)

    async def escalated(self, key: str) -> None:
        key = identity_key(self.secret, "desk", key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(f"{self.prefix}desk:escalated:{key}")
            # A count that expired (a month without escalating) reads "0" again: marks written
            # since hold a higher count, so the gate asks the database once more.
            pipe.expire(f"{self.prefix}desk:escalated:{key}", ESCALATED_TTL)
            pipe.delete(f"{self.prefix}desk:with_bot:{key}")
            await pipe.execute()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


_MEMORY_MARKS: weakref.WeakKeyDictionary[object, _MemoryMarks] = weakref.WeakKeyDictionary()


class _NoMarks(_Marks):
    """Redis without the key secret: the gate asks the database every time, as before."""

    async def read(self, key: str) -> tuple[str, str | None]:
        return "", None

    async def mark(self, key: str, seen: str) -> None:
        return None

    async def escalated(self, key: str) -> None:
        return None


def _marks_for(backend: Backend, feed: Feed, key_secret: bytes | None) -> _Marks:
    if isinstance(feed, RedisFeed):
        if key_secret is None:
            return _NoMarks()
        return _RedisMarks(feed.redis, feed.channel.removesuffix("desk:feed"), key_secret)
    owner = backend.engine.sync_engine
    marks = _MEMORY_MARKS.get(owner)
    if marks is None:
        marks = _MEMORY_MARKS[owner] = _MemoryMarks()
    return marks


class DeskGate:
    def __init__(self, backend: Backend, feed: Feed, key_secret: bytes | None = None) -> None:
        """`key_secret`: of the keyed hashes in Redis key names (the runtime's); without it a
        gate on Redis keeps no marks."""
        self.backend = backend
        self.feed = feed
        self.marks = _marks_for(backend, feed, key_secret)

    async def open_chat(self, channel: str, user_id: str) -> DeskChat | None:
        """The conversation's open chat; none, without SQL, when it is known to be with the bot."""
        key = f"{channel}:{user_id}"
        try:
            count, seen = await self.marks.read(key)
        except Exception:  # the marks are a shortcut: without them, ask the database
            log.warning("desk marks unreadable", exc_info=True)
            count, seen = "", None
        if seen is not None and seen == count:
            return None
        chat = await desk.open_chat(self.backend.uow(), channel, user_id)
        if chat is None and count:
            try:
                await self.marks.mark(key, count)
            except Exception:
                log.warning("desk mark not written", exc_info=True)
        return chat

    async def pass_on(self, chat: DeskChat, text: str) -> int | None:
        """Store the patient's message; the place in the queue when the chat still waits."""
        now = self.backend.clock.now()
        message = await desk.record_patient_message(
            self.backend.uow(), chat.id, text[:MAX_TEXT], now
        )
        await self.feed.publish(
            DeskEvent(events.MESSAGE, chat.id, now, {"message_id": message.id, "from": "patient"})
        )
        if chat.state is not DeskState.WAITING:
            return None
        return await desk.place(self.backend.uow(), chat.id)

    async def leave(self, chat: DeskChat) -> bool:
        now = self.backend.clock.now()
        left = await desk.leave_queue(self.backend.uow(), chat.id, now)
        if left:
            await self.feed.publish(DeskEvent(events.LEFT, chat.id, now))
        return left

    async def after_screen(self, channel: str, user_id: str, state: str) -> None:
        """The dialog has just queued the conversation (the operator screen's «Write to an
        operator»): tell the console."""
        if state != QUEUED_STATE:
            return
        # The conversation may now be with the desk: the next event asks the database. Not
        # swallowed: a gate that kept «with the bot» would hide the patient from the operator.
        await self.marks.escalated(f"{channel}:{user_id}")
        chat = await desk.open_chat(self.backend.uow(), channel, user_id)
        if chat is not None and chat.state is DeskState.WAITING:
            now = self.backend.clock.now()
            await self.feed.publish(DeskEvent(events.QUEUED, chat.id, now, {"channel": channel}))
