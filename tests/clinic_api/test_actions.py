"""Moving applications through the Clinic API: each action's happy path and each refusal, all
through the domain's state machine, recorded with the clinic as the actor and the key."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
from typing import Any

import pytest

from backend.domain.statuses import Actor, ApplicationStatus
from backend.services import applications, notifications
from tests.clinic_api.conftest import ClinicClient

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _last(body: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = body["history"][-1]
    return entry


async def test_take_into_work_then_complete(api: ClinicClient) -> None:
    number = await api.certificate()
    taken = await api.ok(await api.post(f"/applications/{number}/take"))
    assert taken["application"]["status"] == "in_progress"
    assert _last(taken)["actor"] == "clinic"
    assert f"#{api.key_a_id} (MIS A)" in _last(taken)["note"]
    done = await api.ok(
        await api.post(f"/applications/{number}/complete", {"note": "signed by EDS"})
    )
    assert done["application"]["status"] == "completed"
    assert _last(done)["note"].endswith("signed by EDS")
    assert number not in [
        i["number"] for i in (await api.ok(await api.get("/applications")))["items"]
    ]


async def test_wrong_transitions_get_409(api: ClinicClient) -> None:
    number = await api.certificate()
    await api.ok(await api.post(f"/applications/{number}/take"))
    error = await api.error(await api.post(f"/applications/{number}/take"), 409)
    assert error["code"] == "invalid_transition"
    assert "in_progress" in error["message"]
    await api.ok(await api.post(f"/applications/{number}/complete"))
    for action, body in (
        ("complete", None),
        ("take", None),
        ("refuse", {"ground": "unreliable_data"}),
    ):
        error = await api.error(await api.post(f"/applications/{number}/{action}", body), 409)
        assert error["code"] == "invalid_transition"


async def test_refuse_on_a_ground_the_service_allows(api: ClinicClient) -> None:
    number = await api.certificate()
    body = await api.ok(
        await api.post(f"/applications/{number}/refuse", {"ground": "not_attached_here"})
    )
    assert body["application"]["status"] == "refused"
    assert body["application"]["refusal"] == "not_attached_here"
    assert _last(body)["reason"] == "not_attached_here" and _last(body)["actor"] == "clinic"


async def test_refusal_grounds_are_checked(api: ClinicClient) -> None:
    number = await api.certificate()
    # a legal ground, but not one of S5 (row 9): 422 naming the field
    error = await api.error(
        await api.post(f"/applications/{number}/refuse", {"ground": "no_subject_consent"}), 422
    )
    assert error["code"] == "ground_not_allowed" and "ground" in error["fields"]
    # not a ground at all, or none
    for body in ({"ground": "slot_taken"}, {"ground": "because"}, {}):
        error = await api.error(await api.post(f"/applications/{number}/refuse", body), 422)
        assert "ground" in error["fields"]
    detail = await api.ok(await api.get(f"/applications/{number}"))
    assert detail["application"]["status"] == "registered"  # nothing happened


async def test_an_appointment_is_completed_by_attendance_after_it_starts(
    api: ClinicClient,
) -> None:
    number = await api.appointment(0)  # Tuesday 09:00
    error = await api.error(await api.post(f"/applications/{number}/complete"), 409)
    assert error["code"] == "use_attendance"
    error = await api.error(
        await api.post(f"/applications/{number}/attendance", {"attended": True}), 409
    )
    assert error["code"] == "appointment_not_started"
    api.clock.advance(dt.timedelta(days=1))  # Tuesday 10:00
    body = await api.ok(await api.post(f"/applications/{number}/attendance", {"attended": True}))
    assert body["application"]["status"] == "completed"
    assert _last(body)["actor"] == "clinic" and "attended" in _last(body)["note"]


async def test_a_missed_appointment_is_no_show(api: ClinicClient) -> None:
    number = await api.appointment(1)
    api.clock.advance(dt.timedelta(days=1))
    body = await api.ok(await api.post(f"/applications/{number}/attendance", {"attended": False}))
    assert body["application"]["status"] == "no_show"
    # terminal: nothing moves it any more
    error = await api.error(
        await api.post(f"/applications/{number}/attendance", {"attended": True}), 409
    )
    assert error["code"] == "invalid_transition"


async def test_attendance_is_for_appointments_only(api: ClinicClient) -> None:
    number = await api.certificate()
    error = await api.error(
        await api.post(f"/applications/{number}/attendance", {"attended": True}), 409
    )
    assert error["code"] == "not_an_appointment"
    error = await api.error(
        await api.post(f"/applications/{number}/attendance", {"attended": "yes"}), 422
    )
    assert "attended" in error["fields"]


def _window(day: str, start: str, end: str) -> dict[str, str]:
    return {"window_start": f"{day}T{start}:00+05:00", "window_end": f"{day}T{end}:00+05:00"}


async def test_assign_a_home_visit(api: ClinicClient) -> None:
    number = await api.home_visit()
    body = await api.ok(
        await api.post(
            f"/applications/{number}/home-visit",
            {
                "doctor_code": api.world.therapist_a2.code,
                **_window("2026-11-23", "15:00", "17:00"),
            },
        )
    )
    visit = body["home_visit"]
    assert visit["doctor_code"] == api.world.therapist_a2.code
    assert dt.datetime.fromisoformat(visit["window_start"]) == dt.datetime.fromisoformat(
        "2026-11-23T15:00:00+05:00"
    )
    assert visit["visit_date"] == "2026-11-23"
    assert body["application"]["status"] == "registered"
    assert _last(body)["actor"] == "clinic"
    assert "home visit assigned: A-T2" in _last(body)["note"]
    assert "15:00-17:00" in _last(body)["note"]
    # The patient is told the arrival window (issue 11), in the same transaction.
    [told] = [
        n
        for n in await notifications.of_patient(api.backend.uow(), api.world.alice.id or 0)
        if n.kind is notifications.Kind.VISIT
    ]
    assert told.application_number == number
    assert dt.datetime.fromisoformat(str(told.params["when"])) == dt.datetime.fromisoformat(
        "2026-11-23T15:00:00+05:00"
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"doctor_code": "B-T1"}, "unknown_doctor"),  # clinic B's doctor
        ({"doctor_code": "NOBODY"}, "unknown_doctor"),
        (_window("2026-11-23", "17:00", "15:00"), "bad_window"),
        (_window("2026-11-23", "08:00", "13:00"), "bad_window"),  # over 4 hours
        (_window("2026-11-23", "07:00", "09:00"), "bad_window"),  # over already (now 10:00)
        (_window("2026-11-23", "19:00", "21:00"), "outside_hours"),
        (_window("2026-11-29", "10:00", "12:00"), "not_a_working_day"),  # Sunday
        (_window("2026-12-16", "10:00", "12:00"), "not_a_working_day"),  # Independence Day
    ],
)
async def test_home_visit_assignments_the_rules_refuse(
    api: ClinicClient, change: dict[str, str], code: str
) -> None:
    number = await api.home_visit()
    body = {"doctor_code": "A-T1", **_window("2026-11-24", "10:00", "12:00"), **change}
    error = await api.error(await api.post(f"/applications/{number}/home-visit", body), 422)
    assert error["code"] == code, error
    detail = await api.ok(await api.get(f"/applications/{number}"))
    assert len(detail["history"]) == 2  # nothing recorded


async def test_home_visit_assignment_needs_a_home_visit_and_an_aware_window(
    api: ClinicClient,
) -> None:
    certificate = await api.certificate()
    body = {"doctor_code": "A-T1", **_window("2026-11-24", "10:00", "12:00")}
    error = await api.error(await api.post(f"/applications/{certificate}/home-visit", body), 409)
    assert error["code"] == "not_a_home_visit"
    visit = await api.home_visit()
    naive = {**body, "window_start": "2026-11-24T10:00:00"}
    error = await api.error(await api.post(f"/applications/{visit}/home-visit", naive), 422)
    assert "window_start" in error["fields"]


async def test_post_a_document(api: ClinicClient) -> None:
    number = await api.certificate()
    body = {"filename": "027u.pdf", "content_base64": base64.b64encode(PDF).decode()}
    posted = await api.ok(await api.post(f"/applications/{number}/documents", body), 201)
    assert posted["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert posted["size"] == len(PDF) and posted["content_type"] == "application/pdf"
    assert posted["posted_by_key_id"] == api.key_a_id
    detail = await api.ok(await api.get(f"/applications/{number}"))
    assert detail["documents"] == [posted]
    # another clinic cannot post to it
    error = await api.error(
        await api.post(f"/applications/{number}/documents", body, key=api.key_b), 404
    )
    assert error["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"filename": "x.pdf", "content_base64": base64.b64encode(b"GIF89a...").decode()},
            "content_base64",
        ),
        ({"filename": "x.pdf", "content_base64": "not base64!"}, "content_base64"),
        (
            {"filename": "../../etc/passwd", "content_base64": base64.b64encode(PDF).decode()},
            "filename",
        ),
        ({"filename": "", "content_base64": base64.b64encode(PDF).decode()}, "filename"),
        ({"filename": "x.pdf"}, "content_base64"),
    ],
)
async def test_bad_documents_get_422(api: ClinicClient, body: dict[str, str], field: str) -> None:
    number = await api.certificate()
    error = await api.error(await api.post(f"/applications/{number}/documents", body), 422)
    assert field in error["fields"], error


async def test_documents_over_5_mb_are_refused(api: ClinicClient) -> None:
    number = await api.certificate()
    big = PDF + b"0" * (5 * 1024 * 1024)
    body = {"filename": "big.pdf", "content_base64": base64.b64encode(big).decode()}
    error = await api.error(await api.post(f"/applications/{number}/documents", body), 422)
    assert error["code"] == "document_too_large"
    huge = b"%PDF-" + b"0" * (8 * 1024 * 1024)
    body = {"filename": "huge.pdf", "content_base64": base64.b64encode(huge).decode()}
    error = await api.error(await api.post(f"/applications/{number}/documents", body), 413)
    assert error["code"] == "body_too_large"


async def test_no_document_for_a_refused_application(api: ClinicClient) -> None:
    number = await api.certificate()
    await applications.change_status(
        api.backend.uow(), number, ApplicationStatus.CANCELLED, actor=Actor.PATIENT,
        now=api.clock.now(),
    )  # fmt: skip
    body = {"filename": "027u.pdf", "content_base64": base64.b64encode(PDF).decode()}
    error = await api.error(await api.post(f"/applications/{number}/documents", body), 409)
    assert error["code"] == "application_closed"


ACTIONS: list[tuple[str, dict[str, Any] | None]] = [
    ("take", None),
    ("complete", None),
    ("refuse", {"ground": "unreliable_data"}),
    ("home-visit", {"doctor_code": "B-T1", **_window("2026-11-24", "10:00", "12:00")}),
    ("attendance", {"attended": True}),
    ("documents", {"filename": "x.pdf", "content_base64": base64.b64encode(PDF).decode()}),
]


@pytest.mark.parametrize(("action", "body"), ACTIONS)
async def test_no_action_reaches_another_clinics_application(
    api: ClinicClient, action: str, body: dict[str, Any] | None
) -> None:
    numbers = [await api.certificate(), await api.home_visit(), await api.appointment()]
    api.clock.advance(dt.timedelta(days=1))  # appointments have started
    for number in numbers:
        error = await api.error(
            await api.post(f"/applications/{number}/{action}", body, key=api.key_b), 404
        )
        assert error["code"] == "not_found"
        detail = await api.ok(await api.get(f"/applications/{number}"))
        assert len(detail["history"]) == 2 and detail["documents"] == []  # untouched


async def test_two_systems_taking_one_application_at_once_get_200_and_409(
    api: ClinicClient,
) -> None:
    number = await api.certificate()
    first, second = await asyncio.gather(
        api.post(f"/applications/{number}/take"), api.post(f"/applications/{number}/take")
    )
    assert sorted([first.status, second.status]) == [200, 409], (
        await first.text(),
        await second.text(),
    )
    detail = await api.ok(await api.get(f"/applications/{number}"))
    assert [h["to_status"] for h in detail["history"]] == [
        "submitted",
        "registered",
        "in_progress",
    ]
