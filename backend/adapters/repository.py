"""Repositories over the SQLAlchemy session. Queries use `table.c.col` (mypy --strict clean)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    Executable,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    inspect,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from backend.adapters import orm
from backend.adapters.register_cache import CALENDAR, REGISTER
from backend.domain.calendar import HolidayCalendar, is_kurban_ait_note
from backend.domain.model import (
    Application,
    ApplicationDocument,
    Appointment,
    Attachment,
    Audience,
    CertificateRequest,
    Clinic,
    ClinicApiKey,
    District,
    Doctor,
    FreeSlot,
    HomeVisit,
    Patient,
    Slot,
    Specialty,
)
from backend.domain.statuses import ApplicationStatus, ServiceType, is_open

T = TypeVar("T")

_active_booking = exists().where(
    and_(orm.appointments.c.slot_id == orm.slots.c.id, orm.appointments.c.active)
)


# session.info key: patient id -> the id of their attachment row (None: none) in this session.
ATTACHMENT_OF = "attachment_of"


@dataclass(frozen=True)
class DoctorSlots:
    """What `AloneReads.doctor_with_free_slots` read: None where there is no such row."""

    attached_to: int | None  # the patient's attachment's clinic
    clinic_tz: str | None  # that clinic's time zone; None: no such clinic
    doctor: int | None
    doctor_clinic: int | None
    free: list[FreeSlot]


@cache
def _doctor_with_free_slots() -> Select[Any]:
    """Built once, after the mappers (issue 16: building a statement costs about as much CPU
    as running it), then run with parameters."""
    return (
        select(
            orm.slots.c.id,
            orm.slots.c.doctor_id,
            orm.slots.c.starts_at,
            orm.slots.c.ends_at,
            orm.slots.c.room,
            orm.attachments.c.clinic_id,
            orm.clinics.c.tz_name,
            orm.doctors.c.id,
            orm.doctors.c.clinic_id,
        )
        .select_from(orm.patients)
        .outerjoin(orm.attachments, orm.attachments.c.patient_id == orm.patients.c.id)
        .outerjoin(orm.clinics, orm.clinics.c.id == orm.attachments.c.clinic_id)
        .outerjoin(orm.doctors, orm.doctors.c.id == bindparam("doctor_id"))
        .outerjoin(
            orm.slots,
            and_(
                orm.slots.c.doctor_id == orm.doctors.c.id,
                orm.doctors.c.clinic_id == orm.attachments.c.clinic_id,
                orm.slots.c.starts_at >= bindparam("start", type_=orm.slots.c.starts_at.type),
                orm.slots.c.starts_at < bindparam("end", type_=orm.slots.c.starts_at.type),
                ~_active_booking,
            ),
        )
        .where(orm.patients.c.id == bindparam("patient_id"))
        .order_by(orm.slots.c.starts_at)
    )


@cache
def _patient_with_attachment() -> Select[Patient, Attachment]:
    """Built once (see `_doctor_with_free_slots`)."""
    return (
        select(Patient, Attachment)
        .outerjoin(Attachment, orm.attachments.c.patient_id == orm.patients.c.id)
        .where(orm.patients.c.id == bindparam("patient_id"))
    )


class AloneReads:
    """Reads that are one statement each and need nothing an event's session holds: each runs
    on a connection of its own (`UnitOfWork.read_alone`: PostgreSQL in autocommit, SQLite
    without BEGIN), with no session made for it (issue 16: a session, its transaction and its
    closing cost a quarter of such a read)."""

    def __init__(
        self, read: Callable[[Executable, dict[str, Any]], Awaitable[Sequence[Any]]]
    ) -> None:
        self._read = read

    async def doctor_with_free_slots(
        self, patient_id: int, doctor_id: int, start: dt.datetime, end: dt.datetime
    ) -> DoctorSlots | None:
        """Whether the patient is attached and where, the doctor's clinic, and the doctor's
        free slots starting in [start, end) when the doctor works at the patient's clinic,
        earliest first, in one query; None when there is no such patient. All is read as
        columns: the slots become plain values (`FreeSlot`), the rest repeats on every row."""
        rows = await self._read(
            _doctor_with_free_slots(),
            {"patient_id": patient_id, "doctor_id": doctor_id, "start": start, "end": end},
        )
        if not rows:
            return None
        first = rows[0]
        slots = [
            FreeSlot(row[0], row[1], row[2], row[3], row[4]) for row in rows if row[0] is not None
        ]
        return DoctorSlots(first[5], first[6], first[7], first[8], slots)


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

    async def slot_with_doctor(self, slot_id: int) -> tuple[Slot, Doctor, Specialty] | None:
        """A slot with its doctor and the doctor's specialty, in one query."""
        stmt = (
            select(Slot, Doctor, Specialty)
            .join(orm.doctors, orm.doctors.c.id == orm.slots.c.doctor_id)
            .join(orm.specialties, orm.specialties.c.id == orm.doctors.c.specialty_id)
            .where(orm.slots.c.id == slot_id)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1], row[2])

    async def patient_with_attachment(
        self, patient_id: int
    ) -> tuple[Patient | None, Attachment | None]:
        """The patient and their attachment in one query, or none when the event's session
        has both already (issue 16: the screens of a booking ask for both on every tap)."""
        known: dict[int, int | None] = self.session.info.setdefault(ATTACHMENT_OF, {})
        sync = self.session.sync_session
        patient = sync.identity_map.get(identity_key(Patient, patient_id))
        if isinstance(patient, Patient) and patient_id in known:
            return patient, await self.attachment(patient_id)
        stmt = _patient_with_attachment()
        row = (await self.session.execute(stmt, {"patient_id": patient_id})).first()
        if row is None:
            return None, None
        attachment = row[1]
        known[patient_id] = None if attachment is None else attachment.id
        return row[0], attachment

    async def attachment(self, patient_id: int) -> Attachment | None:
        # Issue 16: several services of one event ask for the same patient's attachment; the
        # session remembers which row it was (the unit of work forgets it with the rest of
        # what was loaded when a writer takes the session over), and its identity map has it.
        known: dict[int, int | None] = self.session.info.setdefault(ATTACHMENT_OF, {})
        if patient_id in known:
            attachment_id = known[patient_id]
            if attachment_id is None:
                return None
            found = await self.session.get(Attachment, attachment_id)
            if found is not None and found.patient_id == patient_id:
                return found
        stmt = select(Attachment).where(orm.attachments.c.patient_id == patient_id)
        attachment = (await self.session.execute(stmt)).scalar_one_or_none()
        known[patient_id] = None if attachment is None else attachment.id
        return attachment

    # Issue 16: a reader takes clinics, specialties, doctors and districts from what this
    # process keeps of them (backend/adapters/register_cache.py); a writer reads the rows.

    async def clinic(self, clinic_id: int) -> Clinic | None:
        return await REGISTER.get(
            self.session, ("clinic", clinic_id), lambda: self.session.get(Clinic, clinic_id)
        )

    async def district(self, district_id: int) -> District | None:
        return await REGISTER.get(
            self.session,
            ("district", district_id),
            lambda: self.session.get(District, district_id),
        )

    async def doctor(self, doctor_id: int) -> Doctor | None:
        return await REGISTER.get(
            self.session, ("doctor", doctor_id), lambda: self.session.get(Doctor, doctor_id)
        )

    async def doctor_for_update(self, doctor_id: int) -> Doctor | None:
        """The doctor row locked until commit: home visits of one doctor are planned one at a
        time, so a window is never overbooked (PostgreSQL; SQLite has one writer anyway)."""
        stmt = select(Doctor).where(orm.doctors.c.id == doctor_id).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def specialty(self, specialty_id: int) -> Specialty | None:
        return await REGISTER.get(
            self.session,
            ("specialty", specialty_id),
            lambda: self.session.get(Specialty, specialty_id),
        )

    async def specialties_at(self, clinic_id: int) -> Sequence[Specialty]:
        # A list of its own for the caller; what is kept is a tuple, shared.
        return list(
            await REGISTER.get(
                self.session,
                ("specialties_at", clinic_id),
                lambda: self._specialties_at(clinic_id),
            )
        )

    async def _specialties_at(self, clinic_id: int) -> tuple[Specialty, ...]:
        stmt = (
            select(Specialty)
            .where(
                orm.specialties.c.id.in_(
                    select(orm.doctors.c.specialty_id).where(orm.doctors.c.clinic_id == clinic_id)
                )
            )
            .order_by(orm.specialties.c.code)
        )
        return tuple((await self.session.execute(stmt)).scalars())

    async def doctors_at(
        self, clinic_id: int, specialty_id: int, *, audiences: Iterable[Audience] | None = None
    ) -> Sequence[Doctor]:
        """The specialty's doctors at the clinic; none when `audiences` is given and the
        specialty serves none of them (issue 10: who a specialty sees by age)."""
        serving = None if audiences is None else tuple(sorted(audiences))
        return list(
            await REGISTER.get(
                self.session,
                ("doctors_at", clinic_id, specialty_id, serving),
                lambda: self._doctors_at(clinic_id, specialty_id, serving),
            )
        )

    async def _doctors_at(
        self, clinic_id: int, specialty_id: int, audiences: tuple[Audience, ...] | None
    ) -> tuple[Doctor, ...]:
        stmt = (
            select(Doctor)
            .where(
                orm.doctors.c.clinic_id == clinic_id,
                orm.doctors.c.specialty_id == specialty_id,
            )
            .order_by(orm.doctors.c.surname, orm.doctors.c.given_name)
        )
        if audiences is not None:
            serving = select(orm.specialties.c.id).where(orm.specialties.c.audience.in_(audiences))
            stmt = stmt.where(orm.doctors.c.specialty_id.in_(serving))
        return tuple((await self.session.execute(stmt)).scalars())

    async def slot(self, slot_id: int) -> Slot | None:
        return await self.session.get(Slot, slot_id)

    async def holiday_calendar(self) -> HolidayCalendar:
        """The register's calendar days, read once per process (issue 16): they change only
        when calendar days are imported (backend/adapters/register_cache.py `CALENDAR`)."""
        return await CALENDAR.get(self.session, ("calendar",), self._holiday_calendar)

    async def _holiday_calendar(self) -> HolidayCalendar:
        rows = (await self.session.execute(select(orm.calendar_days))).all()
        return HolidayCalendar().with_days(
            movable=[r.day for r in rows if r.kind == "day_off" and is_kurban_ait_note(r.note)],
            days_off=[r.day for r in rows if r.kind == "day_off"],
            working_days=[r.day for r in rows if r.kind == "working"],
        )


def _is_postgresql(session: AsyncSession) -> bool:
    return session.sync_session.get_bind().dialect.name == "postgresql"


def _upcoming(patient_id: Any, now: Any) -> Select[int]:
    """How many active appointments the patient has from `now` on (the booking cap)."""
    return (
        select(func.count())
        .select_from(orm.appointments.join(orm.slots))
        .where(
            orm.appointments.c.patient_id == patient_id,
            orm.appointments.c.active,
            orm.slots.c.starts_at > now,
        )
    )


@cache
def _booking_facts(*, counts: bool) -> Select[Any]:
    """`SqlApplications.booking_facts`'s query, built once (see `_doctor_with_free_slots`)."""
    taken = (
        exists()
        .where(orm.appointments.c.slot_id == orm.slots.c.id, orm.appointments.c.active)
        .label("taken")
    )
    patient_id = bindparam("patient_id", type_=Integer)
    columns: list[Any] = [Patient, Attachment, Clinic, Slot, Doctor, Specialty, taken]
    if counts:
        now = bindparam("now", type_=orm.slots.c.starts_at.type)
        columns.append(_upcoming(patient_id, now).scalar_subquery().label("upcoming"))
    return (
        select(*columns)
        .select_from(orm.patients)
        .outerjoin(orm.attachments, orm.attachments.c.patient_id == orm.patients.c.id)
        .outerjoin(orm.clinics, orm.clinics.c.id == orm.attachments.c.clinic_id)
        .outerjoin(orm.slots, orm.slots.c.id == bindparam("slot_id", type_=Integer))
        .outerjoin(orm.doctors, orm.doctors.c.id == orm.slots.c.doctor_id)
        .outerjoin(orm.specialties, orm.specialties.c.id == orm.doctors.c.specialty_id)
        .where(orm.patients.c.id == patient_id)
        .with_for_update(of=orm.patients)
    )


_APPLICATION_COLUMNS = (
    "number",
    "patient_id",
    "clinic_id",
    "service",
    "status",
    "refusal",
    "created_at",
    "deadline",
)
_HISTORY_COLUMNS = ("seq", "at", "from_status", "to_status", "actor", "reason", "note")
_APPOINTMENT_COLUMNS = ("patient_id", "slot_id", "doctor_id", "active", "created_at")
_REMINDER_COLUMNS = ("patient_id", "kind", "due_at", "status", "created_at")


def _params(table: Table, prefix: str, columns: Sequence[str]) -> list[Any]:
    return [bindparam(f"{prefix}{c}", type_=table.c[c].type) for c in columns]


@cache
def _store_booking(histories: int, reminders: int, *, capped: bool) -> Select[Any]:
    """One statement of data-modifying CTEs (PostgreSQL) that stores a new application, its
    `histories` history rows, its appointment and the appointment's `reminders` reminder rows,
    and returns the ids; built once per shape. `capped`: nothing is stored when the patient
    already has `cap` upcoming appointments (counted at `now`)."""
    t_app, t_hist, t_appt, t_rem = (
        orm.applications,
        orm.status_history,
        orm.appointments,
        orm.reminders,
    )
    app_select = select(*_params(t_app, "a_", _APPLICATION_COLUMNS))
    if capped:
        count = _upcoming(
            bindparam("a_patient_id", type_=Integer),
            bindparam("now", type_=orm.slots.c.starts_at.type),
        ).scalar_subquery()
        app_select = app_select.where(count < bindparam("cap", type_=Integer))
    app = (
        insert(t_app)
        .from_select(list(_APPLICATION_COLUMNS), app_select)
        .returning(t_app.c.id)
        .cte("new_application")
    )
    hist = (
        insert(t_hist)
        .from_select(
            ["application_id", *_HISTORY_COLUMNS],
            union_all(
                *(
                    select(app.c.id, *_params(t_hist, f"h{i}_", _HISTORY_COLUMNS))
                    for i in range(histories)
                )
            ),
        )
        .returning(t_hist.c.id, t_hist.c.seq)
        .cte("new_history")
    )
    appt = (
        insert(t_appt)
        .from_select(
            ["application_id", *_APPOINTMENT_COLUMNS],
            select(app.c.id, *_params(t_appt, "p_", _APPOINTMENT_COLUMNS)),
        )
        .returning(t_appt.c.id)
        .cte("new_appointment")
    )
    stmt = select(app.c.id, appt.c.id, hist.c.id, hist.c.seq).select_from(
        app.join(appt, true()).join(hist, true())
    )
    if reminders:
        rem = insert(t_rem).from_select(
            ["appointment_id", *_REMINDER_COLUMNS],
            union_all(
                *(
                    select(appt.c.id, *_params(t_rem, f"r{i}_", _REMINDER_COLUMNS))
                    for i in range(reminders)
                )
            ),
        )
        stmt = stmt.add_cte(rem.cte("new_reminders"))
    return stmt


@dataclass(frozen=True)
class BookingFacts:
    """What `SqlApplications.booking_facts` read: None where there is no such row."""

    patient: Patient | None
    attachment: Attachment | None
    clinic: Clinic | None
    slot: tuple[Slot, Doctor, Specialty] | None
    taken: bool
    upcoming: int | None  # None: to be counted when storing (PostgreSQL)


class SqlApplications:
    """Applications and the requests behind them (appointments, home visits, certificates)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: Application | Appointment | HomeVisit | CertificateRequest) -> None:
        self.session.add(item)

    async def add_new(self, application: Application) -> None:
        """Store a new application (it gets its id), then its first history rows in one
        multi-row INSERT (issue 16: the ORM sends one INSERT per row on SQLite, whose RETURNING
        order it cannot rely on; here the ids are matched to the rows by their seq)."""
        changes = list(application.history)
        set_committed_value(application, "history", [])
        self.session.add(application)
        await self.session.flush()
        if changes:
            table = orm.status_history
            rows = [
                {
                    "application_id": application.id,
                    "seq": c.seq,
                    "at": c.at,
                    "from_status": c.from_status,
                    "to_status": c.to_status,
                    "actor": c.actor,
                    "reason": c.reason,
                    "note": c.note,
                }
                for c in changes
            ]
            stmt = insert(table).values(rows).returning(table.c.id, table.c.seq)
            ids = {seq: id_ for id_, seq in (await self.session.execute(stmt)).all()}
            for change in changes:
                change.application_id = application.id
                change.id = ids[change.seq]
                make_transient_to_detached(change)  # stored: known as loaded, not to insert
                self.session.add(change)
        set_committed_value(application, "history", changes)

    async def flush(self) -> None:
        await self.session.flush()

    def _held(self, kind: type[T], match: Callable[[T], bool]) -> T | None:
        """An object of `kind` this unit of work already holds (loaded or written in it): a
        read for display need not ask the database again (issue 16). Locking reads never use
        it, and a unit of work that starts writing holds nothing read before."""
        for obj in list(self.session.sync_session.identity_map.values()):
            if isinstance(obj, kind) and not inspect(obj).expired_attributes and match(obj):
                return obj
        return None

    async def by_number(self, number: str, *, for_update: bool = False) -> Application | None:
        """`for_update`: the row is locked until the transaction ends, so that two changes of one
        application are made one after the other (each sees the other's status and history);
        SQLite serialises writers anyway."""
        if not for_update:
            held = self._held(Application, lambda a: a.number == number)
            if held is not None:
                return held
        stmt = select(Application).where(orm.applications.c.number == number)
        if for_update:
            stmt = stmt.with_for_update()
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
        held = self._held(Appointment, lambda a: a.application_id == application_id and a.active)
        if held is not None:
            return held
        stmt = select(Appointment).where(
            orm.appointments.c.application_id == application_id, orm.appointments.c.active
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def appointment_starts(self, patient_id: int) -> dict[int, dt.datetime]:
        """The start of each active appointment of the patient, by application id (one query
        for the whole list of applications, not one per application)."""
        stmt = (
            select(orm.appointments.c.application_id, orm.slots.c.starts_at)
            .join(orm.slots, orm.slots.c.id == orm.appointments.c.slot_id)
            .where(orm.appointments.c.patient_id == patient_id, orm.appointments.c.active)
        )
        return {int(row[0]): row[1] for row in (await self.session.execute(stmt)).all()}

    async def slot_is_booked(self, slot_id: int) -> bool:
        stmt = select(
            exists().where(orm.appointments.c.slot_id == slot_id, orm.appointments.c.active)
        )
        return bool((await self.session.execute(stmt)).scalar())

    async def booking_facts(self, patient_id: int, slot_id: int, now: dt.datetime) -> BookingFacts:
        """Issue 16: what a booking decides on, in one query: the patient (locked until commit
        on PostgreSQL; on SQLite the transaction holds the database's write lock) with their
        attachment and clinic, the slot with its doctor and specialty, whether the slot is
        booked and, on SQLite only, the patient's upcoming appointments.

        On PostgreSQL the count cannot be read here: this statement's snapshot is taken before
        the row lock is granted, so a booking of the same patient committed meanwhile (another
        channel) would not be counted. There `store_booking` counts, in a later statement."""
        counts_here = not _is_postgresql(self.session)
        stmt = _booking_facts(counts=counts_here)
        params = {"patient_id": patient_id, "slot_id": slot_id, "now": now}
        row = (await self.session.execute(stmt, params)).first()
        if row is None:
            return BookingFacts(None, None, None, None, False, None)
        slot, doctor, specialty = row[3], row[4], row[5]
        found = (
            None
            if slot is None or doctor is None or specialty is None
            else (slot, doctor, specialty)
        )
        return BookingFacts(
            patient=row[0],
            attachment=row[1],
            clinic=row[2],
            slot=found,
            taken=bool(row[6]),
            upcoming=int(row[7]) if counts_here else None,
        )

    async def store_booking(
        self,
        application: Application,
        appointment: Appointment,
        reminder_rows: Sequence[dict[str, Any]],
        *,
        cap: int | None,
    ) -> bool:
        """Store a new application with its history, its appointment and the appointment's
        reminder rows; give the objects their ids and keep them in the session as stored.

        `cap` (PostgreSQL, see `booking_facts`): nothing is stored, and False returned, when
        the patient already has `cap` upcoming appointments, counted in this statement, after
        the patient's row lock (its snapshot sees every booking committed before the lock).
        PostgreSQL gets it all in one statement (data-modifying CTEs); SQLite has none, and
        the ORM and Core send one INSERT per table. IntegrityError when the slot is booked
        meanwhile (the unique index decides), as a flush would raise it."""
        if not _is_postgresql(self.session):
            if cap is not None:
                raise ValueError("the cap is counted in `booking_facts` on this database")
            await self.add_new(application)
            appointment.application_id = application.id or 0
            self.session.add(appointment)
            await self.session.flush()
            if reminder_rows:
                rows = [{**r, "appointment_id": appointment.id} for r in reminder_rows]
                await self.session.execute(insert(orm.reminders), rows)
            return True
        return await self._store_booking_in_one_statement(
            application, appointment, reminder_rows, cap
        )

    async def _store_booking_in_one_statement(
        self,
        application: Application,
        appointment: Appointment,
        reminder_rows: Sequence[dict[str, Any]],
        cap: int | None,
    ) -> bool:
        changes = list(application.history)
        stmt = _store_booking(len(changes), len(reminder_rows), capped=cap is not None)
        params: dict[str, Any] = {"cap": cap, "now": appointment.created_at}
        params.update({f"a_{c}": getattr(application, c) for c in _APPLICATION_COLUMNS})
        for i, change in enumerate(changes):
            params.update({f"h{i}_{c}": getattr(change, c) for c in _HISTORY_COLUMNS})
        params.update({f"p_{c}": getattr(appointment, c) for c in _APPOINTMENT_COLUMNS})
        for i, row in enumerate(reminder_rows):
            params.update({f"r{i}_{c}": row[c] for c in _REMINDER_COLUMNS})
        rows = (await self.session.execute(stmt, params)).all()
        if not rows:
            return False
        application.id, appointment.id = rows[0][0], rows[0][1]
        ids = {seq: id_ for _, _, id_, seq in rows}
        for change in changes:
            change.application_id = application.id
            change.id = ids[change.seq]
            make_transient_to_detached(change)
        appointment.application_id = application.id
        for stored in (application, appointment):
            make_transient_to_detached(stored)  # stored: known as loaded, not to insert
            self.session.add(stored)
        set_committed_value(application, "history", changes)
        return True

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

    async def home_visit(self, application_id: int) -> HomeVisit | None:
        stmt = select(HomeVisit).where(orm.home_visits.c.application_id == application_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def home_visits_in_window(self, doctor_id: int, window_start: dt.datetime) -> int:
        """Visits that hold a place in the doctor's window: all but cancelled or refused."""
        stmt = (
            select(func.count())
            .select_from(orm.home_visits.join(orm.applications))
            .where(
                orm.home_visits.c.doctor_id == doctor_id,
                orm.home_visits.c.window_start == window_start,
                orm.applications.c.status.not_in(
                    [ApplicationStatus.CANCELLED, ApplicationStatus.REFUSED]
                ),
            )
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def open_home_visit_on(
        self, patient_id: int, day: dt.date
    ) -> tuple[Application, HomeVisit] | None:
        """The patient's open (not done, refused or cancelled) home visit for that day."""
        stmt = (
            select(Application, HomeVisit)
            .join(orm.home_visits, orm.home_visits.c.application_id == orm.applications.c.id)
            .where(
                orm.home_visits.c.patient_id == patient_id,
                orm.home_visits.c.visit_date == day,
                orm.applications.c.status.in_([s for s in ApplicationStatus if is_open(s)]),
            )
            .order_by(orm.applications.c.id)
            .limit(1)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def certificate(self, application_id: int) -> CertificateRequest | None:
        stmt = select(CertificateRequest).where(
            orm.certificate_requests.c.application_id == application_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class SqlClinicApi:
    """What the Clinic API reads and writes: its keys, a clinic's applications, documents."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: ClinicApiKey | ApplicationDocument) -> None:
        self.session.add(item)

    async def flush(self) -> None:
        await self.session.flush()

    async def clinic_by_code(self, code: str) -> Clinic | None:
        stmt = select(Clinic).where(orm.clinics.c.code == code)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def key(self, key_id: int) -> ClinicApiKey | None:
        return await self.session.get(ClinicApiKey, key_id)

    async def key_by_prefix(self, prefix: str) -> ClinicApiKey | None:
        stmt = select(ClinicApiKey).where(orm.clinic_api_keys.c.prefix == prefix)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def keys_of(self, clinic_id: int) -> Sequence[ClinicApiKey]:
        stmt = (
            select(ClinicApiKey)
            .where(orm.clinic_api_keys.c.clinic_id == clinic_id)
            .order_by(orm.clinic_api_keys.c.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def applications_of_clinic(
        self,
        clinic_id: int,
        *,
        statuses: Sequence[ApplicationStatus],
        service: ServiceType | None,
        created_from: dt.datetime | None,
        created_before: dt.datetime | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[tuple[Application, Patient]], int]:
        """One page of a clinic's applications, earliest deadline first (the overdue ones come
        first by construction), and how many there are in all."""
        a = orm.applications.c
        conditions = [a.clinic_id == clinic_id, a.status.in_(list(statuses))]
        if service is not None:
            conditions.append(a.service == service)
        if created_from is not None:
            conditions.append(a.created_at >= created_from)
        if created_before is not None:
            conditions.append(a.created_at < created_before)
        total = await self.session.scalar(
            select(func.count()).select_from(orm.applications).where(*conditions)
        )
        stmt = (
            select(Application, Patient)
            .join(orm.patients, orm.patients.c.id == a.patient_id)
            .where(*conditions)
            .order_by(a.deadline, a.id)
            .offset(offset)
            .limit(limit)
        )
        rows = (await self.session.execute(stmt)).all()
        return [(row[0], row[1]) for row in rows], int(total or 0)

    async def documents_of(self, application_id: int) -> Sequence[ApplicationDocument]:
        """The documents of an application, without their content (deferred)."""
        stmt = (
            select(ApplicationDocument)
            .where(orm.application_documents.c.application_id == application_id)
            .order_by(orm.application_documents.c.id)
        )
        return (await self.session.execute(stmt)).scalars().all()
