"""Patients: look-up by ИИН, language choice, attachment summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from backend.domain.iin import InvalidIin, parse_iin
from backend.domain.model import Clinic, District, Doctor, Language, Patient
from backend.services import notifications
from backend.services.common import require_patient
from backend.services.unit_of_work import UnitOfWork


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
    async with uow:
        return await uow.register.patient_by_iin(iin.value)


async def get_patient(uow: UnitOfWork, patient_id: int) -> Patient:
    async with uow:
        return await require_patient(uow, patient_id)


async def set_language(uow: UnitOfWork, patient_id: int, language: Language) -> None:
    """The patient's explicit choice, which wins on every channel."""
    async with uow:
        patient = await require_patient(uow, patient_id)
        patient.language = language
        await uow.commit()


async def attachment_summary(uow: UnitOfWork, patient_id: int) -> AttachmentSummary | None:
    """Where the patient is attached, or None when attached nowhere."""
    async with uow:
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
