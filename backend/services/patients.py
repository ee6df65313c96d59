"""Patients: look-up by ИИН, language choice, attachment summary.

Issue 16: the sign-in sessions keep the patient's language and the check of the registered
phone in Redis (otp/sessions.py), so whoever changes `patients.phone` or `patients.language`
must say so after the commit: `announce(uow)`. The changes are noted at flush for every
patient row the ORM updates (whoever the writer is); `announce` passes the committed ones to
the watchers of the database (`watch`, wired to the sign-in sessions by bot/wiring.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from backend.adapters import orm
from backend.domain.iin import InvalidIin, parse_iin
from backend.domain.model import ADULT_AGE, Clinic, District, Doctor, Language, Patient
from backend.domain.refusals import Refusal, RefusalCode
from backend.services import notifications
from backend.services.common import require_patient
from backend.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PatientChange:
    """A committed change of a patient's registered phone, or language (the new code, ""
    for none; None: unchanged)."""

    patient_id: int
    phone: bool = False
    language: str | None = None


PatientWatcher = Callable[[PatientChange], Awaitable[None]]
_watchers: weakref.WeakKeyDictionary[Any, list[PatientWatcher]] = weakref.WeakKeyDictionary()
_NOTED = "dariger_patient_changes"


def watch(engine: Any, watcher: PatientWatcher) -> Callable[[], None]:
    """Call `watcher` with every patient change announced on this database (the AsyncEngine
    of the backend); returns the function that stops it."""
    key = getattr(engine, "sync_engine", engine)
    _watchers.setdefault(key, []).append(watcher)

    def stop() -> None:
        with_key = _watchers.get(key, [])
        if watcher in with_key:
            with_key.remove(watcher)

    return stop


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: object, _instances: object) -> None:
    noted: dict[int, PatientChange] = session.info.setdefault(_NOTED, {})
    for obj in session.dirty:
        if not isinstance(obj, Patient) or obj.id is None:
            continue
        attrs = inspect(obj).attrs
        phone = _changed(attrs.phone.history)
        language = _changed(attrs.language.history)
        if not (phone or language):
            continue
        before = noted.get(obj.id, PatientChange(obj.id))
        noted[obj.id] = PatientChange(
            obj.id,
            phone=before.phone or phone,
            language=(obj.language.value if obj.language else "") if language else before.language,
        )


def _changed(history: Any) -> bool:
    added, deleted = list(history.added or ()), list(history.deleted or ())
    return bool(added) and (not deleted or added[0] != deleted[0])


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, _previous: object) -> None:
    session.info.pop(_NOTED, None)


async def announce(uow: UnitOfWork) -> None:
    """After the commit: pass the patient changes the unit of work flushed to the watchers.
    A watcher that fails (Redis down) is logged; the change is then seen when the sessions'
    card expires (otp/sessions.py CARD_TTL)."""
    session = uow.session
    changes: dict[int, PatientChange] = session.sync_session.info.pop(_NOTED, {})
    if not changes:
        return
    engine = getattr(session.bind, "sync_engine", None)
    for watcher in list(_watchers.get(engine, ()) if engine is not None else ()):
        for change in changes.values():
            try:
                await watcher(change)
            except Exception:
                log.exception("patient change not announced", extra={"patient": change.patient_id})


# S3/S4 row 8: the service is received by the patient or their legal representative; a
# child's representation (recorded in the register) ends on its own at 18 (issue 14).


@dataclass(frozen=True)
class Dependant:
    """A person the signed-in patient may act for: a represented child under 18."""

    patient_id: int
    short_name: str
    age: int


def short_name(patient: Patient) -> str:
    """The given name and the surname's initial ("Әли С."): enough to tell children apart."""
    return (
        f"{patient.given_name} {patient.surname[:1]}." if patient.surname else patient.given_name
    )


def represents(actor: Patient, subject: Patient, today: dt.date) -> bool:
    """The register records `actor` as the legal representative of `subject`, a child under
    18 on `today` (at 18 the representation ends without anyone changing the register)."""
    return (
        actor.id is not None
        and subject.representative_id == actor.id
        and subject.age_on(today) < ADULT_AGE
    )


async def represented_children(uow: UnitOfWork, actor_id: int, today: dt.date) -> list[Patient]:
    """Inside an open unit of work: the children the actor represents on `today`, oldest first."""
    stmt = (
        select(Patient)
        .where(orm.patients.c.representative_id == actor_id)
        .order_by(orm.patients.c.birth_date, orm.patients.c.id)
    )
    found = (await uow.session.execute(stmt)).scalars().all()
    actor = await uow.register.patient(actor_id)
    if actor is None:
        return []
    return [c for c in found if represents(actor, c, today)]


async def acting_for(
    uow: UnitOfWork, actor_id: int, subject_id: int | None, today: dt.date
) -> Patient:
    """Inside an open unit of work: the patient the signed-in `actor_id` acts for. Oneself
    (`subject_id` None or the actor's own id), or a child the register records the actor as
    representing and who is under 18 on `today` (S3/S4 row 8). Anyone else, a forged option or
    a typed number alike, is refused with NOT_REPRESENTED; the actor is never told whether
    that other person exists."""
    actor = await require_patient(uow, actor_id)
    if subject_id is None or subject_id == actor_id:
        return actor
    subject = await uow.register.patient(subject_id)
    if subject is None or not represents(actor, subject, today):
        raise Refusal(RefusalCode.NOT_REPRESENTED)
    return subject


async def may_act_for(uow: UnitOfWork, actor_id: int, subject_id: int, today: dt.date) -> bool:
    """Inside an open unit of work: whether `acting_for` would accept `subject_id`."""
    try:
        await acting_for(uow, actor_id, subject_id, today)
    except Refusal:
        return False
    return True


async def dependants(uow: UnitOfWork, actor_id: int, *, today: dt.date) -> list[Dependant]:
    """Whom the patient may act for besides themselves ("for whom?"); empty for most."""
    async with uow.reading():
        return [
            Dependant(c.id or 0, short_name(c), c.age_on(today))
            for c in await represented_children(uow, actor_id, today)
        ]


@dataclass(frozen=True)
class AttachmentSummary:
    clinic: Clinic
    district: District | None
    district_doctor: Doctor | None


async def find_by_iin(uow: UnitOfWork, iin_text: str) -> Patient | None:
    """The patient with this ИИН, or None (also for text that is not a valid ИИН)."""
    try:
        iin = parse_iin(iin_text)
    except InvalidIin:
        return None
    async with uow.reading():
        return await uow.register.patient_by_iin(iin.value)


async def get_patient(uow: UnitOfWork, patient_id: int) -> Patient:
    async with uow.reading():
        return await require_patient(uow, patient_id)


async def set_language(uow: UnitOfWork, patient_id: int, language: Language) -> None:
    """The patient's explicit choice, which wins on every channel."""
    async with uow:
        patient = await require_patient(uow, patient_id)
        patient.language = language
        await uow.commit()
    await announce(uow)


async def attachment_summary(
    uow: UnitOfWork,
    patient_id: int,
    *,
    for_patient: int | None = None,
    today: dt.date | None = None,
) -> AttachmentSummary | None:
    """Where the patient (or the child they act for, issue 14) is attached, or None when
    attached nowhere."""
    async with uow.reading():
        if for_patient is not None and for_patient != patient_id:
            if today is None:
                raise ValueError("acting for someone else needs the day (the age rule)")
            subject = await acting_for(uow, patient_id, for_patient, today)
            patient_id = subject.id or 0
        attachment = await uow.register.attachment(patient_id)
        if attachment is None:
            return None
        clinic = await uow.register.clinic(attachment.clinic_id)
        if clinic is None:  # pragma: no cover - guarded by foreign keys
            return None
        district = (
            await uow.register.district(attachment.district_id)
            if attachment.district_id is not None
            else None
        )
        doctor = (
            await uow.register.doctor(district.doctor_id)
            if district is not None and district.doctor_id is not None
            else None
        )
        return AttachmentSummary(clinic=clinic, district=district, district_doctor=doctor)


async def remember_channel(
    uow: UnitOfWork,
    patient_id: int,
    channel: str,
    address: str,
    language: str | None,
    *,
    now: dt.datetime,
) -> None:
    """The patient signed in on (channel, address): notifications reach them there from now on
    (issue 11; sessions expire, this address book does not)."""
    async with uow:
        await notifications.remember_channel(
            uow.session, patient_id, channel, address, language, now=now
        )
        await uow.commit()
