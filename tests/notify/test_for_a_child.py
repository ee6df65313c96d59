"""Issue 15: a notification about a child (an application a parent made for a dependant, issue
14) goes to the parent and names the child: «Дана С. үшін», «Дана С.:» (no «для»: a name after
it would need declining), "For Dana S.", in the patient's language, within the SMS budget.
Through signed Twilio webhooks, the clinic's status change and the notify workers to the SMS
outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from aiohttp import web

from backend.bootstrap import Backend
from backend.domain.statuses import Actor, ApplicationStatus
from backend.ports import FixedClock
from backend.services import applications, booking
from bot.notify.channel import NOTIFY_ENABLED_KEY, NOTIFY_KEY
from bot.sms.segments import segments
from tests.backend.children import Children, add_children
from tests.backend.world import World
from tests.sms.conftest import (  # noqa: F401 - the SMS channel's fixtures
    _no_settings_env,
    alice,
    client,
    gateway,
    phone_of,
    sms_app,
)
from tests.sms.harness import SmsPhone

LANGUAGE_KEYWORD = {"kk": "KZ", "ru": "RU", "en": "EN"}
FOR_DANA = {"kk": "Дана С. үшін", "ru": "Дана С.:", "en": "For Dana S."}
FOR_ALI = {"kk": "Әли С. үшін", "ru": "Әли С.:", "en": "For Ali S."}


@pytest.fixture(params=["kk", "ru", "en"])
def language(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture(autouse=True)
def _workers_by_hand(sms_app: web.Application) -> Iterator[None]:  # noqa: F811
    sms_app[NOTIFY_ENABLED_KEY] = False  # the test runs the workers itself
    yield


@pytest.fixture
async def kids(backend: Backend, world: World) -> Children:
    return await add_children(backend, world)


async def _a_027_requested(
    phone: SmsPhone, for_whom: str, backend: Backend, world: World, clock: FixedClock
) -> applications.ApplicationSummary:
    """Alice, signed in on `phone`, requests a 027/е (`for_whom`: "for.me", "for.<child id>")."""
    await phone.choose("certs")
    await phone.choose(for_whom)
    await phone.choose("cert.027")
    await phone.choose("confirm")
    assert await phone.screen() == "certs.done"
    [app] = await applications.list_applications(
        backend.uow(), world.alice.id or 0, today=clock.now().date()
    )
    return app


async def test_a_status_change_and_a_reminder_about_a_child_name_the_child(
    alice: SmsPhone,  # noqa: F811
    sms_app: web.Application,  # noqa: F811
    *,
    backend: Backend,
    world: World,
    kids: Children,
    clock: FixedClock,
    language: str,
) -> None:
    await alice.send(LANGUAGE_KEYWORD[language])
    await alice.sign_in(world.alice.iin)
    # A 027/е for Дана (no phone of her own), requested by her mother by SMS.
    app = await _a_027_requested(alice, f"for.{kids.dana.id}", backend, world, clock)
    notifier = sms_app[NOTIFY_KEY]
    before = len(alice.outbox_texts())
    clock.advance(dt.timedelta(minutes=5))
    await applications.change_status(
        backend.uow(),
        app.number,
        ApplicationStatus.IN_PROGRESS,
        actor=Actor.CLINIC,
        now=clock.now(),
    )
    assert await notifier.sms.drain() == 1
    await alice.channel.worker.drain()
    [status] = alice.outbox_texts()[before:]
    assert status.startswith(FOR_DANA[language]), status
    assert app.number in status
    assert segments(status) <= 2, status

    # A reminder of Әли's appointment, booked by his mother: to her phone, naming him.
    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        kids.slots_paed_b[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
        for_patient=kids.ali.id,
    )
    clock.current = dt.datetime(2026, 11, 23, 18, 0, tzinfo=clock.now().tzinfo)
    assert (await notifier.scheduler.run_once()).reminders == 1
    before = len(alice.outbox_texts())
    assert await notifier.sms.drain() >= 1
    await alice.channel.worker.drain()
    [reminder] = [t for t in alice.outbox_texts()[before:] if view.application_number in t]
    assert reminder.startswith(FOR_ALI[language]), reminder
    assert view.application_number in reminder
    assert segments(reminder) <= 2, reminder


async def test_a_notice_about_oneself_names_no_one(
    alice: SmsPhone,  # noqa: F811
    sms_app: web.Application,  # noqa: F811
    *,
    backend: Backend,
    world: World,
    kids: Children,
    clock: FixedClock,
) -> None:
    await alice.send("EN")
    await alice.sign_in(world.alice.iin)
    app = await _a_027_requested(alice, "for.me", backend, world, clock)
    before = len(alice.outbox_texts())
    await applications.change_status(
        backend.uow(),
        app.number,
        ApplicationStatus.IN_PROGRESS,
        actor=Actor.CLINIC,
        now=clock.now(),
    )
    assert await sms_app[NOTIFY_KEY].sms.drain() == 1
    await alice.channel.worker.drain()
    [status] = alice.outbox_texts()[before:]
    assert status.startswith(f"No. {app.number}"), status
    assert "For " not in status
