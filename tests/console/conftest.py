"""Fixtures for the staff console: the production app (`create_app`), staff accounts made
through backend.services.staff, and a browser-like HTTP client (cookies, forms, CSRF tokens
read from the pages as a browser would)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse, FormData, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from backend.bootstrap import Backend
from backend.domain.statuses import ServiceType
from backend.ports import FixedClock
from backend.services import certificates, staff
from backend.services.home_visit import HomeVisitRequest, request_home_visit
from bot.app import SLOT_TOP_UP_KEY, create_app
from bot.config import Settings
from bot.operator.clinic_pages import POLL_KEY
from bot.operator.web import HEARTBEAT_KEY
from bot.sms.channel import SMS_WORKER_KEY
from tests.backend.world import World, build_world
from tests.sms.harness import sms_settings

PASSWORD = "correct horse battery staple"
SETTINGS_ENV = tuple(name.upper() for name in Settings.model_fields)
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@pytest.fixture(autouse=True)
def _no_settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    yield


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, page
    return html.unescape(found[1])


@dataclass
class Staff:
    """One browser: its own cookies."""

    client: TestClient[Any, Any]

    async def get(self, path: str, **query: str) -> ClientResponse:
        return await self.client.get(path, params=query, allow_redirects=False)

    async def page(self, path: str, status: int = 200, **query: str) -> str:
        response = await self.get(path, **query)
        text = await response.text()
        assert response.status == status, (response.status, text[:2000])
        return text

    async def sign_in(self, login: str, password: str = PASSWORD) -> ClientResponse:
        form = await self.page("/operator/login")
        return await self.client.post(
            "/operator/login",
            data={"login": login, "password": password, "csrf": csrf_of(form)},
            allow_redirects=False,
        )

    async def post(
        self,
        path: str,
        data: Mapping[str, str] | FormData | None = None,
        *,
        csrf_from: str = "/operator/",
        csrf: str | None = None,
    ) -> ClientResponse:
        """POST a form with the CSRF token of the page `csrf_from` (or the one given)."""
        token = csrf if csrf is not None else csrf_of(await self.page(csrf_from))
        if isinstance(data, FormData):
            data.add_field("csrf", token)
            body: Any = data
        else:
            body = {**(data or {}), "csrf": token}
        return await self.client.post(path, data=body, allow_redirects=False)


@dataclass
class ConsoleWorld:
    app: web.Application
    backend: Backend
    clock: FixedClock
    world: World
    aiohttp_client: AiohttpClient
    client: TestClient[Any, Any]

    async def browser(self) -> Staff:
        """A new browser (its own cookie jar) on the same running app."""
        return Staff(await self.aiohttp_client(self.client.server))

    async def account(
        self,
        login: str,
        role: staff.Role,
        *,
        clinic: str | None = None,
        must_change: bool = False,
    ) -> staff.Account:
        return await staff.add_account(
            self.backend.uow(),
            login,
            role=role,
            password=PASSWORD,
            now=self.clock.now(),
            display_name=login.title(),
            clinic_code=clinic,
            must_change_password=must_change,
        )

    async def signed_in(self, login: str, role: staff.Role, *, clinic: str | None = None) -> Staff:
        await self.account(login, role, clinic=clinic)
        browser = await self.browser()
        response = await browser.sign_in(login)
        assert response.status == 303, await response.text()
        return browser

    async def certificate(self, patient_id: int | None = None) -> str:
        summary = await certificates.request_certificate(
            self.backend.uow(),
            patient_id or self.world.alice.id or 0,
            ServiceType.CERTIFICATE_027,
            now=self.clock.now(),
        )
        return summary.number

    async def home_visit(self, patient_id: int | None = None) -> str:
        view = await request_home_visit(
            self.backend.uow(),
            patient_id or self.world.alice.id or 0,
            HomeVisitRequest(reason="Қызба", symptoms="38.5", contact_phone="+77011234501"),
            now=self.clock.now(),
        )
        return view.application_number


def console_settings(**values: Any) -> Settings:
    return sms_settings(**{"console_cookie_secure": False, **values})


@pytest.fixture
async def console(
    aiohttp_client: AiohttpClient, backend: Backend, clock: FixedClock
) -> ConsoleWorld:
    world = await build_world(backend)
    app = create_app(console_settings(operator_token="operator-console-test-token-0123"), backend)
    app[SMS_WORKER_KEY] = False
    app[SLOT_TOP_UP_KEY] = False
    app[POLL_KEY] = 0.05
    app[HEARTBEAT_KEY] = 0.2
    client = await aiohttp_client(app)
    return ConsoleWorld(app, backend, clock, world, aiohttp_client, client)
