"""Shared pieces of the services: application numbers, views, look-ups that refuse."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from backend.domain.model import Application, Attachment, Clinic, Patient
from backend.domain.refusals import ATTACHED_NOWHERE, Refusal, RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.services.unit_of_work import UnitOfWork

# Unambiguous when read aloud to 1414 or typed on a feature phone: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def new_application_number() -> str:
    """`K7QF-3M9P`: short enough for an SMS, unguessable, unique by database constraint."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_application_number(text: str) -> str:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else text.strip().upper()


@dataclass(frozen=True)
class Attached:
    """A patient together with the clinic they are attached to."""

    patient: Patient
    attachment: Attachment
    clinic: Clinic


async def require_patient(uow: UnitOfWork, patient_id: int) -> Patient:
    patient = await uow.register.patient(patient_id)
    if patient is None:
        raise Refusal(RefusalCode.PATIENT_NOT_FOUND)
    return patient


async def require_attached(uow: UnitOfWork, patient_id: int) -> Attached:
    """S3/S4/S5 row 9 (2): refused when not attached to the clinic (order ҚР ДСМ-194/2020)."""
    patient, attachment = await uow.register.patient_with_attachment(patient_id)
    if patient is None:
        raise Refusal(RefusalCode.PATIENT_NOT_FOUND)
    clinic = None if attachment is None else await uow.register.clinic(attachment.clinic_id)
    return attached_or_refuse(patient, attachment, clinic)


def attached_or_refuse(
    patient: Patient, attachment: Attachment | None, clinic: Clinic | None
) -> Attached:
    """S3/S4/S5 row 9 (2): the patient with their clinic, or NOT_ATTACHED_HERE."""
    if attachment is None:  # attached to no clinic at all: told so, and how to attach
        raise Refusal(RefusalCode.NOT_ATTACHED_HERE, attached=ATTACHED_NOWHERE)
    if clinic is None:
        raise Refusal(RefusalCode.NOT_ATTACHED_HERE)
    return Attached(patient=patient, attachment=attachment, clinic=clinic)


def require_aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the services take aware datetimes")
    return moment


def new_application(
    *,
    patient_id: int,
    service: ServiceType,
    status: ApplicationStatus,
    at: dt.datetime,
    deadline: dt.datetime,
    clinic_id: int | None,
    actor: Actor = Actor.PATIENT,
    by_representative: int | None = None,
) -> Application:
    """A new application, submitted by `actor` and moved at once by the system to its first
    status (registered, or carried to the next working day); not stored yet (store it with
    `uow.applications.add_new`: the history in one INSERT, issue 16)."""
    application = Application.submit(
        number=new_application_number(),
        patient_id=patient_id,
        service=service,
        at=at,
        deadline=deadline,
        clinic_id=clinic_id,
        actor=actor,
    )
    if by_representative is not None and application.history:
        # Issue 14: the submission's actor is PATIENT; who of the patients acted is noted.
        submitted = application.history[-1]
        submitted.note = f"submitted by the legal representative, patient #{by_representative}"
    application.transition(status, actor=Actor.SYSTEM, at=at)
    return application
