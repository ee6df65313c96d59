"""Failed Telegram notifications are visible to 1414 operators on the failed-SMS page
(issue 11), in HTML and JSON, escaped, with what the operator should do."""

from __future__ import annotations

from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage
from sqlalchemy import update

from backend.adapters import orm
from backend.domain.statuses import Actor, ApplicationStatus
from backend.services import applications, booking, patients
from bot.i18n import Translator
from bot.notify.workers import TelegramWorker
from bot.telegram.notifications import AiogramSender
from tests.backend.world import World
from tests.notify.sim import SimClock
from tests.operator.conftest import (  # noqa: F401 - the console's fixtures
    Console,
    _no_settings_env,
    console,
    start_console,
    world,
)
from tests.telegram.harness import RecordingSession, make_bot

CHAT = "424242"


async def test_a_telegram_notification_that_could_not_be_delivered_is_listed(
    console: Console,  # noqa: F811
    world: World,  # noqa: F811
) -> None:
    backend, clock = console.backend, console.clock
    patient_id = world.alice.id or 0
    await patients.remember_channel(
        backend.uow(), patient_id, "telegram", CHAT, "kk", now=clock.now()
    )
    async with backend.uow() as uow:  # no registered phone to fall back to
        await uow.session.execute(
            update(orm.patients).where(orm.patients.c.id == patient_id).values(phone=None)
        )
        await uow.commit()
    view = await booking.book(
        backend.uow(), patient_id, world.slots_a[0].id or 0, now=clock.now(), policy=backend.policy
    )
    await applications.change_status(
        backend.uow(),
        view.application_number,
        ApplicationStatus.IN_PROGRESS,
        actor=Actor.CLINIC,
        now=clock.now(),
    )
    assert "Недоставленные уведомления в Telegram" in await console.page()
    assert "За этот период недоставленных уведомлений в Telegram нет." in await console.page()

    session = RecordingSession()
    session.fail[SendMessage] = TelegramForbiddenError(
        SendMessage(chat_id=int(CHAT), text="x"), "bot was blocked by the user"
    )
    sim = SimClock(clock.now())
    worker = TelegramWorker(
        backend,
        AiogramSender(make_bot(session)),
        Translator(),
        monotonic=sim.monotonic,
        sleep=sim.sleep,
    )
    await worker.drain()

    page = await console.page()
    section = page.split("Недоставленные уведомления в Telegram", 1)[1]
    assert view.application_number in section
    assert CHAT in section
    assert "Статус изменён" in section
    assert "Пациент заблокировал бота, а зарегистрированного телефона нет." in section
    data = await console.json()
    [failed] = data["telegram"]
    assert (failed["application"], failed["chat"], failed["kind"]) == (
        view.application_number,
        CHAT,
        "status",
    )
    assert failed["error"] == "blocked_by_user, no phone"
