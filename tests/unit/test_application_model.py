"""Application history and patient registration (backend/domain/model.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from backend.domain.iin import IinError, InvalidIin, Sex
from backend.domain.model import Application, Language, Patient, StatusChange
from backend.domain.phone import InvalidPhone, PhoneError
from backend.domain.refusals import RefusalCode, RefusalGroundNotAllowed
from backend.domain.statuses import (
    Actor,
    ApplicationStatus,
    InvalidTransition,
    ServiceType,
    TransitionNotAllowed,
)
from tests.unit.test_statuses import EXPECTED, PAIRS, grid

S = ApplicationStatus
ALMATY = ZoneInfo("Asia/Almaty")
T0 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=ALMATY)


def _minutes(n: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def _submitted(
    actor: Actor = Actor.PATIENT, service: ServiceType = ServiceType.HOME_VISIT
) -> Application:
    return Application.submit(
        number="HV-2026-000001",
        patient_id=7,
        service=service,
        at=T0,
        deadline=_minutes(30),
        clinic_id=3,
        actor=actor,
    )


def _snapshot(app: Application) -> list[tuple[object, ...]]:
    return [(c.seq, c.at, c.from_status, c.to_status, c.actor, c.reason) for c in app.history]


# --- Application.submit / transition ------------------------------------------------------------


def test_submitted_application_starts_with_one_history_entry_from_nothing() -> None:
    app = _submitted()

    assert app.status is S.SUBMITTED
    assert app.number == "HV-2026-000001"
    assert app.patient_id == 7
    assert app.service is ServiceType.HOME_VISIT
    assert app.created_at == T0
    assert app.deadline == _minutes(30)
    assert app.clinic_id == 3
    assert app.refusal is None
    assert len(app.history) == 1
    first = app.history[0]
    assert first.seq == 1
    assert first.from_status is None
    assert first.to_status is S.SUBMITTED
    assert first.actor is Actor.PATIENT
    assert first.at == T0


def test_submit_records_who_submitted() -> None:
    assert _submitted(Actor.OPERATOR).history[0].actor is Actor.OPERATOR


def test_two_applications_do_not_share_a_history() -> None:
    first = _submitted()
    second = _submitted()
    first.transition(S.CANCELLED, actor=Actor.PATIENT, at=_minutes(1))

    assert len(second.history) == 1
    assert second.status is S.SUBMITTED


def test_transitions_append_history_with_increasing_seq_and_record_who_when_what() -> None:
    app = _submitted()

    registered = app.transition(S.REGISTERED, actor=Actor.SYSTEM, at=_minutes(1))
    in_progress = app.transition(
        S.IN_PROGRESS, actor=Actor.CLINIC, at=_minutes(5), note="doctor assigned"
    )
    completed = app.transition(S.COMPLETED, actor=Actor.CLINIC, at=_minutes(20))

    assert app.status is S.COMPLETED
    assert [c.seq for c in app.history] == [1, 2, 3, 4]
    assert app.history[1:] == [registered, in_progress, completed]
    assert [(c.from_status, c.to_status) for c in app.history] == [
        (None, S.SUBMITTED),
        (S.SUBMITTED, S.REGISTERED),
        (S.REGISTERED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.COMPLETED),
    ]
    assert [c.actor for c in app.history] == [
        Actor.PATIENT,
        Actor.SYSTEM,
        Actor.CLINIC,
        Actor.CLINIC,
    ]
    assert [c.at for c in app.history] == [T0, _minutes(1), _minutes(5), _minutes(20)]
    assert in_progress.note == "doctor assigned"
    assert registered.reason is None
    assert app.refusal is None


def test_transition_returns_the_entry_it_appended() -> None:
    app = _submitted()

    change = app.transition(S.NEXT_WORKING_DAY, actor=Actor.SYSTEM, at=_minutes(1))

    assert isinstance(change, StatusChange)
    assert app.history[-1] is change
    assert change.seq == 2


def test_registered_to_registered_amendment_is_recorded_as_its_own_entry() -> None:
    app = _submitted(service=ServiceType.APPOINTMENT)  # a patient moves an appointment
    app.transition(S.REGISTERED, actor=Actor.SYSTEM, at=_minutes(1))

    change = app.transition(S.REGISTERED, actor=Actor.PATIENT, at=_minutes(2), note="moved")

    assert (change.from_status, change.to_status, change.seq) == (S.REGISTERED, S.REGISTERED, 3)


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], S.COMPLETED),  # submitted -> completed skips registration
        ([], S.IN_PROGRESS),
        ([], S.SUBMITTED),
        ([S.REGISTERED, S.COMPLETED], S.CANCELLED),  # completed is terminal
        ([S.CANCELLED], S.REGISTERED),  # cancelled is terminal
        ([S.REGISTERED, S.IN_PROGRESS], S.REGISTERED),  # no way back
    ],
)
def test_invalid_transition_raises_and_leaves_status_and_history_unchanged(
    path: list[ApplicationStatus], target: ApplicationStatus
) -> None:
    app = _submitted()
    for i, status in enumerate(path, start=1):
        app.transition(status, actor=Actor.CLINIC, at=_minutes(i))
    status_before, history_before = app.status, _snapshot(app)

    with pytest.raises(InvalidTransition):
        app.transition(target, actor=Actor.CLINIC, at=_minutes(99))

    assert app.status is status_before
    assert _snapshot(app) == history_before


def test_refused_application_cannot_be_refused_again() -> None:
    app = _submitted()
    app.transition(
        S.REFUSED, actor=Actor.CLINIC, at=_minutes(1), reason=RefusalCode.UNRELIABLE_DATA
    )

    with pytest.raises(InvalidTransition):
        app.transition(
            S.REFUSED, actor=Actor.CLINIC, at=_minutes(2), reason=RefusalCode.NOT_ATTACHED_HERE
        )
    assert app.refusal is RefusalCode.UNRELIABLE_DATA
    assert len(app.history) == 2


def test_refusal_without_a_ground_raises_and_changes_nothing() -> None:
    app = _submitted()
    app.transition(S.REGISTERED, actor=Actor.SYSTEM, at=_minutes(1))
    history_before = _snapshot(app)

    with pytest.raises(RefusalGroundNotAllowed, match="must name its legal ground"):
        app.transition(S.REFUSED, actor=Actor.CLINIC, at=_minutes(2))

    assert app.status is S.REGISTERED
    assert app.refusal is None
    assert _snapshot(app) == history_before


@pytest.mark.parametrize("code", [RefusalCode.SLOT_TAKEN, RefusalCode.INVALID_INPUT])
def test_refusal_with_an_operational_code_is_not_a_legal_refusal(code: RefusalCode) -> None:
    app = _submitted()
    history_before = _snapshot(app)

    with pytest.raises(RefusalGroundNotAllowed, match="legal ground") as caught:
        app.transition(S.REFUSED, actor=Actor.CLINIC, at=_minutes(2), reason=code)

    assert (caught.value.service, caught.value.reason) == (ServiceType.HOME_VISIT, code)

    assert app.status is S.SUBMITTED
    assert _snapshot(app) == history_before


def test_only_a_refusal_carries_a_ground() -> None:
    app = _submitted()

    with pytest.raises(RefusalGroundNotAllowed, match="only a refusal"):
        app.transition(
            S.CANCELLED, actor=Actor.PATIENT, at=_minutes(2), reason=RefusalCode.UNRELIABLE_DATA
        )

    assert app.status is S.SUBMITTED


# Every (service, ground) pair: the grounds each standard lists, nothing else.
GROUNDS_ALLOWED = {
    # S3/S4/S5 row 9: unreliable data; not attached to this clinic.
    (ServiceType.APPOINTMENT, RefusalCode.UNRELIABLE_DATA): True,
    (ServiceType.APPOINTMENT, RefusalCode.NOT_ATTACHED_HERE): True,
    (ServiceType.APPOINTMENT, RefusalCode.NO_SUBJECT_CONSENT): False,
    (ServiceType.HOME_VISIT, RefusalCode.UNRELIABLE_DATA): True,
    (ServiceType.HOME_VISIT, RefusalCode.NOT_ATTACHED_HERE): True,
    (ServiceType.HOME_VISIT, RefusalCode.NO_SUBJECT_CONSENT): False,
    (ServiceType.CERTIFICATE_027, RefusalCode.UNRELIABLE_DATA): True,
    (ServiceType.CERTIFICATE_027, RefusalCode.NOT_ATTACHED_HERE): True,
    (ServiceType.CERTIFICATE_027, RefusalCode.NO_SUBJECT_CONSENT): False,
    # S17-S19: only the missing consent of the person the request is about.
    (ServiceType.STATEMENT_TB, RefusalCode.UNRELIABLE_DATA): False,
    (ServiceType.STATEMENT_TB, RefusalCode.NOT_ATTACHED_HERE): False,
    (ServiceType.STATEMENT_TB, RefusalCode.NO_SUBJECT_CONSENT): True,
    (ServiceType.STATEMENT_PSYCHIATRY, RefusalCode.UNRELIABLE_DATA): False,
    (ServiceType.STATEMENT_PSYCHIATRY, RefusalCode.NOT_ATTACHED_HERE): False,
    (ServiceType.STATEMENT_PSYCHIATRY, RefusalCode.NO_SUBJECT_CONSENT): True,
    (ServiceType.STATEMENT_NARCOLOGY, RefusalCode.UNRELIABLE_DATA): False,
    (ServiceType.STATEMENT_NARCOLOGY, RefusalCode.NOT_ATTACHED_HERE): False,
    (ServiceType.STATEMENT_NARCOLOGY, RefusalCode.NO_SUBJECT_CONSENT): True,
}
# Who refuses each service: the clinic its own (S3-S5), the system the automated S17-S19.
REFUSER = {
    ServiceType.APPOINTMENT: Actor.CLINIC,
    ServiceType.HOME_VISIT: Actor.CLINIC,
    ServiceType.CERTIFICATE_027: Actor.CLINIC,
    ServiceType.STATEMENT_TB: Actor.SYSTEM,
    ServiceType.STATEMENT_PSYCHIATRY: Actor.SYSTEM,
    ServiceType.STATEMENT_NARCOLOGY: Actor.SYSTEM,
}


def _registered(service: ServiceType) -> Application:
    app = _submitted(service=service)
    app.transition(S.REGISTERED, actor=Actor.SYSTEM, at=_minutes(1))
    return app


@pytest.mark.parametrize(("service", "ground"), list(GROUNDS_ALLOWED))
def test_a_service_is_refused_only_on_its_own_grounds(
    service: ServiceType, ground: RefusalCode
) -> None:
    app = _registered(service)
    history_before = _snapshot(app)

    if GROUNDS_ALLOWED[service, ground]:
        app.transition(S.REFUSED, actor=REFUSER[service], at=_minutes(2), reason=ground)
        assert (app.status, app.refusal, app.history[-1].reason) == (S.REFUSED, ground, ground)
    else:
        with pytest.raises(RefusalGroundNotAllowed) as caught:
            app.transition(S.REFUSED, actor=REFUSER[service], at=_minutes(2), reason=ground)
        assert (caught.value.service, caught.value.reason) == (service, ground)
        assert (app.status, app.refusal) == (S.REGISTERED, None)
        assert _snapshot(app) == history_before


def test_the_grounds_table_covers_every_service_and_legal_ground() -> None:
    assert {s for s, _ in GROUNDS_ALLOWED} == set(ServiceType)
    assert len(GROUNDS_ALLOWED) == len(ServiceType) * 3


def test_a_home_visit_is_never_refused_for_no_consent_of_the_subject() -> None:
    app = _registered(ServiceType.HOME_VISIT)

    with pytest.raises(RefusalGroundNotAllowed, match="home_visit"):
        app.transition(
            S.REFUSED, actor=Actor.CLINIC, at=_minutes(2), reason=RefusalCode.NO_SUBJECT_CONSENT
        )
    assert app.status is S.REGISTERED


@pytest.mark.parametrize(("actor", "service"), list(EXPECTED))
def test_application_transition_follows_the_actor_table(
    actor: Actor, service: ServiceType
) -> None:
    expected = grid(EXPECTED[actor, service])
    ground = next(g for (s, g), ok in GROUNDS_ALLOWED.items() if s is service and ok)
    wrong = []
    for current, target in PAIRS:
        app = _submitted(service=service)
        app.status = current  # as it would be stored
        history_before = _snapshot(app)
        reason = ground if target is S.REFUSED else None
        try:
            app.transition(target, actor=actor, at=_minutes(5), reason=reason)
            allowed = True
        except InvalidTransition:
            allowed = False
            assert (app.status, _snapshot(app)) == (current, history_before)
        if allowed is not expected[current, target]:
            wrong.append((current.value, target.value))

    assert wrong == []


def test_a_patient_who_completes_gets_a_typed_error_and_nothing_changes() -> None:
    app = _registered(ServiceType.HOME_VISIT)
    history_before = _snapshot(app)

    with pytest.raises(TransitionNotAllowed) as caught:
        app.transition(S.COMPLETED, actor=Actor.PATIENT, at=_minutes(2))

    assert (caught.value.actor, caught.value.service) == (Actor.PATIENT, ServiceType.HOME_VISIT)
    assert app.status is S.REGISTERED
    assert _snapshot(app) == history_before


def test_history_times_must_be_aware() -> None:
    app = _submitted()

    with pytest.raises(ValueError, match=r"^naive datetime: history times are aware$"):
        app.transition(S.REGISTERED, actor=Actor.SYSTEM, at=dt.datetime(2026, 11, 16, 10, 1))  # noqa: DTZ001 - naive on purpose

    assert len(app.history) == 1


def test_refusal_with_a_ground_records_it_on_the_application_and_in_history() -> None:
    app = _submitted()

    change = app.transition(
        S.REFUSED, actor=Actor.CLINIC, at=_minutes(3), reason=RefusalCode.NOT_ATTACHED_HERE
    )

    assert app.status is S.REFUSED
    assert app.refusal is RefusalCode.NOT_ATTACHED_HERE
    assert change.reason is RefusalCode.NOT_ATTACHED_HERE
    assert (change.from_status, change.to_status, change.actor) == (
        S.SUBMITTED,
        S.REFUSED,
        Actor.CLINIC,
    )


def test_cancellation_does_not_set_a_refusal() -> None:
    app = _submitted()

    app.transition(S.CANCELLED, actor=Actor.PATIENT, at=_minutes(1))

    assert app.status is S.CANCELLED
    assert app.refusal is None


# --- Patient.register ---------------------------------------------------------------------------

# 920305 4 0123: 1*9+2*2+3*0+4*3+5*0+6*5+7*4+8*0+9*1+10*2+11*3 = 145; 145 mod 11 = 2
IIN_FEMALE_1992 = "920305401232"
# 050607 5 0321: 1*0+2*5+3*0+4*6+5*0+6*7+7*5+8*0+9*3+10*2+11*1 = 169; 169 mod 11 = 4
IIN_MALE_2005 = "050607503214"


def test_register_derives_birth_date_and_sex_from_the_iin() -> None:
    woman = Patient.register(iin=IIN_FEMALE_1992, surname="Сейітқали", given_name="Айгүл")
    boy = Patient.register(iin=IIN_MALE_2005, surname="Омаров", given_name="Нұрлан")

    assert (woman.birth_date, woman.sex) == (dt.date(1992, 3, 5), Sex.FEMALE)
    assert (boy.birth_date, boy.sex) == (dt.date(2005, 6, 7), Sex.MALE)


def test_register_keeps_the_iin_without_the_spaces_typed_in_it() -> None:
    patient = Patient.register(iin="920305 401232", surname="A", given_name="B")

    assert patient.iin == IIN_FEMALE_1992


def test_register_normalises_the_phone_to_e164() -> None:
    patient = Patient.register(
        iin=IIN_FEMALE_1992,
        surname="Сейітқали",
        given_name="Айгүл",
        patronymic="Бекқызы",
        phone="8 (701) 123-45-67",
        address="Астана, Мәңгілік Ел 8",
    )

    assert patient.phone == "+77011234567"
    assert patient.full_name == "Сейітқали Айгүл Бекқызы"
    assert patient.address == "Астана, Мәңгілік Ел 8"


def test_register_keeps_the_language_and_the_representative() -> None:
    child = Patient.register(
        iin=IIN_MALE_2005,
        surname="Омаров",
        given_name="Нұрлан",
        language=Language.RU,
        representative_id=41,
    )

    assert child.language is Language.RU
    assert child.representative_id == 41
    assert child.patronymic is None
    assert child.address is None


def test_register_without_a_language_or_representative_leaves_them_empty() -> None:
    patient = Patient.register(iin=IIN_FEMALE_1992, surname="A", given_name="B")

    assert patient.language is None
    assert patient.representative_id is None


def test_register_without_a_phone_leaves_it_empty() -> None:
    assert Patient.register(iin=IIN_FEMALE_1992, surname="A", given_name="B").phone is None


@pytest.mark.parametrize(
    ("iin", "reason"),
    [
        ("920305401233", IinError.BAD_CHECKSUM),
        ("92030540123", IinError.NOT_12_DIGITS),
        ("921305401232", IinError.BAD_DATE),
        ("920305901232", IinError.BAD_CENTURY),
    ],
)
def test_register_rejects_an_invalid_iin(iin: str, reason: IinError) -> None:
    with pytest.raises(InvalidIin) as caught:
        Patient.register(iin=iin, surname="A", given_name="B", phone="+77011234567")
    assert caught.value.reason is reason


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("+996 555 123 456", PhoneError.NOT_KZ_MOBILE),
        ("+7 916 123 45 67", PhoneError.NOT_KZ_MOBILE),
        ("+7 727 123 45 67", PhoneError.NOT_KZ_MOBILE),
        ("call me", PhoneError.MALFORMED),
    ],
)
def test_register_rejects_a_phone_that_is_not_a_kz_mobile(phone: str, reason: PhoneError) -> None:
    with pytest.raises(InvalidPhone) as caught:
        Patient.register(iin=IIN_FEMALE_1992, surname="A", given_name="B", phone=phone)
    assert caught.value.reason is reason


def test_patient_age_counts_full_years_on_a_day() -> None:
    patient = Patient.register(iin=IIN_FEMALE_1992, surname="A", given_name="B")

    assert patient.age_on(dt.date(2026, 3, 4)) == 33
    assert patient.age_on(dt.date(2026, 3, 5)) == 34
