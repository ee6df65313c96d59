"""Checks of the holiday calendar that need the register (issue 10 part 5)."""

from __future__ import annotations

import datetime as dt

from backend.services.unit_of_work import UnitOfWork


async def years_without_kurban_ait(uow: UnitOfWork, *, today: dt.date) -> list[int]:
    """This year and the next, those with no known first day of Құрбан айт.

    Known: built in (backend/domain/calendar.py KURBAN_AIT), confirmed by the `holidays`
    package, or a register calendar day of kind day_off whose note names it (docs/import.md).
    The library's estimate does not count: the date is set each year, and a wrong one would
    close clinics on a working day.
    """
    async with uow:
        calendar = await uow.register.holiday_calendar()
    return calendar.years_without_kurban_ait([today.year, today.year + 1])
