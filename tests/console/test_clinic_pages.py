"""Clinic staff pages: the queue, the card, the actions through backend.services.clinic, the
clinic scope, the audit rows and the live feed."""

from __future__ import annotations

import asyncio
import json

from aiohttp import FormData

from backend.domain.statuses import ApplicationStatus
from backend.services import applications, staff
from tests.console.conftest import ConsoleWorld, Staff


async def nurse(console: ConsoleWorld, clinic: str = "A", login: str = "nurse") -> Staff:
    return await console.signed_in(login, staff.Role.CLINIC_STAFF, clinic=clinic)


async def status_of(console: ConsoleWorld, number: str) -> ApplicationStatus:
    found = await applications.application_details(
        console.backend.uow(), console.world.alice.id or 0, number
    )
    return found.summary.status


async def test_the_queue_lists_the_clinics_open_applications_only(console: ConsoleWorld) -> None:
    mine = await console.certificate()
    theirs = await console.certificate(console.world.dave.id)  # attached to clinic B
    browser = await nurse(console)

    home = await browser.get("/operator/")
    assert home.headers["Location"] == "/operator/clinic"
    page = await browser.page("/operator/clinic")

    assert mine in page
    assert theirs not in page
    filtered = await browser.page("/operator/clinic", service="home_visit")
    assert mine not in filtered


async def test_take_into_work_then_complete_changes_the_patients_application(
    console: ConsoleWorld,
) -> None:
    number = await console.certificate()
    browser = await nurse(console)
    card = f"/operator/clinic/a/{number}"
    assert console.world.alice.full_name in await browser.page(card)

    taken = await browser.post(f"{card}/take", csrf_from=card)
    assert taken.status == 303
    assert taken.headers["Location"] == f"{card}?done=take"
    assert await status_of(console, number) is ApplicationStatus.IN_PROGRESS

    done = await browser.post(f"{card}/complete", csrf_from=card)
    assert done.status == 303
    assert await status_of(console, number) is ApplicationStatus.COMPLETED
    page = await browser.page(card)
    assert "clinic staff nurse" in page  # the history names who did it


async def test_a_refusal_takes_a_ground_of_the_service_and_a_wrong_one_is_explained(
    console: ConsoleWorld,
) -> None:
    number = await console.certificate()
    browser = await nurse(console)
    card = f"/operator/clinic/a/{number}"

    wrong = await browser.post(
        f"{card}/refuse", {"ground": "no_subject_consent", "note": "keep me"}, csrf_from=card
    )
    assert wrong.status == 422
    text = await wrong.text()
    assert "Это основание не предусмотрено для этой услуги." in text
    assert 'value="keep me"' in text  # what was typed is kept
    assert await status_of(console, number) is ApplicationStatus.REGISTERED

    refused = await browser.post(f"{card}/refuse", {"ground": "not_attached_here"}, csrf_from=card)
    assert refused.status == 303
    assert await status_of(console, number) is ApplicationStatus.REFUSED


async def test_an_action_the_state_machine_refuses_is_explained(console: ConsoleWorld) -> None:
    number = await console.certificate()
    browser = await nurse(console)
    card = f"/operator/clinic/a/{number}"
    await browser.post(f"{card}/take", csrf_from=card)

    again = await browser.post(f"{card}/take", csrf_from=card)

    assert again.status == 409
    assert "Это действие сейчас невозможно" in await again.text()


async def test_another_clinics_application_is_not_found_and_its_actions_do_nothing(
    console: ConsoleWorld,
) -> None:
    theirs = await console.certificate(console.world.dave.id)
    browser = await nurse(console)
    own_card = "/operator/clinic"

    response = await browser.get(f"/operator/clinic/a/{theirs}")
    assert response.status == 404
    text = await response.text()
    assert "Такой страницы или заявки нет." in text
    assert console.world.dave.full_name not in text
    assert console.world.dave.iin not in text
    take = await browser.post(f"/operator/clinic/a/{theirs}/take", csrf_from=own_card)
    assert take.status == 404
    found = await applications.application_details(
        console.backend.uow(), console.world.dave.id or 0, theirs
    )
    assert found.summary.status is ApplicationStatus.REGISTERED


async def test_roles_keep_to_their_pages(console: ConsoleWorld) -> None:
    number = await console.certificate()
    operator = await console.signed_in("anna", staff.Role.OPERATOR)
    clinic_staff = await nurse(console)

    assert (await operator.get("/operator/clinic")).status == 403
    assert (await operator.get(f"/operator/clinic/a/{number}")).status == 403
    assert (await operator.get("/operator/audit")).status == 403
    assert (await clinic_staff.get("/operator/sms")).status == 403
    assert (await clinic_staff.get("/operator/audit")).status == 403


async def test_cards_opened_and_actions_are_audited(console: ConsoleWorld) -> None:
    number = await console.certificate()
    theirs = await console.certificate(console.world.dave.id)
    browser = await nurse(console)
    card = f"/operator/clinic/a/{number}"
    await browser.page(card)
    await browser.post(f"{card}/take", csrf_from=card)
    await browser.get(f"/operator/clinic/a/{theirs}")

    entries = await staff.audit_log(console.backend.uow(), login="nurse")
    seen = [(e.action, e.target) for e in reversed(entries)]
    assert ("card_opened", number) in seen
    assert ("clinic_take", number) in seen
    assert ("card_not_found", theirs) in seen
    supervisor = await console.signed_in("boss", staff.Role.SUPERVISOR)
    assert "clinic_take" in await supervisor.page("/operator/audit")


async def test_a_home_visit_gets_a_doctor_and_a_window(console: ConsoleWorld) -> None:
    number = await console.home_visit()
    browser = await nurse(console)
    card = f"/operator/clinic/a/{number}"
    page = await browser.page(card)
    assert console.world.doctor_a.code in page

    assigned = await browser.post(
        f"{card}/visit",
        {
            "doctor": console.world.doctor_a.code,
            "day": "2026-11-23",
            "start": "14:00",
            "end": "16:00",
        },
        csrf_from=card,
    )
    assert assigned.status == 303, await assigned.text()
    assert "14:00–16:00" in await browser.page(card)

    outside = await browser.post(
        f"{card}/visit",
        {
            "doctor": console.world.doctor_a.code,
            "day": "2026-11-23",
            "start": "22:00",
            "end": "23:00",
        },
        csrf_from=card,
    )
    assert outside.status == 422
    assert 'value="22:00"' in await outside.text()


async def test_a_pdf_is_attached_and_anything_else_is_refused(console: ConsoleWorld) -> None:
    number = await console.certificate()
    browser = await nurse(console)
    card = f"/operator/clinic/a/{number}"

    form = FormData()
    form.add_field(
        "document", b"%PDF-1.4\n%test\n", filename="027.pdf", content_type="application/pdf"
    )
    posted = await browser.post(f"{card}/document", form, csrf_from=card)
    assert posted.status == 303, await posted.text()
    assert "027.pdf" in await browser.page(card)

    bad = FormData()
    bad.add_field("document", b"not a pdf", filename="x.pdf", content_type="application/pdf")
    refused = await browser.post(f"{card}/document", bad, csrf_from=card)
    assert refused.status == 422
    assert "Файл не в формате PDF." in await refused.text()

    forged = FormData()
    forged.add_field("document", b"%PDF-1.4\n", filename="y.pdf", content_type="application/pdf")
    assert (await browser.post(f"{card}/document", forged, csrf="wrong")).status == 403


async def test_new_applications_arrive_on_the_live_feed(console: ConsoleWorld) -> None:
    await console.certificate()
    browser = await nurse(console)
    stream = await browser.client.get(
        "/operator/clinic/events", headers={"Accept": "text/event-stream"}
    )
    assert stream.status == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert await stream.content.readline() == b": connected\n"
    await stream.content.readline()

    fresh = await console.home_visit()

    async def next_event() -> tuple[str, dict[str, object]]:
        name = ""
        while True:
            line = (await stream.content.readline()).decode()
            if line.startswith("event: "):
                name = line.removeprefix("event: ").strip()
            elif line.startswith("data: ") and name:
                return name, json.loads(line.removeprefix("data: "))

    name, data = await asyncio.wait_for(next_event(), timeout=30)
    assert name == "application"
    assert data["number"] == fresh
    stream.close()


async def test_the_live_feed_ends_when_the_session_does(console: ConsoleWorld) -> None:
    browser = await nurse(console)
    stream = await browser.client.get(
        "/operator/clinic/events", headers={"Accept": "text/event-stream"}
    )
    assert stream.status == 200
    await browser.post("/operator/logout", csrf_from="/operator/clinic")

    async def until_end() -> str:
        while True:
            line = (await stream.content.readline()).decode()
            if line.startswith("event: end") or not line:
                return line

    # The stream checks the session at its next heartbeat (0.2 s in these tests) or event.
    line = await asyncio.wait_for(until_end(), timeout=40)
    assert line.startswith("event: end")
