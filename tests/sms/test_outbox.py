"""The durable outbox and its worker, with the real Twilio sender against a local stub."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from backend.bootstrap import Backend, bootstrap
from backend.ports import FixedClock
from backend.services import outbox
from backend.services.outbox import OutboxStatus
from bot.sms.outbox_worker import OutboxSmsSender, OutboxWorker, is_permanent
from bot.sms.twilio_sender import TwilioSmsSender
from otp import SmsSendError
from tests.sms.harness import GatewaySender
from tests.sms.twilio_stub import ACCOUNT, AUTH_TOKEN, SERVICE, TwilioStub, twilio_stub

ALICE = "+77011234501"
BOB = "+77011234502"
CODE = "Dariger code: 482 915. Valid for 5 min. Do not tell it to anyone."


@pytest.fixture
async def free_port_backend() -> AsyncIterator[Backend]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = bootstrap(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres")
    yield backend
    await backend.close()


@pytest.fixture
def stub() -> Iterator[TwilioStub]:
    with twilio_stub() as running:
        yield running


def twilio(stub: TwilioStub) -> TwilioSmsSender:
    return TwilioSmsSender(
        ACCOUNT, AUTH_TOKEN, messaging_service_sid=SERVICE, base_url=stub.url, timeout=5
    )


def worker(backend: Backend, sender: object, **options: object) -> OutboxWorker:
    return OutboxWorker(backend, sender, rate_per_second=1000, **options)  # type: ignore[arg-type]


async def statuses(backend: Backend, phone: str) -> list[OutboxStatus]:
    return [m.status for m in await outbox.messages_to(backend.uow(), phone)]


async def test_messages_wait_while_twilio_is_down_and_go_out_once_it_recovers(
    backend: Backend, clock: FixedClock, stub: TwilioStub
) -> None:
    queue = OutboxSmsSender(backend, kind="otp")
    sending = worker(backend, twilio(stub))
    bodies = [f"{CODE} #{n}" for n in range(3)]
    stub.status = 503

    for body in bodies:
        await queue.send(ALICE, body)
    assert await sending.run_once() == 3  # each tried once, each failed
    assert await sending.run_once() == 0  # and not again before its back-off
    clock.advance(dt.timedelta(seconds=5))
    assert await sending.run_once() == 3  # the second try, failing again
    assert await statuses(backend, ALICE) == [OutboxStatus.QUEUED] * 3
    assert stub.accepted == []

    stub.status = 201  # Twilio is back
    clock.advance(dt.timedelta(seconds=10))
    assert await sending.drain() == 3
    clock.advance(dt.timedelta(minutes=5))
    assert await sending.drain() == 0

    assert stub.bodies_to(ALICE) == bodies  # each once, in order
    assert stub.refused == 6
    messages = await outbox.messages_to(backend.uow(), ALICE)
    assert [m.status for m in messages] == [OutboxStatus.ACCEPTED] * 3
    assert [m.attempts for m in messages] == [3, 3, 3]
    assert {m.provider_id for m in messages} == {sid for sid, _, _ in stub.accepted}
    assert all(m.body is None for m in messages)  # the codes are erased once sent


async def test_nothing_is_lost_when_the_process_stops(
    backend: Backend, clock: FixedClock, stub: TwilioStub
) -> None:
    await OutboxSmsSender(backend).send(ALICE, CODE)  # queued; the process "dies" here

    restarted = worker(backend, twilio(stub))  # a new process, the same database
    await restarted.drain()

    assert stub.bodies_to(ALICE) == [CODE]


async def test_a_worker_that_died_mid_send_is_taken_over_after_its_lease(
    backend: Backend, clock: FixedClock
) -> None:
    gateway = GatewaySender()
    message_id = await outbox.enqueue(
        backend.uow(), to=ALICE, body=CODE, kind="otp", now=clock.now()
    )
    claimed = await outbox.claim(
        backend.uow(), message_id, now=clock.now(), lease=dt.timedelta(seconds=60)
    )
    assert claimed is not None  # ... and that worker never reports back

    survivor = worker(backend, gateway)
    assert await survivor.run_once() == 0  # the lease still runs
    clock.advance(dt.timedelta(seconds=61))
    assert await survivor.run_once() == 1

    assert gateway.to(ALICE) == [CODE]


async def test_two_workers_never_send_the_same_message(
    backend: Backend, clock: FixedClock
) -> None:
    gateway = GatewaySender()
    queue = OutboxSmsSender(backend, kind="notification", sensitive=False)
    for n in range(10):
        await queue.send(ALICE, f"message {n}")

    await asyncio.gather(worker(backend, gateway).drain(), worker(backend, gateway).drain())

    assert sorted(gateway.to(ALICE)) == sorted(f"message {n}" for n in range(10))


async def test_a_permanent_error_fails_at_once_and_operators_see_it(
    backend: Backend, clock: FixedClock, stub: TwilioStub
) -> None:
    stub.status, stub.error_code = 400, 21211  # not a valid phone number
    await OutboxSmsSender(backend, kind="notification", sensitive=False).send(ALICE, "Hi")

    await worker(backend, twilio(stub)).drain()
    clock.advance(dt.timedelta(hours=1))
    await worker(backend, twilio(stub)).drain()

    [message] = await outbox.messages_to(backend.uow(), ALICE)
    assert message.status is OutboxStatus.FAILED
    assert message.error == "twilio_http_400_code_21211"
    assert message.attempts == 1
    assert [m.id for m in await outbox.problems(backend.uow())] == [message.id]


async def test_gives_up_after_the_last_attempt(backend: Backend, clock: FixedClock) -> None:
    gateway = GatewaySender(down=True)
    await OutboxSmsSender(backend, lifetime=None).send(ALICE, CODE)
    sending = worker(backend, gateway, max_attempts=3)

    for _ in range(5):
        await sending.run_once()
        clock.advance(dt.timedelta(minutes=10))

    [message] = await outbox.messages_to(backend.uow(), ALICE)
    assert message.status is OutboxStatus.FAILED
    assert gateway.attempts == 3


async def test_a_code_is_not_sent_after_it_expired(backend: Backend, clock: FixedClock) -> None:
    gateway = GatewaySender(down=True)
    await OutboxSmsSender(backend, lifetime=dt.timedelta(minutes=5)).send(ALICE, CODE)
    sending = worker(backend, gateway)
    await sending.run_once()

    gateway.down = False
    clock.advance(dt.timedelta(minutes=6))
    await sending.drain()

    assert gateway.sent == []
    [message] = await outbox.messages_to(backend.uow(), ALICE)
    assert message.status is OutboxStatus.EXPIRED
    assert message.body is None
    assert [m.id for m in await outbox.problems(backend.uow())] == [message.id]


async def test_back_off_doubles_up_to_a_cap(backend: Backend) -> None:
    sending = worker(backend, GatewaySender())

    waits = [sending.backoff(n).total_seconds() for n in range(1, 10)]

    assert waits == [5, 10, 20, 40, 80, 160, 320, 600, 600]


async def test_sending_is_rate_limited(backend: Backend, clock: FixedClock) -> None:
    gateway = GatewaySender()
    queue = OutboxSmsSender(backend, kind="notification", sensitive=False)
    for n in range(5):
        await queue.send(BOB, f"n{n}")
    sending = OutboxWorker(backend, gateway, rate_per_second=20)

    started = time.monotonic()
    await sending.drain()

    assert len(gateway.sent) == 5
    assert time.monotonic() - started >= 4 / 20 - 0.01


async def test_stop_is_honoured_by_the_outbox(backend: Backend, clock: FixedClock) -> None:
    gateway = GatewaySender()
    queue = OutboxSmsSender(backend, kind="notification", sensitive=False)
    await queue.send(ALICE, "written before STOP")

    assert await outbox.opt_out(backend.uow(), ALICE, now=clock.now(), source="keyword")
    with pytest.raises(SmsSendError) as refused:
        await queue.send(ALICE, "written after STOP")
    await worker(backend, gateway).drain()

    assert refused.value.reason == "opted_out"
    assert gateway.sent == []
    assert await statuses(backend, ALICE) == [OutboxStatus.SUPPRESSED]

    assert await outbox.opt_in(backend.uow(), ALICE)
    await queue.send(ALICE, "after START")
    await worker(backend, gateway).drain()
    assert gateway.to(ALICE) == ["after START"]


async def test_twilio_unsubscribed_recipient_is_opted_out(
    backend: Backend, clock: FixedClock, stub: TwilioStub
) -> None:
    stub.status, stub.error_code = 400, 21610  # the recipient replied STOP to Twilio itself
    await OutboxSmsSender(backend).send(ALICE, CODE)

    await worker(backend, twilio(stub)).drain()

    assert await statuses(backend, ALICE) == [OutboxStatus.SUPPRESSED]
    assert await outbox.is_opted_out(backend.uow(), ALICE)


def test_permanent_errors() -> None:
    assert is_permanent("twilio_http_400_code_21211")
    assert is_permanent("opted_out")
    assert not is_permanent("twilio_http_429_code_20429")
    assert not is_permanent("twilio_http_503_code_None")
    assert not is_permanent("transport_ConnectionError")


def test_the_worker_refuses_to_send_through_the_outbox_itself(backend: Backend) -> None:
    with pytest.raises(TypeError):
        OutboxWorker(backend, OutboxSmsSender(backend))


async def test_the_worker_keeps_running_and_wakes_on_enqueue(
    backend: Backend, clock: FixedClock
) -> None:
    gateway = GatewaySender()
    sending = OutboxWorker(backend, gateway, rate_per_second=1000, poll_seconds=30)
    queue = OutboxSmsSender(backend, on_enqueue=sending.wake)
    task = asyncio.create_task(sending.run_forever())
    try:
        await asyncio.sleep(0.05)
        await queue.send(ALICE, CODE)
        async with asyncio.timeout(5):
            while not gateway.sent:  # noqa: ASYNC110 - polling what a fake recorded
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert gateway.to(ALICE) == [CODE]


async def test_the_worker_survives_a_database_that_is_down(free_port_backend: Backend) -> None:
    sending = OutboxWorker(free_port_backend, GatewaySender(), poll_seconds=0.01)
    task = asyncio.create_task(sending.run_forever())
    await asyncio.sleep(0.3)

    assert not task.done()  # failing rounds are logged and retried, never fatal
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_inbound_ids_are_forgotten_after_two_days(
    backend: Backend, clock: FixedClock
) -> None:
    claim = await outbox.begin_inbound(backend.uow(), "SM1", phone=ALICE, now=clock.now())
    await outbox.finish_inbound(backend.uow(), "SM1", reply="1 Кіру")
    assert claim.new
    assert (await outbox.begin_inbound(backend.uow(), "SM1", phone=ALICE, now=clock.now())) == (
        outbox.InboundClaim(new=False, reply="1 Кіру")
    )

    clock.advance(dt.timedelta(days=3))
    await OutboxWorker(backend, GatewaySender()).run_once()

    assert (await outbox.begin_inbound(backend.uow(), "SM1", phone=ALICE, now=clock.now())).new


async def test_an_inbound_message_half_processed_is_processed_again_later(
    backend: Backend, clock: FixedClock
) -> None:
    assert (await outbox.begin_inbound(backend.uow(), "SM2", phone=ALICE, now=clock.now())).new
    # ... the process dies before finishing: a retry soon after is not processed twice
    again = await outbox.begin_inbound(backend.uow(), "SM2", phone=ALICE, now=clock.now())
    assert again == outbox.InboundClaim(new=False, reply=None)

    clock.advance(dt.timedelta(minutes=3))

    assert (await outbox.begin_inbound(backend.uow(), "SM2", phone=ALICE, now=clock.now())).new
