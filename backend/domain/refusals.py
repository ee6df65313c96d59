"""Typed refusals: a code plus parameters, never a bare string, so each channel localises them.

Legal grounds are exactly those of the standards (seed-003 R-41); the rest are operational
refusals of this service (a slot already taken, a limit reached) that are not «бас тарту» in
the legal sense but still need a clear, localised answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from backend.domain.i18n import N_
from backend.domain.statuses import ApplicationStatus, InvalidTransition, ServiceType

ParamValue = str | int


class RefusalCode(StrEnum):
    # Legal grounds (seed-003 R-41).
    UNRELIABLE_DATA = "unreliable_data"  # S3-S5 row 9 (1)
    NOT_ATTACHED_HERE = "not_attached_here"  # S3-S5 row 9 (2), order ҚР ДСМ-194/2020
    NO_SUBJECT_CONSENT = "no_subject_consent"  # S17-S19
    # Operational refusals.
    SLOT_TAKEN = "slot_taken"
    SLOT_UNAVAILABLE = "slot_unavailable"  # unknown, past or outside the schedule
    TOO_MANY_APPOINTMENTS = "too_many_appointments"
    APPOINTMENT_NOT_FOUND = "appointment_not_found"
    APPOINTMENT_NOT_ACTIVE = "appointment_not_active"
    APPLICATION_NOT_FOUND = "application_not_found"
    PATIENT_NOT_FOUND = "patient_not_found"
    NO_DOCTOR_ASSIGNED = "no_doctor_assigned"
    INVALID_INPUT = "invalid_input"
    HOME_VISITS_FULL = "home_visits_full"  # params: day, next_day (ISO dates; "" for none)
    HOME_VISIT_EXISTS = "home_visit_exists"  # params: number, day
    APPLICATION_CLOSED = "application_closed"  # done, refused or cancelled already
    SPECIALTY_NOT_FOR_AGE = "specialty_not_for_age"
    # Issue 14, S3/S4 row 8: not a child the register records this patient as representing.
    NOT_REPRESENTED = "not_represented"


LEGAL_GROUNDS = frozenset(
    {RefusalCode.UNRELIABLE_DATA, RefusalCode.NOT_ATTACHED_HERE, RefusalCode.NO_SUBJECT_CONSENT}
)

_CLINIC_GROUNDS = frozenset({RefusalCode.UNRELIABLE_DATA, RefusalCode.NOT_ATTACHED_HERE})
_CONSENT_GROUND = frozenset({RefusalCode.NO_SUBJECT_CONSENT})
# The grounds each service may be refused on, exactly as its standard lists them.
REFUSAL_GROUNDS: Mapping[ServiceType, frozenset[RefusalCode]] = MappingProxyType(
    {
        # S3/S4/S5 row 9: 1) «…құжаттардың және (немесе) олардағы деректердің (мәліметтердің)
        # анық еместігін анықтау»; 2) «…осы медициналық ұйымға бекітілмеуі» (ҚР ДСМ-194/2020).
        ServiceType.APPOINTMENT: _CLINIC_GROUNDS,  # S3 row 9
        ServiceType.HOME_VISIT: _CLINIC_GROUNDS,  # S4 row 9
        ServiceType.CERTIFICATE_027: _CLINIC_GROUNDS,  # S5 row 9
        # S17-S19 (refusal row, the only ground): «Сұрау салу жасалған адамның келісімінің
        # болмауы», no consent of the person the request is about.
        ServiceType.STATEMENT_TB: _CONSENT_GROUND,  # S17
        ServiceType.STATEMENT_PSYCHIATRY: _CONSENT_GROUND,  # S18
        ServiceType.STATEMENT_NARCOLOGY: _CONSENT_GROUND,  # S19
    }
)


def refusal_grounds(service: ServiceType) -> frozenset[RefusalCode]:
    return REFUSAL_GROUNDS[service]


class RefusalGroundNotAllowed(InvalidTransition):
    """A refusal without a ground of its service (R-35, R-41), or a ground on anything else."""

    def __init__(
        self,
        current: ApplicationStatus,
        target: ApplicationStatus,
        *,
        service: ServiceType,
        reason: RefusalCode | None,
    ) -> None:
        super().__init__(current, target)
        if target is ApplicationStatus.REFUSED:
            allowed = ", ".join(sorted(REFUSAL_GROUNDS[service]))
            message = f"a refusal of {service.value} must name its legal ground ({allowed})"
        else:
            message = "only a refusal carries a refusal ground"
        self.args = (f"{message}, not {reason.value if reason else 'none'}",)
        self.service = service
        self.reason = reason


def check_refusal_ground(
    current: ApplicationStatus,
    target: ApplicationStatus,
    *,
    service: ServiceType,
    reason: RefusalCode | None,
) -> None:
    """A refusal names one of its service's grounds; nothing else carries a ground."""
    if target is ApplicationStatus.REFUSED:
        if reason not in REFUSAL_GROUNDS[service]:
            raise RefusalGroundNotAllowed(current, target, service=service, reason=reason)
    elif reason is not None:
        raise RefusalGroundNotAllowed(current, target, service=service, reason=reason)


class Refusal(Exception):
    """A request the service will not carry out, with the reason to tell the patient."""

    def __init__(self, code: RefusalCode, **params: ParamValue) -> None:
        super().__init__(code.value)
        self.code = code
        self.params: Mapping[str, ParamValue] = MappingProxyType(dict(params))

    @property
    def is_legal_ground(self) -> bool:
        return self.code in LEGAL_GROUNDS

    def __repr__(self) -> str:
        return f"Refusal({self.code.value}, {dict(self.params)!r})"


REFUSAL_TEXTS: Mapping[RefusalCode, str] = {
    RefusalCode.UNRELIABLE_DATA: N_(
        "The documents or data you submitted were found to be unreliable."
    ),
    # Attached to another clinic (its doctors, or a clinic refusing an application).
    RefusalCode.NOT_ATTACHED_HERE: N_(
        "You are not attached to this primary health care organisation."
    ),
    RefusalCode.NO_SUBJECT_CONSENT: N_("The person the request is about has not given consent."),
    RefusalCode.SLOT_TAKEN: N_("This time has just been taken. Please choose another one."),
    RefusalCode.SLOT_UNAVAILABLE: N_("This time is no longer available."),
    RefusalCode.TOO_MANY_APPOINTMENTS: N_(
        "You already have {limit} upcoming appointments. Cancel one to book another."
    ),
    RefusalCode.APPOINTMENT_NOT_FOUND: N_("The appointment was not found."),
    RefusalCode.APPOINTMENT_NOT_ACTIVE: N_("The appointment is already cancelled or over."),
    RefusalCode.APPLICATION_NOT_FOUND: N_("The application was not found."),
    RefusalCode.PATIENT_NOT_FOUND: N_("No patient with these details was found."),
    RefusalCode.NO_DOCTOR_ASSIGNED: N_("No district doctor is assigned to you yet."),
    RefusalCode.INVALID_INPUT: N_("Please check what you entered."),
    RefusalCode.HOME_VISITS_FULL: N_("The doctor's home visits for that day are fully booked."),
    RefusalCode.HOME_VISIT_EXISTS: N_("You already have an open home-visit request for that day."),
    RefusalCode.APPLICATION_CLOSED: N_("The application is already completed or cancelled."),
    RefusalCode.SPECIALTY_NOT_FOR_AGE: N_("This doctor does not see patients of your age."),
    RefusalCode.NOT_REPRESENTED: N_(
        "You are not recorded as this person's legal representative, so you cannot act for them."
    ),
}

# NOT_ATTACHED_HERE (S3-S5 row 9 (2)) covers two situations: attached to another clinic, and
# attached to none. For the second, the refusal carries `attached=ATTACHED_NOWHERE` and the patient
# is told so, with how to attach (seed-000 std 8: at the chosen PHC clinic with an ID document, or
# on eGov; the answer within 1 working day), not «this» clinic.
ATTACHED_NOWHERE = "nowhere"
NOT_ATTACHED_ANYWHERE_TEXT = N_(
    "You are not attached to any PHC clinic. To attach, apply to the clinic of your choice with "
    "an ID document, or on eGov (egov.kz); it takes 1 working day."
)
