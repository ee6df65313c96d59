"""Issue 13, must show: a registry statement requested on Telegram (through the dispatcher)
arrives as a protected document (sendDocument, protect_content) within the run: the statement
worker issues it, the notification worker sends the signed PDF."""

from __future__ import annotations

import io

import pypdf
from aiogram.methods import SendDocument, SendMessage

from backend.bootstrap import Backend
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications
from backend.services.documents import Documents
from bot.documents.worker import StatementWorker
from bot.notify.workers import TelegramWorker
from bot.runtime import Runtime, build_runtime
from bot.telegram.notifications import AiogramSender
from tests.backend.world import World
from tests.dialogs.harness import TRANSLATOR, RecordingSender
from tests.notify.sim import SimClock
from tests.telegram.harness import make_chat, sign_in, tg_settings


async def test_a_statement_requested_on_telegram_arrives_as_a_protected_document(
    backend: Backend, documents: Documents, world: World, clock: FixedClock
) -> None:
    sms = RecordingSender()
    runtime: Runtime = build_runtime(
        tg_settings(), backend, None, sender=sms, translator=TRANSLATOR
    )
    tg = make_chat(runtime, language_code="kk")
    await sign_in(tg, sms.last_code, world.alice.iin)
    await tg.tap("certs")
    await tg.tap("cert.psy")
    await tg.tap("confirm")
    assert await tg.state() == "certs.done"
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert app.service is ServiceType.STATEMENT_PSYCHIATRY

    # The automated statement (S18): SYSTEM issues it from the register, at once.
    assert await StatementWorker(backend, lambda: documents).run_once() == 1
    assert await StatementWorker(backend, lambda: documents).run_once() == 0  # once only
    [done] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert done.status is ApplicationStatus.COMPLETED

    sim = SimClock(clock.now())
    worker = TelegramWorker(
        backend,
        AiogramSender(tg.bot, backend),
        runtime.translator,
        monotonic=sim.monotonic,
        sleep=sim.sleep,
    )
    mark = len(tg.session.calls)
    assert await worker.drain() == 1

    [sent] = tg.session.of(SendDocument, since=mark)
    assert tg.session.of(SendMessage, since=mark) == []
    assert int(sent.chat_id) == tg.user_id
    assert sent.protect_content is True
    assert app.number in (sent.caption or "")
    pdf = sent.document.data
    assert pdf.startswith(b"%PDF")
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert world.alice.surname in text
    assert "«Психиатрия» Психикалық" in text  # S18's document, as the standard names it

    # The card of the completed statement sends it again (a second protected document).
    await tg.tap("apps")
    await tg.tap(f"app.{app.number}")
    assert "resend" in tg.options
    await tg.tap("resend")
    again_mark = len(tg.session.calls)
    assert await worker.drain() == 1
    [again] = tg.session.of(SendDocument, since=again_mark)
    assert again.protect_content is True
    assert again.document.data == pdf
