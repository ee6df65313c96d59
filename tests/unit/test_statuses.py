"""The one explicit application state machine and who may move it (domain/README.md
"Applications and statuses", "Who acts on an application"; issue 10 part 4, issue 17).

The expected tables are written out here by hand, every (actor, service, from, to), so a
transition added to or dropped from backend/domain/statuses.py fails a test.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from backend.domain.statuses import (
    ACTOR_LABELS,
    E_CHANNEL_DEADLINE,
    INITIAL_STATUS,
    SERVICE_LABELS,
    STATEMENT_VALIDITY,
    STATUS_LABELS,
    TRANSITIONS,
    Actor,
    ApplicationStatus,
    InvalidTransition,
    ServiceType,
    TransitionNotAllowed,
    can_transition,
    check_transition,
    is_open,
    is_terminal,
    may_transition,
)

S = ApplicationStatus
A = Actor
SV = ServiceType
TERMINAL = {S.COMPLETED, S.REFUSED, S.CANCELLED, S.NO_SHOW}

# Columns and rows in this order; "x" allowed, "." refused.
ORDER = [S.SUBMITTED, S.REGISTERED, S.NEXT_WORKING_DAY, S.IN_PROGRESS,
         S.COMPLETED, S.REFUSED, S.CANCELLED, S.NO_SHOW]  # fmt: skip

# The state machine whoever acts (from -> to).
MACHINE = """
                  sub reg nwd inp com ref can nos
submitted          .   x   x   .   .   x   x   .
registered         .   x   .   x   x   x   x   x
next_working_day   .   x   .   x   .   x   x   .
in_progress        .   .   .   .   x   x   x   x
completed          .   .   .   .   .   .   .   .
refused            .   .   .   .   .   .   .   .
cancelled          .   .   .   .   .   .   .   .
no_show            .   .   .   .   .   .   .   .
"""

NOTHING = """
                  sub reg nwd inp com ref can nos
submitted          .   .   .   .   .   .   .   .
registered         .   .   .   .   .   .   .   .
next_working_day   .   .   .   .   .   .   .   .
in_progress        .   .   .   .   .   .   .   .
completed          .   .   .   .   .   .   .   .
refused            .   .   .   .   .   .   .   .
cancelled          .   .   .   .   .   .   .   .
no_show            .   .   .   .   .   .   .   .
"""

# Patient, or 1414 on the patient's request: cancel before the service is done.
CANCEL = """
                  sub reg nwd inp com ref can nos
submitted          .   .   .   .   .   .   x   .
registered         .   .   .   .   .   .   x   .
next_working_day   .   .   .   .   .   .   x   .
in_progress        .   .   .   .   .   .   x   .
completed          .   .   .   .   .   .   .   .
refused            .   .   .   .   .   .   .   .
cancelled          .   .   .   .   .   .   .   .
no_show            .   .   .   .   .   .   .   .
"""

# ... and for an appointment also move it (registered -> registered).
CANCEL_OR_MOVE = """
                  sub reg nwd inp com ref can nos
submitted          .   .   .   .   .   .   x   .
registered         .   x   .   .   .   .   x   .
next_working_day   .   .   .   .   .   .   x   .
in_progress        .   .   .   .   .   .   x   .
completed          .   .   .   .   .   .   .   .
refused            .   .   .   .   .   .   .   .
cancelled          .   .   .   .   .   .   .   .
no_show            .   .   .   .   .   .   .   .
"""

CLINIC_APPOINTMENT = """
                  sub reg nwd inp com ref can nos
submitted          .   x   .   .   .   x   x   .
registered         .   x   .   x   x   x   x   x
next_working_day   .   x   .   x   .   x   x   .
in_progress        .   .   .   .   x   x   x   x
completed          .   .   .   .   .   .   .   .
refused            .   .   .   .   .   .   .   .
cancelled          .   .   .   .   .   .   .   .
no_show            .   .   .   .   .   .   .   .
"""

CLINIC_HOME_VISIT = """
                  sub reg nwd inp com ref can nos
submitted          .   x   .   .   .   x   x   .
registered         .   x   .   x   x   x   x   .
next_working_day   .   x   .   x   .   x   x   .
in_progress        .   .   .   .   x   x   x   .
completed          .   .   .   .   .   .   .   .
refused            .   .   .   .   .   .   .   .
cancelled          .   .   .   .   .   .   .   .
no_show            .   .   .   .   .   .   .   .
"""

CLINIC_CERTIFICATE = """
                  sub reg nwd inp com ref can nos
submitted          .   x   .   .   .   x   x   .
registered         .   .   .   x   x   x   x   .
next_working_day   .   x   .   x   .   x   x   .
in_progress        .   .   .   .   x   x   x   .
completed          .   .   .   .   .   .   .   .
refused            .   .   .   .   .   .   .   .
cancelled          .   .   .   .   .   .   .   .
no_show            .   .   .   .   .   .   .   .
"""

# The system registers, or carries to the next working day and registers then (S3-S5 row 7).
SYSTEM_CLINIC_SERVICE = """
                  sub reg nwd inp com ref can nos
submitted          .   x   x   .   .   .   .   .
registered         .   .   .   .   .   .   .   .
next_working_day   .   x   .   .   .   .   .   .
in_progress        .   .   .   .   .   .   .   .
completed          .   .   .   .   .   .   .   .
refused            .   .   .   .   .   .   .   .
cancelled          .   .   .   .   .   .   .   .
no_show            .   .   .   .   .   .   .   .
"""

# The system alone answers the fully automated registry statements (S17-S19).
SYSTEM_STATEMENT = """
                  sub reg nwd inp com ref can nos
submitted          .   x   .   .   .   x   .   .
registered         .   .   .   .   x   x   .   .
next_working_day   .   .   .   .   .   .   .   .
in_progress        .   .   .   .   .   .   .   .
completed          .   .   .   .   .   .   .   .
refused            .   .   .   .   .   .   .   .
cancelled          .   .   .   .   .   .   .   .
no_show            .   .   .   .   .   .   .   .
"""

EXPECTED: dict[tuple[Actor, ServiceType], str] = {
    (A.PATIENT, SV.APPOINTMENT): CANCEL_OR_MOVE,
    (A.PATIENT, SV.HOME_VISIT): CANCEL,
    (A.PATIENT, SV.CERTIFICATE_027): CANCEL,
    (A.PATIENT, SV.STATEMENT_TB): CANCEL,
    (A.PATIENT, SV.STATEMENT_PSYCHIATRY): CANCEL,
    (A.PATIENT, SV.STATEMENT_NARCOLOGY): CANCEL,
    (A.OPERATOR, SV.APPOINTMENT): CANCEL_OR_MOVE,
    (A.OPERATOR, SV.HOME_VISIT): CANCEL,
    (A.OPERATOR, SV.CERTIFICATE_027): CANCEL,
    (A.OPERATOR, SV.STATEMENT_TB): CANCEL,
    (A.OPERATOR, SV.STATEMENT_PSYCHIATRY): CANCEL,
    (A.OPERATOR, SV.STATEMENT_NARCOLOGY): CANCEL,
    (A.CLINIC, SV.APPOINTMENT): CLINIC_APPOINTMENT,
    (A.CLINIC, SV.HOME_VISIT): CLINIC_HOME_VISIT,
    (A.CLINIC, SV.CERTIFICATE_027): CLINIC_CERTIFICATE,
    (A.CLINIC, SV.STATEMENT_TB): NOTHING,
    (A.CLINIC, SV.STATEMENT_PSYCHIATRY): NOTHING,
    (A.CLINIC, SV.STATEMENT_NARCOLOGY): NOTHING,
    (A.SYSTEM, SV.APPOINTMENT): SYSTEM_CLINIC_SERVICE,
    (A.SYSTEM, SV.HOME_VISIT): SYSTEM_CLINIC_SERVICE,
    (A.SYSTEM, SV.CERTIFICATE_027): SYSTEM_CLINIC_SERVICE,
    (A.SYSTEM, SV.STATEMENT_TB): SYSTEM_STATEMENT,
    (A.SYSTEM, SV.STATEMENT_PSYCHIATRY): SYSTEM_STATEMENT,
    (A.SYSTEM, SV.STATEMENT_NARCOLOGY): SYSTEM_STATEMENT,
}


def grid(text: str) -> dict[tuple[ApplicationStatus, ApplicationStatus], bool]:
    """Every (from, to) pair of a table above: True where it has an "x"."""
    rows = [line.split() for line in text.strip().splitlines()[1:]]
    assert [S(row[0]) for row in rows] == ORDER
    cells: dict[tuple[ApplicationStatus, ApplicationStatus], bool] = {}
    for row in rows:
        assert len(row) == 1 + len(ORDER)
        for target, mark in zip(ORDER, row[1:], strict=True):
            assert mark in {"x", "."}
            cells[S(row[0]), target] = mark == "x"
    return cells


PAIRS = list(itertools.product(ORDER, ORDER))


def test_the_tables_name_every_actor_and_service_and_every_status() -> None:
    assert set(EXPECTED) == set(itertools.product(Actor, ServiceType))
    assert set(ORDER) == set(S)
    assert len(ORDER) == len(S)


def test_the_state_machine_is_exactly_the_written_table() -> None:
    expected = grid(MACHINE)

    wrong = [(a, b) for a, b in PAIRS if can_transition(a, b) is not expected[a, b]]

    assert wrong == []
    assert {a: {b for b in ORDER if expected[a, b]} for a in ORDER} == TRANSITIONS


def test_the_machine_is_the_union_of_what_each_actor_may_do() -> None:
    union = {pair for table in EXPECTED.values() for pair, ok in grid(table).items() if ok}

    assert union == {pair for pair, ok in grid(MACHINE).items() if ok}


@pytest.mark.parametrize(("actor", "service"), list(EXPECTED))
def test_who_may_make_which_transition_in_which_service(
    actor: Actor, service: ServiceType
) -> None:
    expected = grid(EXPECTED[actor, service])

    wrong = [
        (current.value, target.value, "allowed" if expected[current, target] else "refused")
        for current, target in PAIRS
        if may_transition(actor, service, current, target) is not expected[current, target]
    ]

    assert wrong == []


@pytest.mark.parametrize(("actor", "service"), list(EXPECTED))
def test_check_transition_raises_the_typed_error_for_every_refused_pair(
    actor: Actor, service: ServiceType
) -> None:
    expected, machine = grid(EXPECTED[actor, service]), grid(MACHINE)

    for current, target in PAIRS:
        if expected[current, target]:
            check_transition(current, target, actor=actor, service=service)  # does not raise
            continue
        with pytest.raises(InvalidTransition) as caught:
            check_transition(current, target, actor=actor, service=service)
        assert (caught.value.current, caught.value.target) == (current, target)
        # A move the machine has but this actor may not make is told apart from no move at all.
        assert isinstance(caught.value, TransitionNotAllowed) is machine[current, target]
        if isinstance(caught.value, TransitionNotAllowed):
            assert (caught.value.actor, caught.value.service) == (actor, service)
            assert f"not for the {actor.value} in {service.value}" in str(caught.value)
        else:
            assert f"{current.value} -> {target.value} is not a transition" in str(caught.value)


def test_a_patient_can_never_complete_or_refuse_or_mark_a_no_show() -> None:
    for service, current in itertools.product(ServiceType, S):
        for target in (S.COMPLETED, S.REFUSED, S.NO_SHOW):
            assert not may_transition(A.PATIENT, service, current, target)
            assert not may_transition(A.OPERATOR, service, current, target)


def test_no_show_is_a_clinics_record_of_a_missed_appointment_only() -> None:
    assert S.NO_SHOW.value == "no_show"
    assert STATUS_LABELS[S.NO_SHOW] == "Did not attend"
    assert may_transition(A.CLINIC, SV.APPOINTMENT, S.REGISTERED, S.NO_SHOW)
    assert may_transition(A.CLINIC, SV.APPOINTMENT, S.IN_PROGRESS, S.NO_SHOW)
    assert not may_transition(A.CLINIC, SV.HOME_VISIT, S.REGISTERED, S.NO_SHOW)
    assert not may_transition(A.SYSTEM, SV.APPOINTMENT, S.REGISTERED, S.NO_SHOW)
    assert is_terminal(S.NO_SHOW)


def test_the_happy_paths_of_the_readme_are_allowed_to_their_actors() -> None:
    # submitted -> registered -> in processing -> completed | reasoned refusal; carried over;
    # cancelled; an automated statement answered by the system.
    for service, path in (
        (SV.HOME_VISIT, [(A.SYSTEM, S.REGISTERED), (A.CLINIC, S.IN_PROGRESS),
                         (A.CLINIC, S.COMPLETED)]),
        (SV.CERTIFICATE_027, [(A.SYSTEM, S.NEXT_WORKING_DAY), (A.SYSTEM, S.REGISTERED),
                              (A.CLINIC, S.IN_PROGRESS), (A.CLINIC, S.REFUSED)]),
        (SV.APPOINTMENT, [(A.SYSTEM, S.REGISTERED), (A.PATIENT, S.REGISTERED),
                          (A.CLINIC, S.NO_SHOW)]),
        (SV.APPOINTMENT, [(A.SYSTEM, S.REGISTERED), (A.OPERATOR, S.CANCELLED)]),
        (SV.STATEMENT_TB, [(A.SYSTEM, S.REGISTERED), (A.SYSTEM, S.COMPLETED)]),
    ):  # fmt: skip
        current = INITIAL_STATUS
        for actor, target in path:
            assert may_transition(actor, service, current, target), (service, current, target)
            current = target


def test_nothing_goes_back_to_submitted() -> None:
    assert all(S.SUBMITTED not in targets for targets in TRANSITIONS.values())
    assert INITIAL_STATUS is S.SUBMITTED


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_terminal_statuses_have_no_exit(status: ApplicationStatus) -> None:
    assert is_terminal(status)
    assert not is_open(status)
    assert TRANSITIONS[status] == frozenset()


@pytest.mark.parametrize("status", sorted(set(S) - TERMINAL))
def test_other_statuses_are_open(status: ApplicationStatus) -> None:
    assert is_open(status)
    assert not is_terminal(status)


def test_every_status_has_a_label() -> None:
    assert set(STATUS_LABELS) == set(S)
    assert all(label.strip() for label in STATUS_LABELS.values())


def test_every_service_type_has_a_label() -> None:
    assert set(SERVICE_LABELS) == set(ServiceType)
    assert all(label.strip() for label in SERVICE_LABELS.values())


def test_every_actor_has_a_label() -> None:
    assert set(ACTOR_LABELS) == set(Actor)
    assert all(label.strip() for label in ACTOR_LABELS.values())


def test_labels_are_distinct() -> None:
    assert len(set(STATUS_LABELS.values())) == len(STATUS_LABELS)
    assert len(set(SERVICE_LABELS.values())) == len(SERVICE_LABELS)


def test_refusal_label_is_the_reasoned_refusal_never_a_bare_refused() -> None:
    assert "reasoned" in STATUS_LABELS[S.REFUSED].lower()


def test_deadlines_from_the_standards() -> None:
    assert dt.timedelta(minutes=30) == E_CHANNEL_DEADLINE  # S3-S5, S17-S19 row 3
    assert dt.timedelta(days=10) == STATEMENT_VALIDITY  # S17-S19: valid 10 calendar days
