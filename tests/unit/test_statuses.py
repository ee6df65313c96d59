"""The one explicit application state machine (domain/README.md "Applications and statuses")."""

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
    can_transition,
    check_transition,
    is_open,
    is_terminal,
)

S = ApplicationStatus
ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
REFUSED = [(a, b) for a, b in itertools.product(S, S) if b not in TRANSITIONS[a]]
TERMINAL = {S.COMPLETED, S.REFUSED, S.CANCELLED, S.NO_SHOW}


def test_every_status_has_an_entry_in_the_transition_table() -> None:
    assert set(TRANSITIONS) == set(S)


def test_the_transition_table_only_names_known_statuses() -> None:
    for targets in TRANSITIONS.values():
        assert targets <= set(S)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_every_listed_transition_is_allowed(
    current: ApplicationStatus, target: ApplicationStatus
) -> None:
    assert can_transition(current, target)
    check_transition(current, target)  # does not raise


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_every_unlisted_transition_is_refused(
    current: ApplicationStatus, target: ApplicationStatus
) -> None:
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, target)
    assert caught.value.current is current
    assert caught.value.target is target
    assert f"{current.value} -> {target.value}" in str(caught.value)


def test_allowed_and_refused_pairs_cover_all_pairs() -> None:
    assert len(ALLOWED) + len(REFUSED) == len(S) ** 2
    assert not set(ALLOWED) & set(REFUSED)


def test_the_happy_paths_of_the_readme_are_allowed() -> None:
    # submitted -> registered -> in processing -> completed | reasoned refusal; carried over;
    # cancelled.
    for path in (
        [S.SUBMITTED, S.REGISTERED, S.IN_PROGRESS, S.COMPLETED],
        [S.SUBMITTED, S.REGISTERED, S.IN_PROGRESS, S.REFUSED],
        [S.SUBMITTED, S.NEXT_WORKING_DAY, S.REGISTERED, S.COMPLETED],
        [S.SUBMITTED, S.NEXT_WORKING_DAY, S.IN_PROGRESS, S.COMPLETED],
        [S.SUBMITTED, S.REFUSED],
        [S.SUBMITTED, S.CANCELLED],
        [S.SUBMITTED, S.REGISTERED, S.REGISTERED, S.CANCELLED],
    ):
        for current, target in itertools.pairwise(path):
            assert can_transition(current, target), (current, target)


def test_nothing_goes_back_to_submitted() -> None:
    assert all(S.SUBMITTED not in targets for targets in TRANSITIONS.values())
    assert INITIAL_STATUS is S.SUBMITTED


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_terminal_statuses_have_no_exit(status: ApplicationStatus) -> None:
    assert is_terminal(status)
    assert not is_open(status)
    assert TRANSITIONS[status] == frozenset()
    for target in S:
        with pytest.raises(InvalidTransition):
            check_transition(status, target)


@pytest.mark.parametrize("status", sorted(set(S) - TERMINAL))
def test_other_statuses_are_open_and_can_still_end(status: ApplicationStatus) -> None:
    assert is_open(status)
    assert not is_terminal(status)
    assert TRANSITIONS[status] & TERMINAL


def test_every_open_status_can_be_refused_and_cancelled() -> None:
    for status in set(S) - TERMINAL:
        assert can_transition(status, S.REFUSED)
        assert can_transition(status, S.CANCELLED)


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
