"""Repositories over the SQLAlchemy session. Queries use `table.c.col` (mypy --strict clean)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.adapters import orm
from backend.domain.calendar import HolidayCalendar, is_kurban_ait_note
from backend.domain.model import (
    Application,
    Appointment,
    Attachment,
    CertificateRequest,
    Clinic,
    District,
    Doctor,
    HomeVisit,
    Patient,
    Slot,
    Specialty,
)

_active_booking = exists().where(
    and_(orm.appointments.c.slot_id == orm.slots.c.id, orm.appointments.c.active)
)


class SqlRegister:
    """The register port (backend.ports.Register) on this service's own tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def patient_by_iin(self, iin: str) -> Patient | None:
        stmt = select(Patient).where(orm.patients.c.iin == iin)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def patient(self, patient_id: int) -> Patient | None:
        return await self.session.get(Patient, patient_id)

    async def patient_for_update(self, patient_id: int) -> Patient | None:
        """The patient row locked until commit (PostgreSQL; SQLite has one writer anyway)."""
        stmt = select(Patient).where(orm.patients.c.id == patient_id).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def attachment(self, patient_id: int) -> Attachment | None:
        stmt = select(Attachment).where(orm.attachments.c.patient_id == patient_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def clinic(self, clinic_id: int) -> Clinic | None:
        return await self.session.get(Clinic, clinic_id)

    async def district(self, district_id: int) -> District | None:
        return await self.session.get(District, district_id)

    async def doctor(self, doctor_id: int) -> Doctor | None:
        return await self.session.get(Doctor, doctor_id)

    async def specialty(self, specialty_id: int) -> Specialty | None:
        return await self.session.get(Specialty, specialty_id)

    async def specialties_at(self, clinic_id: int) -> Sequence[Specialty]:
        stmt = (
            select(Specialty)
            .where(
                orm.specialties.c.id.in_(
                    select(orm.doctors.c.specialty_id).where(orm.doctors.c.clinic_id == clinic_id)
                )
            )
            .order_by(orm.specialties.c.code)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def doctors_at(self, clinic_id: int, specialty_id: int) -> Sequence[Doctor]:
        stmt = (
            select(Doctor)
            .where(
                orm.doctors.c.clinic_id == clinic_id,
                orm.doctors.c.specialty_id == specialty_id,
            )
            .order_by(orm.doctors.c.surname, orm.doctors.c.given_name)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def slot(self, slot_id: int) -> Slot | None:
        return await self.session.get(Slot, slot_id)

    async def free_slots(
        self, doctor_id: int, start: dt.datetime, end: dt.datetime
    ) -> Sequence[Slot]:
        stmt = (
            select(Slot)
            .where(
                orm.slots.c.doctor_id == doctor_id,
                orm.slots.c.starts_at >= start,
                orm.slots.c.starts_at < end,
                ~_active_booking,
            )
            .order_by(orm.slots.c.starts_at)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def holiday_calendar(self) -> HolidayCalendar:
        rows = (await self.session.execute(select(orm.calendar_days))).all()
        return HolidayCalendar().with_days(
            movable=[r.day for r in rows if r.kind == "day_off" and is_kurban_ait_note(r.note)],
            days_off=[r.day for r in rows if r.kind == "day_off"],
            working_days=[r.day for r in rows if r.kind == "working"],
        )


class SqlApplications:
    """Applications and the requests behind them (appointments, home visits, certificates)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: Application | Appointment | HomeVisit | CertificateRequest) -> None:
        self.session.add(item)

    async def flush(self) -> None:
        await self.session.flush()

    async def by_number(self, number: str) -> Application | None:
        stmt = select(Application).where(orm.applications.c.number == number)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get(self, application_id: int) -> Application | None:
        return await self.session.get(Application, application_id)

    async def of_patient(self, patient_id: int) -> Sequence[Application]:
        stmt = (
            select(Application)
            .where(orm.applications.c.patient_id == patient_id)
            .order_by(orm.applications.c.created_at.desc(), orm.applications.c.id.desc())
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def appointment(self, appointment_id: int, *, lock: bool = False) -> Appointment | None:
        stmt = select(Appointment).where(orm.appointments.c.id == appointment_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def active_appointment_for_application(self, application_id: int) -> Appointment | None:
        stmt = select(Appointment).where(
            orm.appointments.c.application_id == application_id, orm.appointments.c.active
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def slot_is_booked(self, slot_id: int) -> bool:
        stmt = select(
            exists().where(orm.appointments.c.slot_id == slot_id, orm.appointments.c.active)
        )
        return bool((await self.session.execute(stmt)).scalar())

    async def upcoming_appointments(
        self, patient_id: int, now: dt.datetime
    ) -> Sequence[tuple[Appointment, Slot]]:
        stmt = (
            select(Appointment, Slot)
            .join(orm.slots, orm.slots.c.id == orm.appointments.c.slot_id)
            .where(
                orm.appointments.c.patient_id == patient_id,
                orm.appointments.c.active,
                orm.slots.c.starts_at > now,
            )
            .order_by(orm.slots.c.starts_at)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(stmt)).all()]

    async def count_upcoming(self, patient_id: int, now: dt.datetime) -> int:
        stmt = (
            select(func.count())
            .select_from(orm.appointments.join(orm.slots))
            .where(
                orm.appointments.c.patient_id == patient_id,
                orm.appointments.c.active,
                orm.slots.c.starts_at > now,
            )
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def home_visit(self, application_id: int) -> HomeVisit | None:
        stmt = select(HomeVisit).where(orm.home_visits.c.application_id == application_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def certificate(self, application_id: int) -> CertificateRequest | None:
        stmt = select(CertificateRequest).where(
            orm.certificate_requests.c.application_id == application_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
