"""Issue 13, must show: /verify answers valid, then revoked after revocation, then expired after
valid-until (fixed clock), unknown for a wrong code; JSON and HTML; the rate limit holds. And the
SMS download link works, then refuses after expiry and for a tampered signature."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from backend.bootstrap import Backend
from backend.domain.documents import format_code
from backend.domain.statuses import ServiceType
from backend.ports import FixedClock
from backend.services import certificates
from backend.services import documents as service
from backend.services.documents import Documents, IssuedDocument
from bot.app import SLOT_TOP_UP_KEY, create_app
from bot.config import Settings
from bot.sms.channel import SMS_WORKER_KEY
from bot.verify import DOCUMENTS_KEY, LINKS_KEY, download_url
from tests.backend.world import World
from tests.sms.harness import sms_settings

JSON = {"Accept": "application/json"}


@pytest.fixture(autouse=True)
def _no_settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    yield


async def _client(
    aiohttp_client: AiohttpClient, backend: Backend, documents: Documents, **settings: Any
) -> tuple[TestClient[Any, Any], web.Application]:
    app = create_app(sms_settings(**settings), backend)
    app[SMS_WORKER_KEY] = False
    app[SLOT_TOP_UP_KEY] = False
    app[DOCUMENTS_KEY].built = documents
    return await aiohttp_client(app), app


async def _statement(
    backend: Backend, documents: Documents, world: World, clock: FixedClock
) -> IssuedDocument:
    summary = await certificates.request_certificate(
        backend.uow(), world.alice.id or 0, ServiceType.STATEMENT_NARCOLOGY, now=clock.now()
    )
    return await service.issue_statement(backend.uow(), documents, summary.number, now=clock.now())


async def test_verify_valid_then_revoked_unknown_and_expired_in_json_and_html(
    aiohttp_client: AiohttpClient,
    backend: Backend,
    documents: Documents,
    world: World,
    clock: FixedClock,
) -> None:
    client, _app = await _client(aiohttp_client, backend, documents)
    issued = await _statement(backend, documents, world, clock)
    other = await _statement(backend, documents, world, clock)

    # Typed as people type it: lower case, the printed dashes.
    valid = await client.get(f"/verify/{format_code(issued.code).lower()}", headers=JSON)
    body = await valid.json()
    assert valid.status == 200
    assert body == {
        "status": "valid",
        "type": "statement_narcology",
        "issuer": body["issuer"],
        "holder": f"{world.alice.surname} {world.alice.given_name[0]}.",
        "iin": "********" + world.alice.iin[-4:],
        "issued_on": "2026-11-23",
        "valid_until": "2026-12-03",  # S19: the issue date + 10 calendar days
    }
    assert "№ 1" in body["issuer"]
    page = await client.get(f"/verify/{issued.code}?lang=ru")
    text = await page.text()
    assert page.status == 200
    assert "Документ действителен" in text
    assert world.alice.iin not in text  # masked
    assert world.alice.surname in text

    assert await service.revoke(backend.uow(), issued.code, now=clock.now(), reason="error")
    revoked = await client.get(f"/verify/{issued.code}", headers=JSON)
    assert (await revoked.json())["status"] == "revoked"
    kk = await client.get(f"/verify/{issued.code}", headers={"Accept-Language": "kk-KZ"})
    assert "Құжат кері қайтарылды" in await kk.text()

    unknown = await client.get("/verify/ZZZZ-ZZZZ-ZZ", headers=JSON)
    assert unknown.status == 404
    assert (await unknown.json())["status"] == "unknown"
    assert (await unknown.json())["holder"] is None

    clock.advance(dt.timedelta(days=10))  # 03.12 is still the last valid day
    assert (await (await client.get(f"/verify/{other.code}", headers=JSON)).json())[
        "status"
    ] == "valid"
    clock.advance(dt.timedelta(days=1))
    expired = await client.get(f"/verify/{other.code}?lang=en")
    assert "The document has expired" in await expired.text()


async def test_verify_is_rate_limited_per_client_address(
    aiohttp_client: AiohttpClient,
    backend: Backend,
    documents: Documents,
    world: World,
    clock: FixedClock,
) -> None:
    client, _app = await _client(aiohttp_client, backend, documents, verify_rate_per_minute=3)
    issued = await _statement(backend, documents, world, clock)

    answers = [(await client.get(f"/verify/{issued.code}", headers=JSON)).status for _ in range(4)]

    assert answers[:3] == [200, 200, 200]
    assert answers[3] == 429


async def test_the_download_link_works_then_refuses_after_expiry_and_when_tampered(
    aiohttp_client: AiohttpClient,
    backend: Backend,
    documents: Documents,
    world: World,
    clock: FixedClock,
) -> None:
    client, app = await _client(aiohttp_client, backend, documents)
    issued = await _statement(backend, documents, world, clock)
    url = download_url(
        documents,
        app[LINKS_KEY],
        world.alice.id or 0,
        issued.document_id,
        now=clock.now(),
        hours=24,
    )
    path = url.removeprefix(documents.base_url)

    ok = await client.get(path)
    assert ok.status == 200
    assert ok.content_type == "application/pdf"
    assert (await ok.read()).startswith(b"%PDF")

    token = path.removeprefix("/d/")
    body, _, mac = token.partition(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    tampered = await client.get(f"/d/{body}.{flipped}?lang=ru")
    assert tampered.status == 403
    assert "Ссылка недействительна" in await tampered.text()
    # Someone else's document under this patient's link: refused too.
    other = app[LINKS_KEY].token(
        world.bob.id or 0, issued.document_id, expires=clock.now() + dt.timedelta(hours=1)
    )
    assert (await client.get(f"/d/{other}")).status == 403

    clock.advance(dt.timedelta(hours=24))
    expired = await client.get(path + "?lang=en")
    assert expired.status == 403
    assert "This link has expired" in await expired.text()
