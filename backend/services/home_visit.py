"""S4 «Дәрігерді үйге шақыру»: calling the district doctor to the patient's home.

seed-003 S4 and R-14, R-21..R-23: refusal grounds as S3 (unreliable data; not attached here);
requests accepted until 2 hours before the clinic closes (weekdays 18:00, Saturday 12:00);
after the cut-off, on Sundays and holidays the request is registered for the next working day
and the patient is told so; the result is a record in the calls journal with the date and time
of the doctor's arrival. Emergencies are never a home visit (103): the dialogs stop those.

Issue 10: the arrival windows come from the district doctor's stored home-visit hours
(`schedules.TemplateKind.HOME_VISITS`, never overlapping the reception), each with a capacity;
a full day is refused with the next working day that has room, never overbooked; one open
request per patient per day; the patient may cancel an open request, freeing its place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from backend.domain.calendar import ClinicCalendar, Intake
from backend.domain.model import Clinic, Doctor, HomeVisit
from backend.domain.phone import InvalidPhone, normalize_kz_mobile
from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import (
    Actor,
    ApplicationStatus,
    ServiceType,
    can_transition,
)
from backend.services.common import (
    new_application,
    normalize_application_number,
    require_attached,
    require_aware,
)
from backend.services.patients import acting_for, may_act_for
from backend.services.schedules import (
    HOME_VISITS_PER_WINDOW,
    VisitWindow,
    home_visit_windows,
)
from backend.services.unit_of_work import UnitOfWork

VISIT_WINDOW = dt.timedelta(hours=2)
VISITS_PER_WINDOW = HOME_VISITS_PER_WINDOW  # the default; each window has its own capacity
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


async def _subject(
    uow: UnitOfWork, patient_id: int, for_patient: int | None, now: dt.datetime
) -> int:
    """Issue 14, S4 row 8: oneself, or a child the signed-in patient represents (the child's
    clinic, district doctor and address); NOT_REPRESENTED for anyone else."""
    if for_patient is None or for_patient == patient_id:
        return patient_id
    return (await acting_for(uow, patient_id, for_patient, now.date())).id or 0


async def home_visit_terms(
    uow: UnitOfWork, patient_id: int, *, now: dt.datetime, for_patient: int | None = None
) -> HomeVisitTerms:
    now = require_aware(now)
    async with uow.reading():
        actor = await uow.register.patient(patient_id)
        patient_id = await _subject(uow, patient_id, for_patient, now)
        attached = await require_attached(uow, patient_id)
        calendar = attached.clinic.calendar(await uow.register.holiday_calendar())
        return HomeVisitTerms(
            clinic=attached.clinic,
            intake=calendar.intake(now),
            cutoff_today=calendar.intake_cutoff(calendar.local(now).date()),
            registered_address=attached.patient.address,
            # A child's contact is the representative's phone (issue 14).
            registered_phone=attached.patient.phone or (actor.phone if actor else None),
        )


async def open_request_number(
    uow: UnitOfWork, patient_id: int, *, now: dt.datetime, for_patient: int | None = None
) -> str | None:
    """The number of the patient's open home-visit request for the intake day, if any (issue
    10: one open request per patient per day; the dialogs show it before anything is typed)."""
    now = require_aware(now)
    async with uow.reading():
        patient_id = await _subject(uow, patient_id, for_patient, now)
        attached = await require_attached(uow, patient_id)
        calendar = attached.clinic.calendar(await uow.register.holiday_calendar())
        existing = await uow.applications.open_home_visit_on(patient_id, calendar.intake(now).day)
        return existing[0].number if existing else None


def _clean(value: str, field: str, limit: int, *, required: bool = True) -> str:
    text = " ".join(value.split())
    if (required and not text) or len(text) > limit:
        raise Refusal(RefusalCode.INVALID_INPUT, field=field, limit=limit)
    return text


NEXT_DAY_SEARCH = 12  # working days (Monday-Saturday) searched for a day with room: two weeks


async def _clinic_window(
    calendar: ClinicCalendar, day: dt.date, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """No district doctor: the clinic assigns one; a 2-hour window from opening (or the next
    full hour today), as before home-visit hours existed."""
    opening = calendar.opening(day)
    closing = calendar.closing(day)
    if opening is None or closing is None:  # pragma: no cover - visit days are working days
        raise Refusal(RefusalCode.INVALID_INPUT, field="day")
    start = opening
    if calendar.local(now).date() == day:
        next_hour = calendar.local(now).replace(minute=0, second=0, microsecond=0)
        start = max(opening, next_hour + dt.timedelta(hours=1))
    return start, min(start + VISIT_WINDOW, closing)


async def _free_window(
    uow: UnitOfWork, calendar: ClinicCalendar, doctor_id: int, day: dt.date, now: dt.datetime
) -> VisitWindow | None:
    """The earliest window of the doctor's home-visit hours on `day` that has not started and
    has room (cancelled and refused visits free their place)."""
    for window in await home_visit_windows(uow, doctor_id, day, calendar):
        if window.start < now:
            continue
        if await uow.applications.home_visits_in_window(doctor_id, window.start) < window.capacity:
            return window
    return None


async def _next_day_with_room(
    uow: UnitOfWork, calendar: ClinicCalendar, doctor_id: int, after: dt.date, now: dt.datetime
) -> dt.date | None:
    day = after
    for _ in range(NEXT_DAY_SEARCH):
        day = calendar.next_working_day(day)
        if await _free_window(uow, calendar, doctor_id, day, now) is not None:
            return day
    return None


async def _district_doctor(uow: UnitOfWork, district_id: int | None) -> Doctor | None:
    if district_id is None:
        return None
    district = await uow.register.district(district_id)
    if district is None or district.doctor_id is None:
        return None
    # Locked: this doctor's windows are counted and filled by one request at a time.
    return await uow.register.doctor_for_update(district.doctor_id)


async def request_home_visit(
    uow: UnitOfWork,
    patient_id: int,
    request: HomeVisitRequest,
    *,
    now: dt.datetime,
    actor: Actor = Actor.PATIENT,
    day: dt.date | None = None,
    for_patient: int | None = None,
) -> HomeVisitView:
    """Register a home visit in the earliest window with room of the district doctor's
    home-visit hours on the intake day (S4 row 7, R-13/R-14), or on `day`, a later working
    day the patient accepted (the one offered when the intake day is full).

    Refusals: HOME_VISITS_FULL (no window with room that day; `next_day` is the next working
    day with room, or "" when none in two weeks: never an overbooked window), HOME_VISIT_EXISTS
    (one open request per patient per day, `number` is the open one), INVALID_INPUT.
    """
    now = require_aware(now)
    reason = _clean(request.reason, "reason", MAX_REASON)
    symptoms = _clean(request.symptoms, "symptoms", MAX_SYMPTOMS, required=False)
    try:
        phone = normalize_kz_mobile(request.contact_phone)
    except InvalidPhone:
        raise Refusal(RefusalCode.INVALID_INPUT, field="contact_phone") from None
    async with uow:
        acted_by = patient_id
        patient_id = await _subject(uow, patient_id, for_patient, now)  # issue 14
        # The patient row is locked: one open request per day holds with two channels at once.
        if await uow.register.patient_for_update(patient_id) is None:
            raise Refusal(RefusalCode.PATIENT_NOT_FOUND)
        attached = await require_attached(uow, patient_id)
        address = _clean(
            request.address if request.address is not None else attached.patient.address or "",
            "address",
            MAX_ADDRESS,
        )
        calendar = attached.clinic.calendar(await uow.register.holiday_calendar())
        intake = calendar.intake(now)
        visit_day = intake.day if day is None else day
        if visit_day < intake.day or not calendar.is_working_day(visit_day):
            raise Refusal(RefusalCode.INVALID_INPUT, field="day")
        existing = await uow.applications.open_home_visit_on(patient_id, visit_day)
        if existing is not None:  # issue 10: one open request per patient per day
            raise Refusal(
                RefusalCode.HOME_VISIT_EXISTS,
                number=existing[0].number,
                day=visit_day.isoformat(),
            )
        doctor = await _district_doctor(uow, attached.attachment.district_id)
        if doctor is None:
            window_start, window_end = await _clinic_window(calendar, visit_day, now)
        else:
            window = await _free_window(uow, calendar, doctor.id or 0, visit_day, now)
            if window is None:
                offer = await _next_day_with_room(uow, calendar, doctor.id or 0, visit_day, now)
                raise Refusal(
                    RefusalCode.HOME_VISITS_FULL,
                    day=visit_day.isoformat(),
                    next_day=offer.isoformat() if offer else "",
                )
            window_start, window_end = window.start, window.end
        # S4 row 3/7, R-13/R-14: ≤ 30 min of the clinic's hours, from its opening at the earliest.
        deadline = calendar.request_terms(now, cutoff=True).deadline
        if intake.carried_over:
            status = ApplicationStatus.NEXT_WORKING_DAY  # told when submitting
        else:
            status = ApplicationStatus.REGISTERED
        application = new_application(
            patient_id=patient_id,
            service=ServiceType.HOME_VISIT,
            status=status,
            at=now,
            deadline=deadline,
            clinic_id=attached.clinic.id,
            actor=actor,
            by_representative=acted_by if acted_by != patient_id else None,
        )
        await uow.applications.add_new(application)
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
                visit_date=visit_day,
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


async def cancel(
    uow: UnitOfWork,
    patient_id: int,
    number: str,
    *,
    now: dt.datetime,
    actor: Actor = Actor.PATIENT,
) -> None:
    """The patient cancels their own home-visit request while it is open (not yet done); its
    place in the doctor's window is free again at once (issue 10).

    Refusals: APPLICATION_NOT_FOUND (unknown, another patient's, not a home visit),
    APPLICATION_CLOSED (completed, refused or cancelled already).
    """
    now = require_aware(now)
    async with uow:
        if await uow.register.patient_for_update(patient_id) is None:
            raise Refusal(RefusalCode.PATIENT_NOT_FOUND)
        application = await uow.applications.by_number(
            normalize_application_number(number), for_update=True
        )
        if (
            application is None
            or application.service is not ServiceType.HOME_VISIT
            or (
                application.patient_id != patient_id
                # Issue 14: a represented child's request too (S4 row 8).
                and not await may_act_for(uow, patient_id, application.patient_id, now.date())
            )
        ):
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        if not can_transition(application.status, ApplicationStatus.CANCELLED):
            raise Refusal(RefusalCode.APPLICATION_CLOSED)
        application.transition(ApplicationStatus.CANCELLED, actor=actor, at=now)
        await uow.commit()
