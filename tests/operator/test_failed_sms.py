"""The failed-SMS page: what reaches it through the real paths (sign-in over the SMS webhook,
the outbox worker, Twilio's signed delivery reports), and what it must never show."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest

from backend.services import outbox
from backend.services.outbox import OutboxStatus
from bot.sms.outbox_worker import OutboxSmsSender
from bot.sms.twilio_sender import TwilioSmsSender
from tests.backend.world import World
from tests.operator.conftest import BEARER, Console, RelayingGateway, StartConsole
from tests.sms.harness import SmsPhone
from tests.sms.twilio_stub import ACCOUNT, AUTH_TOKEN, SERVICE, TwilioStub, twilio_stub

EMPTY_RU = "За этот период недоставленных SMS нет."


@pytest.fixture
def stub() -> Iterator[TwilioStub]:
    with twilio_stub() as running:
        yield running


def code_forms(code: str) -> list[str]:
    """Every way the code could be written on a page: 482915, 482 915."""
    assert re.fullmatch(r"\d{6}", code), code
    return [code, f"{code[:3]} {code[3:]}", f"{code[:3]}&nbsp;{code[3:]}"]


def assert_no_code(code: str, *pages: str) -> None:
    for page in pages:
        for form in code_forms(code):
            assert form not in page


async def ask_for_a_code(phone: SmsPhone, iin: str) -> None:
    """Start signing in by SMS up to the point where the code is sent."""
    await phone.send("Hello")
    await phone.choose("signin")
    await phone.send(iin)


async def notify(console: Console, phone: str, body: str, *, kind: str = "notification") -> None:
    """A notification (not a code) through the outbox, then one run of the worker."""
    await OutboxSmsSender(console.backend, kind=kind, sensitive=False, lifetime=None).send(
        phone, body
    )
    await console.worker.drain()


# --- failed codes ----------------------------------------------------------------------------


async def test_an_otp_that_twilio_refused_is_listed_with_the_phone_and_never_the_code(
    start_console: StartConsole, world: World, stub: TwilioStub
) -> None:
    stub.status, stub.error_code = 400, 21211  # Twilio: not a valid phone number
    twilio = TwilioSmsSender(ACCOUNT, AUTH_TOKEN, messaging_service_sid=SERVICE, base_url=stub.url)
    console = await start_console(RelayingGateway(inner=twilio))
    assert world.alice.phone is not None
    alice = console.phone(world.alice.phone)
    empty = await console.page()

    await ask_for_a_code(alice, world.alice.iin)

    code = alice.last_code()  # the code that was on its way
    assert stub.refused == 1 and stub.accepted == []
    [message] = await outbox.messages_to(console.backend.uow(), alice.phone)
    assert message.status is OutboxStatus.FAILED  # the worker gave up at once (a 4xx)
    page = await console.page()
    data = await console.json()
    assert EMPTY_RU in empty
    assert EMPTY_RU not in page
    row = _row_of(page, alice.phone)
    assert "23.11 10:00" in row  # Monday 10:00 in Almaty (the test clock)
    assert "SMS-код" in row
    assert "Не отправлено" in row
    assert "SMS-шлюз отклонил сообщение (ошибка 21211)." in row
    assert "twilio_http_400_code_21211" in row
    assert "скрыт: SMS-код не показывается" in row
    assert_no_code(code, page, await console.page(lang="kk"), await console.page(lang="en"))
    assert_no_code(code, str(data))
    [item] = data["messages"]
    assert item["to"] == alice.phone
    assert (item["kind"], item["status"], item["text"]) == ("otp", "failed", None)


async def test_an_otp_that_could_not_go_out_before_it_expired_is_listed(
    start_console: StartConsole, world: World
) -> None:
    console = await start_console(RelayingGateway(down=True))  # Twilio answers 503
    assert world.bob.phone is not None
    bob = console.phone(world.bob.phone)
    await ask_for_a_code(bob, world.bob.iin)
    code = bob.last_code()

    for _ in range(40):  # the worker retries with back-off until the code is worth nothing
        console.clock.advance(dt.timedelta(seconds=30))
        await console.worker.run_once()
        [message] = await outbox.messages_to(console.backend.uow(), bob.phone)
        if message.status is not OutboxStatus.QUEUED:
            break

    assert message.status is OutboxStatus.EXPIRED
    page = await console.page(lang="en")
    row = _row_of(page, bob.phone)
    assert "SMS code" in row
    assert "Expired before sending" in row
    assert "The code expired before it could be sent." in row
    assert f"<td>{message.attempts}</td>" in row and message.attempts > 1
    assert_no_code(code, page, str(await console.json()))


# --- delivery reports ------------------------------------------------------------------------


async def _signed_in(console: Console, world: World) -> tuple[SmsPhone, str]:
    """Alice signs in by SMS; her code's gateway id."""
    assert world.alice.phone is not None
    alice = console.phone(world.alice.phone)
    await alice.sign_in(world.alice.iin)
    [message] = await outbox.messages_to(console.backend.uow(), alice.phone)
    assert message.status is OutboxStatus.ACCEPTED and message.provider_id
    return alice, message.provider_id


async def test_an_undelivered_report_puts_the_message_on_the_page(
    console: Console, world: World
) -> None:
    alice, provider_id = await _signed_in(console, world)
    before = await console.page()

    assert await console.report(provider_id, "sent") == 204
    assert await console.report(provider_id, "undelivered", ErrorCode="30003") == 204

    page = await console.page()
    assert EMPTY_RU in before and alice.phone not in before
    row = _row_of(page, alice.phone)
    assert "Принято шлюзом" in row
    assert "Не доставлено" in row
    assert "Телефон выключен или вне зоны действия сети." in row
    assert "provider_error_30003" in row
    assert_no_code(alice.last_code(), page, str(await console.json()))


async def test_a_delivered_message_is_not_listed(console: Console, world: World) -> None:
    alice, provider_id = await _signed_in(console, world)

    assert await console.report(provider_id, "sent") == 204
    assert await console.report(provider_id, "delivered") == 204

    page = await console.page()
    assert EMPTY_RU in page
    assert alice.phone not in page
    assert (await console.json())["messages"] == []


# --- notifications, JSON, escaping -----------------------------------------------------------


async def test_a_failed_notification_shows_what_the_patient_missed(
    start_console: StartConsole,
) -> None:
    console = await start_console(RelayingGateway(refuse="twilio_http_400_code_21614"))

    await notify(console, "+77011234501", "Приём перенесён: 24.11 09:00, каб. 101.")
    await notify(console, "+77011234502", "Напоминание", kind="reminder")

    page = await console.page()
    first = _row_of(page, "+77011234501")
    assert "Уведомление" in first
    assert "Приём перенесён: 24.11 09:00, каб. 101." in first
    assert "Другое (reminder)" in _row_of(page, "+77011234502")
    assert "Найдено: 2" in page


async def test_every_value_on_the_page_is_escaped(console: Console) -> None:
    await notify(console, "+77011234501", "<script>alert(1)</script> & co", kind="<i>x</i>")
    [message] = await outbox.messages_to(console.backend.uow(), "+77011234501")
    assert message.provider_id is not None

    await console.report(message.provider_id, "undelivered", ErrorCode='<b class="x">1</b>')

    page = await console.page()
    assert "<script>" not in page and "<i>" not in page and "<b " not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert "Другое (&lt;i&gt;x&lt;/i&gt;)" in page
    assert "provider_error_&lt;b class=&quot;x&quot;&gt;1&lt;/b&gt;" in page


async def test_the_json_form_is_the_same_list(start_console: StartConsole, world: World) -> None:
    console = await start_console(RelayingGateway(refuse="twilio_http_400_code_21211"))
    await notify(console, "+77011234501", "Напоминание о приёме")

    by_accept = await console.get(headers={"Accept": "application/json"})
    by_query = await console.json()
    browser = await console.get(headers={"Accept": "text/html,*/*;q=0.8"})
    by_token = await console.get(headers=BEARER)  # the machine API: always JSON

    assert by_accept.status == 200
    assert by_accept.content_type == "application/json"
    assert await by_accept.json() == by_query
    assert await by_token.json() == by_query
    assert browser.content_type == "text/html"
    assert by_query["days"] == 7
    assert by_query["count"] == 1
    assert by_query["truncated"] is False
    [item] = by_query["messages"]
    assert item["to"] == "+77011234501"
    assert item["kind"] == "notification"
    assert item["status"] == "failed"
    assert item["error"] == "twilio_http_400_code_21211"
    assert item["attempts"] == 1
    assert item["local_time"] == "23.11 10:00"
    assert item["created_at"] == "2026-11-23T05:00:00+00:00"
    assert item["text"] == "Напоминание о приёме"
    assert (await console.get(format="xml")).status == 400


def _row_of(page: str, phone: str) -> str:
    """The table row of the message to this phone (exactly one)."""
    rows = [str(row) for row in re.findall(r"<tr>.*?</tr>", page, flags=re.DOTALL) if phone in row]
    assert len(rows) == 1, (phone, rows)
    return rows[0]
