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
    new_application,
    require_attached,
    require_aware,
    require_patient,
)
from backend.services.patients import acting_for
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
    uow: UnitOfWork,
    patient_id: int,
    kind: ServiceType,
    *,
    now: dt.datetime,
    for_patient: int | None = None,
) -> ApplicationSummary:
    """Given `for_patient`, a form 027/е for a child the signed-in patient represents (issue
    14, in the child's name, at the child's clinic); the registry statements (S17-S19) are
    about the signed-in person only."""
    now = require_aware(now)
    if kind not in REQUESTABLE:
        raise Refusal(RefusalCode.INVALID_INPUT, field="kind")
    async with uow:
        acted_by = patient_id
        if for_patient is not None and for_patient != patient_id:
            patient_id = (await acting_for(uow, patient_id, for_patient, now.date())).id or 0
            if kind is not ServiceType.CERTIFICATE_027:
                raise Refusal(RefusalCode.NO_SUBJECT_CONSENT)  # S17-S19: oneself only
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
        application = new_application(
            patient_id=patient_id,
            service=kind,
            status=status,
            at=now,
            deadline=deadline,
            clinic_id=clinic_id,
            by_representative=acted_by if acted_by != patient_id else None,
        )
        await uow.applications.add_new(application)
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
