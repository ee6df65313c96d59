"""The Clinic API's JSON: pydantic models of what comes in (strict, no unknown fields) and what
goes out. The OpenAPI document's schemas are generated from these (bot/clinic_api/openapi.py)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from backend.domain.documents import format_code
from backend.domain.refusals import LEGAL_GROUNDS, RefusalCode
from backend.domain.statuses import Actor, ApplicationStatus, ServiceType
from backend.services import clinic, documents

MAX_NOTE = 300  # the history note also names the key; the column holds 500


class Ground(StrEnum):
    """The legal refusal grounds (R-41, `LEGAL_GROUNDS`); each service allows some of them
    (S3-S5 row 9: unreliable data, not attached here)."""

    UNRELIABLE_DATA = RefusalCode.UNRELIABLE_DATA.value
    NOT_ATTACHED_HERE = RefusalCode.NOT_ATTACHED_HERE.value
    NO_SUBJECT_CONSENT = RefusalCode.NO_SUBJECT_CONSENT.value


if {RefusalCode(g.value) for g in Ground} != LEGAL_GROUNDS:  # pragma: no cover - a guard
    raise RuntimeError("Ground must list exactly the legal refusal grounds (R-41)")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ActionIn(_In):
    """Take into work or complete: an optional note for the history."""

    note: str = Field(default="", max_length=MAX_NOTE)


class RefuseIn(_In):
    ground: Ground
    note: str = Field(default="", max_length=MAX_NOTE)


class HomeVisitIn(_In):
    doctor_code: str = Field(min_length=1, max_length=32)
    window_start: AwareDatetime
    window_end: AwareDatetime


class AttendanceIn(_In):
    attended: bool


class DocumentIn(_In):
    filename: str = Field(min_length=1, max_length=clinic.MAX_FILENAME)
    content_base64: str = Field(
        min_length=1, description="the PDF, base64 (RFC 4648), at most 5 MB decoded"
    )


class RevokeIn(_In):
    """Revoke the application's signed document (issue 13): why, for the record."""

    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NOTE)
    ] = Field(description="why the document is revoked (kept with the document, not shown)")


class ListQuery(BaseModel):
    """The query string of GET /applications (strings in, so not strict)."""

    model_config = ConfigDict(extra="forbid")

    service: ServiceType | None = None
    status: ApplicationStatus | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=20, ge=1, le=clinic.MAX_PER_PAGE)


# --- out -----------------------------------------------------------------------------------


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


# Every time the API answers with is UTC (`...Z`); clinics are in Kazakhstan's time zones.
Moment = Annotated[dt.datetime, AfterValidator(_utc)]


class PatientOut(BaseModel):
    iin: str
    full_name: str
    birth_date: dt.date
    phone: str | None


class ApplicationOut(BaseModel):
    number: str
    service: ServiceType
    status: ApplicationStatus
    created_at: Moment
    deadline: Moment
    overdue: bool
    refusal: RefusalCode | None
    patient: PatientOut


class ApplicationListOut(BaseModel):
    items: list[ApplicationOut]
    page: int
    per_page: int
    total: int


class HistoryEntryOut(BaseModel):
    seq: int
    at: Moment
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus
    actor: Actor
    reason: RefusalCode | None
    note: str | None


class AppointmentOut(BaseModel):
    doctor_code: str
    doctor_name: str
    starts_at: Moment
    ends_at: Moment
    room: str
    active: bool


class HomeVisitOut(BaseModel):
    doctor_code: str | None
    doctor_name: str | None
    address: str
    reason: str
    symptoms: str
    contact_phone: str
    visit_date: dt.date
    window_start: Moment
    window_end: Moment


class DocumentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: Moment
    posted_by_key_id: int | None


class RevocationOut(BaseModel):
    """The revoked document: /verify and the SMS CHECK answer "revoked" from now on."""

    application_number: str
    code: str = Field(description="the document's verification code, e.g. K7QF-3M9P-XW")
    service: ServiceType
    status: Literal["revoked"]
    revoked_at: Moment
    reason: str | None
    already_revoked: bool = Field(
        description="true: it was revoked before (this call changed nothing; the first "
        "revocation's time and reason are shown)"
    )


class ApplicationDetailOut(BaseModel):
    application: ApplicationOut
    history: list[HistoryEntryOut]
    appointment: AppointmentOut | None
    home_visit: HomeVisitOut | None
    documents: list[DocumentOut]


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class HealthOut(BaseModel):
    status: Literal["ok"]
    clinic_id: int
    key_id: int


def application_out(item: clinic.ClinicApplication) -> ApplicationOut:
    p = item.patient
    return ApplicationOut(
        number=item.number,
        service=item.service,
        status=item.status,
        created_at=item.created_at,
        deadline=item.deadline,
        overdue=item.overdue,
        refusal=item.refusal,
        patient=PatientOut(
            iin=p.iin, full_name=p.full_name, birth_date=p.birth_date, phone=p.phone
        ),
    )


def document_out(d: clinic.DocumentInfo) -> DocumentOut:
    return DocumentOut(
        id=d.id,
        filename=d.filename,
        content_type=d.content_type,
        size=d.size,
        sha256=d.sha256,
        created_at=d.created_at,
        posted_by_key_id=d.posted_by_key_id,
    )


def revocation_out(r: documents.Revocation) -> RevocationOut:
    return RevocationOut(
        application_number=r.application_number,
        code=format_code(r.code),
        service=r.service,
        status="revoked",
        revoked_at=r.revoked_at,
        reason=r.reason,
        already_revoked=not r.newly,
    )


def detail_out(details: clinic.ClinicApplicationDetails) -> ApplicationDetailOut:
    a, v = details.appointment, details.home_visit
    return ApplicationDetailOut(
        application=application_out(details.application),
        history=[
            HistoryEntryOut(
                seq=h.seq,
                at=h.at,
                from_status=h.from_status,
                to_status=h.to_status,
                actor=h.actor,
                reason=h.reason,
                note=h.note,
            )
            for h in details.history
        ],
        appointment=None
        if a is None
        else AppointmentOut(
            doctor_code=a.doctor_code,
            doctor_name=a.doctor_name,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            room=a.room,
            active=a.active,
        ),
        home_visit=None
        if v is None
        else HomeVisitOut(
            doctor_code=v.doctor_code,
            doctor_name=v.doctor_name,
            address=v.address,
            reason=v.reason,
            symptoms=v.symptoms,
            contact_phone=v.contact_phone,
            visit_date=v.visit_date,
            window_start=v.window_start,
            window_end=v.window_end,
        ),
        documents=[document_out(d) for d in details.documents],
    )
