"""Issue 15 on Telegram: a status change of a 027/е a mother requested for her daughter (issue
14) reaches the mother through the notify worker naming the daughter, in her language, and
«Open» shows the daughter's application."""

from __future__ import annotations

import datetime as dt

import pytest
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup

from backend.bootstrap import Backend
from backend.domain.statuses import Actor, ApplicationStatus
from backend.ports import FixedClock
from backend.services import applications, notifications, outbox
from bot.notify.workers import SmsNotificationWorker, TelegramWorker
from bot.runtime import Runtime
from bot.telegram.notifications import AiogramSender, Notice
from tests.backend.children import Children, add_children
from tests.backend.world import World
from tests.dialogs.harness import RecordingSender
from tests.notify.sim import SimClock
from tests.telegram.harness import TelegramChat, plain, signed_in_chat

pytestmark = pytest.mark.parametrize("language", ["kk", "ru", "en"])
FOR_DANA = {"kk": "Дана С. үшін", "ru": "Ребёнок: Дана С.", "en": "For Dana S."}
DANA = {"kk": "Дана С.", "ru": "Дана С.", "en": "Dana S."}


@pytest.fixture
async def kids(backend: Backend, world: World) -> Children:
    return await add_children(backend, world)


@pytest.fixture
async def alice(
    runtime: Runtime, sms: RecordingSender, world: World, kids: Children, language: str
) -> TelegramChat:
    return await signed_in_chat(runtime, sms.last_code, world.alice.iin, language)


async def _danas_certificate_in_progress(
    alice: TelegramChat,
    runtime: Runtime,
    *,
    backend: Backend,
    world: World,
    kids: Children,
    clock: FixedClock,
) -> tuple[applications.ApplicationSummary, TelegramWorker]:
    """The mother asks for a 027/е for Дана by Telegram; the clinic takes it in hand five
    minutes later: a notice about Дана waits for the Telegram worker returned."""
    await alice.tap("certs")
    await alice.tap(f"for.{kids.dana.id}")
    await alice.tap("cert.027")
    await alice.tap("confirm")
    [app] = await applications.list_applications(
        backend.uow(), world.alice.id or 0, today=clock.now().date()
    )
    sim = SimClock(clock.now())
    worker = TelegramWorker(
        runtime.backend,
        AiogramSender(alice.bot),
        runtime.translator,
        monotonic=sim.monotonic,
        sleep=sim.sleep,
    )
    clock.advance(dt.timedelta(minutes=5))
    await applications.change_status(
        backend.uow(),
        app.number,
        ApplicationStatus.IN_PROGRESS,
        actor=Actor.CLINIC,
        now=clock.now(),
    )
    return app, worker


async def test_a_notice_about_a_child_names_her_and_opens_her_application(
    alice: TelegramChat,
    runtime: Runtime,
    *,
    backend: Backend,
    world: World,
    kids: Children,
    clock: FixedClock,
    language: str,
) -> None:
    app, worker = await _danas_certificate_in_progress(
        alice, runtime, backend=backend, world=world, kids=kids, clock=clock
    )
    mark = len(alice.session.calls)
    assert await worker.drain() == 1

    [message] = alice.session.of(SendMessage, since=mark)
    assert int(message.chat_id) == alice.user_id  # the mother: Дана has no channel
    text = plain(message.text or "")
    assert text.startswith(FOR_DANA[language]), text
    assert app.number in text
    markup = message.reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)
    [opening] = [
        b.callback_data
        for row in markup.inline_keyboard
        for b in row
        if b.callback_data and Notice.unpack(b.callback_data).act == "open"
    ]
    await alice.press(opening)
    assert await alice.state() == "apps.details"
    assert app.number in alice.last_text


async def test_a_notice_about_a_child_to_a_parent_who_blocked_the_bot_reaches_her_by_sms(
    alice: TelegramChat,
    runtime: Runtime,
    *,
    backend: Backend,
    world: World,
    kids: Children,
    clock: FixedClock,
    language: str,
) -> None:
    """Issue 15: Telegram says 403 for a notice about Дана: the mother's chat is marked
    blocked (not the child's, who has none) and the notice reaches the mother's phone."""
    app, worker = await _danas_certificate_in_progress(
        alice, runtime, backend=backend, world=world, kids=kids, clock=clock
    )
    alice.session.fail[SendMessage] = TelegramForbiddenError(
        SendMessage(chat_id=alice.user_id, text="x"), "bot was blocked by the user"
    )
    await worker.drain()
    # The mother's Telegram is no longer where she is reached: her phone is.
    async with backend.uow() as uow:
        reached = await notifications.address_of(uow.session, world.alice.id or 0)
    assert reached is not None
    assert (reached.channel, reached.address) == ("sms", world.alice.phone)
    assert await SmsNotificationWorker(backend, runtime.translator).drain() == 1
    [sms] = await outbox.messages_to(backend.uow(), world.alice.phone or "")
    body = sms.body or ""
    assert app.number in body
    assert DANA[language] in body, body
