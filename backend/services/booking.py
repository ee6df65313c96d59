"""S3 «Дәрігердің қабылдауына жазылу»: browse, book, cancel and reschedule appointments.

Rules (seed-003 S3, R-17..R-20): refusal grounds are exactly (1) unreliable data and (2) not
attached to this clinic; only slots of the patient's own clinic; a slot is never booked twice
(the database's partial unique index `uq_appointments_active_slot` decides, not Python);
reschedule holds the new slot before it frees the old one, in one transaction; a cap on
concurrent future appointments; cancelling frees the slot at once. The result is the
application status with the date and time (S3 row 5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from backend.bootstrap import BookingPolicy
from backend.domain.model import (
    Application,
    Appointment,
    Attachment,
    Clinic,
    Doctor,
    FreeSlot,
    Patient,
    Slot,
    Specialty,
    audiences_for,
)
from backend.domain.refusals import ATTACHED_NOWHERE, Refusal, RefusalCode
from backend.domain.statuses import (
    Actor,
    ApplicationStatus,
    ServiceType,
)
from backend.services import notifications
from backend.services.common import (
    Attached,
    attached_or_refuse,
    new_application,
    require_attached,
    require_aware,
)
from backend.services.patients import acting_for, may_act_for
from backend.services.unit_of_work import UnitOfWork

_SLOT_INDEX = "uq_appointments_active_slot"


@dataclass(frozen=True)
class AppointmentView:
    appointment_id: int
    application_number: str
    doctor: Doctor
    specialty: Specialty
    clinic: Clinic
    room: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    patient_id: int = 0  # whose appointment (a represented child's, issue 14)

    @property
    def local_start(self) -> dt.datetime:
        return self.starts_at.astimezone(self.clinic.tz)


def _age(attached: Attached, moment: dt.datetime) -> int:
    """The patient's age on the clinic-local date of `moment`."""
    return attached.patient.age_on(require_aware(moment).astimezone(attached.clinic.tz).date())


async def _subject(
    uow: UnitOfWork, patient_id: int, for_patient: int | None, now: dt.datetime | None
) -> int:
    """Issue 14: the signed-in `patient_id` acts for themselves or, given `for_patient`, for a
    child they represent (S3 row 8); NOT_REPRESENTED for anyone else."""
    if for_patient is None or for_patient == patient_id:
        return patient_id
    if now is None:
        raise ValueError("acting for someone else needs `now` (the age rule)")
    subject = await acting_for(uow, patient_id, for_patient, require_aware(now).date())
    return subject.id or 0


async def _subject_reading(
    uow: UnitOfWork, patient_id: int, for_patient: int | None, now: dt.datetime
) -> int:
    """`_subject` in a reading unit of work, entered only when acting for someone else (the
    free slots are read apart from any session: `_own_doctor_slots`)."""
    if for_patient is None or for_patient == patient_id:
        return patient_id
    async with uow.reading():
        return await _subject(uow, patient_id, for_patient, now)


async def specialties_for(
    uow: UnitOfWork,
    patient_id: int,
    *,
    now: dt.datetime | None = None,
    for_patient: int | None = None,
) -> Sequence[Specialty]:
    """Specialties with doctors at the patient's own clinic (NOT_ATTACHED_HERE otherwise);
    given `now`, only those that serve the patient's age that day (a paediatrician under 18,
    a therapist 18 and over: issue 10). Given `for_patient`, those of the child the patient
    represents: the child's clinic and age (issue 14)."""
    async with uow.reading():
        patient_id = await _subject(uow, patient_id, for_patient, now)
        attached = await require_attached(uow, patient_id)
        found = await uow.register.specialties_at(attached.clinic.id or 0)
        if now is None:
            return found
        age = _age(attached, now)
        return [s for s in found if s.serves(age)]


async def doctors_for(
    uow: UnitOfWork,
    patient_id: int,
    specialty_id: int,
    *,
    now: dt.datetime | None = None,
    for_patient: int | None = None,
) -> Sequence[Doctor]:
    """The specialty's doctors at the patient's own clinic; given `now`, none when the
    specialty does not serve the patient's age that day."""
    async with uow.reading():
        patient_id = await _subject(uow, patient_id, for_patient, now)
        attached = await require_attached(uow, patient_id)
        return await uow.register.doctors_at(
            attached.clinic.id or 0,
            specialty_id,
            audiences=None if now is None else audiences_for(_age(attached, now)),
        )


async def _own_doctor_slots(
    uow: UnitOfWork, patient_id: int, doctor_id: int, start: dt.datetime, end: dt.datetime
) -> tuple[ZoneInfo, list[FreeSlot]]:
    """The time zone of the patient's clinic and the free slots of the doctor starting in
    [start, end) when the doctor is of that clinic, in one query on a connection of its own
    (issue 16: no session); refused otherwise."""
    found = await uow.alone.doctor_with_free_slots(patient_id, doctor_id, start, end)
    if found is None:
        raise Refusal(RefusalCode.PATIENT_NOT_FOUND)
    # S3/S4/S5 row 9 (2), as `attached_or_refuse`: attached nowhere, or to no known clinic.
    if found.attached_to is None:
        raise Refusal(RefusalCode.NOT_ATTACHED_HERE, attached=ATTACHED_NOWHERE)
    if found.clinic_tz is None:
        raise Refusal(RefusalCode.NOT_ATTACHED_HERE)
    if found.doctor is None:
        raise Refusal(RefusalCode.SLOT_UNAVAILABLE)
    if found.doctor_clinic != found.attached_to:  # S3 row 9 (2): only the own clinic
        raise Refusal(RefusalCode.NOT_ATTACHED_HERE)
    return ZoneInfo(found.clinic_tz), found.free


# Any clinic's local day lies within this of the same UTC day (UTC-12 to UTC+14): the slots of
# a clinic-local day are asked for with these margins and kept by the clinic's own time zone.
_ANY_ZONE = dt.timedelta(hours=14)
# "Later than now" as "from just after now": the database keeps microseconds at most.
_JUST_AFTER = dt.timedelta(microseconds=1)


def _require_serves(attached: Attached, specialty: Specialty, on: dt.datetime) -> None:
    """Issue 10: the doctor's specialty serves the patient's age on the clinic-local date of
    `on` (a paediatrician under 18, a therapist 18 and over); a forged button or typed number
    for another doctor is refused."""
    if not specialty.serves(_age(attached, on)):
        raise Refusal(RefusalCode.SPECIALTY_NOT_FOR_AGE)


async def free_slots_by_day(
    uow: UnitOfWork,
    patient_id: int,
    doctor_id: int,
    *,
    now: dt.datetime,
    horizon_days: int,
    for_patient: int | None = None,
) -> dict[dt.date, list[FreeSlot]]:
    """The doctor's free slots after now, by clinic-local date, days and times in order (one
    query: the day list and the earliest day's times come from the same read, issue 16); the
    free days are its keys."""
    now = require_aware(now)
    patient_id = await _subject_reading(uow, patient_id, for_patient, now)
    tz, slots = await _own_doctor_slots(
        uow, patient_id, doctor_id, now, now + dt.timedelta(days=horizon_days)
    )
    days: dict[dt.date, list[FreeSlot]] = {}
    for slot in slots:  # earliest first, as read
        if slot.starts_at > now:  # as `free_slots`: what `book` takes
            days.setdefault(slot.starts_at.astimezone(tz).date(), []).append(slot)
    return days


async def free_slots(
    uow: UnitOfWork,
    patient_id: int,
    doctor_id: int,
    day: dt.date,
    *,
    now: dt.datetime,
    for_patient: int | None = None,
) -> Sequence[FreeSlot]:
    """The doctor's free slots on a clinic-local date, later than now."""
    patient_id = await _subject_reading(uow, patient_id, for_patient, now)
    utc_day = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    tz, slots = await _own_doctor_slots(
        uow,
        patient_id,
        doctor_id,
        max(utc_day - _ANY_ZONE, require_aware(now)),
        utc_day + dt.timedelta(days=1) + _ANY_ZONE,
    )
    # In UTC, as the database gives the slots: comparing within one zone is cheap (issue 16).
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    # Only what `book` takes: it refuses a slot that starts at `now` (it has begun), so such a
    # slot is not offered either.
    start = max(start, now.astimezone(dt.UTC) + _JUST_AFTER)
    return [s for s in slots if start <= s.starts_at < end]


async def _bookable_slot(
    uow: UnitOfWork,
    patient_id: int,
    slot_id: int,
    now: dt.datetime,
    *,
    locked: tuple[Patient, Attachment | None, Clinic | None] | None = None,
    found: tuple[Slot, Doctor, Specialty] | Literal[False] | None = False,
) -> tuple[Slot, Doctor, Clinic]:
    """The slot, its doctor and the patient's clinic, when the patient may book it (whether it
    is taken is asked by the caller); `locked`: the patient as already loaded, attachment and
    clinic with it; `found`: the slot with doctor and specialty as already loaded."""
    if found is False:
        found = await uow.register.slot_with_doctor(slot_id)  # one query: slot, doctor, specialty
    if found is None:
        raise Refusal(RefusalCode.SLOT_UNAVAILABLE)
    slot, doctor, specialty = found
    attached = (
        attached_or_refuse(*locked)
        if locked is not None
        else await require_attached(uow, patient_id)
    )
    if doctor.clinic_id != attached.clinic.id:  # S3 row 9 (2): only the patient's own clinic
        raise Refusal(RefusalCode.NOT_ATTACHED_HERE)
    _require_serves(attached, specialty, slot.starts_at)  # age on the day of the visit
    if slot.starts_at <= now:
        raise Refusal(RefusalCode.SLOT_UNAVAILABLE)
    return slot, doctor, attached.clinic


async def _refuse_slot_taken(uow: UnitOfWork, exc: IntegrityError) -> None:
    """Roll back; SLOT_TAKEN when the unique index refused a second booking of a slot (the
    caller re-raises any other integrity error)."""
    await uow.rollback()
    if _SLOT_INDEX in str(exc.orig) or "appointments.slot_id" in str(exc.orig):
        raise Refusal(RefusalCode.SLOT_TAKEN) from None


async def _commit_holding_slot(uow: UnitOfWork) -> None:
    """Commit; the unique index turning a second booking of a slot into SLOT_TAKEN."""
    try:
        await uow.commit()
    except IntegrityError as exc:
        await _refuse_slot_taken(uow, exc)
        raise


async def _tell_and_remind(
    uow: UnitOfWork,
    application: Application,
    appointment: Appointment,
    slot: Slot,
    clinic: Clinic,
    *,
    kind: notifications.Kind,
    actor: Actor,
    now: dt.datetime,
) -> None:
    """Issue 11, in the booking's own transaction: the reminders of the (new) appointment,
    and a notification when staff, not the patient, made the change."""
    await notifications.plan_reminders(
        uow.session,
        appointment_id=appointment.id or 0,
        patient_id=appointment.patient_id,
        starts_at=slot.starts_at,
        tz=clinic.tz,
        now=now,
    )
    await notifications.appointment_changed(
        uow, application, kind, actor=actor, starts_at=slot.starts_at, now=now
    )


async def appointment_view(
    uow: UnitOfWork, appointment: Appointment, number: str
) -> AppointmentView:
    slot = await uow.register.slot(appointment.slot_id)
    doctor = await uow.register.doctor(appointment.doctor_id)
    if slot is None or doctor is None:  # pragma: no cover - guarded by foreign keys
        raise Refusal(RefusalCode.APPOINTMENT_NOT_FOUND)
    specialty = await uow.register.specialty(doctor.specialty_id)
    clinic = await uow.register.clinic(doctor.clinic_id)
    if specialty is None or clinic is None:  # pragma: no cover - guarded by foreign keys
        raise Refusal(RefusalCode.APPOINTMENT_NOT_FOUND)
    return AppointmentView(
        appointment_id=appointment.id or 0,
        application_number=number,
        doctor=doctor,
        specialty=specialty,
        clinic=clinic,
        room=slot.room or doctor.room,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        patient_id=appointment.patient_id,
    )


async def book(
    uow: UnitOfWork,
    patient_id: int,
    slot_id: int,
    *,
    now: dt.datetime,
    policy: BookingPolicy,
    actor: Actor = Actor.PATIENT,
    for_patient: int | None = None,
) -> AppointmentView:
    """Book a free slot of the patient's own clinic; raises Refusal, never a database error.

    Given `for_patient`, the signed-in `patient_id` books for a child they represent (issue
    14): the child's clinic, the child's age, the child's application and cap; the history
    notes who acted."""
    now = require_aware(now)
    async with uow:
        acted_by = patient_id
        patient_id = await _subject(uow, patient_id, for_patient, now)
        # Issue 16: one query for what the booking decides on; the patient row is locked
        # (PostgreSQL) so that the cap holds when one patient books from two channels at once
        # (SQLite: the transaction already holds the write lock). A slot already taken is
        # refused here, before anything is written.
        facts = await uow.applications.booking_facts(patient_id, slot_id, now)
        if facts.patient is None:
            raise Refusal(RefusalCode.PATIENT_NOT_FOUND)
        slot, doctor, clinic = await _bookable_slot(
            uow,
            patient_id,
            slot_id,
            now,
            locked=(facts.patient, facts.attachment, facts.clinic),
            found=facts.slot,
        )
        if facts.taken:
            raise Refusal(RefusalCode.SLOT_TAKEN)
        cap = policy.max_future_appointments
        if facts.upcoming is not None and facts.upcoming >= cap:
            raise Refusal(RefusalCode.TOO_MANY_APPOINTMENTS, limit=cap)
        # The slot is taken from the doctors' reception schedule at once (S3 row 5, R-18).
        application = new_application(
            patient_id=patient_id,
            service=ServiceType.APPOINTMENT,
            status=ApplicationStatus.REGISTERED,
            at=now,
            # S3 row 3/7: ≤ 30 min via the e-channel, of the clinic's hours (from its opening).
            deadline=clinic.calendar(await uow.register.holiday_calendar())
            .request_terms(now)
            .deadline,
            clinic_id=clinic.id,
            actor=actor,
            by_representative=acted_by if acted_by != patient_id else None,
        )
        appointment = Appointment(
            application_id=0,  # set when stored
            patient_id=patient_id,
            slot_id=slot.id or 0,
            doctor_id=doctor.id or 0,
            created_at=now,
        )
        try:
            # PostgreSQL: one statement, which also counts the cap after the row lock.
            stored = await uow.applications.store_booking(
                application,
                appointment,
                notifications.reminder_rows(
                    patient_id=patient_id, starts_at=slot.starts_at, tz=clinic.tz, now=now
                ),
                cap=cap if facts.upcoming is None else None,
            )
        except IntegrityError as exc:
            await _refuse_slot_taken(uow, exc)
            raise
        if not stored:
            raise Refusal(RefusalCode.TOO_MANY_APPOINTMENTS, limit=cap)
        await notifications.appointment_changed(
            uow,
            application,
            notifications.Kind.BOOKED,
            actor=actor,
            starts_at=slot.starts_at,
            now=now,
        )
        await _commit_holding_slot(uow)
        return await appointment_view(uow, appointment, application.number)


async def _own_active_appointment(
    uow: UnitOfWork, patient_id: int, appointment_id: int, now: dt.datetime
) -> tuple[Appointment, Application]:
    appointment = await uow.applications.appointment(appointment_id, lock=True)
    # Issue 14: one's own, or a represented child's (S3 row 8); anyone else's is not found.
    if appointment is None or (
        appointment.patient_id != patient_id
        and not await may_act_for(uow, patient_id, appointment.patient_id, now.date())
    ):
        raise Refusal(RefusalCode.APPOINTMENT_NOT_FOUND)
    slot = await uow.register.slot(appointment.slot_id)
    if not appointment.active or slot is None or slot.starts_at <= now:
        raise Refusal(RefusalCode.APPOINTMENT_NOT_ACTIVE)
    application = await uow.applications.get(appointment.application_id)
    if application is None:  # pragma: no cover - guarded by foreign keys
        raise Refusal(RefusalCode.APPOINTMENT_NOT_FOUND)
    return appointment, application


async def cancel(
    uow: UnitOfWork,
    patient_id: int,
    appointment_id: int,
    *,
    now: dt.datetime,
    actor: Actor = Actor.PATIENT,
) -> None:
    """Cancel an upcoming appointment; its slot is free again at once."""
    now = require_aware(now)
    async with uow:
        appointment, application = await _own_active_appointment(
            uow, patient_id, appointment_id, now
        )
        appointment.active = False
        appointment.cancelled_at = now
        application.transition(ApplicationStatus.CANCELLED, actor=actor, at=now)
        await notifications.drop_reminders(uow.session, appointment.id or 0)
        slot = await uow.register.slot(appointment.slot_id)
        if slot is not None:
            await notifications.appointment_changed(
                uow,
                application,
                notifications.Kind.CANCELLED,
                actor=actor,
                starts_at=slot.starts_at,
                now=now,
            )
        await uow.commit()


async def reschedule(
    uow: UnitOfWork,
    patient_id: int,
    appointment_id: int,
    new_slot_id: int,
    *,
    now: dt.datetime,
    actor: Actor = Actor.PATIENT,
) -> AppointmentView:
    """Move an appointment to another free slot atomically: the new slot is held (inserted
    under the unique index) before the old one is freed, in one transaction; if the new slot
    is taken, nothing changes."""
    now = require_aware(now)
    async with uow:
        old, application = await _own_active_appointment(uow, patient_id, appointment_id, now)
        patient_id = old.patient_id  # a represented child's appointment moves at their clinic
        if new_slot_id == old.slot_id:
            raise Refusal(RefusalCode.SLOT_TAKEN)
        slot, doctor, clinic = await _bookable_slot(uow, patient_id, new_slot_id, now)
        if await uow.applications.slot_is_booked(new_slot_id):
            raise Refusal(RefusalCode.SLOT_TAKEN)
        new = Appointment(
            application_id=application.id or 0,
            patient_id=patient_id,
            slot_id=slot.id or 0,
            doctor_id=doctor.id or 0,
            created_at=now,
        )
        uow.applications.add(new)
        try:
            await uow.applications.flush()  # the new slot is held from here on
        except IntegrityError:
            await uow.rollback()
            raise Refusal(RefusalCode.SLOT_TAKEN) from None
        old.active = False
        old.cancelled_at = now
        application.transition(
            ApplicationStatus.REGISTERED, actor=actor, at=now, note="rescheduled"
        )
        await notifications.drop_reminders(uow.session, old.id or 0)
        await _tell_and_remind(
            uow,
            application,
            new,
            slot,
            clinic,
            kind=notifications.Kind.MOVED,
            actor=actor,
            now=now,
        )
        await _commit_holding_slot(uow)
        return await appointment_view(uow, new, application.number)


async def upcoming_appointments(
    uow: UnitOfWork, patient_id: int, *, now: dt.datetime, for_patient: int | None = None
) -> list[AppointmentView]:
    async with uow.reading():
        patient_id = await _subject(uow, patient_id, for_patient, now)
        rows = await uow.applications.upcoming_appointments(patient_id, require_aware(now))
        views = []
        for appointment, _slot in rows:
            application = await uow.applications.get(appointment.application_id)
            views.append(
                await appointment_view(uow, appointment, application.number if application else "")
            )
        return views
