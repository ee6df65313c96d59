"""Issue 9 §2: every inbound SMS gets an answer while Redis or the database is down.

Through signed Twilio webhooks into the production app, with a Redis server of the test's own
(stopped and restarted mid-conversation) and a PostgreSQL database of the test's own (made to
refuse connections mid-conversation). During an outage: HTTP 200 and the apology naming 1414,
the MessageSid released; afterwards: normal service, nothing booked twice, nothing lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpClient
from sqlalchemy import func, select

from backend.adapters.orm import appointments, sms_inbound
from backend.bootstrap import Backend, BookingPolicy, bootstrap
from backend.ports import FixedClock
from bot.app import SLOT_TOP_UP_KEY, create_app
from bot.desk.channel import DESK_LOOP_KEY
from bot.notify.channel import NOTIFY_ENABLED_KEY
from bot.sms.channel import SMS_KEY, SMS_WORKER_KEY
from bot.verify import STATEMENTS_ENABLED_KEY
from dialogs.engine.engine import FAILURE
from tests.backend.world import World, build_world
from tests.conftest import PG_URL, _asyncpg_dsn, _in_thread, _with_database
from tests.infra.redis_server import RedisServer, own_redis
from tests.sms.harness import (
    STATUS_URL,
    GatewaySender,
    SmsPhone,
    message_text,
    new_sid,
    sign,
    sms_settings,
)

__all__ = ["own_redis"]  # the fixture, used by name

_BOUND = 60.0  # seconds: no step of these tests may hang longer


def outage_app(backend: Backend, gateway: GatewaySender, redis_url: str) -> web.Application:
    app = create_app(sms_settings(redis_url=redis_url), backend, sender=gateway)
    app[SMS_WORKER_KEY] = False  # the tests run the outbox worker themselves
    return app


def apology(app: web.Application, language: str = "kk") -> str:
    return app[SMS_KEY].renderer.notice([FAILURE], language)


async def post(phone: SmsPhone, body: str, sid: str) -> str | None:
    """One signed SMS; asserts the HTTP 200 and returns the reply's text."""
    async with asyncio.timeout(_BOUND):
        status, xml = await phone.post(body, sid=sid)
    assert status == 200, (status, xml)
    return message_text(xml)


async def inbound_sids(backend: Backend) -> list[str]:
    async with backend.engine.connect() as conn:
        rows = await conn.execute(select(sms_inbound.c.message_sid))
        return [row.message_sid for row in rows]


async def appointment_count(backend: Backend) -> int:
    async with backend.engine.connect() as conn:
        count = await conn.execute(select(func.count()).select_from(appointments))
        return int(count.scalar_one())


# --- Redis --------------------------------------------------------------------------------


async def test_every_sms_is_answered_while_redis_is_down_and_all_after_its_restart(
    aiohttp_client: AiohttpClient,
    backend: Backend,
    world: World,
    gateway: GatewaySender,
    own_redis: RedisServer,
) -> None:
    app = outage_app(backend, gateway, own_redis.url)
    client = await aiohttp_client(app)
    alice = SmsPhone(client, app, gateway, world.alice.phone or "")
    await alice.send("Сәлем")  # mid-conversation: the welcome is on her screen
    assert "1414" not in alice.last or alice.last != apology(app)

    own_redis.stop()
    outage_sids = [new_sid() for _ in range(3)]
    for sid in outage_sids:
        reply = await post(alice, "1", sid)
        assert reply == apology(app, "kk")
        assert "1414" in reply
    # A sender never seen before: the language of the message itself, else Kazakh.
    stranger = SmsPhone(client, app, gateway, "+77015550000")
    assert await post(stranger, "Здравствуйте, хочу записаться", new_sid()) == apology(app, "ru")
    assert await post(stranger, "EN", new_sid()) == apology(app, "en")
    assert await post(stranger, "2", new_sid()) == apology(app, "kk")
    # A language keyword wins over the language remembered for the phone.
    assert await post(alice, "RU", new_sid()) == apology(app, "ru")
    # Released: no claim is left behind, so Twilio's retry is processed.
    assert not set(outage_sids) & set(await inbound_sids(backend))

    own_redis.start()  # the same port, an empty Redis
    retried = await post(alice, "00", outage_sids[0])  # Twilio's retry of the first one
    assert retried and retried != apology(app)
    assert outage_sids[0] in await inbound_sids(backend)

    phones = [SmsPhone(client, app, gateway, f"+7701555{n:04d}") for n in range(50)]
    replies = await asyncio.gather(*(post(p, "Сәлем", new_sid()) for p in phones))
    assert all(replies), replies
    assert apology(app) not in replies
    assert apology(app, "en") not in replies


async def test_a_redis_restart_costs_no_request(
    aiohttp_client: AiohttpClient,
    backend: Backend,
    world: World,
    gateway: GatewaySender,
    own_redis: RedisServer,
) -> None:
    app = outage_app(backend, gateway, own_redis.url)
    client = await aiohttp_client(app)
    phones = [SmsPhone(client, app, gateway, f"+7701666{n:04d}") for n in range(5)]
    # Fill the pool with connections that the restart will close under it.
    before = await asyncio.gather(*(post(p, "Сәлем", new_sid()) for p in phones))
    assert all(before)

    own_redis.stop()
    own_redis.start()

    after = await asyncio.gather(*(post(p, "Сәлем", new_sid()) for p in phones))
    assert all(after), after
    assert apology(app) not in after


# --- PostgreSQL ---------------------------------------------------------------------------


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def outage_database() -> Iterator[str]:
    """A PostgreSQL database of this test's own: refusing its connections disturbs nobody."""
    from backend.adapters.db import migrate

    name = f"dariger_outage_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _in_thread(lambda: asyncio.run(_admin(f'CREATE DATABASE "{name}"')))
    url = _with_database(PG_URL, name)
    try:
        _in_thread(lambda: migrate(url))
        yield url
    finally:
        _in_thread(
            lambda: asyncio.run(
                _admin(
                    f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true',
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                )
            )
        )


@pytest.fixture
async def outage_backend(outage_database: str, clock: FixedClock) -> AsyncIterator[Backend]:
    b = bootstrap(outage_database, clock=clock, policy=BookingPolicy(max_future_appointments=3))
    try:
        yield b
    finally:
        await b.close()


async def _refuse_connections(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    await _admin(
        f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
        # our own database's name, not input
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )


async def _allow_connections(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    await _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


async def test_sms_are_answered_while_postgresql_refuses_connections_and_nothing_is_lost(
    aiohttp_client: AiohttpClient,
    outage_database: str,
    outage_backend: Backend,
    gateway: GatewaySender,
    own_redis: RedisServer,
) -> None:
    backend = outage_backend
    world = await build_world(backend)
    app = outage_app(backend, gateway, own_redis.url)
    client = await aiohttp_client(app)
    alice = SmsPhone(client, app, gateway, world.alice.phone or "")
    await alice.send("RU")
    await alice.sign_in(world.alice.iin)
    await alice.send("00")
    await alice.choose("book")
    await alice.choose(f"sp.{world.therapist.id}")
    await alice.choose(f"dr.{world.doctor_a.id}")
    await alice.choose(f"slot.{world.slots_a[0].id}")
    assert await alice.screen() == "book.confirm"
    confirm = await alice.number_of("confirm")
    processed_before = set(await inbound_sids(backend))

    await _refuse_connections(outage_database)
    try:
        outage_sids = [new_sid() for _ in range(2)]
        for sid in outage_sids:
            reply = await post(alice, confirm, sid)
            # Russian: the language of the conversation, known without the database.
            assert reply == apology(app, "ru")
            assert "1414" in reply
        # A delivery report meanwhile: refused honestly for a later retry, never a 500.
        form = {"MessageSid": "SM" + "3" * 32, "MessageStatus": "delivered"}
        report = await client.post(
            "/sms/twilio/status", data=form, headers={"X-Twilio-Signature": sign(STATUS_URL, form)}
        )
        assert (report.status, report.headers.get("Retry-After")) == (503, "60")
    finally:
        await _allow_connections(outage_database)

    # Twilio's retry of the first one books; the retry of the second finds nothing to confirm.
    booked = await post(alice, confirm, outage_sids[0])
    assert booked and booked != apology(app, "ru")
    assert await alice.screen() == "book.done"
    again = await post(alice, confirm, outage_sids[0])  # a duplicate delivery: the same reply
    assert again == booked
    second = await post(alice, confirm, outage_sids[1])
    assert second and second != apology(app, "ru")

    assert await appointment_count(backend) == 1  # nothing booked twice
    processed = set(await inbound_sids(backend)) - processed_before
    assert processed == set(outage_sids)  # nothing lost, each processed once


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_nul_byte_in_a_signed_sms_never_reaches_postgresql(
    aiohttp_client: AiohttpClient, backend: Backend, world: World, gateway: GatewaySender
) -> None:
    app = outage_app(backend, gateway, "")
    client = await aiohttp_client(app)
    alice = SmsPhone(client, app, gateway, "\x00" + (world.alice.phone or "") + "\u202e")

    reply = await post(alice, "Сә\x00лем\u202e", new_sid())

    assert reply and reply != apology(app)
    sids = await inbound_sids(backend)
    assert len(sids) == 1
    status, _ = await alice.post("Сәлем", sid="SM\x00" + "1" * 30)
    assert status == 400
    assert await inbound_sids(backend) == sids


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_nul_byte_in_a_signed_delivery_report_never_reaches_postgresql(
    aiohttp_client: AiohttpClient, backend: Backend, gateway: GatewaySender
) -> None:
    app = outage_app(backend, gateway, "")
    client = await aiohttp_client(app)

    async def report(form: dict[str, str]) -> int:
        response = await client.post(
            "/sms/twilio/status", data=form, headers={"X-Twilio-Signature": sign(STATUS_URL, form)}
        )
        return response.status

    assert await report({"MessageSid": "SM\x00" + "1" * 30, "MessageStatus": "delivered"}) == 400
    unknown = {
        "MessageSid": "SM" + "2" * 32,
        "MessageStatus": "undeliv\x00ered",
        "ErrorCode": "3\x00",
    }
    assert await report(unknown) == 204


# --- connections the database dropped (issue 16: no `pool_pre_ping` round trip per checkout) --


async def _drop_connections(url: str) -> None:
    """What a PostgreSQL restart does to the pooled connections: the server ends them."""
    name = url.rsplit("/", 1)[1]
    await _admin(
        # our own database's name, not input
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )


def quiet_app(backend: Backend, gateway: GatewaySender) -> web.Application:
    """The app without its background loops: only the messages use the pool."""
    app = outage_app(backend, gateway, "")
    for key in (NOTIFY_ENABLED_KEY, STATEMENTS_ENABLED_KEY, SLOT_TOP_UP_KEY, DESK_LOOP_KEY):
        app[key] = False
    return app


def apologetic(app: web.Application, reply: str | None) -> bool:
    return reply in {apology(app, language) for language in ("kk", "ru", "en")}


@contextlib.asynccontextmanager
async def _connections_dropped(
    aiohttp_client: AiohttpClient,
    url: str,
    gateway: GatewaySender,
    clock: FixedClock,
    *,
    ping_idle_after: float,
) -> AsyncIterator[tuple[Backend, web.Application, SmsPhone]]:
    """Alice has texted once (answered); then the server ends every pooled connection."""
    backend = bootstrap(url, clock=clock, ping_idle_after=ping_idle_after)
    try:
        world = await build_world(backend)
        app = quiet_app(backend, gateway)
        alice = SmsPhone(await aiohttp_client(app), app, gateway, world.alice.phone or "")
        assert not apologetic(app, await post(alice, "EN", new_sid()))
        await _drop_connections(url)
        yield backend, app, alice
    finally:
        await backend.close()


async def test_connections_dropped_while_the_service_was_quiet_cost_no_message(
    aiohttp_client: AiohttpClient, outage_database: str, gateway: GatewaySender, clock: FixedClock
) -> None:
    # A pooled connection unused for longer than `ping_idle_after` is pinged as it is taken.
    async with _connections_dropped(
        aiohttp_client, outage_database, gateway, clock, ping_idle_after=0.2
    ) as (_, app, alice):
        await asyncio.sleep(0.4)  # quiet: every pooled connection is idle by now

        reply = await post(alice, "HELP", new_sid())
        assert reply and not apologetic(app, reply)


async def test_connections_dropped_under_load_cost_one_apology_and_the_retry_is_processed(
    aiohttp_client: AiohttpClient, outage_database: str, gateway: GatewaySender, clock: FixedClock
) -> None:
    # Busy connections are not pinged: the message that meets a dropped one gets the apology
    # (its MessageSid released), the pool drops the rest, and Twilio's retry is answered.
    async with _connections_dropped(
        aiohttp_client, outage_database, gateway, clock, ping_idle_after=3600
    ) as (backend, app, alice):
        sid = new_sid()
        assert apologetic(app, await post(alice, "HELP", sid))

        retried = await post(alice, "HELP", sid)
        assert retried and not apologetic(app, retried)
        assert not apologetic(app, await post(alice, "00", new_sid()))
        assert sid in await inbound_sids(backend)
