"""Fakes and fixtures for the sign-in tests: a clock, a register, an SMS outbox, both stores."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis

from backend.domain.iin import Sex, make_iin
from otp.audit import InMemoryAuditSink
from otp.policy import OtpPolicy
from otp.sender import SentSms
from otp.service import OtpService, StartResult, VerifyResult
from otp.sessions import InMemorySessionStore, RedisSessionStore, SessionService, SessionStore
from otp.storage import InMemoryOtpStore, OtpStore, RedisOtpStore

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PEPPER = b"test-pepper-not-a-secret-0123456789"

KNOWN = make_iin(dt.date(1990, 1, 15), Sex.MALE, 123)
KNOWN_PHONE = "+77011234567"
OTHER = make_iin(dt.date(1985, 6, 30), Sex.FEMALE, 456)
OTHER_PHONE = "8 (705) 765-43-21"  # as a register may hold it; normalised to +77057654321
NO_PHONE = make_iin(dt.date(2001, 3, 3), Sex.FEMALE, 789)
FOREIGN = make_iin(dt.date(1970, 12, 1), Sex.MALE, 42)
FOREIGN_PHONE = "+4915112345678"
LANDLINE = make_iin(dt.date(1999, 9, 9), Sex.MALE, 7)
LANDLINE_PHONE = "+77172123456"  # Astana landline: cannot receive an SMS
UNKNOWN = make_iin(dt.date(1960, 5, 5), Sex.FEMALE, 1000)


@dataclass
class FakeClock:
    current: dt.datetime = field(
        default_factory=lambda: dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    )

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


@dataclass
class FakeDirectory:
    patients: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    languages: dict[int, str] = field(default_factory=dict)
    reads: int = 0  # profile reads: what a session check costs the register

    async def phone_for(self, iin: str) -> tuple[int, str | None] | None:
        self.lookups.append(iin)
        return self.patients.get(iin)

    async def phone_of(self, patient_id: int) -> str | None:
        for found, phone in self.patients.values():
            if found == patient_id:
                return phone
        return None

    async def profile_of(self, patient_id: int) -> tuple[str | None, str | None] | None:
        self.reads += 1
        for found, phone in self.patients.values():
            if found == patient_id:
                return phone, self.languages.get(patient_id)
        return None


def default_directory() -> FakeDirectory:
    return FakeDirectory(
        {
            KNOWN: (1, KNOWN_PHONE),
            OTHER: (2, OTHER_PHONE),
            NO_PHONE: (3, None),
            FOREIGN: (4, FOREIGN_PHONE),
            LANDLINE: (5, LANDLINE_PHONE),
        }
    )


@dataclass
class FakeSmsSender:
    sent: list[tuple[str, str]] = field(default_factory=list)
    fail_with: Exception | None = None
    delay: float = 0.0

    async def send(self, to: str, body: str) -> SentSms:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((to, body))
        return SentSms(provider_id=f"SM{len(self.sent):032d}", status="queued")

    def last_code(self) -> str:
        """The code of the last SMS, as the patient would type it (digits only)."""
        match = re.search(r"\d{3} \d{3}", self.sent[-1][1])
        assert match is not None, self.sent[-1][1]
        return match.group(0).replace(" ", "")


@dataclass
class Env:
    service: OtpService
    sessions: SessionService
    clock: FakeClock
    directory: FakeDirectory
    sender: FakeSmsSender
    audit: InMemoryAuditSink
    store: OtpStore
    session_store: SessionStore
    policy: OtpPolicy

    async def start(
        self, iin: str = KNOWN, channel: str = "telegram", user: str = "100"
    ) -> StartResult:
        return await self.service.start(iin, channel, user)

    async def verify(
        self, code: str, channel: str = "telegram", user: str = "100"
    ) -> VerifyResult:
        return await self.service.verify(channel, user, code)


EnvFactory = Callable[..., Env]


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_env(request: pytest.FixtureRequest, store_kind: str) -> EnvFactory:
    """Build a service on the parametrised store; keyword arguments override the parts."""
    redis: Redis | None = None
    prefix = ""
    if store_kind == "redis":  # resolved now: async fixtures cannot be set up inside a test
        redis = request.getfixturevalue("redis_client")
        prefix = request.getfixturevalue("redis_prefix")

    def factory(
        *,
        policy: OtpPolicy | None = None,
        sender: FakeSmsSender | None = None,
        clock: FakeClock | None = None,
        **service_kwargs: object,
    ) -> Env:
        clock = clock or FakeClock()
        policy = policy or OtpPolicy()
        directory = default_directory()
        audit = InMemoryAuditSink()
        store: OtpStore
        session_store: SessionStore
        if redis is not None:
            store = RedisOtpStore(redis, prefix=prefix + "otp:")
            session_store = RedisSessionStore(redis, prefix=prefix + "session:")
        else:
            store = InMemoryOtpStore(clock)
            session_store = InMemorySessionStore(clock)
        sessions = SessionService(
            session_store, directory, policy=policy, clock=clock, audit=audit
        )
        sender = sender or FakeSmsSender()
        pepper = service_kwargs.pop("pepper", PEPPER)
        service = OtpService(
            directory=directory,
            store=store,
            sender=sender,
            sessions=sessions,
            pepper=pepper,  # type: ignore[arg-type]
            policy=policy,
            clock=clock,
            audit=audit,
            **service_kwargs,  # type: ignore[arg-type]
        )
        return Env(
            service, sessions, clock, directory, sender, audit, store, session_store, policy
        )

    return factory


@pytest.fixture
def env(make_env: EnvFactory) -> Env:
    return make_env()
