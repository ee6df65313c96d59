"""The domain model: plain classes, mapped onto tables from outside (backend/adapters/orm.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo

from backend.domain.calendar import ClinicCalendar, HolidayCalendar, WeeklySchedule
from backend.domain.iin import Sex, parse_iin
from backend.domain.latin import to_latin
from backend.domain.phone import normalize_kz_mobile
from backend.domain.refusals import RefusalCode, check_refusal_ground
from backend.domain.statuses import (
    INITIAL_STATUS,
    Actor,
    ApplicationStatus,
    ServiceType,
    check_transition,
)


class Language(StrEnum):
    KK = "kk"
    RU = "ru"
    EN = "en"


DEFAULT_LANGUAGE = Language.KK  # Kazakh when nothing is known (issue 4, journey 1)


@dataclass(eq=False, kw_only=True)
class Named:
    name_kk: str
    name_ru: str
    name_en: str

    def name(self, language: str) -> str:
        if language == Language.RU:
            return self.name_ru
        if language == Language.EN:
            return self.name_en
        return self.name_kk


class Audience(StrEnum):
    """Who a specialty serves, by the patient's age (issue 10, part 4)."""

    CHILDREN = "children"  # under ADULT_AGE: a paediatrician
    ADULTS = "adults"  # ADULT_AGE and over: a therapist
    ALL = "all"  # everyone: a general practitioner, most specialists


ADULT_AGE = 18
# When the importer is not told (docs/import.md): paediatricians see children, therapists
# adults, everyone else (GP included) everyone.
DEFAULT_AUDIENCES: dict[str, Audience] = {
    "pediatrician": Audience.CHILDREN,
    "paediatrician": Audience.CHILDREN,
    "therapist": Audience.ADULTS,
}


def audiences_for(age: int) -> frozenset[Audience]:
    """The audiences whose specialties see a patient of this age."""
    return frozenset({Audience.ALL, Audience.CHILDREN if age < ADULT_AGE else Audience.ADULTS})


def default_audience(code: str) -> Audience:
    return DEFAULT_AUDIENCES.get(code.lower(), Audience.ALL)


@dataclass(eq=False, kw_only=True)
class Specialty(Named):
    code: str
    audience: Audience = Audience.ALL
    id: int | None = None

    def serves(self, age: int) -> bool:
        """A paediatrician sees children under 18, a therapist adults, the others everyone."""
        return self.audience in audiences_for(age)


@dataclass(eq=False, kw_only=True)
class Clinic(Named):
    """A PHC (МСАК) organisation."""

    code: str
    address: str
    tz_name: str = "Asia/Almaty"
    schedule_json: str = field(default_factory=lambda: WeeklySchedule.standard().to_json())
    phone: str | None = None
    # Issue 15: the address in Latin letters for English screens (backend/domain/latin.py),
    # stored once; empty on a row written before migration 0013 (then computed when shown).
    address_latin: str = ""
    id: int | None = None

    @property
    def latin_address(self) -> str:
        return self.address_latin or to_latin(self.address)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @property
    def schedule(self) -> WeeklySchedule:
        return WeeklySchedule.from_json(self.schedule_json)

    def calendar(self, holidays: HolidayCalendar) -> ClinicCalendar:
        return ClinicCalendar(schedule=self.schedule, tz=self.tz, holidays=holidays)


@dataclass(eq=False, kw_only=True)
class Doctor:
    code: str
    clinic_id: int
    specialty_id: int
    surname: str
    given_name: str
    patronymic: str | None = None
    room: str = ""
    # Issue 15: the full name in Latin letters, "Surname Given Patronymic" (an official form
    # from the register, else backend/domain/latin.py), stored once, for English screens.
    name_latin: str = ""
    id: int | None = None

    @property
    def short_name(self) -> str:
        """`Сейткали А. Б.`"""
        return _short(self.surname, self.given_name, self.patronymic)

    @property
    def short_name_latin(self) -> str:
        """`Seitkali A. B.`"""
        parts = self.name_latin.split()
        if not parts:
            return to_latin(self.short_name)
        return _short(parts[0], parts[1] if len(parts) > 1 else "", " ".join(parts[2:]))


def _short(surname: str, given_name: str, patronymic: str | None) -> str:
    initials = " ".join(f"{n[0]}." for n in (given_name, patronymic or "") if n)
    return f"{surname} {initials}".strip()


def latin_name(surname: str, given_name: str, patronymic: str | None) -> str:
    """The stored Latin form of a name (issue 15): "Surname Given Patronymic"."""
    return " ".join(to_latin(n) for n in (surname, given_name, patronymic or "") if n)


@dataclass(eq=False, kw_only=True)
class District:
    """An учаске of a clinic, served by its district doctor."""

    clinic_id: int
    number: str
    doctor_id: int | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class Slot:
    doctor_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    room: str = ""
    id: int | None = None


class FreeSlot(NamedTuple):
    """A free slot as offered for choosing: a plain value read as columns, not a mapped row
    (issue 16: a day's list is read on every times screen, and a mapped object costs about
    ten times a plain one to load). Booking reads the slot row itself again."""

    id: int
    doctor_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    room: str = ""


@dataclass(eq=False, kw_only=True)
class Patient:
    iin: str
    surname: str
    given_name: str
    birth_date: dt.date
    sex: Sex
    patronymic: str | None = None
    phone: str | None = None  # E.164, the mobile registered for the ИИН
    language: Language | None = None  # the patient's explicit choice; wins on every channel
    address: str | None = None
    representative_id: int | None = None  # the legal representative of a child
    id: int | None = None

    @classmethod
    def register(
        cls,
        *,
        iin: str,
        surname: str,
        given_name: str,
        patronymic: str | None = None,
        phone: str | None = None,
        language: Language | None = None,
        address: str | None = None,
        representative_id: int | None = None,
    ) -> Patient:
        """A patient from register data: the ИИН is validated and birth date and sex derived
        from it; the phone must be a Kazakhstan mobile (InvalidIin / InvalidPhone otherwise)."""
        parsed = parse_iin(iin)
        return cls(
            iin=parsed.value,
            surname=surname,
            given_name=given_name,
            patronymic=patronymic,
            birth_date=parsed.birth_date,
            sex=parsed.sex,
            phone=normalize_kz_mobile(phone) if phone else None,
            language=language,
            address=address,
            representative_id=representative_id,
        )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


@dataclass(eq=False, kw_only=True)
class Attachment:
    """The patient's attachment (бекіту) to a PHC clinic and district."""

    patient_id: int
    clinic_id: int
    district_id: int | None = None
    since: dt.date
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class StatusChange:
    """One entry of an application's append-only history."""

    seq: int
    at: dt.datetime
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus
    actor: Actor
    reason: RefusalCode | None = None
    note: str | None = None
    application_id: int | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class Application:
    """Every request a patient made: one view for the patient and for 1414."""

    number: str
    patient_id: int
    service: ServiceType
    status: ApplicationStatus
    created_at: dt.datetime
    deadline: dt.datetime
    clinic_id: int | None = None
    refusal: RefusalCode | None = None
    history: list[StatusChange] = field(default_factory=list)
    id: int | None = None

    @classmethod
    def submit(
        cls,
        *,
        number: str,
        patient_id: int,
        service: ServiceType,
        at: dt.datetime,
        deadline: dt.datetime,
        clinic_id: int | None = None,
        actor: Actor = Actor.PATIENT,
    ) -> Application:
        app = cls(
            number=number,
            patient_id=patient_id,
            service=service,
            status=INITIAL_STATUS,
            created_at=at,
            deadline=deadline,
            clinic_id=clinic_id,
        )
        app.history.append(
            StatusChange(seq=1, at=at, from_status=None, to_status=INITIAL_STATUS, actor=actor)
        )
        return app

    def transition(
        self,
        target: ApplicationStatus,
        *,
        actor: Actor,
        at: dt.datetime,
        reason: RefusalCode | None = None,
        note: str | None = None,
    ) -> StatusChange:
        """Move along the state machine, appending to the history.

        InvalidTransition when the machine has no such move; TransitionNotAllowed when it is not
        this actor's to make in this service (domain/README "Who acts on an application");
        RefusalGroundNotAllowed for a refusal without a ground of this service (R-35, R-41).
        All three are InvalidTransition, and nothing changes when one is raised.
        """
        if at.tzinfo is None:
            raise ValueError("naive datetime: history times are aware")
        check_transition(self.status, target, actor=actor, service=self.service)
        check_refusal_ground(self.status, target, service=self.service, reason=reason)
        change = StatusChange(
            seq=len(self.history) + 1,
            at=at,
            from_status=self.status,
            to_status=target,
            actor=actor,
            reason=reason,
            note=note,
        )
        self.history.append(change)
        self.status = target
        if target is ApplicationStatus.REFUSED:
            self.refusal = reason
        return change


@dataclass(eq=False, kw_only=True)
class Appointment:
    application_id: int
    patient_id: int
    slot_id: int
    doctor_id: int
    created_at: dt.datetime
    active: bool = True
    cancelled_at: dt.datetime | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class HomeVisit:
    """A record in the calls registration journal («шақыртуларды тіркеу журналы»), S4 row 5."""

    application_id: int
    patient_id: int
    clinic_id: int
    doctor_id: int | None
    address: str
    reason: str
    symptoms: str
    contact_phone: str
    visit_date: dt.date
    window_start: dt.datetime
    window_end: dt.datetime
    created_at: dt.datetime
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class CertificateRequest:
    application_id: int
    patient_id: int
    kind: ServiceType
    created_at: dt.datetime
    valid_until: dt.date | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class ClinicApiKey:
    """A clinic system's key to the Clinic API. Only its SHA-256 is kept; the key itself is
    shown once, when it is made. `prefix` (public, unique) finds the row without the secret."""

    clinic_id: int
    prefix: str
    key_hash: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(eq=False, kw_only=True)
class ApplicationDocument:
    """A finished document (a PDF) that the clinic posted for an application."""

    application_id: int
    filename: str
    content_type: str
    content: bytes
    size: int
    sha256: str
    created_at: dt.datetime
    posted_by_key_id: int | None = None
    id: int | None = None
