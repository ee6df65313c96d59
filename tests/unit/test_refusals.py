"""Typed refusals: a code plus parameters, legal grounds exactly those of the standards."""

from __future__ import annotations

from typing import cast

import pytest

from backend.domain.refusals import (
    LEGAL_GROUNDS,
    REFUSAL_TEXTS,
    ParamValue,
    Refusal,
    RefusalCode,
)


def test_refusal_carries_its_code_and_params() -> None:
    refusal = Refusal(RefusalCode.TOO_MANY_APPOINTMENTS, limit=3, doctor="Сейткали А. Б.")

    assert refusal.code is RefusalCode.TOO_MANY_APPOINTMENTS
    assert dict(refusal.params) == {"limit": 3, "doctor": "Сейткали А. Б."}
    assert str(refusal) == "too_many_appointments"


def test_refusal_without_params_has_empty_params() -> None:
    assert dict(Refusal(RefusalCode.SLOT_TAKEN).params) == {}


def test_refusal_is_an_exception_that_can_be_raised_and_caught() -> None:
    with pytest.raises(Refusal) as caught:
        raise Refusal(RefusalCode.NOT_ATTACHED_HERE)
    assert caught.value.code is RefusalCode.NOT_ATTACHED_HERE


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


@pytest.mark.parametrize("code", list(RefusalCode))
def test_is_legal_ground_is_true_exactly_for_the_legal_grounds(code: RefusalCode) -> None:
    assert Refusal(code).is_legal_ground is (code in LEGAL_GROUNDS)


def test_operational_refusals_are_not_legal_grounds() -> None:
    for code in (RefusalCode.SLOT_TAKEN, RefusalCode.INVALID_INPUT, RefusalCode.PATIENT_NOT_FOUND):
        assert not Refusal(code).is_legal_ground


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
