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
    NO_SHOW = "no_show"  # a missed appointment, recorded by the clinic


class Actor(StrEnum):
    PATIENT = "patient"
    CLINIC = "clinic"
    OPERATOR = "operator"
    SYSTEM = "system"


S = ApplicationStatus
A = Actor
ALL_SERVICES = frozenset(ServiceType)
# S3, S4, S5: the clinic's own services (it registers, takes into work, completes, refuses).
CLINIC_SERVICES = frozenset(
    {ServiceType.APPOINTMENT, ServiceType.HOME_VISIT, ServiceType.CERTIFICATE_027}
)
# S17-S19: «Электрондық (толық автоматтандырылған)», fully automated: no clinic acts on them.
AUTOMATED_SERVICES = frozenset(
    {ServiceType.STATEMENT_TB, ServiceType.STATEMENT_PSYCHIATRY, ServiceType.STATEMENT_NARCOLOGY}
)
APPOINTMENTS = frozenset({ServiceType.APPOINTMENT})
VISITS = frozenset({ServiceType.APPOINTMENT, ServiceType.HOME_VISIT})

# Who may move an application from one status to another, and in which services (domain/README
# "Who acts on an application"). Anything not listed is refused. Submitting is not a transition:
# every application is born SUBMITTED by whoever made it (the patient, or 1414 for them).
Move = tuple[Actor, ApplicationStatus, ApplicationStatus]
ACTOR_TRANSITIONS: Mapping[Move, frozenset[ServiceType]] = {
    # The patient (or their representative) cancels their own request before the service is
    # done (an in-progress home visit too: the doctor need not come) and moves an appointment
    # (REGISTERED -> REGISTERED, an amendment). They never complete or refuse anything.
    (A.PATIENT, S.SUBMITTED, S.CANCELLED): ALL_SERVICES,
    (A.PATIENT, S.NEXT_WORKING_DAY, S.CANCELLED): ALL_SERVICES,
    (A.PATIENT, S.REGISTERED, S.CANCELLED): ALL_SERVICES,
    (A.PATIENT, S.IN_PROGRESS, S.CANCELLED): ALL_SERVICES,
    (A.PATIENT, S.REGISTERED, S.REGISTERED): APPOINTMENTS,
    # The 1414 operator acts only on the patient's request, recorded as the operator's: the same
    # cancels and appointment moves as the patient; never completes or refuses.
    (A.OPERATOR, S.SUBMITTED, S.CANCELLED): ALL_SERVICES,
    (A.OPERATOR, S.NEXT_WORKING_DAY, S.CANCELLED): ALL_SERVICES,
    (A.OPERATOR, S.REGISTERED, S.CANCELLED): ALL_SERVICES,
    (A.OPERATOR, S.IN_PROGRESS, S.CANCELLED): ALL_SERVICES,
    (A.OPERATOR, S.REGISTERED, S.REGISTERED): APPOINTMENTS,
    # The clinic, for its own services (S3-S5): registers (also a request carried to this
    # working day), takes into work, completes, refuses with a ground of the service (row 9),
    # cancels (a doctor unavailable), moves an appointment or assigns a home visit's doctor and
    # window (REGISTERED -> REGISTERED), and records a missed appointment (NO_SHOW).
    (A.CLINIC, S.SUBMITTED, S.REGISTERED): CLINIC_SERVICES,
    (A.CLINIC, S.SUBMITTED, S.REFUSED): CLINIC_SERVICES,
    (A.CLINIC, S.SUBMITTED, S.CANCELLED): CLINIC_SERVICES,
    (A.CLINIC, S.NEXT_WORKING_DAY, S.REGISTERED): CLINIC_SERVICES,
    (A.CLINIC, S.NEXT_WORKING_DAY, S.IN_PROGRESS): CLINIC_SERVICES,
    (A.CLINIC, S.NEXT_WORKING_DAY, S.REFUSED): CLINIC_SERVICES,
    (A.CLINIC, S.NEXT_WORKING_DAY, S.CANCELLED): CLINIC_SERVICES,
    (A.CLINIC, S.REGISTERED, S.REGISTERED): VISITS,
    (A.CLINIC, S.REGISTERED, S.IN_PROGRESS): CLINIC_SERVICES,
    (A.CLINIC, S.REGISTERED, S.COMPLETED): CLINIC_SERVICES,
    (A.CLINIC, S.REGISTERED, S.REFUSED): CLINIC_SERVICES,
    (A.CLINIC, S.REGISTERED, S.CANCELLED): CLINIC_SERVICES,
    (A.CLINIC, S.REGISTERED, S.NO_SHOW): APPOINTMENTS,
    (A.CLINIC, S.IN_PROGRESS, S.COMPLETED): CLINIC_SERVICES,
    (A.CLINIC, S.IN_PROGRESS, S.REFUSED): CLINIC_SERVICES,
    (A.CLINIC, S.IN_PROGRESS, S.CANCELLED): CLINIC_SERVICES,
    (A.CLINIC, S.IN_PROGRESS, S.NO_SHOW): APPOINTMENTS,
    # The system registers every request at once, carries a clinic's request made after hours
    # to the next working day and registers it then (S3-S5 row 7, R-13); it alone completes or
    # refuses the fully automated registry statements (S17-S19).
    (A.SYSTEM, S.SUBMITTED, S.REGISTERED): ALL_SERVICES,
    (A.SYSTEM, S.SUBMITTED, S.NEXT_WORKING_DAY): CLINIC_SERVICES,
    (A.SYSTEM, S.NEXT_WORKING_DAY, S.REGISTERED): CLINIC_SERVICES,
    (A.SYSTEM, S.SUBMITTED, S.REFUSED): AUTOMATED_SERVICES,
    (A.SYSTEM, S.REGISTERED, S.COMPLETED): AUTOMATED_SERVICES,
    (A.SYSTEM, S.REGISTERED, S.REFUSED): AUTOMATED_SERVICES,
}  # fmt: skip


def _transitions() -> Mapping[ApplicationStatus, frozenset[ApplicationStatus]]:
    table: dict[ApplicationStatus, set[ApplicationStatus]] = {status: set() for status in S}
    for _actor, current, target in ACTOR_TRANSITIONS:
        table[current].add(target)
    return {status: frozenset(targets) for status, targets in table.items()}


# The state machine itself, whoever acts: the union of ACTOR_TRANSITIONS.
TRANSITIONS: Mapping[ApplicationStatus, frozenset[ApplicationStatus]] = _transitions()
# The first entry of every history: an application is born submitted.
INITIAL_STATUS = S.SUBMITTED


class InvalidTransition(Exception):
    """The application cannot move so (from a terminal status, backwards, ...)."""

    def __init__(self, current: ApplicationStatus, target: ApplicationStatus) -> None:
        super().__init__(f"{current.value} -> {target.value} is not a transition")
        self.current = current
        self.target = target


class TransitionNotAllowed(InvalidTransition):
    """A transition that exists, but not for this actor or not in this service."""

    def __init__(
        self,
        current: ApplicationStatus,
        target: ApplicationStatus,
        *,
        actor: Actor,
        service: ServiceType,
    ) -> None:
        super().__init__(current, target)
        self.args = (
            f"{current.value} -> {target.value} is not for the {actor.value} in {service.value}",
        )
        self.actor = actor
        self.service = service


def can_transition(current: ApplicationStatus, target: ApplicationStatus) -> bool:
    """Whether the state machine has this edge at all (for some actor and service)."""
    return target in TRANSITIONS[current]


def may_transition(
    actor: Actor, service: ServiceType, current: ApplicationStatus, target: ApplicationStatus
) -> bool:
    """Whether `actor` may move an application of `service` from `current` to `target`."""
    return service in ACTOR_TRANSITIONS.get((actor, current, target), frozenset())


def check_transition(
    current: ApplicationStatus,
    target: ApplicationStatus,
    *,
    actor: Actor,
    service: ServiceType,
) -> None:
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
    if not may_transition(actor, service, current, target):
        raise TransitionNotAllowed(current, target, actor=actor, service=service)


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
