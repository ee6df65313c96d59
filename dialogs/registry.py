"""Every step of every journey, in one place."""

from __future__ import annotations

from dialogs.engine.step import Step
from dialogs.journeys import common, sign_in


def all_steps() -> tuple[Step, ...]:
    return (*common.STEPS, *sign_in.STEPS)
