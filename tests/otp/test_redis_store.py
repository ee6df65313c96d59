"""The Redis adapters against the real server: what is at rest, TTLs, atomicity, key prefix."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac

import pytest
from redis.asyncio import Redis

from otp.audit import InMemoryAuditSink
from otp.policy import OtpPolicy, SystemClock
from otp.service import OtpService, VerifyStatus
from otp.sessions import RedisSessionStore, Session, SessionService
from otp.storage import RedisOtpStore
from tests.otp.conftest import (
    KNOWN,
    KNOWN_PHONE,
    PEPPER,
    REDIS_URL,
    Env,
    EnvFactory,
    FakeSmsSender,
    default_directory,
    wrong_code,
)

pytestmark = pytest.mark.redis


@pytest.fixture
def store_kind() -> str:
    """Every service in this module runs on Redis."""
    return "redis"


async def raw_dump(prefix: str) -> dict[str, str]:
    """Every key under the prefix and its value, read with a plain client."""
    plain = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        dump: dict[str, str] = {}
        async for key in plain.scan_iter(match=prefix + "*"):
            kind = str(await plain.type(key))
            if kind == "string":
                dump[key] = str(await plain.get(key))
            elif kind == "zset":
                dump[key] = repr(await plain.zrange(key, 0, -1, withscores=True))
            elif kind == "set":
                dump[key] = repr(sorted(await plain.smembers(key)))
            else:
                dump[key] = f"<{kind}>"
        return dump
    finally:
        await plain.aclose()


class TestAtRest:
    async def test_only_the_hmac_of_the_code_is_stored(
        self, make_env: EnvFactory, redis_prefix: str
    ) -> None:
        env = make_env(generate_code=lambda digits: "482915")
        await env.start(KNOWN)
        assert "482 915" in env.sender.sent[-1][1]

        dump = await raw_dump(redis_prefix)

        everything = repr(dump)
        assert "482915" not in everything
        assert "482 915" not in everything
        [code_key] = [k for k in dump if k.startswith(redis_prefix + "otp:code:")]
        request_id = code_key.removeprefix(redis_prefix + "otp:code:")
        expected = hmac.new(PEPPER, ("482915" + request_id).encode(), hashlib.sha256).hexdigest()
        assert expected in dump[code_key]

    async def test_no_iin_or_phone_in_key_names(
        self, make_env: EnvFactory, redis_prefix: str
    ) -> None:
        env = make_env()
        await env.start(KNOWN, channel="sms", user=KNOWN_PHONE)
        await env.verify(env.sender.last_code(), channel="sms", user=KNOWN_PHONE)

        keys = " ".join(await raw_dump(redis_prefix))

        assert keys
        for secret in (KNOWN, KNOWN_PHONE, KNOWN_PHONE[1:]):
            assert secret not in keys

    async def test_every_key_has_a_ttl_and_the_prefix(
        self, env: Env, redis_client: Redis, redis_prefix: str
    ) -> None:
        await env.start(KNOWN)
        await env.verify("000000")

        keys = [k async for k in redis_client.scan_iter(match=redis_prefix + "*")]

        assert len(keys) >= 5
        for key in keys:
            assert await redis_client.pttl(key) > 0, key


class TestTtl:
    async def test_code_key_expires_in_redis(self, redis_client: Redis, redis_prefix: str) -> None:
        clock = SystemClock()
        policy = OtpPolicy(code_lifetime=dt.timedelta(seconds=1))
        directory = default_directory()
        store = RedisOtpStore(redis_client, prefix=redis_prefix + "otp:")
        sessions = SessionService(
            RedisSessionStore(redis_client, prefix=redis_prefix + "session:"),
            directory,
            policy=policy,
            clock=clock,
        )
        sender = FakeSmsSender()
        service = OtpService(
            directory=directory,
            store=store,
            sender=sender,
            sessions=sessions,
            pepper=PEPPER,
            policy=policy,
            clock=clock,
            audit=InMemoryAuditSink(),
        )
        await service.start(KNOWN, "telegram", "100")
        [code_key] = [k async for k in redis_client.scan_iter(match=redis_prefix + "otp:code:*")]
        assert 0 < await redis_client.pttl(code_key) <= 1000

        await asyncio.sleep(1.1)

        assert await redis_client.exists(code_key) == 0
        verified = await service.verify("telegram", "100", sender.last_code())
        assert verified.status is VerifyStatus.EXPIRED


class TestAtomicity:
    async def test_parallel_right_codes_sign_in_once(self, env: Env) -> None:
        await env.start()
        code = env.sender.last_code()

        results = await asyncio.gather(*(env.verify(code) for _ in range(10)))

        assert sum(r.signed_in for r in results) == 1

    async def test_parallel_guesses_cannot_exceed_the_limit(self, env: Env) -> None:
        await env.start()
        code = env.sender.last_code()
        guesses = [f"{n:06d}" for n in range(30) if f"{n:06d}" != code]

        results = await asyncio.gather(*(env.verify(g) for g in guesses))
        right = await env.verify(code)

        wrong = [r for r in results if r.status is VerifyStatus.WRONG_CODE]
        assert len(wrong) <= 4
        assert all((r.attempts_left or 0) >= 1 for r in wrong)
        assert not right.signed_in

    async def test_wrong_count_is_shared_between_processes(
        self, make_env: EnvFactory, redis_prefix: str
    ) -> None:
        first = make_env()
        await first.start()
        code = first.sender.last_code()
        for _ in range(4):
            await first.verify(wrong_code(code))
        second = make_env(clock=first.clock, sender=first.sender)

        fifth = await second.verify(wrong_code(code))

        assert fifth.status is VerifyStatus.LOCKED


class TestStorePrimitives:
    async def test_incr_is_atomic(self, redis_client: Redis, redis_prefix: str) -> None:
        store = RedisOtpStore(redis_client, prefix=redis_prefix)

        counts = await asyncio.gather(
            *(store.incr("n", dt.timedelta(minutes=1)) for _ in range(25))
        )

        assert sorted(counts) == list(range(1, 26))

    async def test_delete_succeeds_once(self, redis_client: Redis, redis_prefix: str) -> None:
        store = RedisOtpStore(redis_client, prefix=redis_prefix)
        await store.set("k", "v", dt.timedelta(minutes=1))

        deleted = await asyncio.gather(*(store.delete("k") for _ in range(10)))

        assert deleted.count(True) == 1
        assert await store.get("k") is None

    async def test_window_keeps_only_recent_events(
        self, redis_client: Redis, redis_prefix: str
    ) -> None:
        store = RedisOtpStore(redis_client, prefix=redis_prefix)
        span = dt.timedelta(seconds=600)
        for t in (1000.0, 1300.0, 1599.0):
            await store.window_add("w", t, span)

        assert await store.window("w", 1600.0, span) == [1300.0, 1599.0]
        assert await store.window("w", 1900.0, span) == [1599.0]

    async def test_keys_carry_the_prefix(self, redis_client: Redis, redis_prefix: str) -> None:
        store = RedisOtpStore(redis_client, prefix=redis_prefix + "x:")
        await store.set("a", "1", dt.timedelta(minutes=1))

        assert await redis_client.get(redis_prefix + "x:a") == b"1"


class TestSessionStore:
    async def test_put_get_delete_patient(self, redis_client: Redis, redis_prefix: str) -> None:
        store = RedisSessionStore(redis_client, prefix=redis_prefix)
        at = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
        one = Session("s1", 1, "phone-key-1", "telegram", "100", at, at)
        two = Session("s2", 1, "phone-key-1", "sms", KNOWN_PHONE, at, at)
        three = Session("s3", 2, "phone-key-2", "telegram", "300", at, at)
        for session in (one, two, three):
            await store.put(session, dt.timedelta(days=7))

        assert await store.get("telegram", "100") == one
        assert await store.delete_patient(1) == 2
        assert await store.get("sms", KNOWN_PHONE) is None
        assert await store.get("telegram", "300") == three
        assert await store.delete("telegram", "300") == three
        assert await store.delete("telegram", "300") is None

    async def test_session_ttl_is_set(self, redis_client: Redis, redis_prefix: str) -> None:
        store = RedisSessionStore(redis_client, prefix=redis_prefix)
        at = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
        await store.put(
            Session("s1", 1, "phone-key-1", "telegram", "100", at, at),
            dt.timedelta(seconds=30),
        )

        [key] = [k async for k in redis_client.scan_iter(match=redis_prefix + "id:*")]

        assert 0 < await redis_client.pttl(key) <= 30_000
