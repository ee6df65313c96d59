"""Twilio's webhooks, signed with the real twilio `RequestValidator` (STYLE.md §3.2)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis
from sqlalchemy import event, func, select
from twilio.request_validator import RequestValidator

from backend.adapters.orm import sms_inbound
from backend.bootstrap import Backend
from backend.services import outbox
from bot.app import RUNTIME_KEY, SLOT_TOP_UP_KEY, create_app
from bot.desk.channel import DESK_LOOP_KEY
from bot.notify.channel import NOTIFY_ENABLED_KEY
from bot.sms.channel import SMS_KEY, SMS_WORKER_KEY
from bot.sms.outbox_worker import OutboxSmsSender
from bot.sms.webhook import public_url
from bot.verify import STATEMENTS_ENABLED_KEY
from tests.backend.world import World
from tests.infra.redis_server import RedisServer, own_redis
from tests.sms.harness import (
    INBOUND_URL,
    OUR_NUMBER,
    STATUS_URL,
    TOKEN,
    GatewaySender,
    SmsPhone,
    message_text,
    new_sid,
    sign,
    sms_settings,
)

__all__ = ["own_redis"]  # the fixture, used by name


def _form(body: str = "Hello", sid: str | None = None) -> dict[str, str]:
    return {
        "MessageSid": sid or new_sid(),
        "From": "+77011234501",
        "To": OUR_NUMBER,
        "Body": body,
    }


async def _inbound_count(backend: Backend) -> int:
    async with backend.engine.connect() as conn:
        count = await conn.execute(select(func.count()).select_from(sms_inbound))
        return int(count.scalar_one())


def test_our_signing_matches_twilios_golden_vector() -> None:
    # twilio-python's own test vector (tests/unit/test_request_validator.py).
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    uri = "https://mycompany.com/myapp.php?foo=1&bar=2"

    assert sign(uri, params, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert RequestValidator("12345").validate(uri, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


async def test_a_signed_message_is_answered_with_twiml(
    client: TestClient[Any, Any], world: World
) -> None:
    form = _form()

    response = await client.post(
        "/sms/twilio", data=form, headers={"X-Twilio-Signature": sign(INBOUND_URL, form)}
    )

    assert response.status == 200
    assert response.content_type == "application/xml"
    text = message_text(await response.text())
    assert text  # the welcome (its first page)


async def test_unsigned_message_is_refused_and_not_processed(
    client: TestClient[Any, Any], backend: Backend, world: World
) -> None:
    response = await client.post("/sms/twilio", data=_form())

    assert response.status == 403
    assert await _inbound_count(backend) == 0


async def test_wrong_signature_is_refused(
    client: TestClient[Any, Any], backend: Backend, world: World
) -> None:
    form = _form()
    forged = sign(INBOUND_URL, form, token="not-our-token")

    response = await client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": forged})

    assert response.status == 403
    assert await _inbound_count(backend) == 0


async def test_tampered_body_is_refused(client: TestClient[Any, Any], world: World) -> None:
    form = _form("1")
    signature = sign(INBOUND_URL, form)

    response = await client.post(
        "/sms/twilio", data={**form, "Body": "2"}, headers={"X-Twilio-Signature": signature}
    )

    assert response.status == 403


async def test_signature_for_another_url_is_refused(
    client: TestClient[Any, Any], backend: Backend, world: World
) -> None:
    form = _form()
    for other in (
        "https://evil.example.com/sms/twilio",
        "http://dariger.example.kz/sms/twilio",  # another scheme
        f"{INBOUND_URL}/",  # the trailing slash
        STATUS_URL,  # our other webhook
    ):
        response = await client.post(
            "/sms/twilio", data=form, headers={"X-Twilio-Signature": sign(other, form)}
        )
        assert response.status == 403, other
    assert await _inbound_count(backend) == 0


async def test_no_auth_token_configured_refuses_everything(
    aiohttp_client: AiohttpClient, backend: Backend
) -> None:
    app = create_app(sms_settings(twilio_auth_token=None), backend, sender=GatewaySender())
    app[SMS_WORKER_KEY] = False
    client = await aiohttp_client(app)
    form = _form()

    response = await client.post(
        "/sms/twilio", data=form, headers={"X-Twilio-Signature": sign(INBOUND_URL, form)}
    )

    assert response.status == 403


async def test_duplicate_message_sid_is_processed_once(
    alice: SmsPhone, backend: Backend, world: World
) -> None:
    await alice.send("Hello")
    number = await alice.number_of("signin")
    sid = new_sid()
    before = await _inbound_count(backend)

    first = await alice.send(number, sid=sid)
    state_after_first = await alice.state()
    second = await alice.send(number, sid=sid)  # Twilio's retry of the same message

    assert second == first  # the same reply, not a second step
    assert (await alice.state()).rendering.seq == state_after_first.rendering.seq
    assert await alice.screen() == "signin.iin"
    assert await _inbound_count(backend) == before + 1


@dataclass
class RoundTrips:
    statements: list[str] = field(default_factory=list)
    checkouts: int = 0  # each one a `SELECT 1` when the pool pings at checkout
    transactions: int = 0  # BEGIN … COMMIT/ROLLBACK sent by the driver (not autocommit)


@contextlib.contextmanager
def round_trips(backend: Backend) -> Iterator[RoundTrips]:
    """What the app asks of PostgreSQL, seen through SQLAlchemy's engine and pool events."""
    seen = RoundTrips()
    engine = backend.engine.sync_engine

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.statements.append(sql.split(maxsplit=1)[0])

    def checkout(*_args: Any) -> None:
        seen.checkouts += 1

    def begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            seen.transactions += 1

    listeners: list[tuple[Any, str, Callable[..., None]]] = [
        (engine, "before_cursor_execute", statement),
        (engine, "begin", begin),
        (engine.pool, "checkout", checkout),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield seen
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


def _quiet_app(backend: Backend, gateway: GatewaySender, redis_url: str = "") -> web.Application:
    """The production app without its background loops: what is counted is the message's."""
    app = create_app(sms_settings(redis_url=redis_url), backend, sender=gateway)
    for key in (
        SMS_WORKER_KEY,
        NOTIFY_ENABLED_KEY,
        STATEMENTS_ENABLED_KEY,
        SLOT_TOP_UP_KEY,
        DESK_LOOP_KEY,
    ):
        app[key] = False
    return app


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_menu_message_costs_postgresql_two_statements_and_no_transaction(
    aiohttp_client: AiohttpClient, backend: Backend, world: World, gateway: GatewaySender
) -> None:
    # Issue 16: the claim of the MessageSid reads the opt-out and the open desk chat in the
    # same statement, committed at once (autocommit: no BEGIN/COMMIT round trips); the reply
    # record is the other statement. No pool ping (`SELECT 1`) per checkout. Before: three
    # transactions (claim, opt-out read, reply record), each with its checkout's ping.
    app = _quiet_app(backend, gateway)
    alice = SmsPhone(await aiohttp_client(app), app, gateway, world.alice.phone or "")
    await alice.send("EN")
    for body in ("HELP", "00"):
        with round_trips(backend) as seen:
            status, xml = await alice.post(body)  # the webhook alone (no outbox worker round)
        assert status == 200
        assert message_text(xml)
        assert seen.statements == ["INSERT", "UPDATE"], body
        assert (seen.checkouts, seen.transactions) == (2, 0), body


async def _redis_commands_of(redis_url: str, during: Callable[[], Awaitable[object]]) -> list[str]:
    """The commands a Redis server received while `during` ran (MONITOR)."""
    seen: list[str] = []
    end = f"end-{new_sid()}"
    async with Redis.from_url(redis_url) as redis, redis.monitor() as monitor:
        await during()
        await redis.echo(end)
        while True:
            command = (await monitor.next_command())["command"]
            if end in command:
                return seen
            seen.append(command)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_one_conversation_lock_per_message(
    aiohttp_client: AiohttpClient,
    backend: Backend,
    world: World,
    gateway: GatewaySender,
    own_redis: RedisServer,
) -> None:
    # Issue 16: the SMS channel holds the engine's own lock of the conversation (re-entrant in
    # the task) around the claim, the dialog step and the reply record: one lock per message,
    # taken and released once (before: the channel's `sms-in` lock around the engine's `sms`).
    app = _quiet_app(backend, gateway, own_redis.url)
    alice = SmsPhone(await aiohttp_client(app), app, gateway, world.alice.phone or "")
    await alice.send("EN")

    for body in ("HELP", "00", "RU"):
        commands = await _redis_commands_of(own_redis.url, functools.partial(alice.post, body))
        takes = [c for c in commands if c.startswith("SET ") and ":lock" in c and " NX" in c]
        assert len(takes) == 1, (body, commands)
        # Released once: the lock's key deleted once (by the release script; the lock is taken
        # by a script too, with the conversation and the session in scripts of their own).
        releases = [c for c in commands if c.upper().startswith("DEL ") and c.endswith(":lock")]
        assert len(releases) == 1, (body, commands)


async def test_two_deliveries_of_one_message_at_once_are_processed_once_with_one_reply(
    alice: SmsPhone, backend: Backend, world: World
) -> None:
    # Twilio may deliver a message twice at the same moment: the claim is taken under the
    # conversation's lock, so the second delivery waits for the first and gets its reply.
    await alice.send("Hello")
    number = await alice.number_of("signin")
    before = await _inbound_count(backend)
    sid = new_sid()

    (s1, first), (s2, second) = await asyncio.gather(
        alice.post(number, sid=sid), alice.post(number, sid=sid)
    )

    assert (s1, s2) == (200, 200)
    assert message_text(first) and message_text(first) == message_text(second)
    assert await alice.screen() == "signin.iin"  # one step, not two
    assert await _inbound_count(backend) == before + 1


async def test_behind_a_proxy_the_forwarded_url_is_validated(
    aiohttp_client: AiohttpClient, backend: Backend, world: World
) -> None:
    app = create_app(sms_settings(public_base_url=""), backend, sender=GatewaySender())
    app[SMS_WORKER_KEY] = False
    client = await aiohttp_client(app)
    form = _form()
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "sms.dariger.kz",
        "X-Twilio-Signature": sign("https://sms.dariger.kz/sms/twilio", form),
    }

    ok = await client.post("/sms/twilio", data=form, headers=headers)
    forged = await client.post(
        "/sms/twilio",
        data=_form(),
        headers={**headers, "X-Forwarded-Host": "evil.example.com"},
    )

    assert ok.status == 200
    assert forged.status == 403


def test_public_url_prefers_the_configured_base() -> None:
    from aiohttp.test_utils import make_mocked_request

    request = make_mocked_request(
        "POST",
        "/sms/twilio?x=1",
        headers={"Host": "10.0.0.5:8080", "X-Forwarded-Host": "other.example"},
    )

    assert public_url(request, "https://dariger.kz/") == "https://dariger.kz/sms/twilio?x=1"
    assert public_url(request, "") == "http://other.example/sms/twilio?x=1"


async def test_status_callbacks_update_the_outgoing_message(
    client: TestClient[Any, Any], sms_app: web.Application, backend: Backend
) -> None:
    sender = OutboxSmsSender(backend, kind="notification", sensitive=False)
    queued = await sender.send("+77011234501", "Your appointment is tomorrow at 09:20.")
    await sms_app[SMS_KEY].worker.drain()
    [message] = await outbox.messages_to(backend.uow(), "+77011234501")
    assert message.provider_id is not None
    assert queued.status == "queued"

    async def report(status: str, **extra: str) -> int:
        form = {"MessageSid": message.provider_id or "", "MessageStatus": status, **extra}
        response = await client.post(
            "/sms/twilio/status",
            data=form,
            headers={"X-Twilio-Signature": sign(STATUS_URL, form)},
        )
        return response.status

    assert await report("sent") == 204
    assert await report("undelivered", ErrorCode="30003") == 204
    assert await report("sent") == 204  # late and out of order: ignored

    [after] = await outbox.messages_to(backend.uow(), "+77011234501")
    assert after.provider_status == "undelivered"
    assert after.error == "provider_error_30003"
    assert [m.id for m in await outbox.problems(backend.uow())] == [after.id]


async def test_status_callback_must_be_signed(
    client: TestClient[Any, Any], backend: Backend
) -> None:
    form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}

    unsigned = await client.post("/sms/twilio/status", data=form)
    wrong_url = await client.post(
        "/sms/twilio/status", data=form, headers={"X-Twilio-Signature": sign(INBOUND_URL, form)}
    )

    assert unsigned.status == 403
    assert wrong_url.status == 403


async def test_token_constant_is_what_the_app_uses() -> None:
    token = sms_settings().twilio_auth_token
    assert token is not None
    assert token.get_secret_value() == TOKEN


async def test_the_runtime_queues_otp_codes_in_the_outbox(backend: Backend) -> None:
    """The production wiring (bot/sms/channel.py `install`, issue 5): the OTP service sends
    through an `OutboxSmsSender` that wakes the app's own outbox worker at once."""
    app = create_app(sms_settings(), backend, sender=GatewaySender())
    otp_sender = app[RUNTIME_KEY].services.otp.sender
    await backend.close()

    assert isinstance(otp_sender, OutboxSmsSender)
    assert otp_sender.on_enqueue == app[SMS_KEY].worker.wake  # the worker wakes at once
