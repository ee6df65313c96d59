"""Every step of every journey, in one place."""

from __future__ import annotations

from dialogs.engine.step import Step
from dialogs.journeys import (
    applications,
    appointments,
    booking,
    certificates,
    common,
    home_visit,
    sign_in,
)


def all_steps() -> tuple[Step, ...]:
    return (
        *common.STEPS,
        *sign_in.STEPS,
        *booking.STEPS,
        *appointments.STEPS,
        *home_visit.STEPS,
        *applications.STEPS,
        *certificates.STEPS,
    )
