"""`dariger serve` runs the notification workers and the scheduler with the app (issue 11):
a change by the clinic reaches the patient's phone with nothing driven by hand, and the app
stops cleanly."""

from __future__ import annotations

import asyncio

import pytest
from pytest_aiohttp import AiohttpClient

from backend.bootstrap import Backend
from backend.domain.statuses import Actor, ApplicationStatus
from backend.ports import FixedClock
from backend.services import applications, booking
from bot.app import create_app
from bot.notify.channel import NOTIFY_KEY
from tests.backend.world import World
from tests.sms.harness import GatewaySender, sms_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_the_running_app_delivers_a_notification_by_itself(
    aiohttp_client: AiohttpClient, backend: Backend, world: World, clock: FixedClock
) -> None:
    gateway = GatewaySender()
    app = create_app(sms_settings(), backend, sender=gateway)
    client = await aiohttp_client(app)
    assert app[NOTIFY_KEY].telegram is None  # Telegram is off in these settings
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    await applications.change_status(
        backend.uow(),
        view.application_number,
        ApplicationStatus.IN_PROGRESS,
        actor=Actor.CLINIC,
        now=clock.now(),
    )
    for _ in range(600):  # the workers poll every second; up to 30 s on a loaded machine
        if gateway.to(world.alice.phone or ""):
            break
        await asyncio.sleep(0.05)
    [sms] = gateway.to(world.alice.phone or "")
    assert view.application_number in sms
    await client.close()  # the workers and the scheduler stop with the app
