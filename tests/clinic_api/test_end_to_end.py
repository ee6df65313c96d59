"""The 027/е request end to end: a patient asks through the dialog service, the clinic takes it
into work and completes it through the API, and the patient's card shows the whole history."""

from __future__ import annotations

import datetime as dt

from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.services import applications, certificates
from tests.clinic_api.conftest import ClinicClient


async def test_a_027_certificate_from_request_to_completion(api: ClinicClient) -> None:
    alice = api.world.alice.id or 0
    summary = await certificates.request_certificate(
        api.backend.uow(), alice, ServiceType.CERTIFICATE_027, now=api.clock.now()
    )
    number = summary.number

    listed = await api.ok(await api.get("/applications", params={"service": "certificate_027"}))
    assert [i["number"] for i in listed["items"]] == [number]

    api.clock.advance(dt.timedelta(minutes=5))
    await api.ok(await api.post(f"/applications/{number}/take"))
    api.clock.advance(dt.timedelta(minutes=10))
    done = await api.ok(await api.post(f"/applications/{number}/complete"))
    assert done["application"]["status"] == "completed"

    card = await applications.application_details(api.backend.uow(), alice, number)
    assert card.summary.status is ApplicationStatus.COMPLETED
    assert [(h.to_status, h.actor) for h in card.history] == [
        (ApplicationStatus.SUBMITTED, Actor.PATIENT),
        (ApplicationStatus.REGISTERED, Actor.SYSTEM),
        (ApplicationStatus.IN_PROGRESS, Actor.CLINIC),
        (ApplicationStatus.COMPLETED, Actor.CLINIC),
    ]
    start = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)
    assert [h.at for h in card.history][2:] == [
        start + dt.timedelta(minutes=5),
        start + dt.timedelta(minutes=15),
    ]
    assert all("MIS A" in (h.note or "") for h in card.history[2:])
