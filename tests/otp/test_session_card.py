"""Issue 16: a session is trusted on the patient's card in the store, not by reading the
register at every event, and still ends at a change of the registered phone and shows a new
language, on every process: through `SessionService` (sign-in, `current`, the announcement a
writer makes after its commit), with two services on one Redis as two serving processes."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from redis.asyncio import Redis

from otp.audit import InMemoryAuditSink
from otp.policy import OtpPolicy
from otp.sessions import InMemorySessionStore, RedisSessionStore, SessionService, SessionStore
from tests.otp.conftest import KNOWN, KNOWN_PHONE, Env, FakeClock, FakeDirectory
from tests.otp.test_sessions import sign_in

SECRET = b"k" * 32


async def test_the_register_is_read_at_sign_in_and_not_at_each_use(env: Env) -> None:
    env.directory.languages[1] = "ru"
    await sign_in(env)
    reads = env.directory.reads

    for _ in range(5):
        env.clock.advance(minutes=2)
        current = await env.sessions.current("telegram", "100")
        assert current is not None
        assert current.language == "ru"

    assert env.directory.reads == reads


async def test_an_announced_language_shows_at_the_next_use_without_a_read(env: Env) -> None:
    await sign_in(env)
    first = await env.sessions.current("telegram", "100")
    assert first is not None and first.language is None  # none chosen yet
    reads = env.directory.reads

    env.directory.languages[1] = "en"
    await env.sessions.patient_changed(1, language="en")

    current = await env.sessions.current("telegram", "100")
    assert current is not None and current.language == "en"
    assert env.directory.reads == reads


async def test_an_unannounced_change_is_seen_when_the_card_expires() -> None:
    clock = FakeClock()
    directory = FakeDirectory({KNOWN: (1, KNOWN_PHONE)}, languages={1: "kk"})
    store = InMemorySessionStore(clock, card_ttl=dt.timedelta(minutes=15))
    sessions = SessionService(store, directory, clock=clock)
    await sessions.open(patient_id=1, phone=KNOWN_PHONE, channel="telegram", channel_user_id="1")
    directory.languages[1] = "ru"  # a hand-edited row: nobody announced it
    clock.advance(minutes=14)
    current = await sessions.current("telegram", "1")
    assert current is not None and current.language == "kk"  # the card still vouches

    clock.advance(minutes=1)
    current = await sessions.current("telegram", "1")
    assert current is not None and current.language == "ru"
    directory.patients[KNOWN] = (1, "+77770000001")
    clock.advance(minutes=15)
    assert await sessions.current("telegram", "1") is None


def _process(
    store: SessionStore, directory: FakeDirectory, clock: FakeClock, audit: InMemoryAuditSink
) -> SessionService:
    return SessionService(
        store, directory, policy=OtpPolicy(), clock=clock, audit=audit, secret=SECRET
    )


@pytest.mark.redis
async def test_a_change_announced_by_one_process_is_seen_by_another(
    redis_client: Redis, redis_prefix: str
) -> None:
    clock, audit = FakeClock(), InMemoryAuditSink()
    register = FakeDirectory({KNOWN: (1, KNOWN_PHONE)})
    one, two = (
        _process(
            RedisSessionStore(redis_client, prefix=redis_prefix, secret=SECRET),
            register,
            clock,
            audit,
        )
        for _ in range(2)
    )
    await one.open(patient_id=1, phone=KNOWN_PHONE, channel="telegram", channel_user_id="7")
    await two.open(patient_id=1, phone=KNOWN_PHONE, channel="sms", channel_user_id=KNOWN_PHONE)
    reads = register.reads
    assert (await two.current("telegram", "7")) is not None
    assert (await one.current("sms", KNOWN_PHONE)) is not None
    assert register.reads == reads  # the card written by one vouches on the other

    register.languages[1] = "ru"
    await one.patient_changed(1, language="ru")  # the language screen, on process one
    on_two = await two.current("telegram", "7")
    assert on_two is not None and on_two.language == "ru"

    register.patients[KNOWN] = (1, "+77770000001")
    await two.patient_changed(1, phone=True)  # the importer, on process two
    assert await one.current("telegram", "7") is None
    assert await one.current("sms", KNOWN_PHONE) is None
    assert await two.current("sms", KNOWN_PHONE) is None
    assert "sessions_ended_phone_changed" in audit.names()


class _SlowRegister(FakeDirectory):
    """A register read that a change commits and is announced during."""

    def __init__(self, during: list[object]) -> None:
        super().__init__({KNOWN: (1, KNOWN_PHONE)})
        self.during = during
        self.reading = asyncio.Event()
        self.go_on = asyncio.Event()

    async def profile_of(self, patient_id: int) -> tuple[str | None, str | None] | None:
        seen = await super().profile_of(patient_id)
        if self.during:
            self.during.pop()
            self.reading.set()
            await self.go_on.wait()
        return seen


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def session_store(
    request: pytest.FixtureRequest, store_kind: str, clock: FakeClock
) -> SessionStore:
    if store_kind == "redis":  # resolved now: async fixtures cannot be set up inside a test
        redis: Redis = request.getfixturevalue("redis_client")
        prefix: str = request.getfixturevalue("redis_prefix")
        return RedisSessionStore(redis, prefix=prefix, secret=SECRET)
    return InMemorySessionStore(clock, secret=SECRET)


async def test_a_check_that_read_the_old_phone_does_not_vouch_after_the_change(
    session_store: SessionStore, clock: FakeClock
) -> None:
    audit = InMemoryAuditSink()
    register = _SlowRegister(during=[])
    sessions = _process(session_store, register, clock, audit)
    await sessions.open(patient_id=1, phone=KNOWN_PHONE, channel="telegram", channel_user_id="7")
    await sessions.patient_changed(1, phone=True)  # same phone: the next use checks again

    register.during.append(object())
    checking = asyncio.create_task(sessions.current("telegram", "7"))
    await register.reading.wait()  # the check has read the old phone …
    register.patients[KNOWN] = (1, "+77770000001")  # … the change commits …
    await sessions.patient_changed(1, phone=True)  # … and is announced
    register.go_on.set()
    assert await checking is not None  # that event began before the change

    assert await sessions.current("telegram", "7") is None  # the next one sees it
