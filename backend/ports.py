"""Ports the services depend on: time, and the external register."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from backend.domain.calendar import HolidayCalendar
from backend.domain.documents import DocumentContent
from backend.domain.documents import Register as DispensaryRegister
from backend.domain.model import Attachment, Clinic, District, Doctor, Patient, Slot, Specialty


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@dataclass
class FixedClock:
    """A clock that stands still until moved (tests, demos)."""

    current: dt.datetime

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, delta: dt.timedelta) -> None:
        self.current += delta


class Register(Protocol):
    """The external register of patients, attachments and schedules.

    The built-in implementation reads this service's own database, filled by `dariger import`
    (or `dariger demo-data`); a pilot may put an adapter to the national systems behind it.
    """

    async def patient_by_iin(self, iin: str) -> Patient | None: ...
    async def patient(self, patient_id: int) -> Patient | None: ...
    async def attachment(self, patient_id: int) -> Attachment | None: ...
    async def patient_with_attachment(
        self, patient_id: int
    ) -> tuple[Patient | None, Attachment | None]: ...
    async def clinic(self, clinic_id: int) -> Clinic | None: ...
    async def district(self, district_id: int) -> District | None: ...
    async def doctor(self, doctor_id: int) -> Doctor | None: ...
    async def specialty(self, specialty_id: int) -> Specialty | None: ...
    async def specialties_at(self, clinic_id: int) -> Sequence[Specialty]: ...
    async def doctors_at(self, clinic_id: int, specialty_id: int) -> Sequence[Doctor]: ...
    async def slot(self, slot_id: int) -> Slot | None: ...
    async def holiday_calendar(self) -> HolidayCalendar: ...


class DocumentMaker(Protocol):
    """Builds and signs the PDF of an electronic document (PAdES); bot/documents implements it.

    PDF, fonts, QR and signatures are frameworks: backend only sees this port.
    """

    async def make(self, content: DocumentContent) -> bytes: ...


class DispensaryRegisters(Protocol):
    """The TB, psychiatric and narcological dispensary registers behind S17-S19.

    The built-in one reads the `dispensary_registrations` table (demo data, `dariger import`);
    a real register plugs in here later.
    """

    async def is_registered(self, iin: str, register: DispensaryRegister) -> bool: ...
