"""Issue 11, must show: a patient requests 027/е by SMS (signed Twilio webhooks), the clinic
takes it into work and completes it, the patient receives both notifications by SMS (through
the outbox) in their language within 2 segments, and opens the card with its history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from aiohttp import web

from backend.bootstrap import Backend
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications, booking, notifications
from bot.notify.answers import NOTHING_TO_CONFIRM
from bot.notify.channel import NOTIFY_ENABLED_KEY, NOTIFY_KEY
from bot.notify.render import THANKS
from bot.sms.segments import segments
from dialogs.common import status_label
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


@pytest.fixture(params=["kk", "ru", "en"])
def language(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture(autouse=True)
def _workers_by_hand(sms_app: web.Application) -> Iterator[None]:  # noqa: F811
    sms_app[NOTIFY_ENABLED_KEY] = False  # the test runs the workers itself
    yield


async def test_the_clinic_completes_a_027_and_the_patient_is_told_by_sms(
    alice: SmsPhone,  # noqa: F811
    sms_app: web.Application,  # noqa: F811
    *,
    backend: Backend,
    world: World,
    clock: FixedClock,
    language: str,
) -> None:
    await alice.send(LANGUAGE_KEYWORD[language])
    await alice.sign_in(world.alice.iin)
    assert await alice.screen() == "menu"
    [address] = await notifications.addresses(backend.uow(), world.alice.id or 0)
    assert (address.channel, address.address) == ("sms", alice.phone)

    await alice.choose("certs")
    await alice.choose("cert.027")
    await alice.choose("confirm")
    assert await alice.screen() == "certs.done"
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert app.service is ServiceType.CERTIFICATE_027

    notifier = sms_app[NOTIFY_KEY]
    before = len(alice.outbox_texts())
    for minutes, status in ((5, ApplicationStatus.IN_PROGRESS), (10, ApplicationStatus.COMPLETED)):
        clock.advance(dt.timedelta(minutes=minutes))
        await applications.change_status(
            backend.uow(), app.number, status, actor=Actor.CLINIC, now=clock.now()
        )
    assert await notifier.sms.drain() == 2
    await alice.channel.worker.drain()  # the SMS outbox's own worker: through the gateway

    texts = alice.outbox_texts()[before:]
    assert len(texts) == 2, texts
    translator = sms_app[NOTIFY_KEY].sms.translator
    for text, status in zip(
        texts, (ApplicationStatus.IN_PROGRESS, ApplicationStatus.COMPLETED), strict=True
    ):
        assert app.number in text
        label = translator.render(status_label(status), language, style="short", context="sms")
        assert label in text
        assert "1414" in text
        assert segments(text) <= 2, (segments(text), text)
        if language != "en":
            assert translator.render(status_label(status), "en") not in text
    assert await notifier.sms.drain() == 0  # handed over once

    # The patient opens it as the SMS says: the menu, my applications, the number.
    await alice.send("00")
    await alice.choose("apps")
    await alice.send(app.number)
    assert await alice.screen() == "apps.details"
    card = "\n".join(p.text for p in (await alice.state()).rendering.pages)
    assert app.number in card
    assert (
        translator.render(
            status_label(ApplicationStatus.COMPLETED), language, style="short", context="sms"
        )
        in card
    )


async def test_a_reminder_by_sms_is_confirmed_by_a_reply(
    alice: SmsPhone,  # noqa: F811
    sms_app: web.Application,  # noqa: F811
    *,
    backend: Backend,
    world: World,
    clock: FixedClock,
    language: str,
) -> None:
    await alice.send(LANGUAGE_KEYWORD[language])
    await alice.sign_in(world.alice.iin)
    translator = sms_app[NOTIFY_KEY].sms.translator
    nothing = translator.gettext(language, NOTHING_TO_CONFIRM.msgid)
    word = {"kk": "ок", "ru": "ОК", "en": "ok"}[language]
    assert await alice.send(word) == nothing  # no reminder yet

    view = await booking.book(
        backend.uow(),
        world.alice.id or 0,
        world.slots_a[0].id or 0,
        now=clock.now(),
        policy=backend.policy,
    )
    clock.current = dt.datetime(2026, 11, 23, 18, 0, tzinfo=clock.now().tzinfo)
    notifier = sms_app[NOTIFY_KEY]
    assert (await notifier.scheduler.run_once()).reminders == 1
    assert await notifier.sms.drain() == 1
    await alice.channel.worker.drain()
    reminder = alice.outbox_texts()[-1]
    assert view.application_number in reminder
    assert "09:00" in reminder
    assert segments(reminder) <= 2

    assert await alice.send(word) == translator.gettext(language, THANKS.msgid)
    [eve, _two_hours] = await notifications.reminders_of(backend.uow(), view.appointment_id)
    assert eve.confirmed_at == clock.now()
