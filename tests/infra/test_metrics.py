"""`GET /metrics` (issue 16): protected by METRICS_TOKEN, Prometheus' text format, and figures
that follow what patients did (signed SMS webhooks and Telegram updates into the real app).
The request id of an SMS (its MessageSid) is on every log line of that SMS."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pytest_aiohttp import AiohttpClient

from backend.bootstrap import Backend
from backend.services import outbox
from bot.app import create_app
from bot.logs import configure_logging
from bot.metrics import METRICS_KEY, update_metrics_middleware
from bot.runtime import build_runtime
from bot.sms.channel import SMS_WORKER_KEY
from tests.backend.world import World, build_world
from tests.dialogs.harness import TRANSLATOR, RecordingSender
from tests.sms.harness import STATUS_URL, GatewaySender, SmsPhone, new_sid, sign, sms_settings
from tests.telegram.harness import make_chat, tg_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TOKEN = "metrics-token-0123456789"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


@pytest.fixture
def gateway() -> GatewaySender:
    return GatewaySender()


@pytest.fixture
def app(backend: Backend, gateway: GatewaySender, world: World) -> web.Application:
    application = create_app(sms_settings(metrics_token=TOKEN), backend, sender=gateway)
    application[SMS_WORKER_KEY] = False
    return application


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, app: web.Application) -> TestClient[Any, Any]:
    return await aiohttp_client(app)


@pytest.fixture
def alice(client: TestClient[Any, Any], app: web.Application, gateway: GatewaySender,
          world: World) -> SmsPhone:  # fmt: skip
    assert world.alice.phone is not None
    return SmsPhone(client, app, gateway, world.alice.phone)


async def scrape(client: TestClient[Any, Any]) -> Samples:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    assert response.content_type == "text/plain"
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- protection ------------------------------------------------------------------------------


async def test_metrics_are_off_without_a_token(
    aiohttp_client: AiohttpClient, backend: Backend
) -> None:
    client = await aiohttp_client(create_app(sms_settings(), backend))

    assert (await client.get("/metrics")).status == 404
    assert (await client.get("/metrics", headers={"Authorization": "Bearer x"})).status == 404


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}", f"Bearer {TOKEN}x"]
)
async def test_metrics_need_the_bearer_token(
    client: TestClient[Any, Any], header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}

    response = await client.get("/metrics", headers=headers)

    assert response.status == 401
    assert "dariger_" not in await response.text()


@pytest.mark.usefixtures("database_url")
def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ValueError, match="METRICS_TOKEN must be at least 16"):
        sms_settings(metrics_token="short")


# --- figures -----------------------------------------------------------------------------------


async def test_an_sms_journey_shows_in_the_metrics(
    client: TestClient[Any, Any], alice: SmsPhone, world: World, backend: Backend
) -> None:
    before = await scrape(client)
    assert value(before, "dariger_outbox_depth", channel="sms") == 0

    await alice.send("EN")
    await alice.choose("signin")
    status, _ = await alice.post(world.alice.iin)
    assert status == 200
    # The code waits in the outbox until the worker runs: depth 1, on every process.
    waiting = await scrape(client)
    assert value(waiting, "dariger_outbox_depth", channel="sms") == 1
    assert value(waiting, "dariger_otp_events_total", event="code_sent") == 1
    await alice.channel.worker.drain()
    await alice.send(alice.last_code())
    await alice.send("00")
    await alice.choose("book")
    await alice.choose(f"sp.{world.therapist.id}")
    await alice.choose(f"dr.{world.doctor_a.id}")
    await alice.choose(f"slot.{world.slots_a[0].id}")
    await alice.choose("confirm")
    sid = new_sid()
    await alice.send("00", sid=sid)
    status, _ = await alice.post("00", sid=sid)  # Twilio's redelivery of the same message
    assert status == 200

    after = await scrape(client)
    sent = len(alice.replies) + 1  # and the message posted without reading its reply
    assert value(after, "dariger_events_total", channel="sms", outcome="replied") == sent
    assert value(after, "dariger_events_total", channel="sms", outcome="duplicate") == 1
    assert value(after, "dariger_event_seconds_count", channel="sms") == sent + 1
    # Every handled message ran SQL, and the count is recorded per message.
    assert value(after, "dariger_event_sql_statements_sum", channel="sms") >= sent
    assert value(after, "dariger_event_sql_statements_bucket", channel="sms", le="0.0") == 0
    assert value(after, "dariger_otp_events_total", event="code_verified") == 1
    assert value(after, "dariger_bookings_total", channel="sms") == 1
    assert value(after, "dariger_outbox_depth", channel="sms") == 0
    assert value(after, "dariger_outbox_messages", channel="sms", status="accepted") == 1


async def test_a_delivery_failure_is_counted(
    client: TestClient[Any, Any], alice: SmsPhone, world: World, backend: Backend
) -> None:
    await alice.send("EN")
    await alice.choose("signin")
    await alice.send(world.alice.iin)
    [message] = await outbox.messages_to(backend.uow(), alice.phone)
    assert message.provider_id is not None
    form = {"MessageSid": message.provider_id, "MessageStatus": "undelivered", "ErrorCode": "1"}
    response = await client.post(
        "/sms/twilio/status", data=form, headers={"X-Twilio-Signature": sign(STATUS_URL, form)}
    )
    assert response.status == 204

    samples = await scrape(client)
    assert value(samples, "dariger_delivery_failures_total", channel="sms") == 1


async def test_telegram_updates_are_counted_by_outcome(
    client: TestClient[Any, Any], app: web.Application, backend: Backend
) -> None:
    """The middleware create_app puts on the dispatcher, on the harness' dispatcher."""
    runtime = build_runtime(tg_settings(), backend, None, sender=RecordingSender(),
                            translator=TRANSLATOR)  # fmt: skip
    tg = make_chat(runtime)
    tg.dispatcher.update.outer_middleware(update_metrics_middleware(app[METRICS_KEY]))

    await tg.start()
    await tg.send_text("hello")
    update = tg.update(message=tg.message(text="again"))
    await tg.feed(update)
    await tg.feed(update)  # a redelivery: dropped before it is counted

    samples = await scrape(client)
    handled = value(samples, "dariger_events_total", channel="telegram", outcome="handled")
    assert handled == 3
    assert value(samples, "dariger_event_seconds_count", channel="telegram") == 3


# --- request ids in the logs ---------------------------------------------------------------------


@pytest.fixture
def json_logs() -> StringIO:
    """JSON logs into a buffer (tests/infra/conftest.py restores the logging afterwards)."""
    stream = StringIO()
    configure_logging("json", "INFO", stream=stream)
    return stream


async def test_every_log_line_of_an_sms_carries_its_message_sid(
    client: TestClient[Any, Any], alice: SmsPhone, world: World, json_logs: StringIO
) -> None:
    await alice.send("EN")
    await alice.choose("signin")
    sid = new_sid()
    await alice.send(world.alice.iin, sid=sid)  # logs the OTP audit line, among others

    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line]
    audit = [line for line in lines if line.get("audit")]
    assert audit, lines
    assert {line.get("request_id") for line in audit} == {sid}
