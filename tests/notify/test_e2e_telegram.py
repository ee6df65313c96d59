"""Issue 11, must show: a patient requests 027/е on Telegram (through the dispatcher), the
clinic takes it into work and completes it, the patient receives both notifications in their
language with «Open» and «This wasn't me», and «Open» shows the card with its history."""

from __future__ import annotations

import datetime as dt

import pytest
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup

from backend.bootstrap import Backend
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications, notifications
from bot.notify.workers import TelegramWorker
from bot.runtime import Runtime
from bot.telegram.notifications import AiogramSender, Notice
from dialogs.common import status_label
from tests.backend.world import World
from tests.dialogs.harness import RecordingSender
from tests.notify.sim import SimClock
from tests.telegram.harness import TelegramChat, plain, signed_in_chat

pytestmark = pytest.mark.parametrize("language", ["kk", "ru", "en"])


def _buttons(markup: object) -> dict[str, str]:
    """action → button label of a notification's keyboard."""
    assert isinstance(markup, InlineKeyboardMarkup)
    return {
        Notice.unpack(b.callback_data).act: b.text
        for row in markup.inline_keyboard
        for b in row
        if b.callback_data
    }


@pytest.fixture
async def alice(
    runtime: Runtime, sms: RecordingSender, world: World, language: str
) -> TelegramChat:
    return await signed_in_chat(runtime, sms.last_code, world.alice.iin, language)


def _worker(runtime: Runtime, tg: TelegramChat, clock: FixedClock) -> TelegramWorker:
    sim = SimClock(clock.now())
    return TelegramWorker(
        runtime.backend,
        AiogramSender(tg.bot),
        runtime.translator,
        monotonic=sim.monotonic,
        sleep=sim.sleep,
    )


async def test_the_clinic_completes_a_027_and_the_patient_is_told_on_telegram(
    alice: TelegramChat,
    runtime: Runtime,
    *,
    backend: Backend,
    world: World,
    clock: FixedClock,
    language: str,
) -> None:
    # Sign-in remembered where Alice is reached.
    [address] = await notifications.addresses(backend.uow(), world.alice.id or 0)
    assert (address.channel, address.address) == ("telegram", str(alice.user_id))

    await alice.tap("certs")
    await alice.tap("cert.027")
    await alice.tap("confirm")
    assert await alice.state() == "certs.done"
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert app.service is ServiceType.CERTIFICATE_027

    worker = _worker(runtime, alice, clock)
    assert await worker.drain() == 0  # her own request: nothing to tell her

    clock.advance(dt.timedelta(minutes=5))
    await applications.change_status(
        backend.uow(),
        app.number,
        ApplicationStatus.IN_PROGRESS,
        actor=Actor.CLINIC,
        now=clock.now(),
    )
    clock.advance(dt.timedelta(minutes=10))
    await applications.change_status(
        backend.uow(), app.number, ApplicationStatus.COMPLETED, actor=Actor.CLINIC, now=clock.now()
    )
    mark = len(alice.session.calls)
    assert await worker.drain() == 2

    sent = alice.session.of(SendMessage, since=mark)
    assert [int(m.chat_id) for m in sent] == [alice.user_id, alice.user_id]
    t = runtime.translator
    for message, status in zip(
        sent, (ApplicationStatus.IN_PROGRESS, ApplicationStatus.COMPLETED), strict=True
    ):
        text = plain(message.text or "")
        assert app.number in text
        assert t.render(status_label(status), language) in text
        assert "1414" in text
        buttons = _buttons(message.reply_markup)
        assert list(buttons) == ["open", "notme"]
        assert buttons["notme"] == t.gettext(language, "This wasn't me")
        if language != "en":  # really translated, not the English source
            assert buttons["notme"] != "This wasn't me"
            assert t.render(status_label(status), "en") not in text
    # Sent once: a second round sends nothing more.
    assert await worker.drain() == 0
    assert {
        n.status for n in await notifications.of_patient(backend.uow(), world.alice.id or 0)
    } == {notifications.NotificationStatus.SENT}

    # «Open» starts the applications journey at the card, with its history.
    completed = sent[-1]
    data = next(
        b.callback_data
        for row in completed.reply_markup.inline_keyboard
        for b in row
        if b.callback_data and Notice.unpack(b.callback_data).act == "open"
    )
    await alice.press(data)
    assert await alice.state() == "apps.details"
    card = alice.last_text
    assert app.number in card
    for status in (ApplicationStatus.IN_PROGRESS, ApplicationStatus.COMPLETED):
        assert t.render(status_label(status), language) in card

    # «This wasn't me» leads to the operator screen (1414).
    notme = next(
        b.callback_data
        for row in completed.reply_markup.inline_keyboard
        for b in row
        if b.callback_data and Notice.unpack(b.callback_data).act == "notme"
    )
    await alice.press(notme)
    assert await alice.state() == "operator"
    assert "1414" in alice.last_text


async def test_a_change_by_the_patient_is_not_notified(
    alice: TelegramChat, runtime: Runtime, backend: Backend, world: World, clock: FixedClock
) -> None:
    await alice.tap("certs")
    await alice.tap("cert.027")
    await alice.tap("confirm")
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    await applications.change_status(
        backend.uow(),
        app.number,
        ApplicationStatus.CANCELLED,
        actor=Actor.PATIENT,
        now=clock.now(),
    )
    assert await notifications.of_patient(backend.uow(), world.alice.id or 0) == []
