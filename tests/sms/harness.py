"""Drive the SMS channel like a patient's phone: signed Twilio webhooks to the production app.

Each message is signed with the twilio library's own `RequestValidator` for the public URL,
posted to `POST /sms/twilio`, and the TwiML reply is parsed with `xml.etree`. Codes and other
outbox messages are read from the gateway sender after the outbox worker has run.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from aiohttp import web
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from bot.config import Settings
from bot.sms.channel import SMS_KEY, SmsChannel
from bot.sms.segments import segments
from bot.sms.state import SmsState
from otp import SentSms

TOKEN = "twilio-test-auth-token"
PUBLIC = "https://dariger.example.kz"
INBOUND_URL = f"{PUBLIC}/sms/twilio"
STATUS_URL = f"{PUBLIC}/sms/twilio/status"
OUR_NUMBER = "+77010000000"
_CODE = re.compile(r"\b(\d{3}) ?(\d{3})\b")
_sids = itertools.count(1)


def sms_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "otp_pepper": "test-pepper-0123456789abcdef",
        "public_base_url": PUBLIC,
        "twilio_auth_token": TOKEN,
        "redis_url": "",
        "telegram_bot_token": None,
        "sms_sender": "console",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


def sign(url: str, form: dict[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


def message_text(xml: str) -> str | None:
    """The `<Message>` of a TwiML reply (None for an empty `<Response/>`)."""
    root = ElementTree.fromstring(xml)  # noqa: S314 - our own app's reply, in a test
    assert root.tag == "Response", xml
    messages = root.findall("Message")
    assert len(messages) <= 1, xml
    return messages[0].text or "" if messages else None


@dataclass
class GatewaySender:
    """The gateway port (what Twilio would deliver): records, or fails while `down`."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False
    attempts: int = 0

    async def send(self, to: str, body: str) -> SentSms:
        from otp import SmsSendError

        self.attempts += 1
        if self.down:
            raise SmsSendError("twilio_http_503_code_None")
        self.sent.append((to, body))
        return SentSms(provider_id=f"SM{len(self.sent):032d}", status="queued")

    def to(self, phone: str) -> list[str]:
        return [body for number, body in self.sent if number == phone]


@dataclass
class SmsPhone:
    """One patient's phone talking to the app."""

    client: TestClient[Any, Any]
    app: web.Application
    gateway: GatewaySender
    phone: str
    replies: list[str] = field(default_factory=list)
    reply_segments: list[int] = field(default_factory=list)

    @property
    def channel(self) -> SmsChannel:
        return self.app[SMS_KEY]

    async def post(
        self, body: str, *, sid: str | None = None, extra: dict[str, str] | None = None
    ) -> tuple[int, str]:
        form = {
            "MessageSid": sid or new_sid(),
            "AccountSid": "AC" + "0" * 32,
            "From": self.phone,
            "To": OUR_NUMBER,
            "Body": body,
            "NumSegments": "1",
            **(extra or {}),
        }
        response = await self.client.post(
            "/sms/twilio", data=form, headers={"X-Twilio-Signature": sign(INBOUND_URL, form)}
        )
        return response.status, await response.text()

    async def send(self, body: str, *, sid: str | None = None) -> str:
        """Send an SMS; the reply's text ("" when the app answers with an empty Response)."""
        status, xml = await self.post(body, sid=sid)
        assert status == 200, (status, xml)
        await self.channel.worker.drain()
        text = message_text(xml) or ""
        self.replies.append(text)
        if text:
            self.reply_segments.append(segments(text))
        return text

    @property
    def last(self) -> str:
        return self.replies[-1]

    async def state(self) -> SmsState:
        state = await self.channel.conversations.states.load(self.phone)
        assert state is not None
        return state

    async def screen(self) -> str:
        return (await self.state()).rendering.state

    async def number_of(self, option_id: str) -> str:
        """The number in front of this option, turning pages ("9") until it is shown."""
        for _ in range(10):
            state = await self.state()
            for number, shown in state.current.numbers.items():
                if shown == option_id:
                    return number
            if len(state.rendering.pages) < 2:
                break
            await self.send("9")
        raise AssertionError(f"{option_id} is not offered: {self.last}")

    async def choose(self, option_id: str) -> str:
        return await self.send(await self.number_of(option_id))

    async def options(self) -> list[str]:
        state = await self.state()
        return [i for page in state.rendering.pages for i in page.numbers.values()]

    def outbox_texts(self) -> list[str]:
        return self.gateway.to(self.phone)

    def last_code(self) -> str:
        for body in reversed(self.outbox_texts()):
            match = _CODE.search(body)
            if match:
                return match.group(1) + match.group(2)
        raise AssertionError(f"no code sent to {self.phone}: {self.gateway.sent}")

    async def sign_in(self, iin: str) -> str:
        if await self.channel.conversations.states.load(self.phone) is None:
            await self.send("Сәлем")
        await self.choose("signin")
        await self.send(iin)
        return await self.send(self.last_code())
