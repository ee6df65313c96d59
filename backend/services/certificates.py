"""Certificate requests that become applications (issuing the signed PDF is a later issue).

S5 form 027/е: e-document signed with the clinic's EDS, ≤ 30 min, refused when not attached
(S5 row 9). S17-S19 registry statements (TB, psychiatric, narcological): fully automated, 30 min,
valid 10 calendar days, about the signed-in person only (NO_SUBJECT_CONSENT otherwise).
"""

from __future__ import annotations

import datetime as dt

from backend.domain.model import CertificateRequest
from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import E_CHANNEL_DEADLINE, ApplicationStatus, ServiceType
from backend.services.applications import ApplicationSummary, summarize
from backend.services.common import (
    open_application,
    require_attached,
    require_aware,
    require_patient,
)
from backend.services.unit_of_work import UnitOfWork

REQUESTABLE = frozenset(
    {
        ServiceType.CERTIFICATE_027,
        ServiceType.STATEMENT_TB,
        ServiceType.STATEMENT_PSYCHIATRY,
        ServiceType.STATEMENT_NARCOLOGY,
    }
)


async def request_certificate(
    uow: UnitOfWork, patient_id: int, kind: ServiceType, *, now: dt.datetime
) -> ApplicationSummary:
    now = require_aware(now)
    if kind not in REQUESTABLE:
        raise Refusal(RefusalCode.INVALID_INPUT, field="kind")
    async with uow:
        clinic_id: int | None = None
        status = ApplicationStatus.REGISTERED
        deadline = now + E_CHANNEL_DEADLINE
        if kind is ServiceType.CERTIFICATE_027:
            attached = await require_attached(uow, patient_id)  # S5 row 9 (2)
            clinic_id = attached.clinic.id
            calendar = attached.clinic.calendar(await uow.register.holiday_calendar())
            # S5 row 3/7, R-13: ≤ 30 min of the clinic's hours, counted from its opening;
            # after hours → the next working day.
            terms = calendar.request_terms(now)
            deadline = terms.deadline
            if terms.carried_over:
                status = ApplicationStatus.NEXT_WORKING_DAY
        else:
            await require_patient(uow, patient_id)  # S17-S19: automated, 24/7
        application = await open_application(
            uow,
            patient_id=patient_id,
            service=kind,
            status=status,
            at=now,
            deadline=deadline,
            clinic_id=clinic_id,
        )
        uow.applications.add(
            CertificateRequest(
                application_id=application.id or 0,
                patient_id=patient_id,
                kind=kind,
                created_at=now,
            )
        )
        await uow.commit()
        return summarize(application)
