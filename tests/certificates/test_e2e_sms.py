"""Issue 13, must show: a registry statement requested by SMS (signed Twilio webhooks): the
notice arrives with the short code and a link (never the content), the link downloads the
signed PDF, and refuses after it expires and when its signature is tampered with."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from backend.bootstrap import Backend
from backend.domain.documents import format_code
from backend.domain.statuses import ApplicationStatus
from backend.ports import FixedClock
from backend.services import applications
from backend.services.documents import Documents, issued_for, revoke, send_again
from bot.documents.worker import StatementWorker
from bot.notify.channel import NOTIFY_ENABLED_KEY, NOTIFY_KEY
from bot.sms.segments import segments
from bot.verify import DOCUMENTS_KEY, STATEMENTS_ENABLED_KEY
from tests.backend.world import World
from tests.sms.conftest import (  # noqa: F401 - the SMS channel's fixtures
    _no_settings_env,
    alice,
    client,
    gateway,
    phone_of,
    sms_app,
)
from tests.sms.harness import PUBLIC, SmsPhone

LINK = re.compile(r"https?://\S+/d/\S+")


@pytest.fixture(autouse=True)
def _workers_by_hand(
    sms_app: web.Application,  # noqa: F811
    documents: Documents,
) -> Iterator[None]:
    sms_app[NOTIFY_ENABLED_KEY] = False  # the test runs the workers itself
    sms_app[STATEMENTS_ENABLED_KEY] = False
    sms_app[DOCUMENTS_KEY].built = documents
    yield


async def test_a_statement_by_sms_comes_as_a_code_and_an_expiring_link(
    alice: SmsPhone,  # noqa: F811
    sms_app: web.Application,  # noqa: F811
    client: TestClient[Any, Any],  # noqa: F811
    *,
    backend: Backend,
    documents: Documents,
    world: World,
    clock: FixedClock,
) -> None:
    await alice.send("RU")
    await alice.sign_in(world.alice.iin)
    await alice.choose("certs")
    await alice.choose("cert.narco")
    await alice.choose("confirm")
    assert await alice.screen() == "certs.done"
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)

    assert await StatementWorker(backend, lambda: documents).run_once() == 1
    before = len(alice.outbox_texts())
    assert await sms_app[NOTIFY_KEY].sms.drain() == 1
    await alice.channel.worker.drain()

    [notice] = alice.outbox_texts()[before:]
    issued = await issued_for(backend.uow(), app.number)
    assert issued is not None
    assert app.number in notice
    assert format_code(issued.code) in notice
    assert world.alice.iin not in notice
    assert "нарколог" not in notice.lower()  # the content of the statement is never in an SMS
    assert segments(notice) <= 2
    [link] = LINK.findall(notice)
    assert link.startswith(PUBLIC)
    path = link.removeprefix(PUBLIC.rstrip("/"))

    ok = await client.get(path)
    assert ok.status == 200
    assert (await ok.read()).startswith(b"%PDF")
    [done] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert done.status is ApplicationStatus.COMPLETED

    body, _, mac = path.removeprefix("/d/").partition(".")
    forged = mac[:-2] + ("AA" if not mac.endswith("AA") else "BB")
    assert (await client.get(f"/d/{body}.{forged}")).status == 403

    clock.advance(dt.timedelta(hours=24))  # DOCUMENT_LINK_HOURS: 24 by default
    late = await client.get(path)
    assert late.status == 403
    assert "Сілтеменің мерзімі өтті" in await late.text()


async def test_a_revoked_statement_is_announced_by_sms_without_a_link(
    alice: SmsPhone,  # noqa: F811
    sms_app: web.Application,  # noqa: F811
    client: TestClient[Any, Any],  # noqa: F811
    *,
    backend: Backend,
    documents: Documents,
    world: World,
    clock: FixedClock,
) -> None:
    await alice.send("RU")
    await alice.sign_in(world.alice.iin)
    await alice.choose("certs")
    await alice.choose("cert.tb")
    await alice.choose("confirm")
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert await StatementWorker(backend, lambda: documents).run_once() == 1
    assert await sms_app[NOTIFY_KEY].sms.drain() == 1
    await alice.channel.worker.drain()
    issued = await issued_for(backend.uow(), app.number)
    assert issued is not None
    [link] = LINK.findall(alice.outbox_texts()[-1])
    path = link.removeprefix(PUBLIC.rstrip("/"))
    assert (await client.get(path)).status == 200

    assert await revoke(backend.uow(), issued.code, now=clock.now(), reason="error")
    before = len(alice.outbox_texts())
    assert await sms_app[NOTIFY_KEY].sms.drain() == 1
    await alice.channel.worker.drain()

    [notice] = alice.outbox_texts()[before:]
    assert format_code(issued.code) in notice
    assert app.number in notice
    assert "отозван" in notice
    assert LINK.findall(notice) == []  # nothing to download any more
    assert segments(notice) <= 2

    # The link sent before the revocation no longer serves the PDF (still within its 24 h).
    gone = await client.get(path, headers={"Accept-Language": "ru"})
    assert gone.status == 410
    body = await gone.read()
    assert not body.startswith(b"%PDF")
    assert "отозван" in body.decode()

    # "Send again" on the card of a revoked document says it is revoked, never a new link.
    assert await send_again(backend.uow(), world.alice.id or 0, app.number, now=clock.now())
    before = len(alice.outbox_texts())
    assert await sms_app[NOTIFY_KEY].sms.drain() == 1
    await alice.channel.worker.drain()
    [again] = alice.outbox_texts()[before:]
    assert "отозван" in again
    assert LINK.findall(again) == []
