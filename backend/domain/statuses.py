"""Applications: service types, statuses and the one explicit state machine.

The standards name no status values (seed-003 R-33); only «дәлелді бас тарту» (reasoned refusal)
is a term from the source. Every request is an application with a number, a service type, a
status, a deadline and an append-only history (domain/README.md "Applications and statuses").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum

from backend.domain.i18n import N_


class ServiceType(StrEnum):
    APPOINTMENT = "appointment"  # S3 «Дәрігердің қабылдауына жазылу»
    HOME_VISIT = "home_visit"  # S4 «Дәрігерді үйге шақыру»
    CERTIFICATE_027 = "certificate_027"  # S5 form 027/е
    STATEMENT_TB = "statement_tb"  # S17 «Фтизиатрия»
    STATEMENT_PSYCHIATRY = "statement_psychiatry"  # S18 «Психиатрия»
    STATEMENT_NARCOLOGY = "statement_narcology"  # S19 «Наркология»


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    REGISTERED = "registered"
    NEXT_WORKING_DAY = "next_working_day"  # carried over: R-13
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REFUSED = "refused"  # «дәлелді бас тарту»: always with its ground
    CANCELLED = "cancelled"
    # The patient did not come to the appointment (recorded by the clinic): terminal.
    NO_SHOW = "no_show"


class Actor(StrEnum):
    PATIENT = "patient"
    CLINIC = "clinic"
    OPERATOR = "operator"
    SYSTEM = "system"


S = ApplicationStatus
TRANSITIONS: Mapping[ApplicationStatus, frozenset[ApplicationStatus]] = {
    S.SUBMITTED: frozenset({S.REGISTERED, S.NEXT_WORKING_DAY, S.REFUSED, S.CANCELLED}),
    S.NEXT_WORKING_DAY: frozenset({S.REGISTERED, S.IN_PROGRESS, S.REFUSED, S.CANCELLED}),
    # REGISTERED -> REGISTERED: an amendment that keeps the status (an appointment rescheduled).
    S.REGISTERED: frozenset(
        {S.REGISTERED, S.IN_PROGRESS, S.COMPLETED, S.REFUSED, S.CANCELLED, S.NO_SHOW}
    ),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.REFUSED, S.CANCELLED, S.NO_SHOW}),
    S.COMPLETED: frozenset(),
    S.REFUSED: frozenset(),
    S.CANCELLED: frozenset(),
    S.NO_SHOW: frozenset(),  # appointments only (the services check the service type)
}
# The first entry of every history: an application is born submitted.
INITIAL_STATUS = S.SUBMITTED


class InvalidTransition(Exception):
    def __init__(self, current: ApplicationStatus, target: ApplicationStatus) -> None:
        super().__init__(f"{current.value} -> {target.value} is not a transition")
        self.current = current
        self.target = target


def can_transition(current: ApplicationStatus, target: ApplicationStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: ApplicationStatus, target: ApplicationStatus) -> None:
    if not can_transition(current, target):
        raise InvalidTransition(current, target)


def is_terminal(status: ApplicationStatus) -> bool:
    return not TRANSITIONS[status]


def is_open(status: ApplicationStatus) -> bool:
    return not is_terminal(status)


# S3, S4, S5 row 3: ≤ 30 minutes through the e-channel; S17-S19 row 3: 30 minutes.
E_CHANNEL_DEADLINE = dt.timedelta(minutes=30)
# S17-S19 row 10: registry statements are valid for 10 calendar days.
STATEMENT_VALIDITY = dt.timedelta(days=10)

STATUS_LABELS: Mapping[ApplicationStatus, str] = {
    S.SUBMITTED: N_("Submitted"),
    S.REGISTERED: N_("Registered"),
    S.NEXT_WORKING_DAY: N_("Will be processed on the next working day"),
    S.IN_PROGRESS: N_("In progress"),
    S.COMPLETED: N_("Completed"),
    S.REFUSED: N_("Reasoned refusal"),
    S.CANCELLED: N_("Cancelled"),
    S.NO_SHOW: N_("Did not attend"),
}

SERVICE_LABELS: Mapping[ServiceType, str] = {
    ServiceType.APPOINTMENT: N_("Appointment with a doctor"),
    ServiceType.HOME_VISIT: N_("Doctor's home visit"),
    ServiceType.CERTIFICATE_027: N_("Certificate from the PHC clinic (form 027/u)"),
    ServiceType.STATEMENT_TB: N_("Statement from the TB registry"),
    ServiceType.STATEMENT_PSYCHIATRY: N_("Statement from the psychiatric registry"),
    ServiceType.STATEMENT_NARCOLOGY: N_("Statement from the narcological registry"),
}

ACTOR_LABELS: Mapping[Actor, str] = {
    Actor.PATIENT: N_("patient"),
    Actor.CLINIC: N_("clinic"),
    Actor.OPERATOR: N_("1414 operator"),
    Actor.SYSTEM: N_("system"),
}
