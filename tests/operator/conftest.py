"""Fixtures for the operator console: the production app (`create_app`) with an operator
signed in (a staff account, a session cookie), patients' phones sending signed Twilio webhooks,
and gateways that deliver, refuse or are down. OPERATOR_TOKEN is set too (the JSON API).

The outbox worker is run by hand (as in tests/sms), so each test decides when SMS go out.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from backend.bootstrap import Backend
from backend.ports import FixedClock
from backend.services import staff
from bot.app import create_app
from bot.config import Settings
from bot.sms.channel import SMS_KEY, SMS_WORKER_KEY
from bot.sms.outbox_worker import OutboxWorker
from otp import SentSms, SmsSender, SmsSendError
from tests.backend.world import World, build_world
from tests.sms.harness import STATUS_URL, GatewaySender, SmsPhone, sign, sms_settings

TOKEN = "operator-console-test-token-0123"
OPERATOR = "operator1"
PASSWORD = "operator one's long password"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SETTINGS_ENV = tuple(name.upper() for name in Settings.model_fields)


def basic(user: str, password: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {credentials}"}


@pytest.fixture(autouse=True)
def _no_settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    yield


@dataclass
class RelayingGateway(GatewaySender):
    """The gateway port. Every SMS it is asked to send is recorded in `sent` (so a test knows
    the code that was on its way), then handed to `inner`, or refused with `refuse`."""

    inner: SmsSender | None = None
    refuse: str | None = None  # e.g. "twilio_http_400_code_21211": a permanent refusal

    async def send(self, to: str, body: str) -> SentSms:
        self.attempts += 1
        self.sent.append((to, body))
        if self.refuse is not None:
            raise SmsSendError(self.refuse)
        if self.down:
            raise SmsSendError("twilio_http_503_code_None")
        if self.inner is not None:
            return await self.inner.send(to, body)
        return SentSms(provider_id=f"SM{len(self.sent):032d}", status="queued")


@dataclass
class Console:
    """The app with the console, seen by an operator's browser and by patients' phones."""

    client: TestClient[Any, Any]
    app: web.Application
    gateway: RelayingGateway
    backend: Backend
    clock: FixedClock
    phones: dict[str, SmsPhone] = field(default_factory=dict)

    @property
    def worker(self) -> OutboxWorker:
        return self.app[SMS_KEY].worker

    def phone(self, number: str) -> SmsPhone:
        if number not in self.phones:
            self.phones[number] = SmsPhone(self.client, self.app, self.gateway, number)
        return self.phones[number]

    async def sign_in(self) -> None:
        """Sign the operator in (again: a session ends after 30 idle minutes)."""
        form = await (await self.client.get("/operator/login")).text()
        csrf = re.search(r'name="csrf" value="([^"]*)"', form)
        assert csrf is not None
        signed_in = await self.client.post(
            "/operator/login",
            data={"login": OPERATOR, "password": PASSWORD, "csrf": csrf[1]},
            allow_redirects=False,
        )
        assert signed_in.status == 303, await signed_in.text()

    async def get(
        self,
        path: str = "/operator/sms",
        *,
        headers: dict[str, str] | None = None,
        **query: str | int,
    ) -> ClientResponse:
        """GET a console page as the signed-in operator (with `headers` added, if given)."""
        return await self.fetch(path, headers, query)

    async def fetch(
        self, path: str, headers: dict[str, str] | None, query: Mapping[str, str | int]
    ) -> ClientResponse:
        return await self.client.get(
            path,
            params={k: str(v) for k, v in query.items()},
            headers={} if headers is None else headers,
            allow_redirects=False,
        )

    async def page(self, *, headers: dict[str, str] | None = None, **query: str | int) -> str:
        response = await self.fetch("/operator/sms", headers, query)
        text = await response.text()
        assert response.status == 200, (response.status, text)
        assert response.content_type == "text/html"
        return text

    async def json(self, **query: str | int) -> dict[str, Any]:
        response = await self.fetch("/operator/sms", None, {**query, "format": "json"})
        assert response.status == 200, await response.text()
        data: dict[str, Any] = await response.json()
        return data

    async def report(self, provider_id: str, status: str, **extra: str) -> int:
        """Twilio's signed delivery report for one of our messages."""
        form = {"MessageSid": provider_id, "MessageStatus": status, **extra}
        response = await self.client.post(
            "/sms/twilio/status", data=form, headers={"X-Twilio-Signature": sign(STATUS_URL, form)}
        )
        return response.status


StartConsole = Callable[..., Awaitable[Console]]


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


@pytest.fixture
def start_console(
    aiohttp_client: AiohttpClient, backend: Backend, clock: FixedClock
) -> StartConsole:
    """`await start_console(gateway=…, operator_token=…)`: the app, started once per test
    (it owns the backend), an operator signed in (unless `sign_in=False`), TOKEN set."""

    async def start(
        gateway: RelayingGateway | None = None, *, sign_in: bool = True, **settings: Any
    ) -> Console:
        sender = gateway or RelayingGateway()
        values = {"operator_token": TOKEN, "console_cookie_secure": False, **settings}
        app = create_app(sms_settings(**values), backend, sender=sender)
        app[SMS_WORKER_KEY] = False  # the tests run the outbox worker themselves
        client = await aiohttp_client(app)
        console = Console(client, app, sender, backend, clock)
        if sign_in:
            await staff.add_account(
                backend.uow(),
                OPERATOR,
                role=staff.Role.OPERATOR,
                password=PASSWORD,
                now=clock.now(),
                must_change_password=False,
            )
            await console.sign_in()
        return console

    return start


@pytest.fixture
async def console(start_console: StartConsole) -> Console:
    return await start_console()
