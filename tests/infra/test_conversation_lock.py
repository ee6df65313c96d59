"""The per-conversation Redis lock under a burst (issue 16): a step that outlives the lock's
timeout keeps the conversation to itself and ends without an error; a holder that stalled so
long that its lock expired still releases without crashing."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from redis.asyncio import Redis

from dialogs.engine.conversation import SCHEMA_VERSION, Conversation
from dialogs.engine.store import AlreadyClaimed, MemoryConversationStore, RedisConversationStore

pytestmark = pytest.mark.redis

SECRET = b"s" * 32
TIMEOUT = 0.6  # seconds: the tests hold the lock for several times this


def _store(redis: Redis, prefix: str) -> RedisConversationStore:
    """One process's store; two of them on one prefix are two serving processes."""
    return RedisConversationStore(redis, prefix=prefix, secret=SECRET, lock_timeout=TIMEOUT)


async def test_a_step_longer_than_the_timeout_keeps_the_conversation(
    redis_client: Redis, redis_prefix: str
) -> None:
    first, second = _store(redis_client, redis_prefix), _store(redis_client, redis_prefix)
    events: list[str] = []
    entered = asyncio.Event()

    async def slow_step() -> None:
        async with first.lock("telegram", "42"):
            entered.set()
            events.append("first in")
            await asyncio.sleep(TIMEOUT * 4)  # a burst: four times the lock's timeout
            events.append("first out")

    async def next_update() -> None:
        await entered.wait()
        async with second.lock("telegram", "42"):
            events.append("second in")

    await asyncio.wait_for(asyncio.gather(slow_step(), next_update()), timeout=10)

    assert events == ["first in", "first out", "second in"]
    assert [key async for key in redis_client.scan_iter(match=redis_prefix + "*:lock")] == []


async def test_other_conversations_are_not_held_up(redis_client: Redis, redis_prefix: str) -> None:
    store = _store(redis_client, redis_prefix)
    async with store.lock("telegram", "1"):
        started = time.monotonic()
        async with store.lock("telegram", "2"), store.lock("sms", "1"):
            pass
        assert time.monotonic() - started < TIMEOUT


async def test_a_stalled_holder_whose_lock_expired_releases_without_error(
    redis_client: Redis, redis_prefix: str
) -> None:
    first, second = _store(redis_client, redis_prefix), _store(redis_client, redis_prefix)
    async with first.lock("sms", "+77010000000"):
        # The event loop itself is blocked: nothing can renew, the lock expires.
        time.sleep(TIMEOUT * 1.5)  # noqa: ASYNC251 - the stall is what is under test
        async with second.lock("sms", "+77010000000"):  # free again, taken and given back
            pass
    # Leaving the first block released nothing it did not own, and raised nothing.
    async with second.lock("sms", "+77010000000"):
        pass


async def test_a_nested_lock_of_the_held_conversation_costs_nothing(
    redis_client: Redis, redis_prefix: str
) -> None:
    """The SMS channel locks around the engine's own lock of the same conversation (issue 16):
    within one task the inner lock is free, and the outer one still holds when it ends."""
    store, other_process = _store(redis_client, redis_prefix), _store(redis_client, redis_prefix)
    other_got_in = asyncio.Event()

    async def other() -> None:
        async with other_process.lock("sms", "+77010000000"):
            other_got_in.set()

    async with store.lock("sms", "+77010000000"):
        async with asyncio.timeout(TIMEOUT / 2):  # no wait for itself
            async with store.lock("sms", "+77010000000"), store.lock("sms", "+77010000000"):
                pass
        waiting = asyncio.create_task(other())
        await asyncio.sleep(TIMEOUT / 2)
        assert not other_got_in.is_set()  # the inner block released nothing
    await asyncio.wait_for(waiting, timeout=5)
    assert other_got_in.is_set()


@pytest.mark.parametrize("kind", ["redis", "memory"])
async def test_a_task_started_under_the_lock_does_not_inherit_it(
    redis_client: Redis, redis_prefix: str, kind: str
) -> None:
    store = _store(redis_client, redis_prefix) if kind == "redis" else MemoryConversationStore()
    order: list[str] = []

    async def child() -> None:
        async with store.lock("telegram", "7"):
            order.append("child")

    async with store.lock("telegram", "7"):
        async with asyncio.timeout(2), store.lock("telegram", "7"):  # re-entered, same task
            order.append("parent")
        task = asyncio.create_task(child())
        await asyncio.sleep(0.05)
        order.append("parent out")
    await asyncio.wait_for(task, timeout=5)
    assert order == ["parent", "parent out", "child"]


async def test_a_claim_is_made_once_with_the_lock(redis_client: Redis, redis_prefix: str) -> None:
    """The Telegram update's dedupe mark is set in the round trip that takes the lock: the
    same update again (a webhook retry, on any process) takes nothing and is told so."""
    one, two = _store(redis_client, redis_prefix), _store(redis_client, redis_prefix)
    claim = f"{redis_prefix}tg:update:42:1"
    async with one.lock("telegram", "7", claim=claim, claim_ttl=60):
        with pytest.raises(AlreadyClaimed):  # at once, not after waiting for the lock
            async with (
                asyncio.timeout(TIMEOUT / 2),
                two.lock("telegram", "7", claim=claim, claim_ttl=60),
            ):
                raise AssertionError("a duplicate ran")
    with pytest.raises(AlreadyClaimed):
        async with one.lock("telegram", "7", claim=claim, claim_ttl=60):
            raise AssertionError("a duplicate ran")
    assert [key async for key in redis_client.scan_iter(match=redis_prefix + "*:lock")] == []
    assert 0 < await redis_client.ttl(claim) <= 60


async def test_a_claim_on_a_busy_conversation_waits_for_it(
    redis_client: Redis, redis_prefix: str
) -> None:
    one, two = _store(redis_client, redis_prefix), _store(redis_client, redis_prefix)
    order: list[str] = []

    async def second_update() -> None:
        async with two.lock("telegram", "7", claim=f"{redis_prefix}u:2", claim_ttl=60):
            order.append("second")

    async with one.lock("telegram", "7", claim=f"{redis_prefix}u:1", claim_ttl=60):
        waiting = asyncio.create_task(second_update())
        await asyncio.sleep(0.2)
        order.append("first")
    await asyncio.wait_for(waiting, timeout=5)
    assert order == ["first", "second"]


async def test_the_conversation_read_with_the_lock_is_the_latest(
    redis_client: Redis, redis_prefix: str
) -> None:
    """The lock's round trip also reads the conversation: what another process saved before
    is what the step loads, and a second load in the same step reads what was saved since."""
    one, two = _store(redis_client, redis_prefix), _store(redis_client, redis_prefix)
    async with one.lock("telegram", "7"):
        await one.save(Conversation("telegram", "7", state="book.day"))
    async with two.lock("telegram", "7"):
        loaded = await two.load("telegram", "7")
        assert loaded is not None and loaded.state == "book.day"
        loaded.state = "book.slot"
        await two.save(loaded)
        again = await two.load("telegram", "7")
        assert again is not None and again.state == "book.slot"
    async with one.lock("telegram", "7"):
        assert (await one.load("telegram", "7") or Conversation("", "")).state == "book.slot"


@pytest.mark.parametrize("kind", ["redis", "memory"])
async def test_every_field_of_a_conversation_is_stored(
    redis_client: Redis, redis_prefix: str, kind: str
) -> None:
    """The record is written field by field (issue 16): none may be left out."""
    store = _store(redis_client, redis_prefix) if kind == "redis" else MemoryConversationStore()
    sample = Conversation(
        channel="sms",
        user_id="+77010000000",
        state="book.slot",
        stack=["menu", "book"],
        data={"book.doctor": 3, "note": "үй", "list": [1, {"a": None}]},
        seq=7,
        shown=["slot.1", "nav.back"],
        strikes=2,
        locale="ru",
        pending="book",
        v=SCHEMA_VERSION,
    )
    blank = Conversation("", "")
    for f in dataclasses.fields(Conversation):  # the sample sets every field (v: the schema)
        if f.name not in ("v",):
            assert getattr(sample, f.name) != getattr(blank, f.name), f.name
    await store.save(sample)
    assert await store.load("sms", "+77010000000") == sample


async def test_a_conversation_written_under_the_lock_is_not_read_from_before(
    redis_client: Redis, redis_prefix: str
) -> None:
    store = _store(redis_client, redis_prefix)
    async with store.lock("telegram", "8"):
        await store.save(Conversation("telegram", "8", state="book.day"))
    async with store.lock("telegram", "8"):  # fetched "book.day" with the lock …
        await store.save(Conversation("telegram", "8", state="help"))  # … written over
        again = await store.load("telegram", "8")
        assert again is not None and again.state == "help"
        await store.delete("telegram", "8")
    async with store.lock("telegram", "8"):
        await store.delete("telegram", "8")
        assert await store.load("telegram", "8") is None
