"""Reading a clinic's applications: only its own, overdue first then by deadline, paginated,
filtered; one application with its history; another clinic's is not found."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.domain.statuses import Actor, ApplicationStatus
from backend.services import applications
from tests.clinic_api.conftest import ClinicClient


async def _numbers(api: ClinicClient, **params: str) -> list[str]:
    body = await api.ok(await api.get("/applications", params=params))
    return [item["number"] for item in body["items"]]


async def test_open_applications_overdue_first_then_by_deadline(api: ClinicClient) -> None:
    first = await api.certificate()  # Monday 10:00, deadline 10:30
    api.clock.advance(dt.timedelta(minutes=20))
    visit = await api.home_visit()  # deadline 10:50
    api.clock.advance(dt.timedelta(minutes=20))
    second = await api.certificate(api.world.bob.id)  # 10:40, deadline 11:10
    other_clinic = await api.certificate(api.world.dave.id)
    done = await api.certificate()
    await applications.change_status(
        api.backend.uow(), done, ApplicationStatus.IN_PROGRESS, actor=Actor.CLINIC,
        now=api.clock.now(),
    )  # fmt: skip
    await applications.change_status(
        api.backend.uow(), done, ApplicationStatus.COMPLETED, actor=Actor.CLINIC,
        now=api.clock.now(),
    )  # fmt: skip
    api.clock.advance(dt.timedelta(minutes=15))  # 10:55: the first and the visit are overdue

    body = await api.ok(await api.get("/applications"))
    assert [i["number"] for i in body["items"]] == [first, visit, second]
    assert [i["overdue"] for i in body["items"]] == [True, True, False]
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 20
    item = body["items"][0]
    assert item["service"] == "certificate_027" and item["status"] == "registered"
    assert item["patient"]["iin"] == api.world.alice.iin
    assert item["patient"]["full_name"] == api.world.alice.full_name
    assert dt.datetime.fromisoformat(item["deadline"]) == dt.datetime.fromisoformat(
        "2026-11-23T10:30:00+05:00"
    )
    assert other_clinic not in await _numbers(api)
    assert await _numbers(api, status="completed") == [done]

    # clinic B sees only its own
    body_b = await api.ok(await api.get("/applications", key=api.key_b))
    assert [i["number"] for i in body_b["items"]] == [other_clinic]


async def test_pagination_and_filters(api: ClinicClient) -> None:
    made = []
    for _ in range(5):
        made.append(await api.certificate())
        api.clock.advance(dt.timedelta(minutes=1))
    visit = await api.home_visit()

    page2 = await api.ok(await api.get("/applications", params={"per_page": "2", "page": "2"}))
    assert [i["number"] for i in page2["items"]] == made[2:4]
    assert page2["total"] == 6 and page2["page"] == 2 and page2["per_page"] == 2
    page4 = await api.ok(await api.get("/applications", params={"per_page": "2", "page": "4"}))
    assert page4["items"] == [] and page4["total"] == 6

    assert await _numbers(api, service="home_visit") == [visit]
    assert await _numbers(api, service="certificate_027") == made
    assert await _numbers(api, status="registered", service="home_visit") == [visit]
    assert await _numbers(api, date_from="2026-11-23", date_to="2026-11-23") == [*made, visit]
    assert await _numbers(api, date_from="2026-11-24") == []
    assert await _numbers(api, date_to="2026-11-22") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "101"}, "per_page"),
        ({"status": "lost"}, "status"),
        ({"service": "massage"}, "service"),
        ({"date_from": "23.11.2026"}, "date_from"),
        ({"date_from": "2026-11-24", "date_to": "2026-11-23"}, "date_to"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_list_parameters_get_422_naming_the_field(
    api: ClinicClient, params: dict[str, str], field: str
) -> None:
    error = await api.error(await api.get("/applications", params=params), 422)
    assert field in error["fields"], error


async def test_a_repeated_parameter_gets_422(api: ClinicClient) -> None:
    response = await api.client.get(
        "/api/clinic/v1/applications?page=1&page=2", headers=api.headers(api.key_a)
    )
    error = await api.error(response, 422)
    assert "page" in error["fields"]


async def test_one_application_with_its_history(api: ClinicClient) -> None:
    number = await api.home_visit()
    body = await api.ok(await api.get(f"/applications/{number}"))
    assert body["application"]["number"] == number
    assert body["application"]["service"] == "home_visit"
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in body["history"]] == [
        (None, "submitted", "patient"),
        ("submitted", "registered", "system"),
    ]
    assert body["home_visit"]["doctor_code"] == api.world.doctor_a.code
    assert body["home_visit"]["reason"] == "Қызба"
    assert body["appointment"] is None and body["documents"] == []
    # the number may be typed loosely, as patients do
    loose = number.replace("-", "").lower()
    assert (await api.ok(await api.get(f"/applications/{loose}")))["application"][
        "number"
    ] == number


async def test_an_appointment_shows_its_doctor_and_time(api: ClinicClient) -> None:
    number = await api.appointment()
    body = await api.ok(await api.get(f"/applications/{number}"))
    appointment = body["appointment"]
    assert appointment["doctor_code"] == api.world.doctor_a.code
    assert appointment["active"] is True
    starts = dt.datetime.fromisoformat(appointment["starts_at"])
    assert starts == api.world.slots_a[0].starts_at


async def test_another_clinics_application_is_not_found_like_an_unknown_one(
    api: ClinicClient,
) -> None:
    number = await api.certificate()  # clinic A's
    foreign = await api.error(await api.get(f"/applications/{number}", key=api.key_b), 404)
    unknown = await api.error(await api.get("/applications/AAAA-AAAA", key=api.key_b), 404)
    assert foreign == unknown
    statement = await api.certificate()  # a clinic's own still reads fine
    await api.ok(await api.get(f"/applications/{statement}"))
