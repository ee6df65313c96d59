"""Typed refusals: a code plus parameters, legal grounds exactly those of the standards."""

from __future__ import annotations

from typing import cast

import pytest

from backend.domain.refusals import (
    LEGAL_GROUNDS,
    REFUSAL_GROUNDS,
    REFUSAL_TEXTS,
    ParamValue,
    Refusal,
    RefusalCode,
    refusal_grounds,
)
from backend.domain.statuses import ServiceType


def test_refusal_carries_its_code_and_params() -> None:
    refusal = Refusal(RefusalCode.TOO_MANY_APPOINTMENTS, limit=3, doctor="Сейткали А. Б.")

    assert refusal.code is RefusalCode.TOO_MANY_APPOINTMENTS
    assert dict(refusal.params) == {"limit": 3, "doctor": "Сейткали А. Б."}
    assert str(refusal) == "too_many_appointments"


def test_refusal_without_params_has_empty_params() -> None:
    assert dict(Refusal(RefusalCode.SLOT_TAKEN).params) == {}


def test_each_service_has_exactly_the_refusal_grounds_of_its_standard() -> None:
    # Written out: S3/S4/S5 row 9 (unreliable data; not attached to this clinic),
    # S17/S18/S19 (no consent of the person the request is about).
    clinic = {RefusalCode.UNRELIABLE_DATA, RefusalCode.NOT_ATTACHED_HERE}
    consent = {RefusalCode.NO_SUBJECT_CONSENT}

    assert dict(REFUSAL_GROUNDS) == {
        ServiceType.APPOINTMENT: clinic,
        ServiceType.HOME_VISIT: clinic,
        ServiceType.CERTIFICATE_027: clinic,
        ServiceType.STATEMENT_TB: consent,
        ServiceType.STATEMENT_PSYCHIATRY: consent,
        ServiceType.STATEMENT_NARCOLOGY: consent,
    }
    for service in ServiceType:
        assert refusal_grounds(service) == REFUSAL_GROUNDS[service]


def test_refusal_params_cannot_be_changed() -> None:
    refusal = Refusal(RefusalCode.TOO_MANY_APPOINTMENTS, limit=3)
    params = cast("dict[str, ParamValue]", refusal.params)

    with pytest.raises(TypeError):
        params["limit"] = 99
    with pytest.raises(TypeError):
        del params["limit"]
    assert refusal.params["limit"] == 3


def test_refusal_params_are_a_copy_of_what_was_passed() -> None:
    given: dict[str, ParamValue] = {"limit": 3}
    refusal = Refusal(RefusalCode.TOO_MANY_APPOINTMENTS, **given)

    given["limit"] = 99

    assert refusal.params["limit"] == 3


def test_repr_names_the_code_and_params() -> None:
    assert repr(Refusal(RefusalCode.TOO_MANY_APPOINTMENTS, limit=3)) == (
        "Refusal(too_many_appointments, {'limit': 3})"
    )


def test_legal_grounds_are_exactly_those_of_the_standards() -> None:
    # S3-S5 row 9: unreliable data; not attached here. S17-S19: no consent of the subject.
    assert {
        RefusalCode.UNRELIABLE_DATA,
        RefusalCode.NOT_ATTACHED_HERE,
        RefusalCode.NO_SUBJECT_CONSENT,
    } == LEGAL_GROUNDS


# Every code, written out: legal ground («дәлелді бас тарту», R-41) or operational refusal.
IS_LEGAL_GROUND = {
    RefusalCode.UNRELIABLE_DATA: True,
    RefusalCode.NOT_ATTACHED_HERE: True,
    RefusalCode.NO_SUBJECT_CONSENT: True,
    RefusalCode.SLOT_TAKEN: False,
    RefusalCode.SLOT_UNAVAILABLE: False,
    RefusalCode.TOO_MANY_APPOINTMENTS: False,
    RefusalCode.APPOINTMENT_NOT_FOUND: False,
    RefusalCode.APPOINTMENT_NOT_ACTIVE: False,
    RefusalCode.APPLICATION_NOT_FOUND: False,
    RefusalCode.PATIENT_NOT_FOUND: False,
    RefusalCode.NO_DOCTOR_ASSIGNED: False,
    RefusalCode.INVALID_INPUT: False,
    RefusalCode.HOME_VISITS_FULL: False,
    RefusalCode.HOME_VISIT_EXISTS: False,
    RefusalCode.APPLICATION_CLOSED: False,
    RefusalCode.SPECIALTY_NOT_FOR_AGE: False,
    RefusalCode.NOT_REPRESENTED: False,  # issue 14: not the service's ground, a permission
}


def test_the_legal_ground_table_names_every_code() -> None:
    assert set(IS_LEGAL_GROUND) == set(RefusalCode)


@pytest.mark.parametrize(("code", "legal"), list(IS_LEGAL_GROUND.items()))
def test_is_legal_ground_is_true_exactly_for_the_legal_grounds(
    code: RefusalCode, legal: bool
) -> None:
    assert Refusal(code).is_legal_ground is legal
    assert (code in LEGAL_GROUNDS) is legal


def test_every_refusal_code_has_a_text() -> None:
    assert set(REFUSAL_TEXTS) == set(RefusalCode)
    assert all(text.strip() for text in REFUSAL_TEXTS.values())


def test_refusal_texts_name_only_params_that_exist() -> None:
    # The one parametrised text: `{limit}` must be filled from Refusal.params.
    text = REFUSAL_TEXTS[RefusalCode.TOO_MANY_APPOINTMENTS]

    assert text.format(**Refusal(RefusalCode.TOO_MANY_APPOINTMENTS, limit=3).params) == (
        "You already have 3 upcoming appointments. Cancel one to book another."
    )
    for code, other in REFUSAL_TEXTS.items():
        if code is not RefusalCode.TOO_MANY_APPOINTMENTS:
            assert "{" not in other
