"""Fixtures for the Clinic API: the production app (`create_app`) on SQLite and PostgreSQL, the
test world (clinics A and B), a key for each clinic, and applications of each kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from backend.bootstrap import Backend
from backend.domain.statuses import ServiceType
from backend.ports import FixedClock
from backend.services import booking, certificates, clinic
from backend.services.home_visit import HomeVisitRequest, request_home_visit
from bot.app import SLOT_TOP_UP_KEY, create_app
from bot.config import Settings
from bot.sms.channel import SMS_WORKER_KEY
from tests.backend.world import World, build_world
from tests.sms.harness import sms_settings

API = "/api/clinic/v1"
SETTINGS_ENV = tuple(name.upper() for name in Settings.model_fields)


@pytest.fixture(autouse=True)
def _no_settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    yield


@dataclass
class ClinicClient:
    """The app as a clinic system sees it: requests with a key (clinic A's by default)."""

    client: TestClient[Any, Any]
    app: web.Application
    backend: Backend
    clock: FixedClock
    world: World
    key_a: str
    key_b: str
    key_a_id: int

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    async def get(
        self, path: str, *, key: str | None = "", params: dict[str, str] | None = None
    ) -> ClientResponse:
        return await self.client.get(
            API + path, headers=self.headers(self.key_a if key == "" else key), params=params
        )

    async def post(
        self,
        path: str,
        body: Any = None,
        *,
        key: str | None = "",
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ClientResponse:
        sent = self.headers(self.key_a if key == "" else key)
        sent.update(headers or {})
        if data is not None:
            return await self.client.post(API + path, data=data, headers=sent)
        return await self.client.post(API + path, json=body, headers=sent)

    async def ok(self, response: ClientResponse, status: int = 200) -> Any:
        text = await response.text()
        assert response.status == status, (response.status, text)
        return await response.json()

    async def error(self, response: ClientResponse, status: int) -> dict[str, Any]:
        text = await response.text()
        assert response.status == status, (response.status, text)
        assert response.content_type == "application/json", text
        body: dict[str, Any] = await response.json()
        assert set(body) == {"error"}, body
        assert body["error"]["code"] and body["error"]["message"], body
        return body["error"]  # type: ignore[no-any-return]

    # --- applications of the world, made through the patients' own services --------------

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

    async def appointment(self, slot_index: int = 0) -> str:
        view = await booking.book(
            self.backend.uow(),
            self.world.alice.id or 0,
            self.world.slots_a[slot_index].id or 0,
            now=self.clock.now(),
            policy=self.backend.policy,
        )
        return view.application_number


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


@pytest.fixture
async def api(
    aiohttp_client: AiohttpClient, backend: Backend, clock: FixedClock, world: World
) -> ClinicClient:
    key_a = await clinic.create_key(backend.uow(), "A", label="MIS A", now=clock.now())
    key_b = await clinic.create_key(backend.uow(), "B", label="MIS B", now=clock.now())
    app = create_app(sms_settings(), backend)
    app[SMS_WORKER_KEY] = False
    app[SLOT_TOP_UP_KEY] = False
    client = await aiohttp_client(app)
    return ClinicClient(
        client=client,
        app=app,
        backend=backend,
        clock=clock,
        world=world,
        key_a=key_a.secret,
        key_b=key_b.secret,
        key_a_id=key_a.view.id,
    )


def later(clock: FixedClock, **delta: float) -> dt.datetime:
    return clock.now() + dt.timedelta(**delta)
