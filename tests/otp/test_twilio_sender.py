"""The Twilio adapter, with the real twilio client, against a local HTTP stub (no network)."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator

import pytest

from bot.sms import TwilioSmsSender
from otp.sender import SmsSendError
from tests.sms.twilio_stub import ACCOUNT, AUTH_TOKEN, SERVICE, TwilioStub, twilio_stub

CALLBACK = "https://dariger.example.kz/sms/status"
BODY = "Dariger code: 482 915. Valid for 5 min. Do not tell it to anyone."
TOKEN = AUTH_TOKEN


@pytest.fixture
def stub() -> Iterator[TwilioStub]:
    with twilio_stub() as running:
        yield running


def basic_auth(headers: dict[str, str]) -> tuple[str, str]:
    value = {k.lower(): v for k, v in headers.items()}["authorization"]
    scheme, _, encoded = value.partition(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return user, password


async def test_sends_through_a_messaging_service_with_status_callback(stub: TwilioStub) -> None:
    sender = TwilioSmsSender(
        ACCOUNT,
        TOKEN,
        messaging_service_sid=SERVICE,
        status_callback_url=CALLBACK,
        base_url=stub.url,
    )

    sent = await sender.send("+77011234567", BODY)

    [request] = stub.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request.form == {
        "To": ["+77011234567"],
        "Body": [BODY],
        "MessagingServiceSid": [SERVICE],
        "StatusCallback": [CALLBACK],
    }
    assert basic_auth(request.headers) == (ACCOUNT, TOKEN)
    assert sent.provider_id == stub.accepted[0][0]
    assert sent.status == "queued"


async def test_sends_from_a_number_without_callback(stub: TwilioStub) -> None:
    sender = TwilioSmsSender(ACCOUNT, TOKEN, from_number="Dariger", base_url=stub.url + "/")

    await sender.send("+77011234567", BODY)

    [request] = stub.requests
    assert request.form == {"To": ["+77011234567"], "Body": [BODY], "From": ["Dariger"]}


async def test_client_error_becomes_send_error(stub: TwilioStub) -> None:
    stub.status = 400
    stub.body = json.dumps(
        {
            "code": 21211,
            "message": "The 'To' number +77011234567 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        }
    )
    sender = TwilioSmsSender(ACCOUNT, TOKEN, messaging_service_sid=SERVICE, base_url=stub.url)

    with pytest.raises(SmsSendError) as caught:
        await sender.send("+77011234567", BODY)

    assert caught.value.reason == "twilio_http_400_code_21211"
    assert "482" not in str(caught.value)


async def test_server_error_becomes_send_error(stub: TwilioStub) -> None:
    stub.status = 500
    stub.body = "<html>Internal Server Error</html>"
    sender = TwilioSmsSender(ACCOUNT, TOKEN, messaging_service_sid=SERVICE, base_url=stub.url)

    with pytest.raises(SmsSendError) as caught:
        await sender.send("+77011234567", BODY)

    assert caught.value.reason.startswith("twilio_http_500")


async def test_refused_connection_becomes_send_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = TwilioSmsSender(
        ACCOUNT, TOKEN, messaging_service_sid=SERVICE, base_url=f"http://127.0.0.1:{port}"
    )

    with pytest.raises(SmsSendError) as caught:
        await sender.send("+77011234567", BODY)

    assert caught.value.reason.startswith("transport_")


def test_exactly_one_sender_identity_is_required() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        TwilioSmsSender(ACCOUNT, TOKEN)
    with pytest.raises(ValueError, match="exactly one"):
        TwilioSmsSender(ACCOUNT, TOKEN, messaging_service_sid=SERVICE, from_number="+77010000000")
