"""Issue 13: the clinic completes a 027/е through the Clinic API: the document is made, signed
and attached, the application is COMPLETED, the patient is notified with the document, and the
clinic's revocation shows on /verify."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.domain.statuses import ApplicationStatus
from backend.services import documents as service
from backend.services import notifications
from backend.services.documents import Documents
from bot.verify import DOCUMENTS_KEY
from tests.clinic_api.conftest import (  # noqa: F401 - the Clinic API's fixtures
    ClinicClient,
    _no_settings_env,
    api,
)


@pytest.fixture
def clinic(api: ClinicClient, documents: Documents) -> ClinicClient:  # noqa: F811
    api.app[DOCUMENTS_KEY].built = documents
    return api


async def test_completing_a_027_attaches_a_signed_document_and_tells_the_patient(
    clinic: ClinicClient,
) -> None:
    number = await clinic.certificate()
    await clinic.ok(await clinic.post(f"/applications/{number}/take"))

    done = await clinic.ok(await clinic.post(f"/applications/{number}/complete", {"note": "ok"}))

    assert done["application"]["status"] == ApplicationStatus.COMPLETED.value
    [document] = done["documents"]
    assert document["filename"] == f"{number}.pdf"
    issued = await service.issued_for(clinic.backend.uow(), number)
    assert issued is not None
    assert issued.valid_until is None  # 027/е carries no term of its own
    told = await notifications.of_patient(clinic.backend.uow(), clinic.world.alice.id or 0)
    assert [n.kind for n in told] == [
        notifications.Kind.STATUS,  # taken into work
        notifications.Kind.DOCUMENT,  # completed: with the document
    ]

    page = await clinic.client.get(
        f"/verify/{issued.code}", headers={"Accept": "application/json"}
    )
    assert (await page.json())["status"] == "valid"
    assert await service.revoke(clinic.backend.uow(), issued.code, now=clock_now(clinic))
    page = await clinic.client.get(
        f"/verify/{issued.code}", headers={"Accept": "application/json"}
    )
    assert (await page.json())["status"] == "revoked"


def clock_now(clinic: ClinicClient) -> dt.datetime:
    return clinic.clock.now()
