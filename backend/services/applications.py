"""Every application of a patient, one view (the «жеке кабинет» analogue, seed-003 R-33/R-34),
and status changes by the clinic, a 1414 operator or the system."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from backend.domain.model import Application, CertificateRequest, HomeVisit, StatusChange
from backend.domain.refusals import LEGAL_GROUNDS, Refusal, RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, InvalidTransition, ServiceType
from backend.services import notifications
from backend.services.booking import AppointmentView, appointment_view
from backend.services.common import normalize_application_number, require_aware
from backend.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ApplicationSummary:
    number: str
    service: ServiceType
    status: ApplicationStatus
    created_at: dt.datetime
    deadline: dt.datetime
    refusal: RefusalCode | None


@dataclass(frozen=True)
class ApplicationDetails:
    summary: ApplicationSummary
    history: Sequence[StatusChange]
    appointment: AppointmentView | None = None
    home_visit: HomeVisit | None = None
    certificate: CertificateRequest | None = None


def summarize(app: Application) -> ApplicationSummary:
    return ApplicationSummary(
        number=app.number,
        service=app.service,
        status=app.status,
        created_at=app.created_at,
        deadline=app.deadline,
        refusal=app.refusal,
    )


async def list_applications(uow: UnitOfWork, patient_id: int) -> list[ApplicationSummary]:
    """Newest first."""
    async with uow:
        return [summarize(a) for a in await uow.applications.of_patient(patient_id)]


async def application_details(uow: UnitOfWork, patient_id: int, number: str) -> ApplicationDetails:
    """One application of this patient, with its history; another patient's is not found."""
    async with uow:
        app = await uow.applications.by_number(normalize_application_number(number))
        if app is None or app.patient_id != patient_id:
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        appointment = None
        if app.service is ServiceType.APPOINTMENT:
            booked = await uow.applications.active_appointment_for_application(app.id or 0)
            if booked is not None:
                appointment = await appointment_view(uow, booked, app.number)
        return ApplicationDetails(
            summary=summarize(app),
            history=tuple(app.history),
            appointment=appointment,
            home_visit=await uow.applications.home_visit(app.id or 0),
            certificate=await uow.applications.certificate(app.id or 0),
        )


async def change_status(
    uow: UnitOfWork,
    number: str,
    target: ApplicationStatus,
    *,
    actor: Actor,
    now: dt.datetime,
    reason: RefusalCode | None = None,
    note: str | None = None,
) -> ApplicationSummary:
    """Move an application along the state machine (InvalidTransition when it may not).

    A refusal must name its legal ground (R-35: never a bare "refused").
    """
    now = require_aware(now)
    async with uow:
        app = await uow.applications.by_number(normalize_application_number(number))
        if app is None:
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        if target is ApplicationStatus.REFUSED and reason not in LEGAL_GROUNDS:
            raise InvalidTransition(app.status, target)
        app.transition(target, actor=actor, at=now, reason=reason, note=note)
        if target in (ApplicationStatus.CANCELLED, ApplicationStatus.REFUSED):
            booked = await uow.applications.active_appointment_for_application(app.id or 0)
            if booked is not None:  # the slot is freed with the application
                booked.active = False
                booked.cancelled_at = now
                await notifications.drop_reminders(uow.session, booked.id or 0)
        # Issue 11: a change by someone else reaches the patient (same transaction: outbox).
        await notifications.status_changed(uow, app, actor=actor, now=now)
        await uow.commit()
        return summarize(app)
