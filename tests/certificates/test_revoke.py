"""Issue 13: the clinic revokes a document through the Clinic API and on its staff page: a key
(or a staff member) revokes only its own clinic's documents, with a reason, idempotently;
/verify says "revoked" afterwards (over HTTP), and the patient is told on their channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiogram.methods import SendDocument, SendMessage

from backend.bootstrap import Backend
from backend.domain.documents import format_code
from backend.domain.statuses import ServiceType
from backend.ports import FixedClock
from backend.services import applications, certificates, notifications
from backend.services import documents as service
from backend.services.documents import Documents
from backend.services.staff import Role
from bot.documents.worker import StatementWorker
from bot.notify.workers import TelegramWorker
from bot.runtime import Runtime, build_runtime
from bot.telegram.notifications import AiogramSender
from bot.verify import DOCUMENTS_KEY
from tests.backend.world import World
from tests.clinic_api.conftest import (  # noqa: F401 - the Clinic API's fixtures
    ClinicClient,
    _no_settings_env,
    api,
)
from tests.console.conftest import ConsoleWorld, console  # noqa: F401 - the console's
from tests.dialogs.harness import TRANSLATOR, RecordingSender
from tests.notify.sim import SimClock
from tests.telegram.harness import make_chat, sign_in, tg_settings

JSON = {"Accept": "application/json"}


@pytest.fixture
def clinic(api: ClinicClient, documents: Documents) -> ClinicClient:  # noqa: F811
    api.app[DOCUMENTS_KEY].built = documents
    return api


async def completed_027(clinic: ClinicClient) -> str:
    number = await clinic.certificate()
    await clinic.ok(await clinic.post(f"/applications/{number}/complete"))
    return number


async def verdict(client: Any, code: str) -> str:
    answer = await client.get(f"/verify/{code}", headers=JSON)
    assert answer.status == 200
    status: str = (await answer.json())["status"]
    return status


def revoked_notices(told: list[notifications.Notification]) -> list[notifications.Notification]:
    return [n for n in told if n.kind is notifications.Kind.DOCUMENT and n.params.get("revoked")]


async def test_the_clinic_api_revokes_its_own_document_once_and_verify_says_so(
    clinic: ClinicClient,
) -> None:
    number = await completed_027(clinic)
    issued = await service.issued_for(clinic.backend.uow(), number)
    assert issued is not None
    path = f"/applications/{number}/document/revoke"
    assert await verdict(clinic.client, issued.code) == "valid"

    # Another clinic's key: not found, exactly like an unknown application; nothing changes.
    other = await clinic.error(await clinic.post(path, {"reason": "x"}, key=clinic.key_b), 404)
    assert other["code"] == "not_found"
    unknown = await clinic.post("/applications/ZZZZ-9999/document/revoke", {"reason": "x"})
    assert (await clinic.error(unknown, 404))["code"] == "not_found"
    # A reason is required (blank is no reason), and nothing else is accepted.
    assert (await clinic.error(await clinic.post(path), 415))["code"] == "unsupported_media_type"
    for body in ({}, {"reason": "   "}, {"reason": "x", "extra": 1}, {"reason": 5}):
        await clinic.error(await clinic.post(path, body), 422)
    assert await verdict(clinic.client, issued.code) == "valid"

    done = await clinic.ok(await clinic.post(path, {"reason": "  wrong   birth date "}))
    assert done == {
        "application_number": number,
        "code": format_code(issued.code),
        "service": "certificate_027",
        "status": "revoked",
        "revoked_at": clinic.clock.now().astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "reason": f"clinic API key #{clinic.key_a_id} (MIS A): wrong birth date",
        "already_revoked": False,
    }
    assert await verdict(clinic.client, issued.code) == "revoked"
    page = await clinic.client.get(f"/verify/{format_code(issued.code)}")
    assert page.status == 200
    assert 'class="status revoked"' in await page.text()

    # Idempotent: the same answer, the first reason kept, and the patient told once.
    again = await clinic.ok(await clinic.post(path, {"reason": "another"}))
    assert again == {**done, "already_revoked": True}
    told = await notifications.of_patient(clinic.backend.uow(), clinic.world.alice.id or 0)
    [notice] = revoked_notices(told)
    assert notice.params["code"] == issued.code
    assert notice.application_number == number


async def test_only_a_document_dariger_signed_can_be_revoked(clinic: ClinicClient) -> None:
    fresh = await clinic.certificate()  # not completed: no document yet
    answer = await clinic.post(f"/applications/{fresh}/document/revoke", {"reason": "x"})
    assert (await clinic.error(answer, 409))["code"] == "no_document"
    # A registry statement is the automated service's, not a clinic's: not found for a key.
    summary = await certificates.request_certificate(
        clinic.backend.uow(),
        clinic.world.alice.id or 0,
        ServiceType.STATEMENT_TB,
        now=clinic.clock.now(),
    )
    statement = await clinic.post(
        f"/applications/{summary.number}/document/revoke", {"reason": "x"}
    )
    assert (await clinic.error(statement, 404))["code"] == "not_found"


async def test_the_openapi_document_describes_the_revocation(clinic: ClinicClient) -> None:
    spec = await clinic.ok(await clinic.client.get("/api/clinic/v1/openapi.json"))
    operation = spec["paths"]["/api/clinic/v1/applications/{number}/document/revoke"]["post"]
    assert operation["operationId"] == "revoke_document"
    assert operation["requestBody"]["required"] is True
    assert set(operation["responses"]) >= {"200", "401", "404", "409", "422"}
    body = spec["components"]["schemas"]["RevokeIn"]
    assert body["required"] == ["reason"]
    assert "already_revoked" in spec["components"]["schemas"]["RevocationOut"]["properties"]


# --- the clinic staff page ------------------------------------------------------------------


async def test_clinic_staff_revoke_a_document_from_the_card(
    console: ConsoleWorld,  # noqa: F811
    documents: Documents,
) -> None:
    console.app[DOCUMENTS_KEY].built = documents
    number = await console.certificate()
    nurse = await console.signed_in("nurse", Role.CLINIC_STAFF, clinic="A")
    card = f"/operator/clinic/a/{number}"
    assert (await nurse.post(f"{card}/complete", csrf_from=card)).status == 303  # 027/е signed
    issued = await service.issued_for(console.backend.uow(), number)
    assert issued is not None
    page = await nurse.page(card)
    assert format_code(issued.code) in page
    assert 'id="revoke-form"' in page

    # A forged form (no valid CSRF token) does nothing.
    forged = await nurse.post(f"{card}/revoke", {"reason": "x", "confirm": "yes"}, csrf="bad")
    assert forged.status == 403
    # Not confirmed: explained, the reason kept, nothing revoked.
    unconfirmed = await nurse.post(f"{card}/revoke", {"reason": "wrong name"}, csrf_from=card)
    assert unconfirmed.status == 422
    text = await unconfirmed.text()
    assert "Отметьте флажок, чтобы подтвердить окончательный отзыв документа." in text
    assert 'value="wrong name"' in text
    assert await verdict(console.client, issued.code) == "valid"
    no_reason = await nurse.post(f"{card}/revoke", {"confirm": "yes"}, csrf_from=card)
    assert no_reason.status == 422
    # Another clinic's staff: not found, and the document stays valid.
    other = await console.signed_in("nurse-b", Role.CLINIC_STAFF, clinic="B")
    theirs = await other.post(
        f"{card}/revoke", {"reason": "x", "confirm": "yes"}, csrf_from="/operator/clinic"
    )
    assert theirs.status == 404
    assert await verdict(console.client, issued.code) == "valid"

    done = await nurse.post(
        f"{card}/revoke", {"reason": "wrong name", "confirm": "yes"}, csrf_from=card
    )
    assert done.status == 303
    assert done.headers["Location"] == f"{card}?done=revoke"
    assert await verdict(console.client, issued.code) == "revoked"
    page = await nurse.page(card, done="revoke")
    assert 'id="revoked"' in page
    assert "clinic staff nurse: wrong name" in page
    assert 'id="revoke-form"' not in page
    told = await notifications.of_patient(console.backend.uow(), console.world.alice.id or 0)
    assert len(revoked_notices(told)) == 1


# --- the patient is told on their channel ---------------------------------------------------


async def test_a_revoked_statement_is_announced_on_telegram_without_the_file(
    backend: Backend, documents: Documents, world: World, clock: FixedClock
) -> None:
    sms = RecordingSender()
    runtime: Runtime = build_runtime(
        tg_settings(), backend, None, sender=sms, translator=TRANSLATOR
    )
    tg = make_chat(runtime, language_code="kk")
    await sign_in(tg, sms.last_code, world.alice.iin)
    await tg.tap("certs")
    await tg.tap("cert.tb")
    await tg.tap("confirm")
    assert await StatementWorker(backend, lambda: documents).run_once() == 1
    sim = SimClock(clock.now())
    worker = TelegramWorker(
        backend,
        AiogramSender(tg.bot, backend),
        runtime.translator,
        monotonic=sim.monotonic,
        sleep=sim.sleep,
    )
    assert await worker.drain() == 1  # the document itself
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    issued = await service.issued_for(backend.uow(), app.number)
    assert issued is not None

    assert await service.revoke(backend.uow(), issued.code, now=clock.now(), reason="error")
    mark = len(tg.session.calls)
    assert await worker.drain() == 1
    assert tg.session.of(SendDocument, since=mark) == []
    [message] = tg.session.of(SendMessage, since=mark)
    assert format_code(issued.code) in message.text
    assert "кері қайтарылды" in message.text
    assert app.number in message.text
