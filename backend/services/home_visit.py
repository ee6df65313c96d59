"""S4 «Дәрігерді үйге шақыру»: calling the district doctor to the patient's home.

seed-003 S4 and R-14, R-21..R-23: refusal grounds as S3 (unreliable data; not attached here);
requests accepted until 2 hours before the clinic closes (weekdays 18:00, Saturday 12:00);
after the cut-off, on Sundays and holidays the request is registered for the next working day
and the patient is told so; the result is a record in the calls journal with the date and time
of the doctor's arrival. Emergencies are never a home visit (103): the dialogs stop those.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from backend.adapters import orm
from backend.domain.calendar import ClinicCalendar, Intake, IntakeDay
from backend.domain.model import Clinic, Doctor, HomeVisit
from backend.domain.phone import InvalidPhone, normalize_kz_mobile
from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.services.common import open_application, require_attached, require_aware
from backend.services.unit_of_work import UnitOfWork

VISIT_WINDOW = dt.timedelta(hours=2)
VISITS_PER_WINDOW = 4
MAX_ADDRESS = 500
MAX_REASON = 500
MAX_SYMPTOMS = 1000


@dataclass(frozen=True)
class HomeVisitTerms:
    """What the patient is told before typing anything (issue 4, journey 5)."""

    clinic: Clinic
    intake: Intake
    cutoff_today: dt.datetime | None  # None: the clinic is closed today
    registered_address: str | None
    registered_phone: str | None


@dataclass(frozen=True)
class HomeVisitRequest:
    reason: str
    symptoms: str
    contact_phone: str
    address: str | None = None  # None: the registered home address


@dataclass(frozen=True)
class HomeVisitView:
    application_number: str
    status: ApplicationStatus
    intake: Intake
    clinic: Clinic
    doctor: Doctor | None
    address: str
    window_start: dt.datetime
    window_end: dt.datetime


async def home_visit_terms(
    uow: UnitOfWork, patient_id: int, *, now: dt.datetime
) -> HomeVisitTerms:
    now = require_aware(now)
    async with uow:
        attached = await require_attached(uow, patient_id)
        calendar = attached.clinic.calendar(await uow.register.holiday_calendar())
        return HomeVisitTerms(
            clinic=attached.clinic,
            intake=calendar.intake(now),
            cutoff_today=calendar.intake_cutoff(calendar.local(now).date()),
            registered_address=attached.patient.address,
            registered_phone=attached.patient.phone,
        )


def _clean(value: str, field: str, limit: int, *, required: bool = True) -> str:
    text = " ".join(value.split())
    if (required and not text) or len(text) > limit:
        raise Refusal(RefusalCode.INVALID_INPUT, field=field, limit=limit)
    return text


async def _plan_window(
    uow: UnitOfWork,
    calendar: ClinicCalendar,
    doctor_id: int | None,
    intake: Intake,
    now: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    """The first 2-hour window with room on the intake day, not before the next full hour."""
    opening = calendar.opening(intake.day)
    closing = calendar.closing(intake.day)
    if opening is None or closing is None:  # pragma: no cover - intake days are working days
        raise Refusal(RefusalCode.INVALID_INPUT)
    earliest = opening
    if intake.kind is IntakeDay.SAME_DAY:
        next_hour = calendar.local(now).replace(minute=0, second=0, microsecond=0)
        next_hour += dt.timedelta(hours=1)
        earliest = max(opening, next_hour)
    start = earliest
    while start + VISIT_WINDOW < closing and doctor_id is not None:
        taken = await uow.session.scalar(
            select(func.count()).where(
                orm.home_visits.c.doctor_id == doctor_id,
                orm.home_visits.c.window_start == start,
            )
        )
        if (taken or 0) < VISITS_PER_WINDOW:
            break
        start += VISIT_WINDOW
    return start, min(start + VISIT_WINDOW, closing)


async def request_home_visit(
    uow: UnitOfWork,
    patient_id: int,
    request: HomeVisitRequest,
    *,
    now: dt.datetime,
    actor: Actor = Actor.PATIENT,
) -> HomeVisitView:
    now = require_aware(now)
    reason = _clean(request.reason, "reason", MAX_REASON)
    symptoms = _clean(request.symptoms, "symptoms", MAX_SYMPTOMS, required=False)
    try:
        phone = normalize_kz_mobile(request.contact_phone)
    except InvalidPhone:
        raise Refusal(RefusalCode.INVALID_INPUT, field="contact_phone") from None
    async with uow:
        attached = await require_attached(uow, patient_id)
        address = _clean(
            request.address if request.address is not None else attached.patient.address or "",
            "address",
            MAX_ADDRESS,
        )
        calendar = attached.clinic.calendar(await uow.register.holiday_calendar())
        intake = calendar.intake(now)
        doctor: Doctor | None = None
        if attached.attachment.district_id is not None:
            district = await uow.register.district(attached.attachment.district_id)
            if district is not None and district.doctor_id is not None:
                doctor = await uow.register.doctor(district.doctor_id)
        window_start, window_end = await _plan_window(
            uow, calendar, doctor.id if doctor else None, intake, now
        )
        # S4 row 3/7, R-13/R-14: ≤ 30 min of the clinic's hours, from its opening at the earliest.
        deadline = calendar.request_terms(now, cutoff=True).deadline
        if intake.carried_over:
            status = ApplicationStatus.NEXT_WORKING_DAY  # told when submitting
        else:
            status = ApplicationStatus.REGISTERED
        application = await open_application(
            uow,
            patient_id=patient_id,
            service=ServiceType.HOME_VISIT,
            status=status,
            at=now,
            deadline=deadline,
            clinic_id=attached.clinic.id,
            actor=actor,
        )
        uow.applications.add(
            HomeVisit(
                application_id=application.id or 0,
                patient_id=patient_id,
                clinic_id=attached.clinic.id or 0,
                doctor_id=doctor.id if doctor else None,
                address=address,
                reason=reason,
                symptoms=symptoms,
                contact_phone=phone,
                visit_date=intake.day,
                window_start=window_start,
                window_end=window_end,
                created_at=now,
            )
        )
        await uow.commit()
        return HomeVisitView(
            application_number=application.number,
            status=status,
            intake=intake,
            clinic=attached.clinic,
            doctor=doctor,
            address=address,
            window_start=window_start,
            window_end=window_end,
        )
