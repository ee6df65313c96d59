"""The clinic's side of an application (issue 11): what a clinic system does through the
Clinic API, and the API keys it does it with.

Every action is scoped to one clinic (the key's): another clinic's application is "not found",
exactly like an unknown number, so a key learns nothing about other clinics. Status changes go
through `applications.change_status` (the domain's transition rules, the append-only history,
and whatever else hooks into it, such as telling the patient); this module never writes a
status or a history row itself. Each change names the clinic as its actor and the key (id and
label) in the history note: who did it and when.

No HTTP here (the aiohttp layer is bot/clinic_api); errors are typed: `Refusal` (not found),
`InvalidTransition` (the state machine says no), `Conflict` (the application is not in a state
or of a service for this action) and `Invalid` (a value the rules do not accept).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from backend.adapters import orm
from backend.adapters.repository import SqlClinicApi
from backend.domain.calendar import ClinicCalendar
from backend.domain.model import (
    Application,
    ApplicationDocument,
    ClinicApiKey,
    Doctor,
    HomeVisit,
    Patient,
    StatusChange,
)
from backend.domain.refusals import REFUSAL_GROUNDS, Refusal, RefusalCode
from backend.domain.statuses import (
    Actor,
    ApplicationStatus,
    InvalidTransition,
    ServiceType,
    can_transition,
    is_open,
)
from backend.services import applications, notifications
from backend.services.common import normalize_application_number, require_aware
from backend.services.documents import Documents
from backend.services.documents import issue as issue_document
from backend.services.unit_of_work import UnitOfWork

# --- keys ----------------------------------------------------------------------------------

KEY_SCHEME = "dcl"  # "Dariger clinic": a recognisable prefix for secret scanners
_PREFIX_BYTES = 6  # 12 hex characters: public, finds the row
_SECRET_BYTES = 32  # 256 bits: a fast hash is enough for a key this strong
_KEY_SHAPE = re.compile(rf"{KEY_SCHEME}_(?P<prefix>[0-9a-f]{{12}})_[A-Za-z0-9_-]{{43}}")
MAX_LABEL = 100
MAX_NOTE = 500  # application_status_history.note


class UnknownClinic(LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no clinic with the code {code!r}")
        self.code = code


class UnknownKey(LookupError):
    def __init__(self, key_id: int) -> None:
        super().__init__(f"no clinic API key with the id {key_id}")
        self.key_id = key_id


@dataclass(frozen=True)
class KeyView:
    id: int
    clinic_id: int
    clinic_code: str
    label: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class NewKey:
    """A key just made. `secret` is the whole key: shown once, never stored."""

    view: KeyView
    secret: str


@dataclass(frozen=True)
class Caller:
    """Who is calling: an active key of one clinic."""

    key_id: int
    clinic_id: int
    label: str

    def note(self, text: str = "") -> str:
        who = f"clinic API key #{self.key_id} ({self.label})" if self.label else ""
        who = who or f"clinic API key #{self.key_id}"
        return f"{who}: {text}"[:MAX_NOTE] if text else who[:MAX_NOTE]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _view(key: ClinicApiKey, clinic_code: str) -> KeyView:
    return KeyView(
        id=key.id or 0,
        clinic_id=key.clinic_id,
        clinic_code=clinic_code,
        label=key.label,
        prefix=key.prefix,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


def _clean_label(label: str) -> str:
    text = " ".join(label.split())
    if len(text) > MAX_LABEL or any(not ch.isprintable() for ch in text):
        raise ValueError(f"a label is at most {MAX_LABEL} printable characters")
    return text


async def create_key(
    uow: UnitOfWork, clinic_code: str, *, label: str = "", now: dt.datetime
) -> NewKey:
    """A new key for the clinic with this code (UnknownClinic if there is none)."""
    now = require_aware(now)
    label = _clean_label(label)
    prefix = secrets.token_hex(_PREFIX_BYTES)
    secret = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    async with uow:
        repo = SqlClinicApi(uow.session)
        clinic = await repo.clinic_by_code(clinic_code)
        if clinic is None:
            raise UnknownClinic(clinic_code)
        key = ClinicApiKey(
            clinic_id=clinic.id or 0,
            prefix=prefix,
            key_hash=hash_key(secret),
            label=label,
            created_at=now,
        )
        repo.add(key)
        await uow.commit()
        return NewKey(view=_view(key, clinic.code), secret=secret)


async def list_keys(uow: UnitOfWork, clinic_code: str) -> list[KeyView]:
    async with uow:
        repo = SqlClinicApi(uow.session)
        clinic = await repo.clinic_by_code(clinic_code)
        if clinic is None:
            raise UnknownClinic(clinic_code)
        return [_view(key, clinic.code) for key in await repo.keys_of(clinic.id or 0)]


async def revoke_key(uow: UnitOfWork, key_id: int, *, now: dt.datetime) -> KeyView:
    """Revoke a key at once (a second revocation keeps the first time)."""
    now = require_aware(now)
    async with uow:
        repo = SqlClinicApi(uow.session)
        key = await repo.key(key_id)
        if key is None:
            raise UnknownKey(key_id)
        if key.revoked_at is None:
            key.revoked_at = now
        clinic = await uow.register.clinic(key.clinic_id)
        view = _view(key, clinic.code if clinic else "?")
        await uow.commit()
        return view


async def authenticate(uow: UnitOfWork, presented: str, *, now: dt.datetime) -> Caller | None:
    """The caller behind a presented key; None for a malformed, unknown or revoked key."""
    shape = _KEY_SHAPE.fullmatch(presented)
    if shape is None:
        return None
    async with uow:
        key = await SqlClinicApi(uow.session).key_by_prefix(shape["prefix"])
        if key is None or key.revoked_at is not None:
            return None
        if not hmac.compare_digest(hash_key(presented), key.key_hash):
            return None
        # Last use to the minute: one write a minute per key at most, not one per request.
        if key.last_used_at is None or now - key.last_used_at >= dt.timedelta(minutes=1):
            key.last_used_at = now
            await uow.commit()
        return Caller(key_id=key.id or 0, clinic_id=key.clinic_id, label=key.label)


# --- reading a clinic's applications -------------------------------------------------------

MAX_PER_PAGE = 100


class Conflict(Exception):
    """The application is not of a service, or not in a state, for this action (HTTP 409)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Invalid(Exception):
    """A value the rules do not accept (HTTP 422), naming the field."""

    def __init__(self, code: str, message: str, *, field: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class PatientBrief:
    iin: str
    full_name: str
    birth_date: dt.date
    phone: str | None


@dataclass(frozen=True)
class ClinicApplication:
    number: str
    service: ServiceType
    status: ApplicationStatus
    created_at: dt.datetime
    deadline: dt.datetime
    overdue: bool
    refusal: RefusalCode | None
    patient: PatientBrief


@dataclass(frozen=True)
class ApplicationPage:
    items: Sequence[ClinicApplication]
    page: int
    per_page: int
    total: int


@dataclass(frozen=True)
class AppointmentInfo:
    doctor_code: str
    doctor_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    room: str
    active: bool


@dataclass(frozen=True)
class HomeVisitInfo:
    doctor_code: str | None
    doctor_name: str | None
    address: str
    reason: str
    symptoms: str
    contact_phone: str
    visit_date: dt.date
    window_start: dt.datetime
    window_end: dt.datetime


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime
    posted_by_key_id: int | None


@dataclass(frozen=True)
class ClinicApplicationDetails:
    application: ClinicApplication
    history: Sequence[StatusChange]
    appointment: AppointmentInfo | None
    home_visit: HomeVisitInfo | None
    documents: Sequence[DocumentInfo]


def _brief(patient: Patient) -> PatientBrief:
    return PatientBrief(
        iin=patient.iin,
        full_name=patient.full_name,
        birth_date=patient.birth_date,
        phone=patient.phone,
    )


def _item(app: Application, patient: Patient, now: dt.datetime) -> ClinicApplication:
    return ClinicApplication(
        number=app.number,
        service=app.service,
        status=app.status,
        created_at=app.created_at,
        deadline=app.deadline,
        overdue=is_open(app.status) and app.deadline < now,
        refusal=app.refusal,
        patient=_brief(patient),
    )


OPEN_STATUSES = tuple(s for s in ApplicationStatus if is_open(s))


async def open_applications(
    uow: UnitOfWork,
    clinic_id: int,
    *,
    service: ServiceType | None = None,
    status: ApplicationStatus | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
    per_page: int = 20,
    now: dt.datetime,
) -> ApplicationPage:
    """The clinic's open applications (or those with `status`), overdue first, then by
    deadline; `date_from`/`date_to` bound the day of submission (the clinic's local days)."""
    now = require_aware(now)
    if page < 1:
        raise Invalid("out_of_range", "page starts at 1", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid("out_of_range", f"per_page is 1-{MAX_PER_PAGE}", field="per_page")
    if date_from is not None and date_to is not None and date_to < date_from:
        raise Invalid("out_of_range", "date_to is before date_from", field="date_to")
    async with uow:
        clinic = await uow.register.clinic(clinic_id)
        if clinic is None:
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        tz = clinic.tz
        start = dt.datetime.combine(date_from, dt.time(), tzinfo=tz) if date_from else None
        end = (
            dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=tz)
            if date_to
            else None
        )
        # Sorted by deadline: every overdue deadline is before every deadline still to come,
        # so the overdue applications lead the list.
        rows, total = await SqlClinicApi(uow.session).applications_of_clinic(
            clinic_id,
            statuses=[status] if status is not None else OPEN_STATUSES,
            service=service,
            created_from=start,
            created_before=end,
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        return ApplicationPage(
            items=[_item(app, patient, now) for app, patient in rows],
            page=page,
            per_page=per_page,
            total=total,
        )


async def _own(uow: UnitOfWork, clinic_id: int, number: str) -> Application:
    """The application if it belongs to this clinic; otherwise not found, as an unknown one."""
    app = await uow.applications.by_number(normalize_application_number(number))
    if app is None or app.clinic_id != clinic_id:
        raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
    return app


async def _doctor_info(uow: UnitOfWork, doctor_id: int | None) -> Doctor | None:
    return await uow.register.doctor(doctor_id) if doctor_id is not None else None


async def application_for_clinic(
    uow: UnitOfWork, clinic_id: int, number: str, *, now: dt.datetime
) -> ClinicApplicationDetails:
    """One application of the clinic with its history, its appointment or home visit, and
    the documents posted for it (another clinic's: not found)."""
    now = require_aware(now)
    async with uow:
        app = await _own(uow, clinic_id, number)
        patient = await uow.register.patient(app.patient_id)
        if patient is None:  # pragma: no cover - a foreign key
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        app_id = app.id or 0
        appointment = None
        if app.service is ServiceType.APPOINTMENT:
            appointment = await _appointment_info(uow, app_id)
        visit = await uow.applications.home_visit(app_id)
        visit_info = None
        if visit is not None:
            doctor = await _doctor_info(uow, visit.doctor_id)
            visit_info = _visit_info(visit, doctor)
        documents = await SqlClinicApi(uow.session).documents_of(app_id)
        return ClinicApplicationDetails(
            application=_item(app, patient, now),
            history=tuple(app.history),
            appointment=appointment,
            home_visit=visit_info,
            documents=[_document_info(d) for d in documents],
        )


async def _appointment_info(uow: UnitOfWork, application_id: int) -> AppointmentInfo | None:
    """The appointment of an application: the active one, else the last one made."""
    stmt = (
        select(orm.appointments.c.id)
        .where(orm.appointments.c.application_id == application_id)
        .order_by(orm.appointments.c.active.desc(), orm.appointments.c.id.desc())
        .limit(1)
    )
    appointment_id = await uow.session.scalar(stmt)
    if appointment_id is None:
        return None
    booked = await uow.applications.appointment(appointment_id)
    if booked is None:  # pragma: no cover - just read
        return None
    slot = await uow.register.slot(booked.slot_id)
    doctor = await uow.register.doctor(booked.doctor_id)
    if slot is None or doctor is None:  # pragma: no cover - foreign keys
        return None
    return AppointmentInfo(
        doctor_code=doctor.code,
        doctor_name=doctor.short_name,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        room=slot.room or doctor.room,
        active=booked.active,
    )


def _visit_info(visit: HomeVisit, doctor: Doctor | None) -> HomeVisitInfo:
    return HomeVisitInfo(
        doctor_code=doctor.code if doctor else None,
        doctor_name=doctor.short_name if doctor else None,
        address=visit.address,
        reason=visit.reason,
        symptoms=visit.symptoms,
        contact_phone=visit.contact_phone,
        visit_date=visit.visit_date,
        window_start=visit.window_start,
        window_end=visit.window_end,
    )


def _document_info(document: ApplicationDocument) -> DocumentInfo:
    return DocumentInfo(
        id=document.id or 0,
        filename=document.filename,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        created_at=document.created_at,
        posted_by_key_id=document.posted_by_key_id,
    )


# --- moving an application -----------------------------------------------------------------


async def _move(
    uow: UnitOfWork,
    caller: Caller,
    number: str,
    target: ApplicationStatus,
    *,
    now: dt.datetime,
    reason: RefusalCode | None = None,
    note: str = "",
) -> ClinicApplicationDetails:
    await applications.change_status(
        uow,
        number,
        target,
        actor=Actor.CLINIC,
        now=now,
        reason=reason,
        note=caller.note(note),
    )
    return await application_for_clinic(uow, caller.clinic_id, number, now=now)


async def _checked(uow: UnitOfWork, caller: Caller, number: str) -> Application:
    async with uow:
        return await _own(uow, caller.clinic_id, number)


async def take_into_work(
    uow: UnitOfWork, caller: Caller, number: str, *, now: dt.datetime, note: str = ""
) -> ClinicApplicationDetails:
    now = require_aware(now)
    app = await _checked(uow, caller, number)
    return await _move(uow, caller, app.number, ApplicationStatus.IN_PROGRESS, now=now, note=note)


async def complete(
    uow: UnitOfWork,
    caller: Caller,
    number: str,
    *,
    now: dt.datetime,
    note: str = "",
    documents: Documents | None = None,
) -> ClinicApplicationDetails:
    now = require_aware(now)
    app = await _checked(uow, caller, number)
    if app.service is ServiceType.APPOINTMENT:
        raise Conflict(
            "use_attendance",
            "an appointment is completed by recording attendance (POST .../attendance)",
        )
    if (
        documents is not None
        and app.service is ServiceType.CERTIFICATE_027
        and not await _has_document(uow, app.id or 0)
    ):
        # Issue 13, S5 row 8: the 027/е the clinic completes is made and signed here (unless the
        # clinic posted its own signed PDF), attached, and the patient notified with it.
        await issue_document(
            uow, documents, app.number, actor=Actor.CLINIC, now=now, note=caller.note(note)
        )
        return await application_for_clinic(uow, caller.clinic_id, app.number, now=now)
    return await _move(uow, caller, app.number, ApplicationStatus.COMPLETED, now=now, note=note)


async def _has_document(uow: UnitOfWork, application_id: int) -> bool:
    async with uow:
        return bool(await SqlClinicApi(uow.session).documents_of(application_id))


async def refuse(
    uow: UnitOfWork,
    caller: Caller,
    number: str,
    ground: RefusalCode,
    *,
    now: dt.datetime,
    note: str = "",
) -> ClinicApplicationDetails:
    """A reasoned refusal («дәлелді бас тарту»), always on a ground the service's standard
    allows (R-35, S3-S5 row 9)."""
    now = require_aware(now)
    app = await _checked(uow, caller, number)
    # S3-S5 row 9, S17-S19: the grounds the service's standard allows (the domain's table).
    allowed = REFUSAL_GROUNDS[app.service]
    if ground not in allowed:
        names = ", ".join(sorted(g.value for g in allowed)) or "none"
        raise Invalid(
            "ground_not_allowed",
            f"{ground.value} is not a refusal ground for {app.service.value} (allowed: {names})",
            field="ground",
        )
    return await _move(
        uow, caller, app.number, ApplicationStatus.REFUSED, now=now, reason=ground, note=note
    )


async def record_attendance(
    uow: UnitOfWork, caller: Caller, number: str, *, attended: bool, now: dt.datetime
) -> ClinicApplicationDetails:
    """An appointment the patient came to (completed) or missed (did not attend)."""
    now = require_aware(now)
    app = await _checked(uow, caller, number)
    if app.service is not ServiceType.APPOINTMENT:
        raise Conflict("not_an_appointment", "attendance is recorded for appointments only")
    async with uow:
        booked = await uow.applications.active_appointment_for_application(app.id or 0)
        slot = await uow.register.slot(booked.slot_id) if booked is not None else None
    if slot is not None and slot.starts_at > now:
        raise Conflict(
            "appointment_not_started", "the appointment has not started yet: record it after"
        )
    target = ApplicationStatus.COMPLETED if attended else ApplicationStatus.NO_SHOW
    note = "attended" if attended else "did not attend"
    return await _move(uow, caller, app.number, target, now=now, note=note)


# S4 row 7: home visits happen in the clinic's working hours.
MIN_VISIT_WINDOW = dt.timedelta(minutes=30)
MAX_VISIT_WINDOW = dt.timedelta(hours=4)
MAX_VISIT_AHEAD = dt.timedelta(days=31)


def _local_minutes(moment: dt.datetime) -> int:
    return moment.hour * 60 + moment.minute


async def _doctor_hours(uow: UnitOfWork, doctor_id: int, weekday: int) -> list[tuple[int, int]]:
    """The doctor's working periods on a weekday (minutes of the day, local), if any."""
    t = orm.schedule_templates.c
    rows = (
        await uow.session.execute(
            select(t.start_time, t.end_time).where(t.doctor_id == doctor_id, t.weekday == weekday)
        )
    ).all()
    return [(_minutes(r.start_time), _minutes(r.end_time)) for r in rows]


def _minutes(time: dt.time) -> int:
    return time.hour * 60 + time.minute


def _checked_window(
    calendar: ClinicCalendar, window_start: dt.datetime, window_end: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The window in clinic time: 30 min to 4 h, ahead, within a month, on a working day and
    within the clinic's hours (S4 row 7)."""
    try:
        start, end = calendar.local(window_start), calendar.local(window_end)
        too_far = start - now > MAX_VISIT_AHEAD
    except OverflowError:  # year 1 or 9999 in a far time zone
        too_far = True
    if too_far:
        raise Invalid("bad_window", "the window is too far ahead", field="window_start")
    if not MIN_VISIT_WINDOW <= end - start <= MAX_VISIT_WINDOW:
        raise Invalid("bad_window", "a window is 30 minutes to 4 hours long", field="window_end")
    if end <= now:
        raise Invalid("bad_window", "the window is over already", field="window_end")
    day = start.date()
    opening, closing = calendar.opening(day), calendar.closing(day)
    if end.date() != day or opening is None or closing is None:
        raise Invalid(
            "not_a_working_day", "the window is not on a working day", field="window_start"
        )
    if start < opening or end > closing:
        raise Invalid(
            "outside_hours", "the window is outside the clinic's hours", field="window_start"
        )
    return start, end


async def assign_home_visit(
    uow: UnitOfWork,
    caller: Caller,
    number: str,
    *,
    doctor_code: str,
    window_start: dt.datetime,
    window_end: dt.datetime,
    now: dt.datetime,
) -> ClinicApplicationDetails:
    """Send a doctor of this clinic to a home visit in a time window (S4 row 5: the calls
    journal records the date and time of the doctor's arrival): on a working day, within the
    clinic's hours (S4 row 7) and the doctor's own hours when the doctor has a schedule."""
    now = require_aware(now)
    require_aware(window_start)
    require_aware(window_end)
    async with uow:
        app = await _own(uow, caller.clinic_id, number)
        if app.service is not ServiceType.HOME_VISIT:
            raise Conflict("not_a_home_visit", "a doctor is assigned to home visits only")
        target = (
            ApplicationStatus.REGISTERED
            if app.status in (ApplicationStatus.REGISTERED, ApplicationStatus.NEXT_WORKING_DAY)
            else app.status
        )
        if not can_transition(app.status, target):
            raise InvalidTransition(app.status, target)
        doctor = (
            await uow.session.execute(select(Doctor).where(orm.doctors.c.code == doctor_code))
        ).scalar_one_or_none()
        if doctor is None or doctor.clinic_id != caller.clinic_id:
            raise Invalid("unknown_doctor", "no doctor with this code here", field="doctor_code")
        clinic = await uow.register.clinic(caller.clinic_id)
        if clinic is None:  # pragma: no cover - the key's clinic
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        calendar = clinic.calendar(await uow.register.holiday_calendar())
        start, end = _checked_window(calendar, window_start, window_end, now)
        day = start.date()
        hours = await _doctor_hours(uow, doctor.id or 0, day.weekday())
        if hours and not any(
            a <= _local_minutes(start) and _local_minutes(end) <= b for a, b in hours
        ):
            raise Invalid(
                "outside_doctor_hours",
                "the window is outside the doctor's hours that day",
                field="window_start",
            )
        visit = await uow.applications.home_visit(app.id or 0)
        if visit is None:  # pragma: no cover - made with the application
            raise Conflict("no_home_visit", "this application has no home visit record")
        described = f"{doctor.code} {doctor.short_name}, {start:%Y-%m-%d %H:%M}-{end:%H:%M}"
        # One transaction: the history (the domain's rules for the clinic), the calls journal
        # (S4 row 5) and the patient's notice of the arrival window (issue 11) stand or fall
        # together. The application row is locked: two assignments are made one after the other.
        locked = await uow.applications.by_number(app.number, for_update=True)
        if locked is None:  # pragma: no cover - read just above
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        locked.transition(
            target,
            actor=Actor.CLINIC,
            at=now,
            note=caller.note(f"home visit assigned: {described}"),
        )
        await uow.session.execute(
            update(orm.home_visits)
            .where(orm.home_visits.c.id == visit.id)
            .values(
                doctor_id=doctor.id,
                visit_date=day,
                window_start=window_start,
                window_end=window_end,
            )
        )
        await notifications.visit_planned(
            uow,
            locked,
            actor=Actor.CLINIC,
            window_start=window_start,
            window_end=window_end,
            now=now,
        )
        await uow.commit()
    return await application_for_clinic(uow, caller.clinic_id, app.number, now=now)


# --- documents -----------------------------------------------------------------------------

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
PDF_TYPE = "application/pdf"
MAX_FILENAME = 200
_CLOSED_FOR_DOCUMENTS = frozenset(
    {ApplicationStatus.CANCELLED, ApplicationStatus.REFUSED, ApplicationStatus.NO_SHOW}
)


def _check_filename(filename: str) -> str:
    name = filename.strip()
    if (
        not name
        or len(name) > MAX_FILENAME
        or any(ch in name for ch in "/\\")
        or any(not ch.isprintable() for ch in name)
        or name in {".", ".."}
    ):
        raise Invalid(
            "bad_filename",
            f"a file name of 1-{MAX_FILENAME} printable characters, no path",
            field="filename",
        )
    return name


async def post_document(
    uow: UnitOfWork,
    caller: Caller,
    number: str,
    *,
    filename: str,
    content: bytes,
    now: dt.datetime,
) -> DocumentInfo:
    """Store a finished PDF (≤ 5 MB, checked by its magic bytes) for the application."""
    now = require_aware(now)
    name = _check_filename(filename)
    if not content:
        raise Invalid("empty_document", "the document is empty", field="content_base64")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise Invalid("document_too_large", "a document is at most 5 MB", field="content_base64")
    if not content.startswith(PDF_MAGIC):
        raise Invalid("not_a_pdf", "the document is not a PDF", field="content_base64")
    async with uow:
        app = await _own(uow, caller.clinic_id, number)
        if app.status in _CLOSED_FOR_DOCUMENTS:
            raise Conflict(
                "application_closed", f"the application is {app.status.value}: no document"
            )
        document = ApplicationDocument(
            application_id=app.id or 0,
            filename=name,
            content_type=PDF_TYPE,
            content=content,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            created_at=now,
            posted_by_key_id=caller.key_id or None,  # 0: clinic staff (no key)
        )
        repo = SqlClinicApi(uow.session)
        repo.add(document)
        await repo.flush()
        info = _document_info(document)
        await uow.commit()
        return info
