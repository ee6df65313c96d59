"""Electronic documents (issue 13): issue, verify, revoke, and the automated S17-S19 statements.

- 027/е (S5): made when the clinic completes the request (Clinic API, staff page, or
  `dariger certificate issue`), signed with the issuing key (S5 row 8: «ЭЦҚ қол қойылған
  электрондық құжат»), attached to the application.
- S17-S19: automated (row 2, «автоматтандырылған»): computed from the dispensary registers at
  once; SYSTEM completes with the statement, which says whether the person is on the register;
  valid 10 calendar days (row 8).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from backend.adapters.orm import (
    application_documents,
    dispensary_registrations,
    issued_documents,
)
from backend.adapters.orm import applications as applications_table
from backend.adapters.repository import SqlClinicApi
from backend.domain.documents import (
    DOCUMENT_SERVICES,
    REGISTER_OF,
    REGISTRY_STATEMENTS,
    DocumentContent,
    Register,
    Verdict,
    mask_iin,
    mask_name,
    new_code,
    normalize_code,
    valid_until,
    verdict,
)
from backend.domain.model import ApplicationDocument, Patient
from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.ports import DispensaryRegisters, DocumentMaker
from backend.services import notifications
from backend.services.common import normalize_application_number, require_aware
from backend.services.unit_of_work import UnitOfWork

PDF_TYPE = "application/pdf"
# The issuer of S17-S19 when the person is attached nowhere (the automated service itself).
AUTOMATED_ISSUER = "Dariger: автоматтандырылған қызмет / автоматизированная услуга"
_FINAL = frozenset({ApplicationStatus.CANCELLED, ApplicationStatus.REFUSED})


class DocumentError(Exception):
    """A document cannot be issued for this application (wrong service or status)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IssuedDocument:
    code: str
    application_number: str
    document_id: int
    service: ServiceType
    issued_on: dt.date
    valid_until: dt.date | None
    on_register: bool | None


@dataclass(frozen=True)
class Verification:
    """What /verify and the SMS CHECK answer: nothing beyond this."""

    verdict: Verdict
    service: ServiceType | None = None
    issuer: str | None = None
    holder: str | None = None  # «Сейтқали А.»
    iin: str | None = None  # ********0014
    issued_on: dt.date | None = None
    valid_until: dt.date | None = None


@dataclass(frozen=True)
class DocumentFile:
    filename: str
    content: bytes
    patient_id: int
    application_number: str
    code: str = ""
    revoked: bool = False


@dataclass
class Documents:
    """The ports the document services need, built once at start-up (bot/wiring)."""

    maker: DocumentMaker
    registers: DispensaryRegisters
    base_url: str  # the public base URL of /verify

    def verify_url(self, code: str) -> str:
        return f"{self.base_url.rstrip('/')}/verify/{code}"


class SqlDispensaryRegisters:
    """The register port over the `dispensary_registrations` table (demo, importer)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow_factory = uow_factory

    async def is_registered(self, iin: str, register: Register) -> bool:
        async with self._uow_factory() as uow:
            row = await uow.session.execute(
                select(dispensary_registrations.c.id).where(
                    dispensary_registrations.c.iin == iin,
                    dispensary_registrations.c.register == register.value,
                )
            )
            return row.first() is not None


async def add_registration(
    uow: UnitOfWork, iin: str, register: Register, since: dt.date | None = None
) -> None:
    """Put a person on a dispensary register (demo data, importer); idempotent."""
    async with uow:
        exists = await uow.session.execute(
            select(dispensary_registrations.c.id).where(
                dispensary_registrations.c.iin == iin,
                dispensary_registrations.c.register == register.value,
            )
        )
        if exists.first() is None:
            await uow.session.execute(
                insert(dispensary_registrations).values(
                    iin=iin, register=register.value, since=since
                )
            )
        await uow.commit()


def _full_name(patient: Patient) -> str:
    return " ".join(p for p in (patient.surname, patient.given_name, patient.patronymic) if p)


def _languages(patient: Patient, language: str | None) -> tuple[str, ...]:
    first = language or (patient.language.value if patient.language else "kk")
    if first == "en":
        return ("en", "kk", "ru")  # English on request, with both state languages
    return ("ru", "kk") if first == "ru" else ("kk", "ru")


async def _issuer(uow: UnitOfWork, clinic_id: int | None, patient_id: int) -> str:
    if clinic_id is None:
        attached = await uow.register.attachment(patient_id)
        clinic_id = attached.clinic_id if attached is not None else None
    clinic = await uow.register.clinic(clinic_id) if clinic_id is not None else None
    if clinic is None:
        return AUTOMATED_ISSUER
    if clinic.name_kk == clinic.name_ru:
        return clinic.name_kk
    return f"{clinic.name_kk} / {clinic.name_ru}"


async def _unique_code(uow: UnitOfWork) -> str:
    while True:
        code = new_code()
        taken = await uow.session.execute(
            select(issued_documents.c.id).where(issued_documents.c.code == code)
        )
        if taken.first() is None:
            return code


async def issue(
    uow: UnitOfWork,
    documents: Documents,
    number: str,
    *,
    actor: Actor,
    now: dt.datetime,
    on_register: bool | None = None,
    language: str | None = None,
    note: str | None = None,
) -> IssuedDocument:
    """Make, sign and attach the document, and complete the application (one transaction).

    027/е: CLINIC completes (S5); S17-S19: SYSTEM completes (the actor rules enforce both).
    An application already completed with a document gets that document back.
    """
    now = require_aware(now)
    async with uow:
        app = await uow.applications.by_number(
            normalize_application_number(number), for_update=True
        )
        if app is None:
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        if app.service not in DOCUMENT_SERVICES:
            raise DocumentError("not_a_document", "this service issues no document")
        existing = await uow.session.execute(
            select(issued_documents).where(issued_documents.c.application_id == app.id)
        )
        row = existing.first()
        if row is not None:
            return _issued(row, app.number)
        if app.status in _FINAL:
            raise DocumentError("application_closed", f"the application is {app.status.value}")
        patient = await uow.register.patient(app.patient_id)
        if patient is None:
            raise Refusal(RefusalCode.PATIENT_NOT_FOUND)
        issued_on = now.astimezone(dt.UTC).astimezone(_tz()).date()
        until = valid_until(app.service, issued_on)
        code = await _unique_code(uow)
        content = DocumentContent(
            number=app.number,
            code=code,
            service=app.service,
            languages=_languages(patient, language),
            holder_name=_full_name(patient),
            holder_iin=patient.iin,
            holder_birth_date=patient.birth_date,
            issuer=await _issuer(uow, app.clinic_id, patient.id or 0),
            issued_on=issued_on,
            valid_until=until,
            on_register=on_register if app.service in REGISTRY_STATEMENTS else None,
            verify_url=documents.verify_url(code),
        )
        pdf = await documents.maker.make(content)
        document = ApplicationDocument(
            application_id=app.id or 0,
            filename=f"{app.number}.pdf",
            content_type=PDF_TYPE,
            content=pdf,
            size=len(pdf),
            sha256=hashlib.sha256(pdf).hexdigest(),
            created_at=now,
        )
        repo = SqlClinicApi(uow.session)
        repo.add(document)
        await repo.flush()
        await uow.session.execute(
            insert(issued_documents).values(
                code=code,
                application_id=app.id,
                document_id=document.id,
                patient_id=patient.id,
                service=app.service.value,
                issuer=content.issuer,
                issued_on=issued_on,
                valid_until=until,
                on_register=content.on_register,
                created_at=now,
            )
        )
        if app.status is not ApplicationStatus.COMPLETED:
            app.transition(ApplicationStatus.COMPLETED, actor=actor, at=now, note=note)
        # The patient is told in this transaction, with the document (Telegram: the file,
        # protected; SMS: the code and an expiring link). Urgent: they are waiting for it.
        await notifications.add(
            uow.session,
            patient_id=patient.id or 0,
            kind=notifications.Kind.DOCUMENT,
            params={
                "number": app.number,
                "service": app.service.value,
                "document_id": document.id,
                "code": code,
            },
            now=now,
            application_number=app.number,
            urgent=True,
        )
        try:
            await uow.commit()
        except IntegrityError as exc:  # pragma: no cover - a code collision: ~2^-49
            raise DocumentError("code_collision", "try again") from exc
        return IssuedDocument(
            code=code,
            application_number=app.number,
            document_id=document.id or 0,
            service=app.service,
            issued_on=issued_on,
            valid_until=until,
            on_register=content.on_register,
        )


def _tz() -> dt.tzinfo:
    from zoneinfo import ZoneInfo  # noqa: PLC0415 - the issue date is Almaty's calendar date

    return ZoneInfo("Asia/Almaty")


def _issued(row: object, number: str) -> IssuedDocument:
    m = row._mapping  # type: ignore[attr-defined]
    return IssuedDocument(
        code=m["code"],
        application_number=number,
        document_id=m["document_id"],
        service=ServiceType(m["service"]),
        issued_on=m["issued_on"],
        valid_until=m["valid_until"],
        on_register=m["on_register"],
    )


async def issue_statement(
    uow: UnitOfWork, documents: Documents, number: str, *, now: dt.datetime
) -> IssuedDocument:
    """S17-S19: look the person up in the register and issue the statement (SYSTEM)."""
    async with uow:
        app = await uow.applications.by_number(normalize_application_number(number))
        if app is None:
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        if app.service not in REGISTRY_STATEMENTS:
            raise DocumentError("not_a_statement", "not a registry statement")
        patient = await uow.register.patient(app.patient_id)
        if patient is None:
            raise Refusal(RefusalCode.PATIENT_NOT_FOUND)
        iin = patient.iin
    on_register = await documents.registers.is_registered(iin, REGISTER_OF[app.service])
    return await issue(
        uow, documents, number, actor=Actor.SYSTEM, now=now, on_register=on_register
    )


async def verify(uow: UnitOfWork, typed: str, *, now: dt.datetime) -> Verification:
    """valid / revoked / expired / unknown, with the masked holder and nothing else."""
    code = normalize_code(typed)
    if code is None:
        return Verification(Verdict.UNKNOWN)
    async with uow:
        result = await uow.session.execute(
            select(issued_documents).where(issued_documents.c.code == code)
        )
        row = result.first()
        if row is None:
            return Verification(Verdict.UNKNOWN)
        m = row._mapping
        patient = await uow.register.patient(m["patient_id"])
    today = require_aware(now).astimezone(_tz()).date()
    return Verification(
        verdict=verdict(
            revoked=m["revoked_at"] is not None, valid_until_date=m["valid_until"], today=today
        ),
        service=ServiceType(m["service"]),
        issuer=m["issuer"],
        holder=mask_name(patient.surname, patient.given_name) if patient else None,
        iin=mask_iin(patient.iin) if patient else None,
        issued_on=m["issued_on"],
        valid_until=m["valid_until"],
    )


MAX_REVOKE_REASON = 300


@dataclass(frozen=True)
class Revocation:
    """A revoked document. `newly`: revoked by this call (False: it already was; the first
    revocation's time and reason stand, and nobody is told twice)."""

    code: str
    application_number: str
    service: ServiceType
    revoked_at: dt.datetime
    reason: str | None
    newly: bool


async def revoke_document(
    uow: UnitOfWork,
    *,
    now: dt.datetime,
    reason: str,
    code: str | None = None,
    number: str | None = None,
    clinic_id: int | None = None,
) -> Revocation | None:
    """Revoke the document with this short code or of this application; /verify and the SMS
    CHECK say "revoked" from then on, and the patient is told on their channel in the same
    transaction (the "document" notification, revoked variant). Idempotent.

    `clinic_id`: only a document of that clinic's application (the Clinic API key's, the staff
    page's clinic); another clinic's is None, exactly like an unknown one.
    """
    now = require_aware(now)
    reason = " ".join(reason.split())[:MAX_REVOKE_REASON]
    query = select(
        issued_documents.c.id,
        issued_documents.c.code,
        issued_documents.c.patient_id,
        issued_documents.c.service,
        applications_table.c.number,
        applications_table.c.clinic_id,
    ).join(applications_table, applications_table.c.id == issued_documents.c.application_id)
    if code is not None:
        stored = normalize_code(code)
        if stored is None:
            return None
        query = query.where(issued_documents.c.code == stored)
    elif number is not None:
        query = query.where(applications_table.c.number == normalize_application_number(number))
    else:  # pragma: no cover - a programming error
        raise TypeError("revoke_document needs a code or an application number")
    async with uow:
        row = (await uow.session.execute(query)).first()
        if row is None or (clinic_id is not None and row.clinic_id != clinic_id):
            return None
        # Only the first revocation writes (and tells the patient): two at once → one notice.
        result = await uow.session.execute(
            update(issued_documents)
            .where(issued_documents.c.id == row.id, issued_documents.c.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=reason or None)
        )
        newly = bool(result.rowcount)  # type: ignore[attr-defined]
        if newly:
            await notifications.add(
                uow.session,
                patient_id=row.patient_id,
                kind=notifications.Kind.DOCUMENT,
                params={
                    "number": row.number,
                    "service": row.service,
                    "code": row.code,
                    "revoked": True,
                },
                now=now,
                application_number=row.number,
                urgent=True,
            )
        stored_row = (
            await uow.session.execute(
                select(issued_documents.c.revoked_at, issued_documents.c.revoke_reason).where(
                    issued_documents.c.id == row.id
                )
            )
        ).one()
        await uow.commit()
    revoked_at = stored_row.revoked_at
    if revoked_at.tzinfo is None:  # SQLite keeps no offset: stored in UTC
        revoked_at = revoked_at.replace(tzinfo=dt.UTC)
    return Revocation(
        code=row.code,
        application_number=row.number,
        service=ServiceType(row.service),
        revoked_at=revoked_at,
        reason=stored_row.revoke_reason,
        newly=newly,
    )


async def revoke_for_clinic(
    uow: UnitOfWork, clinic_id: int, number: str, *, now: dt.datetime, reason: str
) -> Revocation:
    """The Clinic API and the clinic staff page: revoke the document of one of this clinic's
    applications. Another clinic's application is not found, like an unknown one (Refusal);
    an application with no signed document of ours raises DocumentError("no_document");
    revoking twice answers the first revocation."""
    async with uow:
        app = await uow.applications.by_number(normalize_application_number(number))
        if app is None or app.clinic_id != clinic_id:
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND)
        app_number = app.number
    revoked = await revoke_document(
        uow, now=now, reason=reason, number=app_number, clinic_id=clinic_id
    )
    if revoked is None:
        raise DocumentError("no_document", "the application has no document signed by Dariger")
    return revoked


async def revoke(uow: UnitOfWork, typed: str, *, now: dt.datetime, reason: str = "") -> bool:
    """Revoke a document by its code (`dariger certificate revoke`). False: no such code."""
    return await revoke_document(uow, now=now, reason=reason, code=typed) is not None


async def revocation_of(uow: UnitOfWork, document_id: int) -> tuple[str, str | None] | None:
    """(code, reason) when this document was revoked (the staff card shows it); else None."""
    async with uow:
        row = (
            await uow.session.execute(
                select(issued_documents.c.code, issued_documents.c.revoke_reason).where(
                    issued_documents.c.document_id == document_id,
                    issued_documents.c.revoked_at.is_not(None),
                )
            )
        ).first()
        return (row.code, row.revoke_reason) if row is not None else None


async def document_file(uow: UnitOfWork, document_id: int) -> DocumentFile | None:
    """The PDF of an issued document (downloads, Telegram sendDocument)."""
    async with uow:
        result = await uow.session.execute(
            select(
                issued_documents.c.patient_id,
                issued_documents.c.code,
                issued_documents.c.revoked_at,
                applications_table.c.number,
                application_documents.c.filename,
                application_documents.c.content,
            )
            .join(
                application_documents,
                application_documents.c.id == issued_documents.c.document_id,
            )
            .join(applications_table, applications_table.c.id == issued_documents.c.application_id)
            .where(issued_documents.c.document_id == document_id)
        )
        row = result.first()
        if row is None:
            return None
        return DocumentFile(
            filename=row.filename,
            content=row.content,
            patient_id=row.patient_id,
            application_number=row.number,
            code=row.code,
            revoked=row.revoked_at is not None,
        )


async def issued_for(uow: UnitOfWork, number: str) -> IssuedDocument | None:
    """The document issued for an application, if any ("send again")."""
    async with uow:
        app = await uow.applications.by_number(normalize_application_number(number))
        if app is None:
            return None
        result = await uow.session.execute(
            select(issued_documents).where(issued_documents.c.application_id == app.id)
        )
        row = result.first()
        return _issued(row, app.number) if row is not None else None


async def pending_statements(uow: UnitOfWork, *, limit: int = 50) -> list[str]:
    """S17-S19 requests still waiting for their automated statement (oldest first)."""
    async with uow:
        result = await uow.session.execute(
            select(applications_table.c.number)
            .outerjoin(
                issued_documents, issued_documents.c.application_id == applications_table.c.id
            )
            .where(
                applications_table.c.service.in_(sorted(REGISTRY_STATEMENTS)),
                applications_table.c.status == ApplicationStatus.REGISTERED,
                issued_documents.c.id.is_(None),
            )
            .order_by(applications_table.c.id)
            .limit(limit)
        )
        return [row.number for row in result]


async def send_again(uow: UnitOfWork, patient_id: int, number: str, *, now: dt.datetime) -> bool:
    """The card's "Send again": the document notice once more (Telegram: the file; SMS: a
    fresh link). False when the application has no document (or is not this patient's)."""
    now = require_aware(now)
    async with uow:
        app = await uow.applications.by_number(normalize_application_number(number))
        if app is None or app.patient_id != patient_id:
            return False
        result = await uow.session.execute(
            select(issued_documents).where(issued_documents.c.application_id == app.id)
        )
        row = result.first()
        if row is None:
            return False
        queued = await notifications.add(
            uow.session,
            patient_id=patient_id,
            kind=notifications.Kind.DOCUMENT,
            params={
                "number": app.number,
                "service": app.service.value,
                "document_id": row.document_id,
                "code": row.code,
                # A revoked document is never sent again: the notice says it was revoked.
                **({"revoked": True} if row.revoked_at is not None else {}),
            },
            now=now,
            application_number=app.number,
            urgent=True,
        )
        await uow.commit()
        return queued is not None
