"""Issue 9 §3: no ИИН or phone at rest in Redis, in key names or values.

A whole SMS sign-in and booking through signed Twilio webhooks into the real app on PostgreSQL
with every Redis store (conversation, SMS pages, OTP, sessions, locks); after every message
all keys of the test's prefix and their values are read, and neither Alice's ИИН nor her phone
appears in them in any written form.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from backend.bootstrap import Backend
from bot.app import RUNTIME_KEY
from bot.runtime import build_runtime
from bot.sms import channel as sms_channel
from bot.sms.channel import SMS_WORKER_KEY
from tests.backend.world import World
from tests.sms.harness import GatewaySender, SmsPhone, sms_settings

ON_POSTGRESQL_AND_REDIS = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
_SEPARATORS = re.compile(r"[\s\-()]")


@pytest.fixture
def app(
    backend: Backend, gateway: GatewaySender, redis_client: Redis, redis_prefix: str
) -> web.Application:
    runtime = build_runtime(
        sms_settings(), backend, redis_client, sender=gateway, key_prefix=redis_prefix
    )
    app = web.Application()
    app[RUNTIME_KEY] = runtime
    sms_channel.install(app, runtime)
    app[SMS_WORKER_KEY] = False
    return app


@pytest.fixture
async def alice(
    aiohttp_client: AiohttpClient, app: web.Application, gateway: GatewaySender, world: World
) -> SmsPhone:
    assert world.alice.phone is not None
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return SmsPhone(client, app, gateway, world.alice.phone)


def _forms(iin: str, phone: str) -> list[str]:
    """Every way the ИИН and the phone may be written: +7701…, 7701…, 8701…, 701…, grouped."""
    national = phone.removeprefix("+7")
    return [
        iin,
        f"{iin[:6]} {iin[6:]}",
        phone,
        "7" + national,
        "8" + national,
        national,
        f"{national[:3]} {national[3:6]} {national[6:8]} {national[8:]}",
    ]


def _leaks(seen: dict[str, str], forms: list[str]) -> list[str]:
    def squeeze(text: str) -> str:
        return _SEPARATORS.sub("", text)

    return [
        f"{form!r} in {key}: {text[:200]}"
        for key, value in seen.items()
        for text in (key, value)
        for form in forms
        if form in text or squeeze(form) in squeeze(text)
    ]


async def _everything(redis: Redis, prefix: str) -> dict[str, str]:
    """Each key of the prefix with its value(s) as text."""
    found: dict[str, str] = {}
    async for raw_key in redis.scan_iter(match=prefix + "*"):
        key = raw_key.decode()
        raw_kind = await redis.type(raw_key)
        kind = raw_kind.decode() if isinstance(raw_kind, bytes) else str(raw_kind)
        if kind == "string":
            value: Any = await redis.get(raw_key)
        elif kind == "set":
            value = sorted(await redis.smembers(raw_key))
        elif kind == "zset":
            value = await redis.zrange(raw_key, 0, -1, withscores=True)
        elif kind == "hash":
            value = await redis.hgetall(raw_key)
        elif kind == "list":
            value = await redis.lrange(raw_key, 0, -1)
        else:
            value = kind
        found[key] = repr(value)
    return found


@ON_POSTGRESQL_AND_REDIS
@pytest.mark.redis
async def test_no_iin_or_phone_at_rest_during_a_sign_in_and_a_booking(
    alice: SmsPhone, world: World, redis_client: Redis, redis_prefix: str
) -> None:
    seen: dict[str, str] = {}

    async def send(text: str) -> None:
        await alice.send(text)
        seen.update(await _everything(redis_client, redis_prefix))

    async def choose(option: str) -> None:
        await send(await alice.number_of(option))

    await send("Сәлем")
    await choose("signin")
    await send(world.alice.iin)
    await send("hello")  # not a code: a hint
    await choose("resend")  # too early: said so (a resend finds the phone by the patient id)
    await send(alice.last_code())
    await send("00")
    await choose("book")
    await choose(f"sp.{world.therapist.id}")
    await choose(f"dr.{world.doctor_a.id}")
    await choose(f"slot.{world.slots_a[0].id}")
    await choose("confirm")

    assert await alice.screen() == "book.done"
    kinds = {re.sub(r"[0-9a-f]{32}", "#", key.removeprefix(redis_prefix)) for key in seen}
    # Every store was used, so the scan saw what each of them writes.
    assert {"conv:sms:#", "sms:pages:#", "session:id:#"} <= kinds, kinds
    assert any(kind.startswith("otp:pending:") for kind in kinds), kinds
    assert any(kind.startswith("otp:sends:requester:") for kind in kinds), kinds
    assert world.alice.phone is not None
    leaks = _leaks(seen, _forms(world.alice.iin, world.alice.phone))
    assert leaks == [], leaks


def test_the_leak_check_finds_a_phone_or_iin_written_any_way() -> None:
    forms = _forms("900315410014", "+77011234501")

    for text in (
        "+77011234501",
        "8 701 123 45 01",
        "7011234501",
        "7-701-123-45-01",
        '{"iin":"900315410014"}',
        "conv:sms:+77011234501",
    ):
        assert _leaks({"k": text}, forms), text
    assert not _leaks({"k": "a1b2c3"}, forms)
