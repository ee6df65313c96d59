"""The OTP patient directory on the backend's register (the built-in implementation)."""

from __future__ import annotations

from backend.bootstrap import Backend
from backend.domain.refusals import Refusal
from backend.services import patients


class BackendPatientDirectory:
    """`otp.service.PatientDirectory` on the backend: the phone registered for an ИИН."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def phone_for(self, iin: str) -> tuple[int, str | None] | None:
        patient = await patients.find_by_iin(self.backend.uow(), iin)
        if patient is None or patient.id is None:
            return None
        return patient.id, patient.phone

    async def phone_of(self, patient_id: int) -> str | None:
        try:
            patient = await patients.get_patient(self.backend.uow(), patient_id)
        except Refusal:  # no such patient (any more)
            return None
        return patient.phone

    async def profile_of(self, patient_id: int) -> tuple[str | None, str | None] | None:
        try:
            patient = await patients.get_patient(self.backend.uow(), patient_id)
        except Refusal:
            return None
        return patient.phone, patient.language.value if patient.language else None
