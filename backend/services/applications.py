"""Every application of a patient, one view (the «жеке кабинет» analogue, seed-003 R-33/R-34),
and status changes by the clinic, a 1414 operator or the system."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from backend.domain.model import Application, CertificateRequest, HomeVisit, StatusChange
from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType, is_open
from backend.services import notifications
from backend.services.booking import AppointmentView, appointment_view
from backend.services.common import normalize_application_number, require_aware
from backend.services.patients import may_act_for, represented_children, short_name
from backend.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ApplicationSummary:
    number: str
    service: ServiceType
    status: ApplicationStatus
    created_at: dt.datetime
    deadline: dt.datetime
    refusal: RefusalCode | None
    # The start of the appointment (APPOINTMENT only, while it is active): what the patient
    # reads as "when", not the processing deadline.
    appointment_at: dt.datetime | None = None
    # Issue 14: the short name of the represented child the application is for; None for
    # the signed-in patient's own.
    for_name: str | None = None

    @property
    def pending_deadline(self) -> dt.datetime | None:
        """The processing deadline, only while a result is still owed (issue 10 part 3).

        An appointment's result is the booking and a home visit's the planned arrival (S3/S4
        row 3, R-23): once registered, nothing is owed by a deadline any more, so none is shown.
        A certificate or statement is owed until it is completed (S5, S17-S19 row 3)."""
        if not is_open(self.status):
            return None
        if self.service in (ServiceType.APPOINTMENT, ServiceType.HOME_VISIT) and self.status in (
            ApplicationStatus.REGISTERED,
            ApplicationStatus.IN_PROGRESS,
        ):
            return None
        return self.deadline

    def is_late(self, now: dt.datetime) -> bool:
        """R-16: the deadline passed without a result; the card says so and names 1414."""
        deadline = self.pending_deadline
        return deadline is not None and require_aware(now) > deadline


@dataclass(frozen=True)
class ApplicationDetails:
    summary: ApplicationSummary
    history: Sequence[StatusChange]
    appointment: AppointmentView | None = None
    home_visit: HomeVisit | None = None
    certificate: CertificateRequest | None = None


def summarize(
    app: Application, appointment_at: dt.datetime | None = None, for_name: str | None = None
) -> ApplicationSummary:
    return ApplicationSummary(
        for_name=for_name,
        number=app.number,
        service=app.service,
        status=app.status,
        created_at=app.created_at,
        deadline=app.deadline,
        refusal=app.refusal,
        appointment_at=appointment_at,
    )


async def list_applications(
    uow: UnitOfWork, patient_id: int, *, today: dt.date | None = None
) -> list[ApplicationSummary]:
    """Newest first; an appointment with its start time (one query per person). Given
    `today`, also those of every child the patient represents that day, each marked with the
    child's short name (issue 14)."""
    async with uow.reading():
        people: list[tuple[int, str | None]] = [(patient_id, None)]
        if today is not None:
            people += [
                (c.id or 0, short_name(c))
                for c in await represented_children(uow, patient_id, today)
            ]
        found: list[ApplicationSummary] = []
        for person, name in people:
            apps = await uow.applications.of_patient(person)
            starts = await uow.applications.appointment_starts(person)
            found += [summarize(a, starts.get(a.id or 0), name) for a in apps]
        found.sort(key=lambda s: s.created_at, reverse=True)
        return found


async def application_details(
    uow: UnitOfWork, patient_id: int, number: str, *, today: dt.date | None = None
) -> ApplicationDetails:
    """One application of this patient (given `today`, or of a child they represent that
    day, issue 14), with its history; anyone else's is not found."""
    async with uow.reading():
        app = await uow.applications.by_number(normalize_application_number(number))
        if app is None:
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        for_name: str | None = None
        if app.patient_id != patient_id:
            if today is None or not await may_act_for(uow, patient_id, app.patient_id, today):
                raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
            child = await uow.register.patient(app.patient_id)
            for_name = short_name(child) if child is not None else None
        appointment = None
        if app.service is ServiceType.APPOINTMENT:
            booked = await uow.applications.active_appointment_for_application(app.id or 0)
            if booked is not None:
                appointment = await appointment_view(uow, booked, app.number)
        return ApplicationDetails(
            summary=summarize(
                app, appointment.starts_at if appointment is not None else None, for_name
            ),
            history=tuple(app.history),
            appointment=appointment,
            # Only the kind of request the application is has a row to read (issue 16).
            home_visit=(
                await uow.applications.home_visit(app.id or 0)
                if app.service is ServiceType.HOME_VISIT
                else None
            ),
            certificate=(
                await uow.applications.certificate(app.id or 0)
                if app.service not in (ServiceType.APPOINTMENT, ServiceType.HOME_VISIT)
                else None
            ),
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
    """Move an application along the state machine; nothing changes when it may not:

    - Refusal(APPLICATION_NOT_FOUND): no application with this number;
    - InvalidTransition: the machine has no such move (e.g. out of a final status);
    - TransitionNotAllowed (an InvalidTransition): not this actor's move in this service
      (a patient completing, a clinic acting on an automated statement, a no-show of a visit);
    - RefusalGroundNotAllowed (an InvalidTransition): a refusal without a ground of this
      service (R-35: never a bare "refused"; S3-S5 row 9, S17-S19), or a ground on anything else.
    """
    now = require_aware(now)
    async with uow:
        app = await uow.applications.by_number(
            normalize_application_number(number), for_update=True
        )
        if app is None:
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
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
