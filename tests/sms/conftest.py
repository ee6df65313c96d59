"""Fixtures for the SMS channel: the small world, the production app with a recording gateway,
and patients' phones sending signed webhooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from backend.bootstrap import Backend
from bot.app import create_app
from bot.config import Settings
from bot.sms.channel import SMS_WORKER_KEY
from tests.backend.world import World, build_world
from tests.sms.harness import GatewaySender, SmsPhone, sms_settings

SETTINGS_ENV = tuple(name.upper() for name in Settings.model_fields)

PhoneFactory = Callable[[str], Awaitable[SmsPhone]]


@pytest.fixture(autouse=True)
def _no_settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
async def world(backend: Backend) -> World:
    return await build_world(backend)


@pytest.fixture
def gateway() -> GatewaySender:
    return GatewaySender()


@pytest.fixture
def sms_app(backend: Backend, gateway: GatewaySender) -> web.Application:
    app = create_app(sms_settings(), backend, sender=gateway)
    # The tests run the outbox worker themselves. OTP codes reach the outbox through the
    # production wiring only (bot/sms/channel.py `install`): the fixture never redoes it.
    app[SMS_WORKER_KEY] = False
    return app


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, sms_app: web.Application) -> TestClient[Any, Any]:
    return await aiohttp_client(sms_app)


@pytest.fixture
def phone_of(
    client: TestClient[Any, Any], sms_app: web.Application, gateway: GatewaySender
) -> PhoneFactory:
    async def make(number: str) -> SmsPhone:
        return SmsPhone(client, sms_app, gateway, number)

    return make


@pytest.fixture
async def alice(world: World, phone_of: PhoneFactory) -> SmsPhone:
    """Attached to clinic A, district 1; texting from her registered phone."""
    assert world.alice.phone is not None
    return await phone_of(world.alice.phone)
